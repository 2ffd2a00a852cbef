//! Organisations and the credit-code exception list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::org::{self as app, NewOrg};
use lianrong_app::org::{OrgFilter, OrgRecord, UsccException};
use lianrong_domain::org::OrgKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgDto {
    pub id: String,
    /// Unified social credit code (18 characters).
    pub uscc: String,
    /// False only for a real legacy code on the operator's exception list whose check character fails.
    pub uscc_verified: bool,
    pub name: String,
    /// operator, core, supplier, bank, service_institution or regulator.
    pub kind: String,
    /// large, medium, small or micro.
    pub size_class: String,
    pub sme: bool,
    /// 6-digit administrative division code (GB/T 2260).
    pub region_code: String,
    pub created_at: String,
}

impl From<OrgRecord> for OrgDto {
    fn from(o: OrgRecord) -> OrgDto {
        OrgDto {
            id: o.id,
            uscc: o.uscc,
            uscc_verified: o.uscc_verified,
            name: o.name,
            kind: o.kind.code().into(),
            size_class: o.size_class.code().into(),
            sme: o.sme,
            region_code: o.region_code,
            created_at: rfc3339(o.created_at_ms),
        }
    }
}

page_dto!(OrgPage, OrgDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgDto {
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub size_class: String,
    /// Defaults to characters 3–8 of the credit code.
    pub region_code: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Filter by kind.
    pub kind: Option<String>,
    /// Search the name or credit code.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisation", params(OrgQuery),
    description = "The directory as the caller may see it: the operator and regulator see all; others see their own organisation and the members of their chains.",
    responses((status = 200, body = OrgPage), (status = 401, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<OrgPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(OrgKind::parse)
        .transpose()
        .map_err(lianrong_app::AppError::from)?;
    let p = app::list(&s.app, &actor, OrgFilter { kind, query: q.q }, page).await?;
    Ok(Json(OrgPage::from_page(p, OrgDto::from)))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisation", params(("id" = String, Path)),
    responses((status = 200, body = OrgDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisation", request_body = NewOrgDto,
    description = "Operator only. The credit code is check-verified (GB 32100-2015); a code that fails the check is admitted only when on the exception list.",
    responses((status = 201, body = OrgDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewOrgDto>,
) -> ApiResult<(StatusCode, Json<OrgDto>)> {
    let rec = app::create(
        &s.app,
        &actor,
        NewOrg { uscc: b.uscc, name: b.name, kind: b.kind, size_class: b.size_class, region_code: b.region_code },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsccExceptionDto {
    pub uscc: String,
    pub note: String,
    pub created_at: String,
}

page_dto!(UsccExceptionPage, UsccExceptionDto);

impl From<UsccException> for UsccExceptionDto {
    fn from(e: UsccException) -> Self {
        UsccExceptionDto { uscc: e.uscc, note: e.note, created_at: rfc3339(e.created_at_ms) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUsccExceptionDto {
    pub uscc: String,
    /// Why this real code is admitted although its check character fails.
    pub note: String,
}

#[utoipa::path(get, path = "/api/v1/uscc-exceptions", tag = "organisation", params(PageParams),
    responses((status = 200, body = UsccExceptionPage), (status = 403, body = Problem)))]
pub async fn list_uscc_exceptions(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<UsccExceptionPage>> {
    let page = app::list_uscc_exceptions(&s.app, &actor, p.request()?).await?;
    Ok(Json(UsccExceptionPage::from_page(page, UsccExceptionDto::from)))
}

#[utoipa::path(post, path = "/api/v1/uscc-exceptions", tag = "organisation", request_body = NewUsccExceptionDto,
    responses((status = 201, body = UsccExceptionDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add_uscc_exception(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewUsccExceptionDto>,
) -> Result<(StatusCode, Json<UsccExceptionDto>), ApiError> {
    let rec = app::add_uscc_exception(&s.app, &actor, &b.uscc, &b.note).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}
