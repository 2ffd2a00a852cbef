//! Loans: disbursement records the advance, the registration against double financing,
//! the line occupation and (for a commitment part) the bank's acquisition of the part in ONE
//! transaction; interest and fees are exact (`domain::loan`: ACT/360, half up once); repayment arrives
//! through the receivable's fixed repayment account, pays interest then principal, and once the
//! principal is repaid releases the line, the registration and the application's claims. A commitment
//! discount is repaid by the commitment's settlement. Overdue loans age, flagged to their bank and, in
//! aggregate, to the operator.

use jiff::civil::Date;
use lianrong_domain::application::{ApplicationState, Subject};
use lianrong_domain::loan::{self as rules, LoanState};
use lianrong_domain::log::LeafKind;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::Role;
use lianrong_store::loan::{self as store, LoanRow, RepaymentRow};
use lianrong_store::{Conn, StoreError};
use serde_json::json;

use crate::application;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

const OBJECT: &str = "loan";
/// A repayment's payment reference (the bank's transaction number).
pub const PAYMENT_REFERENCE_CHARS_MAX: usize = 64;

fn not_found() -> AppError {
    AppError::not_found("Loan", "融资")
}

/// A loan with what is owed today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanView {
    pub loan: LoanRow,
    pub repayments: Vec<RepaymentRow>,
    pub principal_outstanding_fen: i64,
    /// Interest accrued and unpaid to today (none for a discount, whose interest was taken up front).
    pub interest_due_fen: i64,
    pub overdue_days: i64,
    pub borrower_name: String,
    pub bank_name: String,
}

/// Interest accrued and unpaid on `on`: each period between repayments accrues on the principal then
/// outstanding; repayments paid interest first.
fn interest_due(loan: &LoanRow, repayments: &[RepaymentRow], on: Date) -> i64 {
    if loan.upfront_interest_fen > 0 || loan.state != LoanState::Outstanding {
        return 0;
    }
    let mut from = loan.value_date;
    let mut principal = loan.principal_fen;
    let mut unpaid = 0i64;
    for r in repayments {
        let paid_on = r.paid_on;
        unpaid += rules::interest_fen(principal, loan.rate_bp, rules::days_between(from, paid_on));
        unpaid -= r.interest_fen;
        principal -= r.principal_fen;
        from = from.max(paid_on);
    }
    (unpaid + rules::interest_fen(principal, loan.rate_bp, rules::days_between(from, on))).max(0)
}

async fn view_of(app: &App, conn: &mut Conn, loan: LoanRow) -> AppResult<LoanView> {
    let repayments = store::repayments(conn, &loan.id).await?;
    let today = app.today();
    let principal_outstanding_fen = loan.principal_fen - loan.repaid_principal_fen;
    let interest_due_fen = interest_due(&loan, &repayments, today);
    let overdue_days = rules::overdue_days(loan.maturity_date, today, principal_outstanding_fen);
    let borrower_name = lianrong_store::org::get(conn, &loan.borrower_org_id).await?.name;
    let bank_name = lianrong_store::org::get(conn, &loan.bank_org_id).await?.name;
    Ok(LoanView {
        loan,
        repayments,
        principal_outstanding_fen,
        interest_due_fen,
        overdue_days,
        borrower_name,
        bank_name,
    })
}

