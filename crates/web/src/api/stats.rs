//! Programme statistics for the operator and the regulator.

use axum::Json;
use axum::extract::State;
use lianrong_app::stats::ChainTierFigures;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainTierFinancingDto {
    pub chain_id: String,
    pub chain_name: String,
    /// The supplier's tier in the chain; null for holders outside it.
    pub tier: Option<i64>,
    /// Suppliers of this tier that received commitment parts by issue or transfer.
    pub holders: i64,
    pub received_fen: i64,
    pub held_fen: i64,
    /// Parts these suppliers discounted at banks (posted).
    pub discounted_fen: i64,
}

impl From<ChainTierFigures> for ChainTierFinancingDto {
    fn from(f: ChainTierFigures) -> ChainTierFinancingDto {
        ChainTierFinancingDto {
            chain_id: f.chain_id,
            chain_name: f.chain_name,
            tier: f.tier,
            holders: f.holders,
            received_fen: f.received_fen,
            held_fen: f.held_fen,
            discounted_fen: f.discounted_fen,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stats/financing", tag = "stats",
    description = "Financing by chain and supplier tier: commitment parts received, held and discounted. Operator and \
                   regulator only.",
    responses((status = 200, body = Vec<ChainTierFinancingDto>), (status = 403, body = Problem)))]
pub async fn financing(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<ChainTierFinancingDto>>> {
    let rows = lianrong_app::stats::financing_by_chain_tier(&s.app, &actor).await?;
    Ok(Json(rows.into_iter().map(ChainTierFinancingDto::from).collect()))
}
