//! Industry chains and their members.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::chain as app;
use lianrong_app::chain::{ChainRecord, MemberRecord};
use lianrong_domain::chain::MemberRole;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainDto {
    pub id: String,
    pub name: String,
    pub cluster_id: String,
    /// One of the first 2–3 pilot chains.
    pub pilot: bool,
    pub member_count: i64,
    pub created_at: String,
}

impl From<ChainRecord> for ChainDto {
    fn from(c: ChainRecord) -> Self {
        ChainDto {
            id: c.id,
            name: c.name,
            cluster_id: c.cluster_id,
            pilot: c.pilot,
            member_count: c.member_count,
            created_at: rfc3339(c.created_at_ms),
        }
    }
}

page_dto!(ChainPage, ChainDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberDto {
    pub org_id: String,
    pub org_name: String,
    pub org_uscc: String,
    pub org_kind: String,
    /// core, supplier, bank or service_institution.
    pub role: String,
    /// Declared supplier tier (1 supplies the core directly).
    pub tier: Option<i64>,
    pub joined_at: String,
}

impl From<MemberRecord> for MemberDto {
    fn from(m: MemberRecord) -> Self {
        MemberDto {
            org_id: m.org_id,
            org_name: m.org_name,
            org_uscc: m.org_uscc,
            org_kind: m.org_kind.code().into(),
            role: m.role.code().into(),
            tier: m.tier,
            joined_at: rfc3339(m.joined_at_ms),
        }
    }
}

page_dto!(MemberPage, MemberDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChainDto {
    pub name: String,
    pub cluster_id: String,
    #[serde(default)]
    pub pilot: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainPatchDto {
    pub pilot: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberDto {
    pub org_id: String,
    pub role: String,
    /// Suppliers only: declared tier 1–9.
    pub tier: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Filter by role.
    pub role: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/chains", tag = "chain", params(PageParams),
    description = "Chains the caller belongs to (all chains for the operator and regulator).",
    responses((status = 200, body = ChainPage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<ChainPage>> {
    Ok(Json(ChainPage::from_page(app::list(&s.app, &actor, p.request()?).await?, ChainDto::from)))
}

#[utoipa::path(get, path = "/api/v1/chains/{id}", tag = "chain", params(("id" = String, Path)),
    responses((status = 200, body = ChainDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ChainDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/chains", tag = "chain", request_body = NewChainDto,
    responses((status = 201, body = ChainDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewChainDto>,
) -> ApiResult<(StatusCode, Json<ChainDto>)> {
    let rec = app::create(&s.app, &actor, &b.name, &b.cluster_id, b.pilot).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(patch, path = "/api/v1/chains/{id}", tag = "chain", params(("id" = String, Path)), request_body = ChainPatchDto,
    responses((status = 200, body = ChainDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn set_pilot(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ChainPatchDto>,
) -> ApiResult<Json<ChainDto>> {
    Ok(Json(app::set_pilot(&s.app, &actor, &id, b.pilot).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/chains/{id}/members", tag = "chain", params(("id" = String, Path), MemberQuery),
    responses((status = 200, body = MemberPage), (status = 404, body = Problem)))]
pub async fn members(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MemberQuery>,
) -> ApiResult<Json<MemberPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let role = q
        .role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(MemberRole::parse)
        .transpose()
        .map_err(lianrong_app::AppError::from)?;
    Ok(Json(MemberPage::from_page(app::members(&s.app, &actor, &id, role, page).await?, MemberDto::from)))
}

#[utoipa::path(post, path = "/api/v1/chains/{id}/members", tag = "chain", params(("id" = String, Path)), request_body = NewMemberDto,
    responses((status = 201, body = MemberDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewMemberDto>,
) -> ApiResult<(StatusCode, Json<MemberDto>)> {
    let rec = app::add_member(&s.app, &actor, &id, &b.org_id, &b.role, b.tier).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(delete, path = "/api/v1/chains/{id}/members/{org_id}", tag = "chain", params(("id" = String, Path), ("org_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, org_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    app::remove_member(&s.app, &actor, &id, &org_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