fn visible(actor: &Actor, loan: &LoanRow) -> bool {
    actor.sees_everything() || actor.system || actor.org_id == loan.bank_org_id || actor.org_id == loan.borrower_org_id
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<LoanView> {
    policy::require(actor, Permission::ReadApplications)?;
    let mut conn = app.db.acquire().await?;
    let loan = store::get(&mut conn, id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if !visible(actor, &loan) {
        return Err(not_found());
    }
    view_of(app, &mut conn, loan).await
}

/// A bank's portfolio, a borrower's loans, or (operator, regulator) every loan.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<LoanView>> {
    policy::require(actor, Permission::ReadApplications)?;
    let mut conn = app.db.acquire().await?;
    let org = if actor.sees_everything() || actor.system { None } else { Some(actor.org_id.as_str()) };
    let rows = store::list(&mut conn, org, page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for l in rows.items {
        items.push(view_of(app, &mut conn, l).await?);
    }
    Ok(Page { items, page: rows.page, page_size: rows.page_size, total: rows.total })
}

// ---------------------------------------------------------------------------------------------------
// Disbursement

/// The bank pays out an approved offer.
pub async fn disburse(app: &App, actor: &Actor, application_id: &str, offer_id: &str) -> AppResult<LoanView> {
    const ACTION: &str = "loan.disburse";
    audit::run(
        app,
        actor,
        Permission::DecideFinancing,
        ACTION,
        OBJECT,
        application_id,
        disburse_checked(app, actor, application_id, offer_id),
    )
    .await
}

/// The applicant as the creditor that registers its receivable (the platform acts on its application).
fn applicant_actor(org_id: &str) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        org_kind: OrgKind::Supplier,
        org_name: String::new(),
        user_id: None,
        login: Some("platform".into()),
        display_name: None,
        api_key_id: None,
        roles: vec![Role::FinanceStaff],
        scopes: None,
        system: false,
    }
}

async fn disburse_checked(app: &App, actor: &Actor, application_id: &str, offer_id: &str) -> AppResult<LoanView> {
    let mut conn = app.db.acquire().await?;
    // A retried disbursement is answered with the loan it made.
    if let Some(existing) = store::by_offer(&mut conn, offer_id).await?
        && existing.bank_org_id == actor.org_id
    {
        return view_of(app, &mut conn, existing).await;
    }
    let (application, offer) = application::approved_offer(&mut conn, actor, application_id, offer_id).await?;
    let product =
        lianrong_store::product::get(&mut conn, &lianrong_store::product::ProductScope::All, &offer.product_id).await?;
    let line = lianrong_store::credit_line::list(
        &mut conn,
        &lianrong_store::credit_line::LineScope::Party { org_id: application.applicant_org_id.clone() },
        PageRequest::all_small(),
    )
    .await?
    .items
    .into_iter()
    .find(|l| l.bank_org_id == actor.org_id && l.kind == lianrong_domain::credit_line::LineKind::Supplier);
    drop(conn);
    let today = app.today();
    let principal = offer.approved_amount_fen.unwrap_or(application.amount_fen);
    let rate = offer.rate_bp.unwrap_or(product.terms.rate_min_bp);
    let fee = rules::fee_fen(principal, product.terms.fee_bp, product.terms.fee_fixed_fen);
    let (maturity, upfront) = maturity_and_upfront(app, actor, &application, principal, rate).await?;
    let advance = principal - fee - upfront;
    if advance <= 0 {
        return Err(AppError::invalid(
            "amount_fen",
            "advance_not_positive",
            "Fees and interest would take the whole advance",
            "费用和利息将吞没全部放款金额",
        ));
    }
    let prepared = prepare_registration(app, actor, &application).await?;
    let now = now_ms();
    let mut loan = LoanRow {
        id: new_id(),
        offer_id: offer.id.clone(),
        application_id: application.id.clone(),
        bank_org_id: actor.org_id.clone(),
        borrower_org_id: application.applicant_org_id.clone(),
        product_id: offer.product_id.clone(),
        principal_fen: principal,
        rate_bp: rate,
        fee_fen: fee,
        upfront_interest_fen: upfront,
        advance_fen: advance,
        value_date: today,
        maturity_date: maturity,
        registration_id: None,
        credit_line_id: line.as_ref().map(|l| l.id.clone()),
        commitment_id: application.commitment_id.clone(),
        discount_transfer_id: None,
        repaid_principal_fen: 0,
        repaid_interest_fen: 0,
        state: LoanState::Outstanding,
        disbursed_by: actor.trail_name(),
        disbursed_at_ms: now,
        closed_at_ms: None,
        log_leaf_id: None,
    };
    debug_assert_eq!(loan.advance_fen + loan.fee_fen + loan.upfront_interest_fen, loan.principal_fen);
    write_disbursement(app, actor, &mut loan, prepared.as_ref()).await?;
    get(app, actor, &loan.id).await
}

