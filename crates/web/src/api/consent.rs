//! Data authorisation: an owner of trade data grants a bank named categories of it and revokes
//! them; the bank reads only through a live consent, and the owner sees every read.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::consent::ReadRow;
use lianrong_app::consent::{self as app, Consent, ConsentedReceivable, NewConsent, TradeTotal};
use lianrong_app::trade::TradeRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{keyed_page_dto, page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DataConsentDto {
    pub id: String,
    pub owner_org_id: String,
    pub owner_name: String,
    pub bank_org_id: String,
    pub bank_name: String,
    /// receivables, trade_totals, raw_records, reference_score.
    pub categories: Vec<String>,
    pub purpose: String,
    pub application_id: Option<String>,
    /// The last day the consent is in force (YYYY-MM-DD).
    pub valid_until: String,
    /// granted, revoked, or expired (after valid_until).
    pub state: String,
    pub granted_by: String,
    pub granted_at: String,
    pub revoked_at: Option<String>,
    /// Reads the bank made through it.
    pub reads: i64,
}

impl From<Consent> for DataConsentDto {
    fn from(c: Consent) -> DataConsentDto {
        let r = c.row;
        DataConsentDto {
            id: r.id,
            owner_org_id: r.owner_org_id,
            owner_name: c.owner_name,
            bank_org_id: r.bank_org_id,
            bank_name: c.bank_name,
            categories: r.categories.iter().map(|k| k.code().to_string()).collect(),
            purpose: r.purpose,
            application_id: r.application_id,
            valid_until: r.valid_until.to_string(),
            state: c.state.code().to_string(),
            granted_by: r.granted_by,
            granted_at: rfc3339(r.granted_at_ms),
            revoked_at: r.revoked_at_ms.map(rfc3339),
            reads: c.reads,
        }
    }
}

page_dto!(DataConsentPage, DataConsentDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsentDto {
    /// The bank (a bank organisation) that may use the data.
    pub bank_org_id: String,
    /// One or more of receivables (应收账款明细), trade_totals (经核验的交易汇总), raw_records (原始交易记录),
    /// reference_score (参考评分).
    pub categories: Vec<String>,
    /// What the bank may use it for (at most 200 characters).
    pub purpose: String,
    /// The financing application it is given for, if any.
    pub application_id: Option<String>,
    /// YYYY-MM-DD: after today, at most twelve months ahead.
    pub valid_until: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsentQuery {
    pub page: Option<u32>,
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page: reads the page after it (instead of `page`; the receivables and records lists).
    pub after: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentReadDto {
    pub id: String,
    pub category: String,
    pub reader_org_id: String,
    /// The bank user (login) or API key that read.
    pub reader: String,
    /// How many items the read answered.
    pub items: i64,
    pub at: String,
}

impl From<ReadRow> for ConsentReadDto {
    fn from(r: ReadRow) -> ConsentReadDto {
        ConsentReadDto {
            id: r.id,
            category: r.category.code().to_string(),
            reader_org_id: r.reader_org_id,
            reader: r.reader,
            items: r.items,
            at: rfc3339(r.at_ms),
        }
    }
}

page_dto!(ConsentReadPage, ConsentReadDto);

/// A receivable as the bank reads it through a consent: derived figures only.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentedReceivableDto {
    pub invoice_id: String,
    pub invoice_no: String,
    pub debtor_uscc: String,
    pub debtor_name: Option<String>,
    pub invoiced_fen: i64,
    pub outstanding_fen: i64,
    pub due_date: Option<String>,
    pub overdue_days: i64,
    /// verified or partly_verified (four-flow).
    pub verification_status: String,
    /// The core's path: requested, confirmed, rejected or withdrawn; absent when never asked.
    pub confirmation_status: Option<String>,
    /// The data-only ("four no's") path.
    pub data_only_eligible: bool,
    /// The active registration against double financing, if any.
    pub registration_reference: Option<String>,
}

impl From<ConsentedReceivable> for ConsentedReceivableDto {
    fn from(c: ConsentedReceivable) -> ConsentedReceivableDto {
        let eligible = c.receivable.data_only_eligible();
        let r = c.receivable;
        ConsentedReceivableDto {
            invoice_id: r.verdict.invoice_id,
            invoice_no: c.invoice_no,
            debtor_uscc: r.verdict.buyer_uscc,
            debtor_name: c.debtor_name,
            invoiced_fen: r.verdict.invoiced_fen,
            outstanding_fen: r.verdict.outstanding_fen,
            due_date: r.verdict.due_date,
            overdue_days: r.overdue_days,
            verification_status: r.verdict.status,
            confirmation_status: r.confirmation.map(|c| c.status.code().to_string()),
            data_only_eligible: eligible,
            registration_reference: r.registration_reference,
        }
    }
}

keyed_page_dto!(ConsentedReceivablePage, ConsentedReceivableDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TradeTotalDto {
    /// The buyer.
    pub counterparty_uscc: String,
    pub counterparty_name: Option<String>,
    pub invoices: i64,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    /// Invoices whose four flows (order, delivery, invoice, payment) all agree, and their amount.
    pub verified_invoices: i64,
    pub verified_fen: i64,
    pub partly_verified_invoices: i64,
    pub inconsistent_invoices: i64,
    pub unverified_invoices: i64,
}

impl From<TradeTotal> for TradeTotalDto {
    fn from(t: TradeTotal) -> TradeTotalDto {
        TradeTotalDto {
            counterparty_uscc: t.counterparty_uscc,
            counterparty_name: t.counterparty_name,
            invoices: t.invoices,
            invoiced_fen: t.invoiced_fen,
            paid_fen: t.paid_fen,
            outstanding_fen: t.outstanding_fen,
            verified_invoices: t.verified_invoices,
            verified_fen: t.verified_fen,
            partly_verified_invoices: t.partly_verified_invoices,
            inconsistent_invoices: t.inconsistent_invoices,
            unverified_invoices: t.unverified_invoices,
        }
    }
}

/// A raw trade record of the owner's sales, as the bank reads it through a consent (lineage and
/// account digests are left out).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentedRecordDto {
    pub id: String,
    /// order, delivery, invoice, payment or credit_note.
    pub record_type: String,
    pub doc_no: String,
    pub doc_date: String,
    pub buyer_uscc: String,
    pub buyer_name: Option<String>,
    pub seller_uscc: String,
    pub seller_name: Option<String>,
    pub currency: String,
    pub total_fen: i64,
    pub tax_fen: Option<i64>,
    pub term_days: Option<i64>,
    pub invoice_kind: Option<String>,
    pub acceptance_status: Option<String>,
    pub accepted_date: Option<String>,
    pub payment_method: Option<String>,
    pub order_refs: String,
    pub delivery_refs: String,
    pub invoice_refs: String,
    pub version: i64,
}

impl From<TradeRow> for ConsentedRecordDto {
    fn from(r: TradeRow) -> ConsentedRecordDto {
        ConsentedRecordDto {
            id: r.id,
            record_type: r.record_type,
            doc_no: r.doc_no,
            doc_date: r.doc_date,
            buyer_uscc: r.buyer_uscc,
            buyer_name: r.buyer_name,
            seller_uscc: r.seller_uscc,
            seller_name: r.seller_name,
            currency: r.currency,
            total_fen: r.total_fen,
            tax_fen: r.tax_fen,
            term_days: r.term_days,
            invoice_kind: r.invoice_kind,
            acceptance_status: r.acceptance_status,
            accepted_date: r.accepted_date,
            payment_method: r.payment_method,
            order_refs: r.order_refs,
            delivery_refs: r.delivery_refs,
            invoice_refs: r.invoice_refs,
            version: r.version,
        }
    }
}

keyed_page_dto!(ConsentedRecordPage, ConsentedRecordDto);

#[utoipa::path(post, path = "/api/v1/consents", tag = "consent", request_body = NewConsentDto,
    description = "An owner of trade data (a core or supplier) lets a bank use named categories of it until a date.",
    responses((status = 201, body = DataConsentDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn grant(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewConsentDto>,
) -> ApiResult<(StatusCode, Json<DataConsentDto>)> {
    let new = NewConsent {
        bank_org_id: b.bank_org_id,
        categories: b.categories,
        purpose: b.purpose,
        application_id: b.application_id,
        valid_until: b.valid_until,
    };
    Ok((StatusCode::CREATED, Json(app::grant(&s.app, &actor, &new).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/consents", tag = "consent", params(ConsentQuery),
    description = "The consents your organisation gave (owner) or was given (bank).",
    responses((status = 200, body = DataConsentPage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ConsentQuery>,
) -> ApiResult<Json<DataConsentPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    Ok(Json(DataConsentPage::from_page(app::list(&s.app, &actor, page).await?, DataConsentDto::from)))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}", tag = "consent", params(("id" = String, Path)),
    responses((status = 200, body = DataConsentDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DataConsentDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/consents/{id}/revoke", tag = "consent", params(("id" = String, Path)),
    description = "The owner revokes a consent; no read goes through it from then on.",
    responses((status = 200, body = DataConsentDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DataConsentDto>> {
    Ok(Json(app::revoke(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}/reads", tag = "consent", params(("id" = String, Path), ConsentQuery),
    description = "Every read the bank made through the consent: category, reader, items, time.",
    responses((status = 200, body = ConsentReadPage), (status = 404, body = Problem)))]
pub async fn reads(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ConsentQuery>,
) -> ApiResult<Json<ConsentReadPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    Ok(Json(ConsentReadPage::from_page(app::reads(&s.app, &actor, &id, page).await?, ConsentReadDto::from)))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}/receivables", tag = "consent", params(("id" = String, Path), ConsentQuery),
    description = "The bank reads the owner's receivables (derived figures) through a live consent covering them; audited.",
    responses((status = 200, body = ConsentedReceivablePage), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn receivables(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ConsentQuery>,
) -> ApiResult<Json<ConsentedReceivablePage>> {
    let seek = PageParams { page: q.page, page_size: q.page_size }.seek(q.after.as_deref())?;
    let rows = app::receivables(&s.app, &actor, &id, seek).await?;
    Ok(Json(ConsentedReceivablePage::from_keyed(rows, ConsentedReceivableDto::from)))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}/trade-totals", tag = "consent", params(("id" = String, Path)),
    description = "The bank reads the owner's four-flow verified trade totals per buyer through a live consent; audited.",
    responses((status = 200, body = Vec<TradeTotalDto>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn trade_totals(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TradeTotalDto>>> {
    Ok(Json(app::trade_totals(&s.app, &actor, &id).await?.into_iter().map(TradeTotalDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}/records", tag = "consent", params(("id" = String, Path), ConsentQuery),
    description = "The bank reads the owner's raw trade records (its sales) only when raw_records was granted; audited.",
    responses((status = 200, body = ConsentedRecordPage), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn records(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ConsentQuery>,
) -> ApiResult<Json<ConsentedRecordPage>> {
    let seek = PageParams { page: q.page, page_size: q.page_size }.seek(q.after.as_deref())?;
    let rows = app::records(&s.app, &actor, &id, seek).await?;
    Ok(Json(ConsentedRecordPage::from_keyed(rows, ConsentedRecordDto::from)))
}

#[utoipa::path(get, path = "/api/v1/consents/{id}/reference-score", tag = "consent", params(("id" = String, Path)),
    description = "The reference score through a consent: not available yet (score_not_available, 503) until the rating model exists.",
    responses((status = 403, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn reference_score(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app::reference_score(&s.app, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
