//! API keys of the caller's organisation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::api_key as app;
use lianrong_app::api_key::ApiKeyRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: String,
    pub name: String,
    /// The public part of the key (`lrk_<prefix>_…`), to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<ApiKeyRecord> for ApiKeyDto {
    fn from(k: ApiKeyRecord) -> Self {
        ApiKeyDto {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.code().to_string()).collect(),
            created_at: rfc3339(k.created_at_ms),
            revoked_at: k.revoked_at_ms.map(rfc3339),
            last_used_at: k.last_used_at_ms.map(rfc3339),
        }
    }
}

page_dto!(ApiKeyPage, ApiKeyDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKeyDto {
    pub key: ApiKeyDto,
    /// The whole key. It is shown once and cannot be recovered; store it in the client now.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyDto {
    pub name: String,
    /// organisation:read, chain:read, chain:write, core_library:read, core_library:write.
    pub scopes: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api_key", params(PageParams),
    responses((status = 200, body = ApiKeyPage), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<ApiKeyPage>> {
    Ok(Json(ApiKeyPage::from_page(app::list(&s.app, &actor, p.request()?).await?, ApiKeyDto::from)))
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api_key", request_body = NewApiKeyDto,
    description = "Organisation admin, in a console session. Keys never create keys or manage users.",
    responses((status = 201, body = CreatedApiKeyDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewApiKeyDto>,
) -> ApiResult<(StatusCode, Json<CreatedApiKeyDto>)> {
    let created = app::create(&s.app, &actor, &b.name, &b.scopes).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKeyDto { key: created.record.into(), secret: created.plaintext })))
}

#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "api_key", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app::revoke(&s.app, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
