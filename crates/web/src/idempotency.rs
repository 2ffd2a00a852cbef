//! `Idempotency-Key` on every state-changing API request: the first answer is stored and a retry with
//! the same key and the same request gets it again instead of repeating the change. The key is scoped
//! to the credential that sent it (an API key or a session), so two clients never see each other's
//! answers; the same key with a different request is refused.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lianrong_app::idempotency::{self as answers, StoredResponse};
use lianrong_domain::limits::{API_BATCH_BYTES_MAX, IDEMPOTENCY_KEY_CHARS_MAX, REQUEST_BODY_BYTES_MAX};

use crate::auth::{SESSION_COOKIE, is_safe};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest answer kept for replay; API answers of the foundation are far smaller.
const STORED_BODY_BYTES_MAX: usize = 256 * 1024;

fn sm3_hex(data: &[u8]) -> String {
    lianrong_app::sm3_hex(data)
}

/// The credential's digest: the same client retrying sends the same credential.
fn credential_scope(req: &Request) -> Option<String> {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        return Some(sm3_hex(auth.as_bytes()));
    }
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(req.headers());
    jar.get(SESSION_COOKIE).map(|c| sm3_hex(c.value().as_bytes()))
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= IDEMPOTENCY_KEY_CHARS_MAX => k.trim().to_string(),
        _ => {
            return ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1-{IDEMPOTENCY_KEY_CHARS_MAX} visible ASCII characters"),
                format!("Idempotency-Key 须为1-{IDEMPOTENCY_KEY_CHARS_MAX}个可见ASCII字符"),
            )
            .into_response();
        }
    };
    let Some(scope) = credential_scope(&req) else {
        return next.run(req).await;
    };
    // Multipart uploads are not buffered here: they may be hundreds of megabytes, and a re-sent file is
    // idempotent by content (every record is found unchanged).
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if is_multipart {
        return next.run(req).await;
    }
    let limit =
        if req.uri().path().starts_with("/api/v1/submissions") { API_BATCH_BYTES_MAX } else { REQUEST_BODY_BYTES_MAX };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        return ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than {limit} bytes"),
            format!("请求体超过{limit}字节"),
        )
        .into_response();
    };
    let mut digest_input = format!("{} {}\n", parts.method, parts.uri).into_bytes();
    digest_input.extend_from_slice(&bytes);
    let digest = sm3_hex(&digest_input);

    if let Some(stored) = lookup(&state, &scope, &key).await {
        if stored.request_digest != digest {
            return ApiError::with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request",
                "该 Idempotency-Key 已用于另一个不同的请求",
            )
            .into_response();
        }
        return replay(stored);
    }

    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if resp.status().is_server_error() {
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let Ok(rbytes) = to_bytes(rbody, STORED_BODY_BYTES_MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response too large to store").into_response();
    };
    let stored = StoredResponse {
        request_digest: digest,
        status: i64::from(rparts.status.as_u16()),
        body: String::from_utf8_lossy(&rbytes).into_owned(),
    };
    save(&state, &scope, &key, &stored).await;
    Response::from_parts(rparts, Body::from(rbytes))
}

async fn lookup(state: &AppState, scope: &str, key: &str) -> Option<StoredResponse> {
    answers::find(&state.app, scope, key).await.ok().flatten()
}

/// Stores the answer. A concurrent request with the same key may have stored its answer first; the later
/// insert is refused and ignored. Such races need a client to send the same key twice at once; the
/// natural unique keys of the records (credit code, login, chain name …) refuse the second write then.
async fn save(state: &AppState, scope: &str, key: &str, stored: &StoredResponse) {
    if let Err(e) = answers::save(&state.app, scope, key, stored).await {
        tracing::info!(error = %e, "idempotent answer not stored");
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = u16::try_from(stored.status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut resp = (status, stored.body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
