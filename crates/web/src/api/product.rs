//! Financing products: banks draft, publish and withdraw them; the catalogue of published products
//! is open to every signed-in user, drafts to their bank only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::product::{self as app, CatalogueQuery, NewProduct, Product};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductChainDto {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductDto {
    pub id: String,
    pub bank_org_id: String,
    pub bank_name: String,
    /// The product this one is a chain-specific variant of.
    pub parent_product_id: Option<String>,
    pub name: String,
    pub description: String,
    /// receivable_financing, factoring_with_recourse, factoring_without_recourse, reverse_factoring,
    /// commitment_discount, order_financing or data_only_credit.
    pub kind: String,
    /// True when the product is offered on every chain.
    pub every_chain: bool,
    /// The chains it is limited to that you may see (chain members, the operator, the regulator).
    pub eligible_chains: Vec<ProductChainDto>,
    /// How many more chains it is limited to that you may not see.
    pub chains_hidden: usize,
    /// Supplier tiers (1 sells to the core); empty for any tier.
    pub eligible_tiers: Vec<u8>,
    /// confirmed (确权), data_verified (数据核验, four-flow verified) or either.
    pub evidence: String,
    pub amount_min_fen: i64,
    pub amount_max_fen: i64,
    pub term_min_days: i64,
    pub term_max_days: i64,
    /// Annual rate range in basis points (435 = 4.35 % p.a.).
    pub rate_min_bp: i64,
    pub rate_max_bp: i64,
    /// Share of the receivable advanced, basis points (8000 = 80 %).
    pub advance_ratio_bp: i64,
    /// One-off fee on the advance, basis points.
    pub fee_bp: i64,
    /// One-off fixed fee, fen.
    pub fee_fixed_fen: i64,
    /// draft, published or withdrawn.
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub withdrawn_at: Option<String>,
}

impl From<Product> for ProductDto {
    fn from(p: Product) -> ProductDto {
        let every_chain = p.every_chain();
        let r = p.row;
        let t = r.terms;
        ProductDto {
            id: r.id,
            bank_org_id: r.bank_org_id,
            bank_name: p.bank_name,
            parent_product_id: r.parent_product_id,
            name: r.name,
            description: r.description,
            kind: t.kind.code().to_string(),
            every_chain,
            // Only the chains the reader may see, never the terms' full list.
            eligible_chains: p.chains.into_iter().map(|(id, name)| ProductChainDto { id, name }).collect(),
            chains_hidden: p.chains_hidden,
            eligible_tiers: t.tiers,
            evidence: t.evidence.code().to_string(),
            amount_min_fen: t.amount_min_fen,
            amount_max_fen: t.amount_max_fen,
            term_min_days: t.term_min_days,
            term_max_days: t.term_max_days,
            rate_min_bp: t.rate_min_bp,
            rate_max_bp: t.rate_max_bp,
            advance_ratio_bp: t.advance_ratio_bp,
            fee_bp: t.fee_bp,
            fee_fixed_fen: t.fee_fixed_fen,
            state: r.state.code().to_string(),
            created_at: rfc3339(r.created_at_ms),
            updated_at: rfc3339(r.updated_at_ms),
            published_at: r.published_at_ms.map(rfc3339),
            withdrawn_at: r.withdrawn_at_ms.map(rfc3339),
        }
    }
}

page_dto!(ProductPage, ProductDto);

