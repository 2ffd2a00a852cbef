//! Debtor confirmation (确权): creditors ask, debtors confirm or reject with an SM2 signature, and each
//! decision is a leaf of the verifiable log. Also the organisation's signing key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::confirmation::{self as app, DecisionInput, SigningKeyInfo, TimeToConfirm};
use lianrong_app::confirmation::{ConfirmationFilter, ConfirmationRecord};
use lianrong_domain::confirmation::{ConfirmationStatus, Decision};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationDto {
    pub id: String,
    /// The receivable: its invoice's record id and number.
    pub invoice_id: String,
    pub invoice_no: String,
    pub creditor_org_id: String,
    pub debtor_org_id: String,
    /// Requests asked together share a batch.
    pub batch_id: String,
    /// request (asked by the creditor) or debtor_upload (the debtor confirmed its payable unasked).
    pub kind: String,
    /// receivable (确权: `invoice_id` is an invoice) or order (确真: `invoice_id` is a purchase order's
    /// record and `invoice_no` its order number).
    pub subject: String,
    /// requested, confirmed, rejected or withdrawn.
    pub status: String,
    /// The amount outstanding when confirmation was asked.
    pub amount_fen: i64,
    pub due_date: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// From request to decision, in milliseconds (the time to confirm).
    pub wait_ms: Option<i64>,
    pub reason: Option<String>,
    /// The canonical JSON the debtor signed.
    pub statement: Option<String>,
    /// SM2 signature (r ‖ s, hex) over the statement's bytes, user id 1234567812345678.
    pub signature: Option<String>,
    /// The debtor's public key that verifies it (SEC1 hex).
    pub public_key: Option<String>,
    /// The decision's leaf in the verifiable log (`GET /api/v1/log/leaves/{leaf_id}`: its proof once integrated).
    pub log_leaf_id: Option<i64>,
}

impl From<ConfirmationRecord> for ConfirmationDto {
    fn from(c: ConfirmationRecord) -> ConfirmationDto {
        ConfirmationDto {
            wait_ms: c.decided_at_ms.map(|d| d - c.requested_at_ms),
            id: c.id,
            invoice_id: c.invoice_id,
            invoice_no: c.invoice_no,
            creditor_org_id: c.creditor_org_id,
            debtor_org_id: c.debtor_org_id,
            batch_id: c.batch_id,
            kind: c.kind.code().to_string(),
            subject: c.subject.code().to_string(),
            status: c.status.code().to_string(),
            amount_fen: c.amount_fen,
            due_date: c.due_date.map(|d| d.to_string()),
            requested_by: c.requested_by,
            requested_at: rfc3339(c.requested_at_ms),
            decided_by: c.decided_by,
            decided_at: c.decided_at_ms.map(rfc3339),
            reason: c.reason,
            statement: c.statement,
            signature: c.signature_hex,
            public_key: c.public_key_hex,
            log_leaf_id: c.log_leaf_id,
        }
    }
}

