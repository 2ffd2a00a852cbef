//! Financing in the console. A supplier applies from its receivables (or, on a commitment's page, with a
//! part it holds), choosing banks' published products; a bank's officer works the queue, opens the
//! data room (the pre-check's findings and the applicant's consented data, each read audited), decides
//! with a reason and pays out; the bank records repayments on its portfolio. Amounts in yuan, rates in
//! percent.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::application::{self as app, Decision, NewApplication, NewOffer};
use lianrong_app::loan::{self as loans, NewRepayment};
use lianrong_app::receivable::Side;
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::application::OfferState;
use lianrong_domain::loan::LoanState;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::product::{ProductKind, display_percent, parse_percent_bp};

use super::commitment::{amount_field, yuan};
use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for};
use super::product::product_choices;
use crate::state::AppState;

fn days_field(f: &Params, field: &'static str) -> AppResult<i64> {
    f.get(field)
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "days_invalid", "Write a whole number of days", "请填写整数天数"))
}

/// The chosen "bank|product" values as offers.
fn offers_of(f: &Params) -> Vec<NewOffer> {
    f.all("offer")
        .iter()
        .filter_map(|v| v.split_once('|'))
        .map(|(bank, product)| NewOffer { bank_org_id: bank.to_string(), product_id: product.to_string() })
        .collect()
}

pub struct ApplicationRowView {
    pub id: String,
    pub applicant: String,
    pub subject: &'static str,
    pub amount: String,
    pub term_days: i64,
    pub created: String,
    pub offers: Vec<OfferView>,
}

pub struct OfferView {
    pub id: String,
    pub bank: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub findings: Vec<(bool, String)>,
    pub approved: String,
    pub rate: String,
    pub reason: String,
    pub service_days: String,
}

pub struct ReceivableChoice {
    pub invoice_id: String,
    pub invoice_no: String,
    pub debtor: String,
    pub outstanding: String,
    pub due_date: String,
    pub evidence: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<ApplicationRowView>,
    pager: Pager,
    can_apply: bool,
    receivables: Vec<ReceivableChoice>,
    products: Vec<Opt>,
    consent_until: String,
    form: Params,
}

async fn names(state: &AppState, ctx: &Ctx, id: &str) -> String {
    lianrong_app::org::get(&state.app, ctx.actor(), id).await.map(|o| o.name).unwrap_or_else(|_| id.to_string())
}

async fn offer_view(state: &AppState, ctx: &Ctx, o: &lianrong_app::application::OfferRow) -> OfferView {
    let lang = ctx.lang_en();
    OfferView {
        id: o.id.clone(),
        bank: names(state, ctx, &o.bank_org_id).await,
        state_code: o.state.code(),
        state: o.state.label(lang),
        findings: o.findings.iter().map(|f| (f.blocking, if lang { f.en.clone() } else { f.zh.clone() })).collect(),
        approved: o.approved_amount_fen.map(yuan).unwrap_or_default(),
        rate: o.rate_bp.map(display_percent).unwrap_or_default(),
        reason: o.reason.clone().unwrap_or_default(),
        service_days: o.service_working_days.map(|d| d.to_string()).unwrap_or_default(),
    }
}

