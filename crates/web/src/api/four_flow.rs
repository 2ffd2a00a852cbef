//! Four-flow verification verdicts: why each invoice is, or is not, proven by the trade data.

use axum::Json;
use axum::extract::{Path, State};
use lianrong_app::four_flow as app;
use lianrong_app::four_flow::VerificationRow;
use lianrong_domain::four_flow::Discrepancy;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{keyed_page_dto, page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiscrepancyDto {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    /// True when the finding contradicts the trade (inconsistent); false for a missing link (partly).
    pub contradicts: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationDto {
    pub invoice_id: String,
    pub buyer_uscc: String,
    pub seller_uscc: String,
    /// verified, partly_verified, inconsistent or unverified.
    pub status: String,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub credited_fen: i64,
    /// Reversed by red invoices.
    pub reversed_fen: i64,
    pub discrepancies: Vec<DiscrepancyDto>,
    /// The linked orders, deliveries, payments, credit notes and reversals, each with how it was linked
    /// (`reference` or `inferred`) and the amount applied.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub verified_at: String,
}

impl From<VerificationRow> for VerificationDto {
    fn from(v: VerificationRow) -> Self {
        let discrepancies = v
            .discrepancies
            .split(',')
            .filter_map(|c| Discrepancy::parse(c).ok())
            .map(|d| DiscrepancyDto {
                code: d.code().into(),
                label_zh: d.label_zh().into(),
                label_en: d.label_en().into(),
                contradicts: d.contradicts(),
            })
            .collect();
        VerificationDto {
            invoice_id: v.invoice_id,
            buyer_uscc: v.buyer_uscc,
            seller_uscc: v.seller_uscc,
            status: v.status,
            invoiced_fen: v.invoiced_fen,
            paid_fen: v.paid_fen,
            credited_fen: v.credited_fen,
            reversed_fen: v.reversed_fen,
            discrepancies,
            evidence: serde_json::from_str(&v.evidence).unwrap_or(serde_json::Value::Null),
            verified_at: rfc3339(v.verified_at_ms),
        }
    }
}

page_dto!(VerificationPage, VerificationDto);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerificationQuery {
    /// verified, partly_verified, inconsistent or unverified.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/verifications", tag = "four_flow", params(VerificationQuery),
    description = "Four-flow verdicts on the invoices to which your organisation is a party.",
    responses((status = 200, body = VerificationPage), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<VerificationQuery>,
) -> ApiResult<Json<VerificationPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let status = q.status.filter(|x| !x.is_empty());
    Ok(Json(VerificationPage::from_page(
        app::list(&s.app, &actor, status.as_deref(), page).await?,
        VerificationDto::from,
    )))
}

#[utoipa::path(get, path = "/api/v1/verifications/{invoice_id}", tag = "four_flow", params(("invoice_id" = String, Path)),
    description = "One invoice's verdict with its evidence and every discrepancy named.",
    responses((status = 200, body = VerificationDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
) -> ApiResult<Json<VerificationDto>> {
    Ok(Json(app::get(&s.app, &actor, &invoice_id).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceivableDto {
    pub invoice_id: String,
    /// The debtor.
    pub buyer_uscc: String,
    /// The creditor.
    pub seller_uscc: String,
    /// The invoice's four-flow verdict (inconsistent invoices are not receivables).
    pub verification_status: String,
    pub invoiced_fen: i64,
    /// Invoiced less paid, credited and reversed.
    pub outstanding_fen: i64,
    pub delivered_date: Option<String>,
    pub due_date: Option<String>,
    pub overdue_days: i64,
    /// not_due, 1_30, 31_60, 61_90, 91_180 or over_180; absent when no term is known.
    pub ageing: Option<String>,
    /// Statutory late interest to today at 0.05 % a day (Art. 17 of the SME payment regulation).
    pub late_interest_fen: i64,
    /// Days beyond the 60 days a large buyer may take to pay an SME (Art. 9), when the term breaks it.
    pub sme_breach_days: Option<i64>,
    /// The core's credit path (确权): requested, confirmed, rejected or withdrawn; absent when never asked.
    pub confirmation_status: Option<String>,
    /// How it was confirmed: signed (the debtor's SM2 signature), debtor_upload (the debtor shared the
    /// invoice itself) or crcrfsp (confirmed on the central bank's receivables platform).
    pub confirmation_source: Option<String>,
    pub confirmation_id: Option<String>,
    /// The data-only path ("four no's"): true when the trade data alone prove the receivable, so it may
    /// be financed with no confirmation, credit line, system or liability of the core.
    pub data_only_eligible: bool,
    /// Why not, when not: not_verified, discrepancy, nothing_outstanding, no_due_date, overdue.
    pub data_only_ineligibility: Vec<String>,
    /// The active registration against double financing that claims it (its reference), if any.
    pub registration_reference: Option<String>,
}

keyed_page_dto!(ReceivablePage, ReceivableDto);

impl From<lianrong_app::receivable::Receivable> for ReceivableDto {
    fn from(r: lianrong_app::receivable::Receivable) -> ReceivableDto {
        let data_only_eligible = r.data_only_eligible();
        ReceivableDto {
            invoice_id: r.verdict.invoice_id,
            buyer_uscc: r.verdict.buyer_uscc,
            seller_uscc: r.verdict.seller_uscc,
            verification_status: r.verdict.status,
            invoiced_fen: r.verdict.invoiced_fen,
            outstanding_fen: r.verdict.outstanding_fen,
            delivered_date: r.verdict.delivered_date,
            due_date: r.verdict.due_date,
            overdue_days: r.overdue_days,
            ageing: r.ageing.map(|a| a.code().to_string()),
            late_interest_fen: r.late_interest_fen,
            sme_breach_days: r.sme_breach_days,
            confirmation_status: r.confirmation.as_ref().map(|c| c.status.code().to_string()),
            confirmation_source: r.confirmation.as_ref().and_then(|c| c.source).map(|s| s.code().to_string()),
            confirmation_id: r.confirmation.and_then(|c| c.confirmation_id),
            data_only_eligible,
            data_only_ineligibility: r.data_only_ineligibility.iter().map(|i| i.code().to_string()).collect(),
            registration_reference: r.registration_reference,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceivableQuery {
    /// creditor (owed to you), debtor (owed by you) or both (the default).
    pub side: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page: reads the page after it (instead of `page`).
    pub after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/receivables", tag = "four_flow", params(ReceivableQuery),
    description = "Verified invoices still owed, with due date, ageing, late interest and SME-rule breaches.",
    responses((status = 200, body = ReceivablePage), (status = 422, body = Problem)))]
pub async fn receivables(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ReceivableQuery>,
) -> ApiResult<Json<ReceivablePage>> {
    let seek = PageParams { page: q.page, page_size: q.page_size }.seek(q.after.as_deref())?;
    let side = lianrong_app::receivable::parse_side(q.side.as_deref())?;
    let rows = lianrong_app::receivable::list(&s.app, &actor, side, seek).await?;
    Ok(Json(ReceivablePage::from_keyed(rows, ReceivableDto::from)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TierDto {
    /// 1 sells to the core, 2 to a tier-1 supplier, …
    pub tier: u32,
    pub suppliers: usize,
    /// Invoiced by this tier's suppliers to the tier above.
    pub volume_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TierSupplierDto {
    pub uscc: String,
    pub name: Option<String>,
    pub tier: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PenetrationDto {
    pub core_org_id: String,
    pub core_uscc: String,
    /// The deepest tier the trade data reaches.
    pub depth: u32,
    pub tiers: Vec<TierDto>,
    /// A core sees its tier-1 suppliers by name; the operator and the regulator see all.
    pub suppliers: Vec<TierSupplierDto>,
}

#[utoipa::path(get, path = "/api/v1/penetration/{org_id}", tag = "four_flow", params(("org_id" = String, Path)),
    description = "How deep a core enterprise's credit reaches: its suppliers' tiers derived from invoices.",
    responses((status = 200, body = PenetrationDto), (status = 404, body = Problem)))]
pub async fn penetration(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(org_id): Path<String>,
) -> ApiResult<Json<PenetrationDto>> {
    let p = lianrong_app::penetration::for_core(&s.app, &actor, &org_id).await?;
    Ok(Json(PenetrationDto {
        core_org_id: p.core_org_id,
        core_uscc: p.core_uscc,
        depth: p.depth,
        tiers: p
            .tiers
            .into_iter()
            .map(|t| TierDto { tier: t.tier, suppliers: t.suppliers, volume_fen: t.volume_fen })
            .collect(),
        suppliers: p
            .suppliers
            .into_iter()
            .map(|x| TierSupplierDto { uscc: x.uscc, name: x.name, tier: x.tier })
            .collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BucketDto {
    /// unknown, not_due, 1_30, 31_60, 61_90, 91_180 or over_180.
    pub ageing: String,
    pub invoices: i64,
    pub outstanding_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CounterpartyTotalDto {
    pub counterparty_uscc: String,
    pub counterparty_name: Option<String>,
    pub invoices: i64,
    pub outstanding_fen: i64,
    pub buckets: Vec<BucketDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TotalsQuery {
    /// creditor (owed to you, per debtor) or debtor (owed by you, per supplier).
    pub side: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/receivables/totals", tag = "four_flow", params(TotalsQuery),
    description = "Outstanding amounts per counterparty and ageing bucket, for one side.",
    responses((status = 200, body = Vec<CounterpartyTotalDto>), (status = 422, body = Problem)))]
pub async fn receivable_totals(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<TotalsQuery>,
) -> ApiResult<Json<Vec<CounterpartyTotalDto>>> {
    let side = lianrong_app::receivable::parse_side(Some(q.side.as_deref().unwrap_or("")))?;
    let totals = lianrong_app::receivable::totals(&s.app, &actor, side).await?;
    Ok(Json(
        totals
            .into_iter()
            .map(|t| CounterpartyTotalDto {
                counterparty_uscc: t.counterparty_uscc,
                counterparty_name: t.counterparty_name,
                invoices: t.invoices,
                outstanding_fen: t.outstanding_fen,
                buckets: t
                    .buckets
                    .into_iter()
                    .map(|(ageing, invoices, outstanding_fen)| BucketDto { ageing, invoices, outstanding_fen })
                    .collect(),
            })
            .collect(),
    ))
}
