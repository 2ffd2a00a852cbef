//! The "33618" cluster list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::cluster::ClusterRecord;
use lianrong_app::cluster::{self as app, ClusterInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterDto {
    pub id: String,
    /// trillion, five_hundred_billion, hundred_billion or new_star.
    pub tier: String,
    pub name_zh: String,
    pub name_en: String,
    /// Whether a retrieved official source confirmed this entry.
    pub verified: bool,
    pub position: i64,
}

impl From<ClusterRecord> for ClusterDto {
    fn from(c: ClusterRecord) -> Self {
        ClusterDto {
            id: c.id,
            tier: c.tier.code().into(),
            name_zh: c.name_zh,
            name_en: c.name_en,
            verified: c.verified,
            position: c.position,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterList {
    /// The whole list (a few dozen entries), in display order.
    pub items: Vec<ClusterDto>,
    pub total: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterBody {
    pub tier: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub position: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClusterDto {
    /// Short lowercase slug, e.g. `new_display`.
    pub id: String,
    pub tier: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub position: i64,
}

#[utoipa::path(get, path = "/api/v1/clusters", tag = "cluster", responses((status = 200, body = ClusterList)))]
pub async fn list(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<ClusterList>> {
    let items: Vec<ClusterDto> = app::list(&s.app, &actor).await?.into_iter().map(ClusterDto::from).collect();
    Ok(Json(ClusterList { total: items.len() as i64, items }))
}

fn input(id: String, b: ClusterBody) -> ClusterInput {
    ClusterInput {
        id,
        tier: b.tier,
        name_zh: b.name_zh,
        name_en: b.name_en,
        verified: b.verified,
        position: b.position,
    }
}

#[utoipa::path(post, path = "/api/v1/clusters", tag = "cluster", request_body = NewClusterDto,
    responses((status = 201, body = ClusterDto), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewClusterDto>,
) -> ApiResult<(StatusCode, Json<ClusterDto>)> {
    let body = ClusterBody {
        tier: b.tier,
        name_zh: b.name_zh,
        name_en: b.name_en,
        verified: b.verified,
        position: b.position,
    };
    let rec = app::create(&s.app, &actor, input(b.id, body)).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(put, path = "/api/v1/clusters/{id}", tag = "cluster", params(("id" = String, Path)), request_body = ClusterBody,
    responses((status = 200, body = ClusterDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ClusterBody>,
) -> ApiResult<Json<ClusterDto>> {
    Ok(Json(app::update(&s.app, &actor, input(id, b)).await?.into()))
}