async fn row_view(state: &AppState, ctx: &Ctx, v: &app::ApplicationView) -> ApplicationRowView {
    let mut offers = Vec::new();
    for o in &v.offers {
        offers.push(offer_view(state, ctx, o).await);
    }
    ApplicationRowView {
        id: v.application.id.clone(),
        applicant: v.applicant_name.clone(),
        subject: v.application.subject.label(ctx.lang_en()),
        amount: yuan(v.application.amount_fen),
        term_days: v.application.term_days,
        created: lianrong_app::display_time(v.application.created_at_ms),
        offers,
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let page = app::list(&state.app, ctx.actor(), q.page()?).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for v in &page.items {
        rows.push(row_view(state, ctx, v).await);
    }
    let can_apply = ctx.allows(Permission::ApplyFinancing);
    let mut receivables = Vec::new();
    let mut products = Vec::new();
    if can_apply {
        let owed = lianrong_app::receivable::list(&state.app, ctx.actor(), Side::Creditor, PageRequest::all_small())
            .await?
            .page;
        for r in owed.items.iter().filter(|r| r.verdict.outstanding_fen > 0 && r.registration_reference.is_none()) {
            receivables.push(ReceivableChoice {
                invoice_id: r.verdict.invoice_id.clone(),
                invoice_no: if r.invoice_no.is_empty() { r.verdict.invoice_id.clone() } else { r.invoice_no.clone() },
                debtor: r.buyer_name.clone(),
                outstanding: yuan(r.verdict.outstanding_fen),
                due_date: r.verdict.due_date.clone().unwrap_or_default(),
                evidence: match (r.confirmed(), r.data_only_eligible()) {
                    (true, _) => ctx.ui("").t("已确权", "Confirmed").to_string(),
                    (false, true) => ctx.ui("").t("数据确真", "Data-verified").to_string(),
                    _ => String::new(),
                },
            });
        }
        products = product_choices(
            state,
            ctx,
            &[
                ProductKind::ReceivableFinancing,
                ProductKind::FactoringWithRecourse,
                ProductKind::FactoringWithoutRecourse,
                ProductKind::ReverseFactoring,
                ProductKind::DataOnlyCredit,
            ],
        )
        .await?;
    }
    let mut ui = ctx.ui("applications").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let consent_until = state.app.day_in(90).to_string();
    let view = ListPage {
        ui,
        rows,
        pager: Pager::new(&page, "/applications", &[]),
        can_apply,
        receivables,
        products,
        consent_until,
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// A supplier applies: receivables ticked on this page, or a commitment part from the commitment's page.
pub async fn apply(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let from_commitment = f.get("subject") == "commitment_part";
    let subject = f.get("subject").to_string();
    let result = async {
        let new = NewApplication {
            subject: if subject.is_empty() { "receivables".into() } else { subject.clone() },
            invoice_ids: f.all("invoice_id"),
            commitment_id: f.opt("commitment_id").map(str::to_string),
            part_id: f.opt("part_id").map(str::to_string),
            order_id: f.opt("order_id").map(str::to_string),
            amount_fen: amount_field(&f, "amount_yuan")?,
            term_days: days_field(&f, "term_days")?,
            purpose: f.get("purpose").to_string(),
            offers: offers_of(&f),
            consent_until: f.get("consent_until").to_string(),
        };
        app::apply(&state.app, ctx.actor(), &new).await
    }
    .await;
    match result {
        Ok(v) => see_other(&format!("/applications/{}?ok=applied_financing", v.application.id)),
        Err(e) if from_commitment => {
            let id = f.get("commitment_id").to_string();
            ctx.respond(super::commitment::detail_with_error(&state, &ctx, &id, f, &e).await)
        }
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

// ---------------------------------------------------------------------------------------------------
// One application: the data room

pub struct DataRow {
    pub invoice_no: String,
    pub debtor: String,
    pub outstanding: String,
    pub due_date: String,
    pub verification: String,
    pub confirmation: String,
}

#[derive(Template)]
#[template(path = "application.html")]
struct DetailPage {
    ui: Ui,
    row: ApplicationRowView,
    invoice_ids: Vec<String>,
    commitment_id: String,
    part_id: String,
    purpose: String,
    /// The bank's offer (a bank sees only its own), with what it may do.
    is_bank: bool,
    can_decide: bool,
    can_disburse: bool,
    offer_id: String,
    rate_range: String,
    /// The applicant's receivables read through the consent (an audited read).
    data: Vec<DataRow>,
    data_error: String,
    loan_id: String,
    form: Params,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id, &q, Params::default(), None).await)
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let v = app::get(&state.app, ctx.actor(), id).await?;
    let row = row_view(state, ctx, &v).await;
    let is_bank = ctx.actor().org_kind == OrgKind::Bank;
    let own = v.offers.iter().find(|o| o.bank_org_id == ctx.actor().org_id);
    let may = ctx.allows(Permission::DecideFinancing);
    let can_decide =
        may && own.is_some_and(|o| matches!(o.state, OfferState::PendingReview | OfferState::AwaitingSecond));
    let can_disburse = may && own.is_some_and(|o| o.state == OfferState::Approved);
    let mut rate_range = String::new();
    let mut data = Vec::new();
    let mut data_error = String::new();
    let mut loan_id = String::new();
    if let Some(o) = own {
        if let Ok(p) = lianrong_app::product::get(&state.app, ctx.actor(), &o.product_id).await {
            rate_range =
                format!("{} – {}", display_percent(p.row.terms.rate_min_bp), display_percent(p.row.terms.rate_max_bp));
        }
        // The data room: what the consent lets the bank read, each read audited for the owner to see.
        if let Some(consent) = &o.consent_id {
            match lianrong_app::consent::receivables(&state.app, ctx.actor(), consent, PageRequest::all_small()).await {
                Ok(page) => {
                    for r in page.page.items {
                        data.push(DataRow {
                            invoice_no: r.invoice_no,
                            debtor: r.debtor_name.unwrap_or_else(|| r.receivable.verdict.buyer_uscc.clone()),
                            outstanding: yuan(r.receivable.verdict.outstanding_fen),
                            due_date: r.receivable.verdict.due_date.clone().unwrap_or_default(),
                            verification: r.receivable.verdict.status.clone(),
                            confirmation: if r.receivable.confirmed() { "✓".into() } else { String::new() },
                        });
                    }
                }
                Err(e) => data_error = e.message(ctx.lang_en()).to_string(),
            }
        }
        if o.state == OfferState::Disbursed {
            let portfolio = loans::list(&state.app, ctx.actor(), PageRequest::all_small()).await?;
            if let Some(l) = portfolio.items.iter().find(|l| l.loan.offer_id == o.id) {
                loan_id = l.loan.id.clone();
            }
        }
    } else if let Some(o) = v.offers.iter().find(|o| o.state == OfferState::Disbursed) {
        let portfolio = loans::list(&state.app, ctx.actor(), PageRequest::all_small()).await?;
        if let Some(l) = portfolio.items.iter().find(|l| l.loan.offer_id == o.id) {
            loan_id = l.loan.id.clone();
        }
    }
    let mut ui = ctx.ui("applications").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = DetailPage {
        ui,
        row,
        invoice_ids: v.application.invoice_ids.clone(),
        commitment_id: v.application.commitment_id.clone().unwrap_or_default(),
        part_id: v.application.part_id.clone().unwrap_or_default(),
        purpose: v.application.purpose.clone(),
        is_bank,
        can_decide,
        can_disburse,
        offer_id: own.map(|o| o.id.clone()).unwrap_or_default(),
        rate_range,
        data,
        data_error,
        loan_id,
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// A bank's decision or payout on its offer.
pub async fn act(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let offer_id = f.get("offer_id").to_string();
    let result: AppResult<String> = async {
        match f.get("action") {
            "approve" | "reject" => {
                let approve = f.get("action") == "approve";
                let amount_fen = match f.opt("amount_yuan").map(str::trim).filter(|s| !s.is_empty()) {
                    Some(_) => Some(amount_field(&f, "amount_yuan")?),
                    None => None,
                };
                let rate_bp = match f.opt("rate_percent").map(str::trim).filter(|s| !s.is_empty()) {
                    Some(r) => Some(parse_percent_bp("rate_percent", r).map_err(|e| {
                        AppError::invalid(
                            "rate_percent",
                            "rate_invalid",
                            e.to_string(),
                            "年利率请以百分数填写，如 4.35",
                        )
                    })?),
                    None => None,
                };
                let d = Decision { approve, amount_fen, rate_bp, reason: f.get("reason").to_string() };
                app::decide(&state.app, ctx.actor(), &id, &offer_id, &d).await?;
                Ok(format!("/applications/{id}?ok=decided"))
            }
            "disburse" => {
                let loan = loans::disburse(&state.app, ctx.actor(), &id, &offer_id).await?;
                Ok(format!("/loans/{}?ok=disbursed", loan.loan.id))
            }
            _ => Err(AppError::invalid("action", "action_unknown", "Unknown action", "未知操作")),
        }
    }
    .await;
    match result {
        Ok(to) => see_other(&to),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), f, Some(&e)).await),
    }
}

// ---------------------------------------------------------------------------------------------------
// Loans: the portfolio and repayments

pub struct LoanRowView {
    pub id: String,
    pub bank: String,
    pub borrower: String,
    pub principal: String,
    pub outstanding: String,
    pub interest_due: String,
    pub rate: String,
    pub maturity: String,
    pub overdue_days: i64,
    pub state: String,
}

fn loan_row(ctx: &Ctx, l: &loans::LoanView) -> LoanRowView {
    LoanRowView {
        id: l.loan.id.clone(),
        bank: l.bank_name.clone(),
        borrower: l.borrower_name.clone(),
        principal: yuan(l.loan.principal_fen),
        outstanding: yuan(l.principal_outstanding_fen),
        interest_due: yuan(l.interest_due_fen),
        rate: display_percent(l.loan.rate_bp),
        maturity: l.loan.maturity_date.to_string(),
        overdue_days: l.overdue_days,
        state: if l.loan.state == LoanState::Repaid {
            ctx.ui("").t("已结清", "Repaid")
        } else {
            ctx.ui("").t("未结清", "Outstanding")
        }
        .to_string(),
    }
}

#[derive(Template)]
#[template(path = "loans.html")]
struct LoansPage {
    ui: Ui,
    rows: Vec<LoanRowView>,
    pager: Pager,
}

pub async fn loan_list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    let result = async {
        let page = loans::list(&state.app, ctx.actor(), q.page()?).await?;
        let rows = page.items.iter().map(|l| loan_row(&ctx, l)).collect();
        let view = LoansPage { ui: ctx.ui("loans").done(q.get("ok")), rows, pager: Pager::new(&page, "/loans", &[]) };
        Ok(render(StatusCode::OK, &view))
    }
    .await;
    ctx.respond(result)
}

pub struct RepaymentView {
    pub paid_on: String,
    pub amount: String,
    pub interest: String,
    pub principal: String,
    pub excess: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "loan.html")]
