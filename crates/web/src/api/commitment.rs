//! Digital payment commitments (数字债权凭证): a core issues one to its supplier; holders split, pass
//! down and discount parts; the bank posts or voids a discount; the core settles at maturity. Each
//! holder operation carries a `transfer_id` of the caller's choosing: sending it again is answered with
//! the first result (200 instead of 201), never done twice.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::commitment::{self as app, CommitmentView, NewCommitment, Operation, Outcome};
use lianrong_app::commitment::{CommitmentRow, Holding, TransferRow};
use lianrong_domain::commitment::Part;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitmentSummaryDto {
    pub id: String,
    pub issuer_org_id: String,
    pub first_holder_org_id: String,
    /// The bank whose line backs it.
    pub bank_org_id: String,
    pub credit_line_id: String,
    pub face_fen: i64,
    pub settled_fen: i64,
    pub issue_date: String,
    pub maturity_date: String,
    /// The latest due date of the payables it rests on.
    pub latest_due_date: Option<String>,
    /// Set when the maturity lies beyond six months (allowed up to a year, flagged).
    pub beyond_principle_days: Option<i64>,
    /// outstanding or settled.
    pub state: String,
    pub issued_by: String,
    pub issued_at: String,
    /// The issue's leaf in the verifiable log.
    pub log_leaf_id: Option<i64>,
    pub settlement_reference: Option<String>,
    pub settled_at: Option<String>,
}

impl From<CommitmentRow> for CommitmentSummaryDto {
    fn from(c: CommitmentRow) -> CommitmentSummaryDto {
        CommitmentSummaryDto {
            id: c.id,
            issuer_org_id: c.issuer_org_id,
            first_holder_org_id: c.first_holder_org_id,
            bank_org_id: c.bank_org_id,
            credit_line_id: c.credit_line_id,
            face_fen: c.face_fen,
            settled_fen: c.settled_fen,
            issue_date: c.issue_date.to_string(),
            maturity_date: c.maturity_date.to_string(),
            latest_due_date: c.latest_due_date.map(|d| d.to_string()),
            beyond_principle_days: c.beyond_principle_days,
            state: c.state.code().to_string(),
            issued_by: c.issued_by,
            issued_at: rfc3339(c.issued_at_ms),
            log_leaf_id: c.log_leaf_id,
            settlement_reference: c.settlement_reference,
            settled_at: c.settled_at_ms.map(rfc3339),
        }
    }
}

