//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers) and
//! `/metrics` in the Prometheus text format. The counters are a few atomics and a small map keyed by
//! route template, so their number is bounded by the routes, never by the paths callers send.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

pub async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    state.metrics.duration_us_total.fetch_add(us, Ordering::Relaxed);
    state.metrics.requests_total.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut map) = state.metrics.requests.lock() {
        *map.entry((method, route, resp.status().as_u16())).or_insert(0) += 1;
    }
    resp
}

/// Resident memory of this process in bytes, from /proc (Linux); 0 where unavailable.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP lianrong_http_requests_total HTTP requests answered, by method, route template and status.\n");
    out.push_str("# TYPE lianrong_http_requests_total counter\n");
    if let Ok(map) = state.metrics.requests.lock() {
        for ((method, route, status), n) in map.iter() {
            out.push_str(&format!(
                "lianrong_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}\n",
                escape_label(method),
                escape_label(route)
            ));
        }
    }
    let total = state.metrics.requests_total.load(Ordering::Relaxed);
    let secs = state.metrics.duration_us_total.load(Ordering::Relaxed) as f64 / 1e6;
    out.push_str("# HELP lianrong_http_request_duration_seconds Time spent answering HTTP requests.\n");
    out.push_str("# TYPE lianrong_http_request_duration_seconds summary\n");
    out.push_str(&format!(
        "lianrong_http_request_duration_seconds_sum {secs}\nlianrong_http_request_duration_seconds_count {total}\n"
    ));
    out.push_str("# HELP lianrong_process_resident_memory_bytes Resident memory of the process.\n");
    out.push_str("# TYPE lianrong_process_resident_memory_bytes gauge\n");
    out.push_str(&format!("lianrong_process_resident_memory_bytes {}\n", resident_bytes()));
    let pool = state.app.pool_stats();
    out.push_str("# HELP lianrong_db_pool_connections Database pool connections (open, idle).\n");
    out.push_str("# TYPE lianrong_db_pool_connections gauge\n");
    out.push_str(&format!(
        "lianrong_db_pool_connections{{state=\"open\"}} {}\nlianrong_db_pool_connections{{state=\"idle\"}} {}\n",
        pool.open, pool.idle
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
