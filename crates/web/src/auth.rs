//! Who is calling. The API accepts an organisation's API key (`Authorization: Bearer lrk_…`) or a
//! console session cookie; with the cookie, every state-changing request must carry the session's CSRF
//! token in `X-CSRF-Token`. The console accepts only the session cookie and checks the token in forms.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use lianrong_app::{Actor, AppError, auth};

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "lr_session";
pub const LANG_COOKIE: &str = "lr_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of an API endpoint.
pub struct ApiActor(pub Actor);

fn unauthenticated() -> ApiError {
    AppError::unauthenticated(
        "unauthenticated",
        "Authentication required: send an API key as 'Authorization: Bearer lrk_…' or log in to the console",
        "需要身份认证：请以“Authorization: Bearer lrk_…”提供API密钥，或先登录控制台",
    )
    .into()
}

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let text = value.to_str().map_err(|_| unauthenticated())?;
            let token = text.strip_prefix("Bearer ").ok_or_else(unauthenticated)?;
            return Ok(ApiActor(auth::resolve_api_key(&state.app, token).await?));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(unauthenticated());
        };
        let (actor, csrf) = auth::resolve_session(&state.app, cookie.value()).await?;
        if !is_safe(&parts.method) {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !auth::csrf_matches(&csrf, presented) {
                return Err(ApiError::with_status(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "A session-authenticated change must carry the session's CSRF token in X-CSRF-Token",
                    "使用会话身份修改数据时，须在 X-CSRF-Token 头中携带会话的CSRF令牌",
                ));
            }
        }
        Ok(ApiActor(actor))
    }
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A logged-in console user: the actor, the CSRF token for forms, and the display language.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub actor: Actor,
    pub csrf_token: String,
    pub lang_en: bool,
}

impl ConsoleSession {
    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), AppError> {
        if auth::csrf_matches(&self.csrf_token, presented) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "The form's security token is missing or wrong; reload the page and try again",
                "表单安全令牌缺失或错误，请刷新页面后重试",
            ))
        }
    }
}

pub fn lang_en(jar: &CookieJar) -> bool {
    jar.get(LANG_COOKIE).is_some_and(|c| c.value() == "en")
}

/// Why a request carries no console session, for the console to answer: a redirect to the login page
/// (no session, or one that ended), or an error the session look-up met, which the console renders as a
/// page in the reader's language.
pub enum SessionRefused {
    Login(Response),
    Failed { error: AppError, lang_en: bool },
}

impl ConsoleSession {
    /// The console session a request carries. Not an extractor of its own: its refusals are answered by
    /// the console, which knows how to render them.
    pub async fn from_parts(parts: &Parts, state: &AppState) -> Result<ConsoleSession, SessionRefused> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang_en = lang_en(&jar);
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = if parts.method == Method::GET {
                format!("/login?next={}", urlencode(next))
            } else {
                "/login".to_string()
            };
            Redirect::to(&target).into_response()
        };
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(SessionRefused::Login(to_login()));
        };
        match auth::resolve_session(&state.app, cookie.value()).await {
            Ok((actor, csrf_token)) => Ok(ConsoleSession { actor, csrf_token, lang_en }),
            Err(e) if e.kind == lianrong_app::ErrorKind::Unauthenticated => {
                let mut resp = to_login();
                if let Ok(v) = removal(state).to_string().parse() {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
                Err(SessionRefused::Login(resp))
            }
            Err(error) => Err(SessionRefused::Failed { error, lang_en }),
        }
    }
}

/// The session cookie: HttpOnly, SameSite=Strict, Secure when served over TLS.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .path("/")
        .build()
}

pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

/// Percent-encodes a query value (only what a path-and-query can contain needs escaping here).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