page_dto!(ConfirmationPage, ConfirmationDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationBatchDto {
    pub items: Vec<ConfirmationDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConfirmationRequestDto {
    /// The receivables (invoice record ids) to ask their debtors to confirm (确权); at most 500. All are
    /// asked, or — when one is refused — none, with the refusal naming it (`invoice_ids[i]`).
    #[serde(default)]
    pub invoice_ids: Vec<String>,
    /// Or: purchase orders (order record ids) whose buyers are asked to vouch that they are real (确真).
    /// One kind per request.
    #[serde(default)]
    pub order_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDto {
    /// confirm or reject.
    pub decision: String,
    /// Required for a rejection.
    pub reason: Option<String>,
    /// Only when your organisation holds its own key: the SM2 signature (hex, r ‖ s) over the bytes of
    /// `GET /api/v1/confirmations/{id}/statement?decision=…`.
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDecisionItemDto {
    pub confirmation_id: String,
    pub decision: String,
    pub reason: Option<String>,
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDecisionDto {
    /// At most 500; decided all together or, when one is refused, not at all.
    pub decisions: Vec<BatchDecisionItemDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayableDto {
    /// The invoice record id of the payable.
    pub invoice_id: String,
    /// Only when your organisation holds its own key: the SM2 signature over
    /// `GET /api/v1/confirmations/payables/{invoice_id}/statement`.
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayablesDto {
    /// At most 500; all confirmed, or — when one is refused — none, the refusal naming it (`payables[i]`).
    pub payables: Vec<PayableDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfirmationQuery {
    /// sent (you are the creditor), received (you are the debtor) or both (the default).
    pub role: Option<String>,
    /// requested, confirmed, rejected or withdrawn.
    pub status: Option<String>,
    pub batch_id: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// confirm or reject.
    pub decision: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeQuery {
    /// Operator and regulator only: one debtor's figures (others always get their own).
    pub debtor_org_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementDto {
    /// Sign exactly these UTF-8 bytes.
    pub statement: String,
    /// SM2 user id (distinguishing identifier) to sign with.
    pub sm2_user_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimeToConfirmDto {
    pub debtor_org_id: Option<String>,
    pub decided: usize,
    pub mean_ms: i64,
    pub median_ms: i64,
    pub p90_ms: i64,
    pub max_ms: i64,
    /// Requests still awaiting the debtor.
    pub pending: i64,
    pub oldest_pending_ms: Option<i64>,
}

impl From<TimeToConfirm> for TimeToConfirmDto {
    fn from(t: TimeToConfirm) -> TimeToConfirmDto {
        TimeToConfirmDto {
            debtor_org_id: t.debtor_org_id,
            decided: t.figures.decided,
            mean_ms: t.figures.mean_ms,
            median_ms: t.figures.median_ms,
            p90_ms: t.figures.p90_ms,
            max_ms: t.figures.max_ms,
            pending: t.pending,
            oldest_pending_ms: t.oldest_pending_ms,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyDto {
    pub org_id: String,
    /// platform (the platform holds the private key and signs for you) or organisation (you sign).
    pub held_by: String,
    pub public_key: String,
    pub public_key_pem: String,
    /// SM3 of the SEC1 encoding, hex.
    pub key_id: String,
    pub created_at: String,
}

impl From<SigningKeyInfo> for SigningKeyDto {
    fn from(k: SigningKeyInfo) -> SigningKeyDto {
        SigningKeyDto {
            org_id: k.org_id,
            held_by: k.held_by.code().to_string(),
            public_key: k.public_key_hex,
            public_key_pem: k.public_key_pem,
            key_id: k.key_id,
            created_at: rfc3339(k.created_at_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppliedKeyDto {
    /// Your SM2 public key: SPKI PEM, or SEC1 hex.
    pub public_key: String,
}

fn decision(field: &str, text: &str) -> ApiResult<Decision> {
    Decision::parse(text).map_err(|e| {
        lianrong_app::error::AppError::invalid(
            field,
            "decision_unknown",
            format!("decision must be confirm or reject ({e})"),
            "decision 须为 confirm（确认）或 reject（拒绝）",
        )
        .into()
    })
}

#[utoipa::path(post, path = "/api/v1/confirmations", tag = "confirmation", request_body = NewConfirmationRequestDto,
    description = "The creditor asks the debtors of its receivables to confirm them (确权), or the buyers of its purchase orders to vouch for them (确真); one or a batch.",
    responses((status = 201, body = ConfirmationBatchDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewConfirmationRequestDto>,
) -> ApiResult<(StatusCode, Json<ConfirmationBatchDto>)> {
    let made = match (b.invoice_ids.is_empty(), b.order_ids.is_empty()) {
        (false, true) | (true, true) => app::request(&s.app, &actor, &b.invoice_ids).await?,
        (true, false) => app::request_orders(&s.app, &actor, &b.order_ids).await?,
        (false, false) => {
            return Err(lianrong_app::error::AppError::invalid(
                "order_ids",
                "one_kind_per_request",
                "Ask about receivables or about orders, not both in one request",
                "一次申请只能针对应收账款或订单之一",
            )
            .into());
        }
    };
    Ok((StatusCode::CREATED, Json(ConfirmationBatchDto { items: made.into_iter().map(Into::into).collect() })))
}

#[utoipa::path(get, path = "/api/v1/confirmations", tag = "confirmation", params(ConfirmationQuery),
    description = "Confirmation requests you sent or received, newest first.",
    responses((status = 200, body = ConfirmationPage), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ConfirmationQuery>,
) -> ApiResult<Json<ConfirmationPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let role = app::parse_role(q.role.as_deref())?;
    let status = match q.status.as_deref().filter(|x| !x.is_empty()) {
        Some(x) => Some(ConfirmationStatus::parse(x).map_err(lianrong_app::error::AppError::from)?),
        None => None,
    };
    let filter = ConfirmationFilter { status, batch_id: q.batch_id.filter(|b| !b.is_empty()) };
    Ok(Json(ConfirmationPage::from_page(app::list(&s.app, &actor, role, &filter, page).await?, ConfirmationDto::from)))
}

#[utoipa::path(get, path = "/api/v1/confirmations/{id}", tag = "confirmation", params(("id" = String, Path)),
    responses((status = 200, body = ConfirmationDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ConfirmationDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/confirmations/{id}/statement", tag = "confirmation",
    params(("id" = String, Path), StatementQuery),
    description = "The exact bytes a debtor holding its own key signs for this decision.",
    responses((status = 200, body = StatementDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn statement(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StatementQuery>,
) -> ApiResult<Json<StatementDto>> {
    let d = decision("decision", &q.decision)?;
    let statement = app::statement(&s.app, &actor, &id, d).await?;
    Ok(Json(StatementDto { statement, sm2_user_id: lianrong_app::log::SM2_DISTID.to_string() }))
}

#[utoipa::path(post, path = "/api/v1/confirmations/{id}/decision", tag = "confirmation",
    params(("id" = String, Path)), request_body = DecisionDto,
    description = "The debtor confirms or rejects one receivable, signed with its SM2 key; the decision becomes a log leaf.",
    responses((status = 200, body = ConfirmationDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionDto>,
) -> ApiResult<Json<ConfirmationDto>> {
    let input = DecisionInput {
        confirmation_id: id,
        decision: decision("decision", &b.decision)?,
        reason: b.reason,
        signature_hex: b.signature,
    };
    let mut decided = app::decide(&s.app, &actor, std::slice::from_ref(&input)).await?;
    let one = decided.pop().ok_or_else(lianrong_app::error::AppError::internal)?;
    Ok(Json(one.into()))
}

#[utoipa::path(post, path = "/api/v1/confirmations/decisions", tag = "confirmation", request_body = BatchDecisionDto,
    description = "The debtor decides a batch of requests in one step (all or none).",
    responses((status = 200, body = ConfirmationBatchDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_batch(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<BatchDecisionDto>,
) -> ApiResult<Json<ConfirmationBatchDto>> {
    let mut inputs = Vec::with_capacity(b.decisions.len());
    for (i, d) in b.decisions.into_iter().enumerate() {
        inputs.push(DecisionInput {
            confirmation_id: d.confirmation_id,
            decision: decision(&format!("decisions[{i}].decision"), &d.decision)?,
            reason: d.reason,
            signature_hex: d.signature,
        });
    }
    let decided = app::decide(&s.app, &actor, &inputs).await?;
    Ok(Json(ConfirmationBatchDto { items: decided.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/confirmations/payables", tag = "confirmation", request_body = PayablesDto,
    description = "The debtor uploads its payables, which confirms them unasked (as on the central bank's receivables platform). Sharing trade data is not confirmation.",
    responses((status = 201, body = ConfirmationBatchDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_payables(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<PayablesDto>,
) -> ApiResult<(StatusCode, Json<ConfirmationBatchDto>)> {
    let inputs: Vec<app::PayableInput> = b
        .payables
        .into_iter()
        .map(|p| app::PayableInput { invoice_id: p.invoice_id, signature_hex: p.signature })
        .collect();
    let made = app::confirm_payables(&s.app, &actor, &inputs).await?;
    Ok((StatusCode::CREATED, Json(ConfirmationBatchDto { items: made.into_iter().map(Into::into).collect() })))
}

#[utoipa::path(get, path = "/api/v1/confirmations/payables/{invoice_id}/statement", tag = "confirmation",
    params(("invoice_id" = String, Path)),
    description = "The exact bytes a debtor holding its own key signs to confirm one of its payables unasked.",
    responses((status = 200, body = StatementDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn payable_statement(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
) -> ApiResult<Json<StatementDto>> {
    let statement = app::payable_statement(&s.app, &actor, &invoice_id).await?;
    Ok(Json(StatementDto { statement, sm2_user_id: lianrong_app::log::SM2_DISTID.to_string() }))
}

#[utoipa::path(post, path = "/api/v1/confirmations/{id}/withdraw", tag = "confirmation", params(("id" = String, Path)),
    description = "The creditor withdraws a request the debtor has not decided.",
    responses((status = 200, body = ConfirmationDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ConfirmationDto>> {
    Ok(Json(app::withdraw(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/confirmations/time-to-confirm", tag = "confirmation", params(TimeQuery),
    description = "How long debtors take to decide: your own as a debtor; the whole platform (or one debtor) for the operator and regulator.",
    responses((status = 200, body = TimeToConfirmDto)))]
pub async fn time_to_confirm(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<TimeQuery>,
) -> ApiResult<Json<TimeToConfirmDto>> {
    Ok(Json(app::time_to_confirm(&s.app, &actor, q.debtor_org_id.as_deref()).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/signing-key", tag = "confirmation",
    description = "Your organisation's SM2 signing key (made and held by the platform on first use).",
    responses((status = 200, body = SigningKeyDto), (status = 403, body = Problem)))]
pub async fn signing_key(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<SigningKeyDto>> {
    Ok(Json(app::signing_key(&s.app, &actor).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/signing-key", tag = "confirmation", request_body = SuppliedKeyDto,
    description = "Organisation admin, signed in: supply your own public key; you then sign statements yourself.",
    responses((status = 200, body = SigningKeyDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn supply_key(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<SuppliedKeyDto>,
) -> ApiResult<Json<SigningKeyDto>> {
    Ok(Json(app::supply_key(&s.app, &actor, &b.public_key).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/signing-key/platform", tag = "confirmation",
    description = "Organisation admin, signed in: let the platform generate and hold a new key for you.",
    responses((status = 200, body = SigningKeyDto), (status = 403, body = Problem)))]
pub async fn use_platform_key(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<SigningKeyDto>> {
    Ok(Json(app::use_platform_key(&s.app, &actor).await?.into()))
}
