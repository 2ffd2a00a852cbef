//! Dedicated supply-chain credit lines: a bank grants them; the bank and the borrower read them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::credit_line::LineRow;
use lianrong_app::credit_line::{self as app, NewLine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditLineDto {
    pub id: String,
    pub bank_org_id: String,
    pub borrower_org_id: String,
    /// core_supply_chain or supplier.
    pub kind: String,
    pub limit_fen: i64,
    /// Occupied by commitments and financings not yet repaid.
    pub used_fen: i64,
    pub available_fen: i64,
    pub valid_from: String,
    pub valid_until: String,
    pub granted_by: String,
    pub granted_at: String,
}

impl From<LineRow> for CreditLineDto {
    fn from(l: LineRow) -> CreditLineDto {
        CreditLineDto {
            available_fen: l.limit_fen - l.used_fen,
            id: l.id,
            bank_org_id: l.bank_org_id,
            borrower_org_id: l.borrower_org_id,
            kind: l.kind.code().to_string(),
            limit_fen: l.limit_fen,
            used_fen: l.used_fen,
            valid_from: l.valid_from.to_string(),
            valid_until: l.valid_until.to_string(),
            granted_by: l.granted_by,
            granted_at: rfc3339(l.granted_at_ms),
        }
    }
}

page_dto!(CreditLinePage, CreditLineDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditLineDto {
    pub borrower_org_id: String,
    /// core_supply_chain (to a core enterprise) or supplier (to a supplier).
    pub kind: String,
    pub limit_fen: i64,
    /// YYYY-MM-DD.
    pub valid_from: String,
    /// YYYY-MM-DD, at most five years after `valid_from`.
    pub valid_until: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditLineQuery {
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/credit-lines", tag = "credit_line", request_body = NewCreditLineDto,
    description = "A bank's staff grant a dedicated supply-chain line to a core, or a line to a supplier.",
    responses((status = 201, body = CreditLineDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn grant(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewCreditLineDto>,
) -> ApiResult<(StatusCode, Json<CreditLineDto>)> {
    let new = NewLine {
        borrower_org_id: b.borrower_org_id,
        kind: b.kind,
        limit_fen: b.limit_fen,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
    };
    Ok((StatusCode::CREATED, Json(app::grant(&s.app, &actor, &new).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/credit-lines", tag = "credit_line", params(CreditLineQuery),
    description = "The lines your bank granted, or your organisation was granted.",
    responses((status = 200, body = CreditLinePage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<CreditLineQuery>,
) -> ApiResult<Json<CreditLinePage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    Ok(Json(CreditLinePage::from_page(app::list(&s.app, &actor, page).await?, CreditLineDto::from)))
}

#[utoipa::path(get, path = "/api/v1/credit-lines/{id}", tag = "credit_line", params(("id" = String, Path)),
    responses((status = 200, body = CreditLineDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<CreditLineDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}
