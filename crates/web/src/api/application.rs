//! Financing applications and loans: a supplier applies at one or several banks; each bank's officer
//! reviews its offer (the pre-check's findings first), decides with a reason, a second approver signs
//! above ¥1,000,000; the bank disburses in one step and records repayments through the fixed account.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::application::{self as app, ApplicationView, Decision, NewApplication, NewOffer, ServiceTime};
use lianrong_app::loan::{self as loans, LoanFigures, LoanView, NewRepayment};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferDto {
    pub id: String,
    pub bank_org_id: String,
    pub product_id: String,
    /// The consent the applicant granted this bank for the application.
    pub consent_id: Option<String>,
    /// precheck_failed, pending_review, awaiting_second, approved, rejected, disbursed or closed.
    pub state: String,
    /// The automatic pre-check: [{code, blocking, zh, en}].
    #[schema(value_type = Object)]
    pub findings: Value,
    pub submitted_at: String,
    pub approved_amount_fen: Option<i64>,
    pub rate_bp: Option<i64>,
    pub reason: Option<String>,
    pub first_approver: Option<String>,
    pub second_approver: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Working days from application to decision (the city's goal: ten).
    pub service_working_days: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicationDto {
    pub id: String,
    pub applicant_org_id: String,
    pub applicant_name: String,
    /// receivables or commitment_part.
    pub subject: String,
    pub invoice_ids: Vec<String>,
    pub commitment_id: Option<String>,
    pub part_id: Option<String>,
    pub order_id: Option<String>,
    pub amount_fen: i64,
    pub term_days: i64,
    pub purpose: String,
    pub chain_id: Option<String>,
    pub tier: Option<i64>,
    /// open or closed.
    pub state: String,
    pub created_at: String,
    /// A bank sees only its own offer.
    pub offers: Vec<OfferDto>,
}

impl From<ApplicationView> for ApplicationDto {
    fn from(v: ApplicationView) -> ApplicationDto {
        let a = v.application;
        ApplicationDto {
            id: a.id,
            applicant_org_id: a.applicant_org_id,
            applicant_name: v.applicant_name,
            subject: a.subject.code().to_string(),
            invoice_ids: a.invoice_ids,
            commitment_id: a.commitment_id,
            part_id: a.part_id,
            order_id: a.order_id,
            amount_fen: a.amount_fen,
            term_days: a.term_days,
            purpose: a.purpose,
            chain_id: a.chain_id,
            tier: a.tier,
            state: a.state.code().to_string(),
            created_at: rfc3339(a.created_at_ms),
            offers: v
                .offers
                .into_iter()
                .map(|o| OfferDto {
                    id: o.id,
                    bank_org_id: o.bank_org_id,
                    product_id: o.product_id,
                    consent_id: o.consent_id,
                    state: o.state.code().to_string(),
                    findings: app::findings_json(&o.findings),
                    submitted_at: rfc3339(o.submitted_at_ms),
                    approved_amount_fen: o.approved_amount_fen,
                    rate_bp: o.rate_bp,
                    reason: o.reason,
                    first_approver: o.first_approver,
                    second_approver: o.second_approver,
                    decided_by: o.decided_by,
                    decided_at: o.decided_at_ms.map(rfc3339),
                    service_working_days: o.service_working_days,
                })
                .collect(),
        }
    }
}

page_dto!(ApplicationPage, ApplicationDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfferDto {
    pub bank_org_id: String,
    pub product_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplicationDto {
    /// receivables, commitment_part or order.
    pub subject: String,
    #[serde(default)]
    pub invoice_ids: Vec<String>,
    pub commitment_id: Option<String>,
    pub part_id: Option<String>,
    /// Order financing: the purchase order's trade record id.
    pub order_id: Option<String>,
    pub amount_fen: i64,
    pub term_days: i64,
    pub purpose: String,
    /// One to five banks, each with the product applied for.
    pub offers: Vec<NewOfferDto>,
    /// YYYY-MM-DD: until when the chosen banks may read your receivables and verified trade totals.
    pub consent_until: String,
}

#[utoipa::path(post, path = "/api/v1/applications", tag = "application", request_body = NewApplicationDto,
    description = "Apply for financing with receivables or a commitment part at one or several banks. Each bank's offer \
                   is pre-checked at once; banks that will review get consent to read your data for this application.",
    responses((status = 201, body = ApplicationDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn apply(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewApplicationDto>,
) -> ApiResult<(StatusCode, Json<ApplicationDto>)> {
    let new = NewApplication {
        subject: b.subject,
        invoice_ids: b.invoice_ids,
        commitment_id: b.commitment_id,
        part_id: b.part_id,
        order_id: b.order_id,
        amount_fen: b.amount_fen,
        term_days: b.term_days,
        purpose: b.purpose,
        offers: b
            .offers
            .into_iter()
            .map(|o| NewOffer { bank_org_id: o.bank_org_id, product_id: o.product_id })
            .collect(),
        consent_until: b.consent_until,
    };
    Ok((StatusCode::CREATED, Json(app::apply(&s.app, &actor, &new).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/applications", tag = "application", params(PageParams),
    description = "Your applications; for a bank, the applications with an offer to it (its own offer only).",
    responses((status = 200, body = ApplicationPage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<ApplicationPage>> {
    Ok(Json(ApplicationPage::from_page(app::list(&s.app, &actor, q.request()?).await?, ApplicationDto::from)))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "application", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferDecisionDto {
    /// approve or reject.
    pub decision: String,
    /// Approving: at most what was asked (default: all of it).
    pub amount_fen: Option<i64>,
    /// Approving: the annual rate in basis points, within the product's range.
    pub rate_bp: Option<i64>,
    /// Mandatory when rejecting.
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/offers/{offer_id}/decision", tag = "application",
    params(("id" = String, Path), ("offer_id" = String, Path)), request_body = OfferDecisionDto,
    description = "The bank's officer approves or rejects its offer (a rejection needs a reason). Above ¥1,000,000 an \
                   approval waits for a second approver, who must be another person with the approver role.",
    responses((status = 200, body = ApplicationDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, offer_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<OfferDecisionDto>,
) -> ApiResult<Json<ApplicationDto>> {
    let approve = match b.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(lianrong_app::AppError::invalid(
                "decision",
                "decision_unknown",
                "decision is approve or reject",
                "decision 须为 approve（批准）或 reject（拒绝）",
            )
            .into());
        }
    };
    let d = Decision { approve, amount_fen: b.amount_fen, rate_bp: b.rate_bp, reason: b.reason };
    Ok(Json(app::decide(&s.app, &actor, &id, &offer_id, &d).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceTimeDto {
    pub bank_org_id: String,
    pub decided: i64,
    pub median_working_days: i64,
    pub max_working_days: i64,
    /// Decisions within the city's goal of ten working days.
    pub within_goal: i64,
}

impl From<ServiceTime> for ServiceTimeDto {
    fn from(t: ServiceTime) -> ServiceTimeDto {
        ServiceTimeDto {
            bank_org_id: t.bank_org_id,
            decided: t.decided,
            median_working_days: t.median_working_days,
            max_working_days: t.max_working_days,
            within_goal: t.within_goal,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/applications/service-time", tag = "application",
    description = "Banks' service time in working days (a bank sees its own; the operator and regulator all).",
    responses((status = 200, body = Vec<ServiceTimeDto>), (status = 403, body = Problem)))]
pub async fn service_time(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<ServiceTimeDto>>> {
    Ok(Json(app::service_time(&s.app, &actor).await?.into_iter().map(ServiceTimeDto::from).collect()))
}

// ---------------------------------------------------------------------------------------------------
// Loans

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepaymentDto {
    pub id: String,
    pub amount_fen: i64,
    pub interest_fen: i64,
    pub principal_fen: i64,
    /// Paid beyond what was owed: returned to the payer.
    pub excess_fen: i64,
    pub paid_on: String,
    pub payment_reference: String,
    pub by: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoanDto {
    pub id: String,
    pub application_id: String,
    pub offer_id: String,
    pub bank_org_id: String,
    pub bank_name: String,
    pub borrower_org_id: String,
    pub borrower_name: String,
    pub product_id: String,
    pub principal_fen: i64,
    /// Annual rate, basis points; interest is ACT/360, rounded half up to the fen.
    pub rate_bp: i64,
    pub fee_fen: i64,
    /// Interest taken at payout (a commitment discount).
    pub upfront_interest_fen: i64,
    /// What reached the borrower: principal less fee and upfront interest.
    pub advance_fen: i64,
    pub value_date: String,
    pub maturity_date: String,
    pub registration_id: Option<String>,
    pub credit_line_id: Option<String>,
    pub commitment_id: Option<String>,
    pub repaid_principal_fen: i64,
    pub repaid_interest_fen: i64,
    pub principal_outstanding_fen: i64,
    /// Interest accrued and unpaid to today.
    pub interest_due_fen: i64,
    pub overdue_days: i64,
    /// outstanding or repaid.
    pub state: String,
    pub disbursed_at: String,
    pub log_leaf_id: Option<i64>,
    pub repayments: Vec<RepaymentDto>,
}

impl From<LoanView> for LoanDto {
    fn from(v: LoanView) -> LoanDto {
        let l = v.loan;
        LoanDto {
            id: l.id,
            application_id: l.application_id,
            offer_id: l.offer_id,
            bank_org_id: l.bank_org_id,
            bank_name: v.bank_name,
            borrower_org_id: l.borrower_org_id,
            borrower_name: v.borrower_name,
            product_id: l.product_id,
            principal_fen: l.principal_fen,
            rate_bp: l.rate_bp,
            fee_fen: l.fee_fen,
            upfront_interest_fen: l.upfront_interest_fen,
            advance_fen: l.advance_fen,
            value_date: l.value_date.to_string(),
            maturity_date: l.maturity_date.to_string(),
            registration_id: l.registration_id,
            credit_line_id: l.credit_line_id,
            commitment_id: l.commitment_id,
            repaid_principal_fen: l.repaid_principal_fen,
            repaid_interest_fen: l.repaid_interest_fen,
            principal_outstanding_fen: v.principal_outstanding_fen,
            interest_due_fen: v.interest_due_fen,
            overdue_days: v.overdue_days,
            state: l.state.code().to_string(),
            disbursed_at: rfc3339(l.disbursed_at_ms),
            log_leaf_id: l.log_leaf_id,
            repayments: v
                .repayments
                .into_iter()
                .map(|r| RepaymentDto {
                    id: r.id,
                    amount_fen: r.amount_fen,
                    interest_fen: r.interest_fen,
                    principal_fen: r.principal_fen,
                    excess_fen: r.excess_fen,
                    paid_on: r.paid_on.to_string(),
                    payment_reference: r.payment_reference,
                    by: r.by_login,
                })
                .collect(),
        }
    }
}

page_dto!(LoanPage, LoanDto);

#[utoipa::path(post, path = "/api/v1/applications/{id}/offers/{offer_id}/disbursement", tag = "application",
    params(("id" = String, Path), ("offer_id" = String, Path)),
    description = "The bank pays out an approved offer: the loan, the registration against double financing, the line \
                   occupation and (for a commitment part) the bank's acquisition of the part, in one step. Retrying \
                   answers with the loan already made.",
    responses((status = 201, body = LoanDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn disburse(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, offer_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<LoanDto>)> {
    Ok((StatusCode::CREATED, Json(loans::disburse(&s.app, &actor, &id, &offer_id).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/loans", tag = "application", params(PageParams),
    description = "A bank's portfolio, a borrower's loans; with what is outstanding, interest due and days overdue.",
    responses((status = 200, body = LoanPage)))]
pub async fn list_loans(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<LoanPage>> {
    Ok(Json(LoanPage::from_page(loans::list(&s.app, &actor, q.request()?).await?, LoanDto::from)))
}

#[utoipa::path(get, path = "/api/v1/loans/{id}", tag = "application", params(("id" = String, Path)),
    responses((status = 200, body = LoanDto), (status = 404, body = Problem)))]
pub async fn get_loan(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LoanDto>> {
    Ok(Json(loans::get(&s.app, &actor, &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepaymentInDto {
    pub amount_fen: i64,
    /// YYYY-MM-DD.
    pub paid_on: String,
    /// The bank's transaction number: recording it twice is answered, not counted twice.
    pub payment_reference: String,
    /// The account the money arrived in (the receivable's fixed repayment account).
    pub account_no: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", tag = "application", params(("id" = String, Path)),
    request_body = RepaymentInDto,
    description = "The bank records money that arrived in the fixed repayment account: interest first, then principal. \
                   Once the principal is repaid the line, the registration and the application's claims are released.",
    responses((status = 200, body = LoanDto), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn repay(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RepaymentInDto>,
) -> ApiResult<Json<LoanDto>> {
    let r = NewRepayment {
        amount_fen: b.amount_fen,
        paid_on: b.paid_on,
        payment_reference: b.payment_reference,
        account_no: b.account_no,
    };
    Ok(Json(loans::repay(&s.app, &actor, &id, &r).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoanFiguresDto {
    pub chain_id: Option<String>,
    pub tier: Option<i64>,
    pub loans: i64,
    pub disbursed_fen: i64,
    pub outstanding_fen: i64,
    pub overdue_loans: i64,
    pub overdue_fen: i64,
}

impl From<LoanFigures> for LoanFiguresDto {
    fn from(f: LoanFigures) -> LoanFiguresDto {
        LoanFiguresDto {
            chain_id: f.chain_id,
            tier: f.tier,
            loans: f.loans,
            disbursed_fen: f.disbursed_fen,
            outstanding_fen: f.outstanding_fen,
            overdue_loans: f.overdue_loans,
            overdue_fen: f.overdue_fen,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stats/loans", tag = "stats",
    description = "Loans by chain and borrower tier: disbursed, outstanding and overdue. Operator and regulator only.",
    responses((status = 200, body = Vec<LoanFiguresDto>), (status = 403, body = Problem)))]
pub async fn loan_figures(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<LoanFiguresDto>>> {
    Ok(Json(loans::figures_by_chain_tier(&s.app, &actor).await?.into_iter().map(LoanFiguresDto::from).collect()))
}