struct LoanPage {
    ui: Ui,
    row: LoanRowView,
    application_id: String,
    fee: String,
    upfront: String,
    advance: String,
    value_date: String,
    leaf: String,
    registration: String,
    commitment_id: String,
    repayments: Vec<RepaymentView>,
    can_repay: bool,
    today: String,
    form: Params,
}

pub async fn loan_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(loan_page(&state, &ctx, &id, &q, Params::default(), None).await)
}

async fn loan_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let l = loans::get(&state.app, ctx.actor(), id).await?;
    let mut ui = ctx.ui("loans").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = LoanPage {
        ui,
        row: loan_row(ctx, &l),
        application_id: l.loan.application_id.clone(),
        fee: yuan(l.loan.fee_fen),
        upfront: yuan(l.loan.upfront_interest_fen),
        advance: yuan(l.loan.advance_fen),
        value_date: l.loan.value_date.to_string(),
        leaf: l.loan.log_leaf_id.map(|x| x.to_string()).unwrap_or_default(),
        registration: l.loan.registration_id.clone().unwrap_or_default(),
        commitment_id: l.loan.commitment_id.clone().unwrap_or_default(),
        repayments: l
            .repayments
            .iter()
            .map(|r| RepaymentView {
                paid_on: r.paid_on.to_string(),
                amount: yuan(r.amount_fen),
                interest: yuan(r.interest_fen),
                principal: yuan(r.principal_fen),
                excess: yuan(r.excess_fen),
                reference: r.payment_reference.clone(),
            })
            .collect(),
        can_repay: ctx.allows(Permission::DecideFinancing)
            && l.loan.bank_org_id == ctx.actor().org_id
            && l.loan.state == LoanState::Outstanding
            && l.loan.commitment_id.is_none(),
        today: state.app.today().to_string(),
        form,
    };
    Ok(render(status_for(failed), &view))
}

pub async fn repay(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async {
        let r = NewRepayment {
            amount_fen: amount_field(&f, "amount_yuan")?,
            paid_on: f.get("paid_on").to_string(),
            payment_reference: f.get("payment_reference").to_string(),
            account_no: f.opt("account_no").map(str::to_string),
        };
        loans::repay(&state.app, ctx.actor(), &id, &r).await
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/loans/{id}?ok=repayment_recorded")),
        Err(e) => ctx.respond(loan_page(&state, &ctx, &id, &Params::default(), f, Some(&e)).await),
    }
}
