//! Errors at the HTTP edge: `application/problem+json` (RFC 9457) for the API, with a stable `code`,
//! the field at fault, and the message in Chinese and English.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianrong_app::{AppError, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The problem document every API error answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:lianrong:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short English summary.
    pub title: String,
    pub status: u16,
    /// The English explanation.
    pub detail: String,
    /// Stable machine-readable code (`invalid_uscc`, `not_found`, …).
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message_zh: String,
    pub message_en: String,
    /// The reference of the record a conflict is with, when there is one (e.g. the registration that
    /// already claims a receivable: `LR-REG-2026-000001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An app error on its way out of the API.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    /// Overrides the status that the error's kind implies (e.g. 400, 413, 415 for request-shape problems).
    pub status: Option<StatusCode>,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        ApiError { error, status: None }
    }
}

impl ApiError {
    pub fn with_status(
        status: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> ApiError {
        ApiError { error: AppError::new(ErrorKind::Invalid, code, en, zh), status: Some(status) }
    }
}

pub fn problem_response(status: StatusCode, e: &AppError) -> Response {
    let body = Problem {
        type_uri: format!("urn:lianrong:problem:{}", e.code),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail: e.en.clone(),
        code: e.code.to_string(),
        field: e.field.clone(),
        message_zh: e.zh.clone(),
        message_en: e.en.clone(),
        reference: e.reference().map(str::to_string),
    };
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(secs) = e.retry_after_s
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"lianrong\""));
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| status_of(self.error.kind));
        problem_response(status, &self.error)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