/// When the loan matures, and the interest taken up front: a discount matures with its commitment and
/// takes its interest at once; other loans run their term and pay interest as they go.
async fn maturity_and_upfront(
    app: &App,
    actor: &Actor,
    application: &lianrong_store::application::ApplicationRow,
    principal: i64,
    rate: i64,
) -> AppResult<(Date, i64)> {
    let today = app.today();
    Ok(match application.subject {
        Subject::CommitmentPart => {
            let cid = application.commitment_id.clone().unwrap_or_default();
            let c = crate::commitment::get(app, actor, &cid).await?;
            let maturity = c.commitment.maturity_date;
            (maturity, rules::interest_fen(principal, rate, rules::days_between(today, maturity)))
        }
        Subject::Receivables | Subject::Order => {
            let maturity = today.checked_add(jiff::Span::new().days(application.term_days)).unwrap_or(today);
            (maturity, 0)
        }
    })
}

/// The registration a loan on receivables makes, checked as the applicant's (the receivable is the
/// creditor's) outside the transaction; its writes go in with the loan's. A commitment part is the bank's
/// once the discount is posted; an order is not yet a receivable to register (its invoice, when issued,
/// is registered like any other).
async fn prepare_registration(
    app: &App,
    actor: &Actor,
    application: &lianrong_store::application::ApplicationRow,
) -> AppResult<Option<crate::registration::Prepared>> {
    match application.subject {
        Subject::Receivables => Ok(Some(
            crate::registration::prepare(
                app,
                &applicant_actor(&application.applicant_org_id),
                &crate::registration::NewRegistration {
                    invoice_ids: application.invoice_ids.clone(),
                    financier_org_id: Some(actor.org_id.clone()),
                    note: Some(format!("融资放款登记（申请 {}）", application.id)),
                    ..Default::default()
                },
            )
            .await?,
        )),
        Subject::CommitmentPart | Subject::Order => Ok(None),
    }
}

