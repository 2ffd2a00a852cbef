//! Lianrong's HTTP edge. Only this crate knows HTTP, JSON shapes and HTML: `api` (JSON under `/api/v1`,
//! described by OpenAPI) and `console` (server-rendered pages) both call the same `app` use cases.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod ops;
pub mod state;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use lianrong_app::App;
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
        .fallback(error::fallback)
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

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, config)).with_graceful_shutdown(shutdown).await
}
