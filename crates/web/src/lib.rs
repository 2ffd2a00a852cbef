//! Lianrong's HTTP edge. Only this crate knows HTTP, JSON shapes and HTML: `api` (JSON under `/api/v1`,
//! described by OpenAPI) and `console` (server-rendered pages) both call the same `app` use cases.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod console;
mod download;
pub mod error;
pub mod extract;
pub mod idempotency;
mod metrics;
pub mod ops;
pub mod state;
mod upload;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use lianrong_app::{App, AppError, ErrorKind};
use lianrong_domain::limits::REQUEST_BODY_BYTES_MAX;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, WebConfig};

/// Requests that take longer than this are answered 408 rather than holding a connection forever.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// The whole HTTP surface: operations endpoints, the API with its documents, and the console.
pub fn router(app: App, config: WebConfig) -> Router {
    let state = AppState::new(app, config);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(ops::router())
        .merge(api::router(state.clone()))
        .merge(console::router(state.clone()))
        // A route layer sees the matched route template, which keeps the metric labels bounded.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), ops::record_metrics))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(REQUEST_TIMEOUT_MS),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Unknown paths: problem+json under `/api/`, the console's HTML page elsewhere. It lives here, where the
/// two halves meet, so that `error` (the API's problems) never reaches into the console.
async fn fallback(uri: Uri, jar: CookieJar) -> Response {
    let e = AppError::new(
        ErrorKind::NotFound,
        "no_such_path",
        format!("No such page or endpoint: {}", uri.path()),
        format!("页面或接口不存在：{}", uri.path()),
    );
    if uri.path().starts_with("/api/") {
        error::problem_response(StatusCode::NOT_FOUND, &e)
    } else {
        console::page::error_page(StatusCode::NOT_FOUND, &e, auth::lang_en(&jar))
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, config)).with_graceful_shutdown(shutdown).await
}