/// Writes a disbursement in one transaction: the offer re-read as approved, the registration, the
/// line occupied, the discount posted, the loan, the offer disbursed and the others closed, the log
/// leaf and the audit record.
async fn write_disbursement(
    app: &App,
    actor: &Actor,
    loan: &mut LoanRow,
    prepared: Option<&crate::registration::Prepared>,
) -> AppResult<()> {
    let (principal, advance, fee, upfront, now) =
        (loan.principal_fen, loan.advance_fen, loan.fee_fen, loan.upfront_interest_fen, loan.disbursed_at_ms);
    let today = app.today();
    let mut tx = app.db.begin_write().await?;
    let (application, offer) =
        application::approved_offer(&mut tx, actor, &loan.application_id, &loan.offer_id).await?;
    if let Some(p) = prepared {
        let (registration_id, _) =
            crate::registration::register_in(&mut tx, &applicant_actor(&application.applicant_org_id), p).await?;
        loan.registration_id = Some(registration_id);
    }
    if let Some(line_id) = loan.credit_line_id.clone() {
        crate::credit_line::occupy_in(
            &mut tx,
            &line_id,
            principal,
            &format!("loan:{}", loan.id),
            &actor.trail_name(),
            app.today(),
        )
        .await?;
    }
    if let Some(cid) = &application.commitment_id {
        let discount = application::discount_id(&application.id);
        crate::commitment::decide_discount_in(&mut tx, actor, cid, &discount, true, today, now).await?;
        loan.discount_transfer_id = Some(discount);
    }
    store::insert(&mut tx, loan).await.map_err(|e| match e {
        StoreError::Conflict { .. } => {
            AppError::conflict("already_disbursed", "This offer was disbursed at the same moment", "该申请刚刚已放款")
        }
        other => other.into(),
    })?;
    let mut disbursed = offer.clone();
    disbursed.state = lianrong_domain::application::OfferState::Disbursed;
    if !lianrong_store::application::update_offer(&mut tx, &disbursed, offer.state).await? {
        return Err(AppError::conflict(
            "offer_changed",
            "Someone else acted on this offer first; reload",
            "该申请已被他人处理，请刷新",
        ));
    }
    lianrong_store::application::close_other_offers(&mut tx, &application.id, &offer.id).await?;
    let entry = json!({
        "action": "disburse",
        "loan_id": loan.id,
        "application_id": application.id,
        "subject": application.subject.code(),
        "invoice_ids": application.invoice_ids,
        "commitment_id": loan.commitment_id,
        "principal_fen": loan.principal_fen,
        "fee_fen": loan.fee_fen,
        "upfront_interest_fen": loan.upfront_interest_fen,
        "advance_fen": loan.advance_fen,
        "rate_bp": loan.rate_bp,
        "value_date": loan.value_date.to_string(),
        "maturity_date": loan.maturity_date.to_string(),
        "registration_id": loan.registration_id,
    });
    let parties = [loan.bank_org_id.as_str(), loan.borrower_org_id.as_str()];
    let leaf = crate::log::append(&mut tx, LeafKind::Disbursement, &loan.id, &parties, &entry, now).await?;
    store::set_log_leaf_id(&mut tx, &loan.id, leaf).await?;
    let detail = format!(
        "{} fen to {} (advance {}, fee {}, upfront interest {})",
        principal, loan.borrower_org_id, advance, fee, upfront
    );
    audit::ok_in(&mut tx, actor, "loan.disburse", OBJECT, &loan.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Repayment

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepayment {
    pub amount_fen: i64,
    /// `YYYY-MM-DD`, not in the future.
    pub paid_on: String,
    pub payment_reference: String,
    /// The account the money arrived in: for a receivable with a fixed repayment account, it must be that
    /// account.
    pub account_no: Option<String>,
}

/// The bank records money that arrived for a loan.
pub async fn repay(app: &App, actor: &Actor, loan_id: &str, r: &NewRepayment) -> AppResult<LoanView> {
    const ACTION: &str = "loan.repay";
    audit::run(app, actor, Permission::DecideFinancing, ACTION, OBJECT, loan_id, repay_checked(app, actor, loan_id, r))
        .await
}

async fn repay_checked(app: &App, actor: &Actor, loan_id: &str, r: &NewRepayment) -> AppResult<LoanView> {
    let reference =
        lianrong_domain::text::bounded("payment_reference", &r.payment_reference, PAYMENT_REFERENCE_CHARS_MAX)?;
    let paid_on = Date::strptime("%Y-%m-%d", r.paid_on.trim()).map_err(|_| {
        AppError::invalid("paid_on", "date_invalid", "A date is written YYYY-MM-DD", "日期格式须为YYYY-MM-DD")
    })?;
    if paid_on > app.today() {
        return Err(AppError::invalid(
            "paid_on",
            "date_in_future",
            "A repayment is recorded once it arrived",
            "还款须在到账后登记",
        ));
    }
    if r.amount_fen <= 0 {
        return Err(AppError::invalid(
            "amount_fen",
            "amount_not_positive",
            "The amount must be positive",
            "金额须为正数",
        ));
    }
    let mut conn = app.db.acquire().await?;
    let loan = store::get(&mut conn, loan_id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if loan.bank_org_id != actor.org_id {
        return Err(not_found());
    }
    if loan.commitment_id.is_some() {
        return Err(AppError::conflict(
            "repaid_by_settlement",
            "A commitment discount is repaid by the commitment's settlement at maturity",
            "债权凭证贴现由凭证到期兑付自动还款",
        ));
    }
    check_fixed_account(app, &mut conn, &loan, r.account_no.as_deref()).await?;
    drop(conn);
    let mut tx = app.db.begin_write().await?;
    let loan = store::get_for_update(&mut tx, loan_id).await?;
    let repayments = store::repayments(&mut tx, &loan.id).await?;
    // The same payment recorded again is answered with the loan as it stands, never counted twice.
    if repayments.iter().any(|p| p.payment_reference == reference) {
        drop(tx);
        return get(app, actor, loan_id).await;
    }
    if loan.state != LoanState::Outstanding {
        return Err(AppError::conflict("loan_repaid", "The loan is already repaid", "该笔融资已结清"));
    }
    let due = interest_due(&loan, &repayments, paid_on);
    let outstanding = loan.principal_fen - loan.repaid_principal_fen;
    let a = rules::allocate(r.amount_fen, due, outstanding);
    let row = RepaymentRow {
        id: new_id(),
        loan_id: loan.id.clone(),
        amount_fen: r.amount_fen,
        interest_fen: a.interest_fen,
        principal_fen: a.principal_fen,
        excess_fen: a.excess_fen,
        paid_on,
        payment_reference: reference.clone(),
        by_login: actor.trail_name(),
        at_ms: now_ms(),
    };
    match store::insert_repayment(&mut tx, &row).await {
        Ok(()) => {}
        // The same payment recorded again: answered with the loan as it stands.
        Err(StoreError::Conflict { .. }) => {
            drop(tx);
            return get(app, actor, loan_id).await;
        }
        Err(e) => return Err(e.into()),
    }
    if !store::apply_repayment(&mut tx, &loan.id, a.interest_fen, a.principal_fen).await? {
        return Err(AppError::conflict("loan_changed", "The loan changed meanwhile; reload", "该笔融资已变化，请刷新"));
    }
    // The loan's totals equal its recorded repayments, before and after.
    let after = store::get(&mut tx, &loan.id).await?;
    if store::repayment_totals(&mut tx, &loan.id).await? != (after.repaid_principal_fen, after.repaid_interest_fen) {
        tracing::error!(loan = loan.id, "loan out of balance with its repayments");
        return Err(AppError::new(
            ErrorKind::Internal,
            "loan_out_of_balance",
            "The loan does not match its repayments; nothing was changed",
            "融资余额与还款记录不符，操作未生效",
        ));
    }
    if after.repaid_principal_fen == after.principal_fen {
        close_in(&mut tx, actor, &after).await?;
    }
    let detail = format!(
        "{} fen ({} interest, {} principal, {} excess) ref {reference}",
        r.amount_fen, a.interest_fen, a.principal_fen, a.excess_fen
    );
    audit::ok_in(&mut tx, actor, "loan.repay", OBJECT, &loan.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    get(app, actor, loan_id).await
}

/// A receivable with a fixed repayment account is repaid into that account only.
async fn check_fixed_account(app: &App, conn: &mut Conn, loan: &LoanRow, account_no: Option<&str>) -> AppResult<()> {
    let application = lianrong_store::application::get(conn, &loan.application_id).await?;
    for invoice_id in &application.invoice_ids {
        let Some(bound) = lianrong_store::collection_account::get(conn, invoice_id, false).await? else { continue };
        let given = account_no.map(lianrong_domain::collection_account::normalise_account_no).unwrap_or_default();
        if given.is_empty() || app.secret().account_digest().of(&given) != bound.account_sm3 {
            return Err(AppError::invalid(
                "account_no",
                "not_the_fixed_account",
                format!("Repayment must arrive in the fixed repayment account ending {}", bound.account_last4),
                format!("还款须进入尾号{}的回款专户", bound.account_last4),
            ));
        }
    }
    Ok(())
}

/// Closes a repaid loan: the line, the registration and the application's claims are freed; a leaf.
async fn close_in(conn: &mut Conn, actor: &Actor, loan: &LoanRow) -> AppResult<()> {
    let now = now_ms();
    store::close(conn, &loan.id, now).await?;
    if let Some(line) = &loan.credit_line_id {
        crate::credit_line::release_in(
            conn,
            line,
            loan.principal_fen,
            &format!("loan:{}", loan.id),
            &actor.trail_name(),
        )
        .await?;
    }
    if let Some(reg) = &loan.registration_id {
        let row = lianrong_store::registration::get(conn, reg).await?;
        crate::registration::release_in(conn, actor, &row, crate::registration::RELEASED_ON_REPAYMENT, now).await?;
    }
    lianrong_store::application::release_claims(conn, &loan.application_id).await?;
    lianrong_store::application::set_state(conn, &loan.application_id, ApplicationState::Closed).await?;
    let entry = json!({"action": "repaid", "loan_id": loan.id, "principal_fen": loan.principal_fen,
        "interest_fen": loan.repaid_interest_fen + loan.upfront_interest_fen});
    let parties = [loan.bank_org_id.as_str(), loan.borrower_org_id.as_str()];
    let leaf = crate::log::append(conn, LeafKind::Disbursement, &loan.id, &parties, &entry, now).await?;
    tracing::debug!(loan = loan.id, leaf, "loan repaid");
    Ok(())
}

/// At a commitment's settlement, each bank holding a discounted part is paid: the loans that bought
/// those parts are repaid (called inside the settlement's transaction).
pub(crate) async fn repay_from_settlement_in(
    conn: &mut Conn,
    actor: &Actor,
    commitment_id: &str,
    payouts: &[(String, String, i64)],
    paid_on: Date,
) -> AppResult<()> {
    let loans = store::outstanding(conn).await?;
    for loan in loans.iter().filter(|l| l.commitment_id.as_deref() == Some(commitment_id)) {
        let Some(discount) = &loan.discount_transfer_id else { continue };
        // The bank's part is the first output of the discount it posted.
        let part = format!("{discount}/0");
        let Some((_, _, fen)) = payouts.iter().find(|(p, holder, _)| *p == part && *holder == loan.bank_org_id) else {
            continue;
        };
        let principal = (*fen).min(loan.principal_fen - loan.repaid_principal_fen);
        let row = RepaymentRow {
            id: new_id(),
            loan_id: loan.id.clone(),
            amount_fen: *fen,
            interest_fen: 0,
            principal_fen: principal,
            excess_fen: fen - principal,
            paid_on,
            payment_reference: format!("settlement:{commitment_id}"),
            by_login: actor.trail_name(),
            at_ms: now_ms(),
        };
        store::insert_repayment(conn, &row).await?;
        store::apply_repayment(conn, &loan.id, 0, principal).await?;
        let after = store::get(conn, &loan.id).await?;
        if after.repaid_principal_fen == after.principal_fen {
            close_in(conn, actor, &after).await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Overdue, in aggregate

/// Loans by chain and supplier tier of the borrower (as recorded on its application): disbursed,
/// outstanding and overdue, for the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoanFigures {
    pub chain_id: Option<String>,
    pub tier: Option<i64>,
    pub loans: i64,
    pub disbursed_fen: i64,
    pub outstanding_fen: i64,
    pub overdue_loans: i64,
    pub overdue_fen: i64,
}

pub async fn figures_by_chain_tier(app: &App, actor: &Actor) -> AppResult<Vec<LoanFigures>> {
    if !(actor.sees_everything() || actor.system) {
        return Err(AppError::forbidden(
            "Loan figures across banks are the programme office's view",
            "跨银行的融资统计仅向运营机构和监管部门开放",
        ));
    }
    let mut conn = app.db.acquire().await?;
    let rows = store::figures_by_chain_tier(&mut conn, &app.today().to_string()).await?;
    Ok(rows
        .into_iter()
        .map(|(chain_id, tier, loans, disbursed_fen, outstanding_fen, overdue_loans, overdue_fen)| LoanFigures {
            chain_id,
            tier,
            loans,
            disbursed_fen,
            outstanding_fen,
            overdue_loans,
            overdue_fen,
        })
        .collect())
}