page_dto!(CommitmentPage, CommitmentSummaryDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PartDto {
    /// `{commitment_id}/0` for the issued part, `{transfer_id}/{n}` for the parts a transfer made.
    pub id: String,
    pub holder_org_id: String,
    pub amount_fen: i64,
    /// The part it came from (none for the issued part).
    pub parent_id: Option<String>,
    /// The transfer that made it.
    pub made_by: Option<String>,
    /// held, pending (at a bank), spent (split or passed on) or settled.
    pub state: String,
    /// The transfer that spent it, holds it pending, or settled it.
    pub spent_by: Option<String>,
}

impl From<Part> for PartDto {
    fn from(p: Part) -> PartDto {
        PartDto {
            id: p.id,
            holder_org_id: p.holder,
            amount_fen: p.amount_fen,
            parent_id: p.parent,
            made_by: p.made_by,
            state: p.state.code().to_string(),
            spent_by: p.spent_by,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransferDto {
    pub commitment_id: String,
    pub id: String,
    /// split, transfer, discount or settle.
    pub kind: String,
    /// pending (a discount waiting for its bank), posted or voided.
    pub state: String,
    pub actor_org_id: String,
    pub by: String,
    /// The request as recorded.
    #[schema(value_type = Object)]
    pub request: Value,
    pub input_part_id: Option<String>,
    pub output_part_ids: Vec<String>,
    /// At settlement: [part id, holder org id, fen] for every part paid.
    #[schema(value_type = Object)]
    pub payouts: Value,
    /// The recipient of a transfer; the bank of a discount; the holder, for a bank's decision.
    pub counterparty_org_id: Option<String>,
    pub at: String,
    pub log_leaf_id: Option<i64>,
}

impl From<TransferRow> for TransferDto {
    fn from(t: TransferRow) -> TransferDto {
        TransferDto {
            commitment_id: t.commitment_id,
            id: t.id,
            kind: t.kind.code().to_string(),
            state: t.state.code().to_string(),
            actor_org_id: t.actor_org_id,
            by: t.by_login,
            request: app::request_json(&t.request),
            input_part_id: t.input_part_id,
            output_part_ids: t.outputs,
            payouts: serde_json::json!(t.payouts),
            counterparty_org_id: t.counterparty_org_id,
            at: rfc3339(t.at_ms),
            log_leaf_id: t.log_leaf_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BackingDto {
    pub invoice_id: String,
    /// What was outstanding on it when the commitment was issued.
    pub outstanding_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitmentDto {
    #[serde(flatten)]
    pub commitment: CommitmentSummaryDto,
    /// The parts you may see: all of them for the issuer, the bank and the operator; for a holder, its
    /// own, where they came from, and the parts it passed on.
    pub parts: Vec<PartDto>,
    pub transfers: Vec<TransferDto>,
    pub backing: Vec<BackingDto>,
    /// Fen in held or pending parts of the whole commitment: face less settled.
    pub live_fen: i64,
    pub held_by_you_fen: i64,
    pub pending_by_you_fen: i64,
    /// Whether the ledger's invariants hold over every part (they always should).
    pub ledger_balanced: bool,
}

impl From<CommitmentView> for CommitmentDto {
    fn from(v: CommitmentView) -> CommitmentDto {
        CommitmentDto {
            commitment: v.commitment.into(),
            parts: v.parts.into_iter().map(PartDto::from).collect(),
            transfers: v.transfers.into_iter().map(TransferDto::from).collect(),
            backing: v
                .backing
                .into_iter()
                .map(|(invoice_id, outstanding_fen)| BackingDto { invoice_id, outstanding_fen })
                .collect(),
            live_fen: v.live_fen,
            held_by_you_fen: v.held_by_caller_fen,
            pending_by_you_fen: v.pending_by_caller_fen,
            ledger_balanced: v.invariant_broken.is_none(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommitmentDto {
    /// The tier-1 supplier it is issued to.
    pub holder_org_id: String,
    /// Confirmed payables the core owes that supplier (record ids of the invoices).
    pub invoice_ids: Vec<String>,
    /// At most what is outstanding on those invoices.
    pub face_fen: i64,
    /// YYYY-MM-DD: within a year (six months in principle), and for a large core paying an SME no later
    /// than the payables fall due.
    pub maturity_date: String,
    /// The core's supply-chain line at the bank that backs it.
    pub credit_line_id: String,
}

#[utoipa::path(post, path = "/api/v1/commitments", tag = "commitment", request_body = NewCommitmentDto,
    description = "A core issues a digital payment commitment to its supplier against confirmed payables, occupying \
                   its supply-chain line; the supplier holds the first part.",
    responses((status = 201, body = CommitmentDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn issue(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewCommitmentDto>,
) -> ApiResult<(StatusCode, Json<CommitmentDto>)> {
    let new = NewCommitment {
        holder_org_id: b.holder_org_id,
        invoice_ids: b.invoice_ids,
        face_fen: b.face_fen,
        maturity_date: b.maturity_date,
        credit_line_id: b.credit_line_id,
    };
    Ok((StatusCode::CREATED, Json(app::issue(&s.app, &actor, &new).await?.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitmentQuery {
    /// any (default), issued, held (ever) or backed.
    pub role: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/commitments", tag = "commitment", params(CommitmentQuery),
    description = "Commitments you issued, back, hold or held, or were offered at your bank.",
    responses((status = 200, body = CommitmentPage), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<CommitmentQuery>,
) -> ApiResult<Json<CommitmentPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let role = app::parse_role(q.role.as_deref())?;
    Ok(Json(CommitmentPage::from_page(app::list(&s.app, &actor, role, page).await?, CommitmentSummaryDto::from)))
}

#[utoipa::path(get, path = "/api/v1/commitments/{id}", tag = "commitment", params(("id" = String, Path)),
    responses((status = 200, body = CommitmentDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<CommitmentDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HoldingDto {
    pub commitment_id: String,
    pub issuer_org_id: String,
    pub maturity_date: String,
    pub part: PartDto,
}

impl From<Holding> for HoldingDto {
    fn from(h: Holding) -> HoldingDto {
        HoldingDto {
            commitment_id: h.commitment.id,
            issuer_org_id: h.commitment.issuer_org_id,
            maturity_date: h.commitment.maturity_date.to_string(),
            part: h.part.into(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/commitments/holdings", tag = "commitment",
    description = "The parts you hold now (held, or pending at a bank), soonest maturity first.",
    responses((status = 200, body = Vec<HoldingDto>)))]
pub async fn holdings(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Vec<HoldingDto>>> {
    Ok(Json(app::holdings(&s.app, &actor).await?.into_iter().map(HoldingDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/commitments/pending-discounts", tag = "commitment",
    description = "Discounts waiting for your bank to post (pay) or void, oldest first.",
    responses((status = 200, body = Vec<TransferDto>)))]
pub async fn pending_discounts(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<TransferDto>>> {
    Ok(Json(app::pending_discounts(&s.app, &actor).await?.into_iter().map(TransferDto::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LineageQuery {
    pub part_id: String,
}

#[utoipa::path(get, path = "/api/v1/commitments/{id}/lineage", tag = "commitment",
    params(("id" = String, Path), LineageQuery),
    description = "A part, its parent, and so on back to the issued part: where every fen came from.",
    responses((status = 200, body = Vec<PartDto>), (status = 404, body = Problem)))]
pub async fn lineage(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LineageQuery>,
) -> ApiResult<Json<Vec<PartDto>>> {
    Ok(Json(app::lineage(&s.app, &actor, &id, &q.part_id).await?.into_iter().map(PartDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationDto {
    /// Your id for this operation (1–64 letters, digits, '-', '_', '.'): sending it again returns the first
    /// answer instead of acting twice.
    pub transfer_id: String,
    /// split, transfer or discount.
    pub kind: String,
    /// The part you hold.
    pub part_id: String,
    /// split: the new parts' amounts, together exactly the part's.
    pub amounts_fen: Option<Vec<i64>>,
    /// transfer and discount: how much of the part (the rest stays yours).
    pub amount_fen: Option<i64>,
    /// transfer: the supplier receiving it.
    pub to_org_id: Option<String>,
    /// transfer: the verified invoices the recipient issued to you that this pays.
    pub invoice_ids: Option<Vec<String>>,
    /// discount: the bank.
    pub bank_org_id: Option<String>,
}

fn missing(field: &str) -> lianrong_app::error::AppError {
    lianrong_app::error::AppError::invalid(
        field,
        "field_required",
        format!("{field} is required for this kind of operation"),
        format!("此类操作须填写 {field}"),
    )
}

fn operation(b: OperationDto) -> Result<Operation, lianrong_app::error::AppError> {
    match b.kind.as_str() {
        "split" => Ok(Operation::Split {
            part_id: b.part_id,
            amounts_fen: b.amounts_fen.ok_or_else(|| missing("amounts_fen"))?,
        }),
        "transfer" => Ok(Operation::Transfer {
            part_id: b.part_id,
            to_org_id: b.to_org_id.ok_or_else(|| missing("to_org_id"))?,
            amount_fen: b.amount_fen.ok_or_else(|| missing("amount_fen"))?,
            invoice_ids: b.invoice_ids.ok_or_else(|| missing("invoice_ids"))?,
        }),
        "discount" => Ok(Operation::Discount {
            part_id: b.part_id,
            bank_org_id: b.bank_org_id.ok_or_else(|| missing("bank_org_id"))?,
            amount_fen: b.amount_fen.ok_or_else(|| missing("amount_fen"))?,
        }),
        other => Err(lianrong_app::error::AppError::invalid(
            "kind",
            "operation_unknown",
            format!("kind must be split, transfer or discount, not '{}'", other.chars().take(20).collect::<String>()),
            "kind 须为 split（拆分）、transfer（转让）或 discount（贴现）",
        )),
    }
}

fn answered(o: Outcome) -> (StatusCode, Json<TransferDto>) {
    (if o.repeated { StatusCode::OK } else { StatusCode::CREATED }, Json(o.transfer.into()))
}

#[utoipa::path(post, path = "/api/v1/commitments/{id}/transfers", tag = "commitment", params(("id" = String, Path)),
    request_body = OperationDto,
    description = "The holder splits a part, passes some of it to a supplier against verified trade, or discounts it at \
                   a bank (pending until the bank posts or voids it). 201 when done now, 200 when the transfer id was \
                   already recorded with the same request.",
    responses((status = 201, body = TransferDto), (status = 200, body = TransferDto), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn operate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OperationDto>,
) -> ApiResult<(StatusCode, Json<TransferDto>)> {
    let transfer_id = b.transfer_id.clone();
    let op = operation(b)?;
    Ok(answered(app::operate(&s.app, &actor, &id, &transfer_id, &op).await?))
}

#[utoipa::path(post, path = "/api/v1/commitments/{id}/transfers/{transfer_id}/post", tag = "commitment",
    params(("id" = String, Path), ("transfer_id" = String, Path)),
    description = "The discount's bank posts it: it paid the holder, and the discounted part becomes the bank's. Only a \
        person posts (`keys_cannot_approve` for an API key). Above the four-eyes threshold (¥1,000,000) the first post \
        records an approval and answers 202 with the discount still pending; a different approver, who held the role \
        before the discount was asked for, posts it.",
    responses((status = 201, body = TransferDto), (status = 200, body = TransferDto), (status = 202, body = TransferDto),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn post_discount(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, transfer_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<TransferDto>)> {
    Ok(decided(app::decide_discount(&s.app, &actor, &id, &transfer_id, true).await?))
}

fn decided(d: app::DiscountDecision) -> (StatusCode, Json<TransferDto>) {
    match d {
        app::DiscountDecision::Done(o) => answered(o),
        app::DiscountDecision::AwaitingSecondApprover(pending) => (StatusCode::ACCEPTED, Json(pending.into())),
    }
}

#[utoipa::path(post, path = "/api/v1/commitments/{id}/transfers/{transfer_id}/void", tag = "commitment",
    params(("id" = String, Path), ("transfer_id" = String, Path)),
    description = "The discount's bank voids it: the part returns to its holder.",
    responses((status = 201, body = TransferDto), (status = 200, body = TransferDto), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn void_discount(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, transfer_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<TransferDto>)> {
    Ok(decided(app::decide_discount(&s.app, &actor, &id, &transfer_id, false).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleDto {
    /// The core's payment into the settlement account (bank transaction number).
    pub payment_reference: String,
    /// Exactly the commitment's live fen.
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementDto {
    pub transfer: TransferDto,
    /// What each holder received, by organisation id.
    pub paid_fen_by_holder: std::collections::BTreeMap<String, i64>,
}

#[utoipa::path(post, path = "/api/v1/commitments/{id}/settle", tag = "commitment", params(("id" = String, Path)),
    request_body = SettleDto,
    description = "At or after maturity the issuer pays; every held part is settled to its holder exactly and the \
                   core's line is released.",
    responses((status = 201, body = SettlementDto), (status = 200, body = SettlementDto), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn settle(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SettleDto>,
) -> ApiResult<(StatusCode, Json<SettlementDto>)> {
    let o = lianrong_app::settlement::settle(&s.app, &actor, &id, &b.payment_reference, b.amount_fen).await?;
    let status = if o.repeated { StatusCode::OK } else { StatusCode::CREATED };
    let paid_fen_by_holder = app::payouts_by_holder(&o.transfer);
    Ok((status, Json(SettlementDto { transfer: o.transfer.into(), paid_fen_by_holder })))
}