/// A product as the bank writes it: for a new draft, or the whole of a draft when editing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBodyDto {
    /// The Chinese name the catalogue shows (at most 60 characters).
    pub name: String,
    /// At most 2,000 characters.
    pub description: Option<String>,
    pub kind: String,
    /// Chains the product is limited to (ones your bank is a partner of); empty or absent for every chain.
    #[serde(default)]
    pub eligible_chain_ids: Vec<String>,
    /// Tiers 1–5; empty or absent for any tier.
    #[serde(default)]
    pub eligible_tiers: Vec<i64>,
    /// confirmed, data_verified or either (data_only_credit needs data_verified; reverse_factoring and
    /// commitment_discount need confirmed).
    pub evidence: String,
    pub amount_min_fen: i64,
    pub amount_max_fen: i64,
    pub term_min_days: i64,
    pub term_max_days: i64,
    /// Basis points a year, 1–2,400.
    pub rate_min_bp: i64,
    pub rate_max_bp: i64,
    /// 1–10,000 basis points.
    pub advance_ratio_bp: i64,
    /// 0–500 basis points of the advance.
    #[serde(default)]
    pub fee_bp: i64,
    /// 0–¥100,000 in fen.
    #[serde(default)]
    pub fee_fixed_fen: i64,
    /// For a chain-specific variant: your bank's product it narrows (exactly one chain, same kind,
    /// no wider tiers, evidence, amounts or terms).
    pub parent_product_id: Option<String>,
}

impl From<ProductBodyDto> for NewProduct {
    fn from(b: ProductBodyDto) -> NewProduct {
        NewProduct {
            name: b.name,
            description: b.description,
            kind: b.kind,
            eligible_chain_ids: b.eligible_chain_ids,
            eligible_tiers: b.eligible_tiers,
            evidence: b.evidence,
            amount_min_fen: b.amount_min_fen,
            amount_max_fen: b.amount_max_fen,
            term_min_days: b.term_min_days,
            term_max_days: b.term_max_days,
            rate_min_bp: b.rate_min_bp,
            rate_max_bp: b.rate_max_bp,
            advance_ratio_bp: b.advance_ratio_bp,
            fee_bp: b.fee_bp,
            fee_fixed_fen: b.fee_fixed_fen,
            parent_product_id: b.parent_product_id,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    pub kind: Option<String>,
    /// Products for this chain: those limited to it and those for every chain.
    pub chain_id: Option<String>,
    pub bank_org_id: Option<String>,
    /// published (default), draft (your bank's only) or withdrawn.
    pub state: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/products", tag = "product", request_body = ProductBodyDto,
    description = "A bank's staff draft a financing product (published separately).",
    responses((status = 201, body = ProductDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<ProductBodyDto>,
) -> ApiResult<(StatusCode, Json<ProductDto>)> {
    Ok((StatusCode::CREATED, Json(app::create(&s.app, &actor, &b.into()).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/products", tag = "product", params(ProductQuery),
    description = "The catalogue: published products (every signed-in user), filtered by kind, chain and bank; \
                   state=draft lists your bank's drafts.",
    responses((status = 200, body = ProductPage), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> ApiResult<Json<ProductPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let query = CatalogueQuery { kind: q.kind, chain_id: q.chain_id, bank_org_id: q.bank_org_id, state: q.state };
    Ok(Json(ProductPage::from_page(app::list(&s.app, &actor, &query, page).await?, ProductDto::from)))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "product", params(("id" = String, Path)),
    responses((status = 200, body = ProductDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "product", params(("id" = String, Path)),
    request_body = ProductBodyDto, description = "Rewrites a draft of your bank's (published products are not edited).",
    responses((status = 200, body = ProductDto), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ProductBodyDto>,
) -> ApiResult<Json<ProductDto>> {
    Ok(Json(app::update(&s.app, &actor, &id, &b.into()).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/products/{id}/publish", tag = "product", params(("id" = String, Path)),
    description = "Publishes a draft to the catalogue (a variant only while its parent is published).",
    responses((status = 200, body = ProductDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn publish(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductDto>> {
    Ok(Json(app::publish(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/products/{id}/withdraw", tag = "product", params(("id" = String, Path)),
    description = "Withdraws a product (and its chain variants) from the catalogue.",
    responses((status = 200, body = ProductDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductDto>> {
    Ok(Json(app::withdraw(&s.app, &actor, &id).await?.into()))
}
