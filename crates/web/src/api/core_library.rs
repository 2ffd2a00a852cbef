//! The core-enterprise library.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::core_library as app;
use lianrong_app::core_library::{EntryFilter, EntryRecord, EventRecord};
use lianrong_domain::core_library::LibraryStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LibraryEntryDto {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub org_uscc: String,
    pub cluster_id: String,
    /// applied, admitted, suspended or withdrawn.
    pub status: String,
    /// Business date (Asia/Shanghai) of the last admission.
    pub admission_date: Option<String>,
    /// The reason given with the application.
    pub reason: String,
    pub applied_at: String,
    pub updated_at: String,
}

impl From<EntryRecord> for LibraryEntryDto {
    fn from(e: EntryRecord) -> Self {
        LibraryEntryDto {
            id: e.id,
            org_id: e.org_id,
            org_name: e.org_name,
            org_uscc: e.org_uscc,
            cluster_id: e.cluster_id,
            status: e.status.code().into(),
            admission_date: e.admission_date.map(|d| d.to_string()),
            reason: e.reason,
            applied_at: rfc3339(e.applied_at_ms),
            updated_at: rfc3339(e.updated_at_ms),
        }
    }
}

page_dto!(LibraryEntryPage, LibraryEntryDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LibraryEventDto {
    pub seq: i64,
    /// admit, suspend, reinstate, withdraw; absent for the application itself.
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub actor_org_id: String,
    pub actor_user_id: Option<String>,
    pub at: String,
}

impl From<EventRecord> for LibraryEventDto {
    fn from(e: EventRecord) -> Self {
        LibraryEventDto {
            seq: e.seq,
            action: e.action.map(|a| a.code().into()),
            from_status: e.from_status.map(|s| s.code().into()),
            to_status: e.to_status.code().into(),
            reason: e.reason,
            actor_org_id: e.actor_org_id,
            actor_user_id: e.actor_user_id,
            at: rfc3339(e.at_ms),
        }
    }
}

page_dto!(LibraryEventPage, LibraryEventDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyDto {
    /// Defaults to the caller's organisation; the operator may enter another.
    pub org_id: Option<String>,
    pub cluster_id: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionDto {
    /// admit, suspend, reinstate or withdraw.
    pub action: String,
    /// Required to suspend or withdraw.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    pub status: Option<String>,
    pub cluster_id: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/core-library", tag = "core_library", params(LibraryQuery),
    description = "Operator and regulator see all entries; banks see admitted and suspended ones; others their own.",
    responses((status = 200, body = LibraryEntryPage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<LibraryQuery>,
) -> ApiResult<Json<LibraryEntryPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(LibraryStatus::parse)
        .transpose()
        .map_err(lianrong_app::AppError::from)?;
    let filter = EntryFilter { status, cluster_id: q.cluster_id.filter(|c| !c.is_empty()) };
    Ok(Json(LibraryEntryPage::from_page(app::list(&s.app, &actor, filter, page).await?, LibraryEntryDto::from)))
}

#[utoipa::path(get, path = "/api/v1/core-library/{id}", tag = "core_library", params(("id" = String, Path)),
    responses((status = 200, body = LibraryEntryDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LibraryEntryDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/core-library/{id}/history", tag = "core_library", params(("id" = String, Path), PageParams),
    responses((status = 200, body = LibraryEventPage), (status = 404, body = Problem)))]
pub async fn history(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<LibraryEventPage>> {
    Ok(Json(LibraryEventPage::from_page(app::history(&s.app, &actor, &id, p.request()?).await?, LibraryEventDto::from)))
}

#[utoipa::path(post, path = "/api/v1/core-library", tag = "core_library", request_body = ApplyDto,
    responses((status = 201, body = LibraryEntryDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn apply(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<ApplyDto>,
) -> ApiResult<(StatusCode, Json<LibraryEntryDto>)> {
    let org_id = b.org_id.unwrap_or_else(|| actor.org_id.clone());
    let rec = app::apply(&s.app, &actor, &org_id, &b.cluster_id, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(post, path = "/api/v1/core-library/{id}/transitions", tag = "core_library", params(("id" = String, Path)), request_body = TransitionDto,
    description = "Only the operator admits, suspends and reinstates; an applicant may withdraw its own entry.",
    responses((status = 200, body = LibraryEntryDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn transition(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransitionDto>,
) -> ApiResult<Json<LibraryEntryDto>> {
    Ok(Json(app::transition(&s.app, &actor, &id, &b.action, b.reason.as_deref()).await?.into()))
}
