//! Request extractors whose rejections are problem documents naming what is wrong: malformed JSON,
//! wrong content type, oversize body, bad query parameters.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use lianrong_domain::limits::REQUEST_BODY_BYTES_MAX;
use lianrong_domain::page::{PageRequest, Seek};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::ApiError;

/// `axum::Json` with problem+json rejections.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The body must be JSON with Content-Type: application/json",
            "请求体须为JSON，且 Content-Type 为 application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::with_status(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("The body is not valid JSON: {}", e.body_text()),
            format!("请求体不是合法的JSON：{}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let field = field_of(&text);
            let mut err = ApiError::with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("The JSON does not have the expected fields or types: {text}"),
                format!("JSON字段或类型不符合要求：{text}"),
            );
            err.error.field = field;
            err
        }
        JsonRejection::BytesRejection(_) => ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than {REQUEST_BODY_BYTES_MAX} bytes, or could not be read"),
            format!("请求体超过{REQUEST_BODY_BYTES_MAX}字节，或无法读取"),
        ),
        other => ApiError::with_status(StatusCode::BAD_REQUEST, "bad_request", other.body_text(), "请求无效"),
    }
}

/// serde_path_to_error style messages start with the path: "name: invalid type…"; take it as the field.
fn field_of(text: &str) -> Option<String> {
    let rest = text.split("body: ").nth(1).unwrap_or(text);
    let (path, _) = rest.split_once(": ")?;
    (!path.contains(' ') && !path.is_empty()).then(|| path.to_string())
}

/// `axum::Query` with problem+json rejections.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(query_rejection(r)),
        }
    }
}

fn query_rejection(r: QueryRejection) -> ApiError {
    ApiError::with_status(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("Invalid query parameters: {}", r.body_text()),
        format!("查询参数无效：{}", r.body_text()),
    )
}

/// Pagination parameters accepted by every list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page (default 50, at most 200).
    pub page_size: Option<u32>,
}

/// Pagination parameters of a list paged by key: a page number, or the cursor a previous page gave out.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyedPageParams {
    /// 1-based page number (default 1). Deep pages by number slow down; follow `after` instead.
    pub page: Option<u32>,
    /// Items per page (default 50, at most 200).
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page: reads the page after it (instead of `page`).
    pub after: Option<String>,
}

impl KeyedPageParams {
    pub fn seek(&self) -> Result<Seek, ApiError> {
        PageParams { page: self.page, page_size: self.page_size }.seek(self.after.as_deref())
    }
}

impl PageParams {
    pub fn request(self) -> Result<PageRequest, ApiError> {
        PageRequest::new(self.page, self.page_size).map_err(|e| ApiError::from(lianrong_app::AppError::from(e)))
    }

    /// The page of a list that is paged by key: by number, or after the cursor a previous page gave out.
    pub fn seek(self, after: Option<&str>) -> Result<Seek, ApiError> {
        Seek::new(self.page, self.page_size, after).map_err(|e| ApiError::from(lianrong_app::AppError::from(e)))
    }
}
