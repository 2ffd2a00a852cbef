//! Digital payment commitments in the console. A core issues one from its confirmed payables; a
//! supplier sees what it holds and splits, passes down or discounts a part; a bank posts or voids the
//! discounts offered to it; the core settles at maturity. Amounts are typed in yuan. Each form carries
//! a transfer id made when the page was drawn, so pressing a button twice is answered, not done twice.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::commitment::Role;
use lianrong_app::commitment::{self as app, CommitmentView, NewCommitment, Operation};
use lianrong_app::receivable::Side;
use lianrong_app::receivable::{self, Receivable};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::Money;
use lianrong_domain::commitment::{CommitmentState, PartState, Request};
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::trade::value::parse_amount_fen;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::state::AppState;

/// Amounts one split form takes (one per line).
const SPLIT_LINES_MAX: usize = 100;

pub struct CommitmentRowView {
    pub id: String,
    pub issuer: String,
    pub holder: String,
    pub bank: String,
    pub face: String,
    pub settled: String,
    pub maturity: String,
    pub state: String,
    pub flag: String,
}

pub struct HoldingView {
    pub commitment_id: String,
    pub issuer: String,
    pub maturity: String,
    pub part_id: String,
    pub amount: String,
    pub state_code: &'static str,
    pub state: &'static str,
}

pub struct PayableView {
    pub invoice_id: String,
    pub invoice_no: String,
    pub supplier: String,
    pub outstanding: String,
    pub due_date: String,
}

pub struct DiscountView {
    pub commitment_id: String,
    pub transfer_id: String,
    pub holder: String,
    pub part_id: String,
    pub amount: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "commitments.html")]
struct ListPage {
    ui: Ui,
    role: &'static str,
    rows: Vec<CommitmentRowView>,
    pager: Pager,
    holdings: Vec<HoldingView>,
    can_issue: bool,
    payables: Vec<PayableView>,
    lines: Vec<Opt>,
    discounts: Vec<DiscountView>,
    form: Params,
}

async fn org_name(state: &AppState, ctx: &Ctx, id: &str) -> String {
    lianrong_app::org::get(&state.app, ctx.actor(), id).await.map(|o| o.name).unwrap_or_else(|_| id.to_string())
}

/// An amount as finance staff read it (shared by the financing pages).
pub(super) fn yuan(fen: i64) -> String {
    Money::from_fen(fen).display_yuan()
}

fn role_of(q: &Params) -> (&'static str, Role) {
    match q.get("role") {
        "issued" => ("issued", Role::Issued),
        "held" => ("held", Role::Held),
        "backed" => ("backed", Role::Backed),
        _ => ("any", Role::Any),
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
    let (role_code, role) = role_of(q);
    let lang = ctx.lang_en();
    let t = |zh: &'static str, en: &'static str| if lang { en } else { zh };
    let page = app::list(&state.app, ctx.actor(), role, q.page()?).await?;
    let names = app::row_names(&state.app, &page.items).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut rows = Vec::with_capacity(page.items.len());
    for c in &page.items {
        rows.push(CommitmentRowView {
            id: c.id.clone(),
            issuer: name(&c.issuer_org_id),
            holder: name(&c.first_holder_org_id),
            bank: name(&c.bank_org_id),
            face: yuan(c.face_fen),
            settled: yuan(c.settled_fen),
            maturity: c.maturity_date.to_string(),
            state: if c.state == CommitmentState::Settled {
                t("已兑付", "Settled")
            } else {
                t("待兑付", "Outstanding")
            }
            .to_string(),
            flag: c.beyond_principle_days.map(|d| format!("{d}")).unwrap_or_default(),
        });
    }
    let mut holdings = Vec::new();
    for (h, issuer) in app::holdings_named(&state.app, ctx.actor()).await? {
        holdings.push(HoldingView {
            commitment_id: h.commitment.id.clone(),
            issuer,
            maturity: h.commitment.maturity_date.to_string(),
            part_id: h.part.id.clone(),
            amount: yuan(h.part.amount_fen),
            state_code: h.part.state.code(),
            state: h.part.state.label(lang),
        });
    }
    let can_issue = ctx.allows(Permission::IssueCommitment);
    let (payables, lines) = if can_issue { issue_choices(state, ctx, &form).await? } else { (Vec::new(), Vec::new()) };
    let mut discounts = Vec::new();
    if ctx.actor().org_kind == OrgKind::Bank {
        for (t, holder) in app::pending_discounts_named(&state.app, ctx.actor()).await? {
            discounts.push(DiscountView {
                commitment_id: t.commitment_id.clone(),
                transfer_id: t.id.clone(),
                holder,
                part_id: t.input_part_id.clone().unwrap_or_default(),
                amount: match &t.request {
                    Request::Discount { amount_fen, .. } => yuan(*amount_fen),
                    _ => String::new(),
                },
                at: lianrong_app::display_time(t.at_ms),
            });
        }
    }
    let mut ui = ctx.ui("commitments").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = ListPage {
        ui,
        role: role_code,
        rows,
        pager: Pager::new(&page, "/commitments", &[("role", role_code)]),
        holdings,
        can_issue,
        payables,
        lines,
        discounts,
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// The core's confirmed payables still owed and not registered, and its supply-chain lines.
async fn issue_choices(state: &AppState, ctx: &Ctx, form: &Params) -> AppResult<(Vec<PayableView>, Vec<Opt>)> {
    let owed = receivable::list(&state.app, ctx.actor(), Side::Debtor, PageRequest::all_small()).await?.page;
    let ids: Vec<String> = owed.items.iter().map(|r| r.verdict.invoice_id.clone()).collect();
    let backed = app::backed_invoices(&state.app, &ids).await?;
    let mut payables = Vec::new();
    for r in owed.items.iter().filter(|r| r.confirmed() && r.verdict.outstanding_fen > 0) {
        if r.registration_reference.is_some() || backed.contains(&r.verdict.invoice_id) {
            continue;
        }
        payables.push(PayableView {
            invoice_id: r.verdict.invoice_id.clone(),
            invoice_no: invoice_no_or_id(r),
            supplier: r.seller_name.clone(),
            outstanding: yuan(r.verdict.outstanding_fen),
            due_date: r.verdict.due_date.clone().unwrap_or_default(),
        });
    }
    let all_lines = lianrong_app::credit_line::list(&state.app, ctx.actor(), PageRequest::all_small()).await?;
    let mut lines = Vec::new();
    for l in all_lines.items.iter().filter(|l| l.borrower_org_id == ctx.actor().org_id) {
        let label = format!(
            "{} · {} {}",
            org_name(state, ctx, &l.bank_org_id).await,
            if ctx.lang_en() { "available" } else { "可用" },
            yuan(l.limit_fen - l.used_fen)
        );
        lines.push(Opt { value: l.id.clone(), selected: form.get("credit_line_id") == l.id, label });
    }
    Ok((payables, lines))
}

/// The invoice's number when the record gives one, else the record's id.
fn invoice_no_or_id(r: &Receivable) -> String {
    if r.invoice_no.is_empty() { r.verdict.invoice_id.clone() } else { r.invoice_no.clone() }
}

/// A form's amount typed in yuan, exactly in fen (shared by the financing pages).
pub(super) fn amount_field(f: &Params, field: &'static str) -> AppResult<i64> {
    parse_amount_fen(f.get(field)).map_err(|_| {
        AppError::invalid(
            field,
            "amount_invalid",
            "Write the amount in yuan, e.g. 1,234.56",
            "金额请以元填写，如 1,234.56",
        )
    })
}

/// The core issues a commitment to the supplier of the payables it ticked.
pub async fn issue(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async {
        let invoice_ids = f.all("invoice_id");
        let holder_org_id = match invoice_ids.first() {
            Some(id) => app::seller_of(&state.app, ctx.actor(), id).await?.map(|o| o.0).unwrap_or_default(),
            None => {
                return Err(AppError::invalid(
                    "invoice_ids",
                    "backing_count",
                    "Tick the confirmed payables the commitment rests on",
                    "请勾选作为开立依据的已确权应付账款",
                ));
            }
        };
        let face_fen = amount_field(&f, "face_yuan")?;
        let new = NewCommitment {
            holder_org_id,
            invoice_ids,
            face_fen,
            maturity_date: f.get("maturity_date").to_string(),
            credit_line_id: f.get("credit_line_id").to_string(),
        };
        app::issue(&state.app, ctx.actor(), &new).await
    }
    .await;
    match result {
        Ok(v) => see_other(&format!("/commitments/{}?ok=issued", v.commitment.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

// ---------------------------------------------------------------------------------------------------
// One commitment

pub struct PartView {
    pub id: String,
    pub parent: String,
    pub holder: String,
    pub amount: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub mine: bool,
}

pub struct TransferView {
    pub id: String,
    pub kind: &'static str,
    pub state_code: &'static str,
    pub state: &'static str,
    pub actor: String,
    pub counterparty: String,
    pub input: String,
    pub at: String,
    pub leaf: String,
}

pub struct InvoiceChoice {
    pub invoice_id: String,
    pub seller: String,
    pub invoice_no_or_id: String,
    pub invoiced: String,
}

#[derive(Template)]
#[template(path = "commitment.html")]
struct DetailPage {
    ui: Ui,
    id: String,
    issuer: String,
    first_holder: String,
    bank: String,
    face: String,
    live: String,
    settled: String,
    held_by_me: String,
    issue_date: String,
    maturity: String,
    settled_state: bool,
    beyond_principle_days: String,
    leaf: String,
    balanced: bool,
    parts: Vec<PartView>,
    transfers: Vec<TransferView>,
    /// The caller's held parts, for the holder's forms.
    my_parts: Vec<Opt>,
    trade: Vec<InvoiceChoice>,
    /// Banks' published commitment-discount products, for applying to discount a part.
    discount_products: Vec<Opt>,
    days_to_maturity: i64,
    consent_until: String,
    can_operate: bool,
    can_settle: bool,
    live_yuan: String,
    next_transfer_id: String,
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
    let v: CommitmentView = app::get(&state.app, ctx.actor(), id).await?;
    let lang = ctx.lang_en();
    let name = |id: &str| v.names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let me = ctx.actor().org_id.clone();
    let mut parts = Vec::new();
    for p in &v.parts {
        parts.push(PartView {
            id: p.id.clone(),
            parent: p.parent.clone().unwrap_or_default(),
            holder: name(&p.holder),
            amount: yuan(p.amount_fen),
            state_code: p.state.code(),
            state: p.state.label(lang),
            mine: p.holder == me,
        });
    }
    let mut transfers = Vec::new();
    for t in &v.transfers {
        transfers.push(TransferView {
            id: t.id.clone(),
            kind: t.kind.label(lang),
            state_code: t.state.code(),
            state: t.state.label(lang),
            actor: name(&t.actor_org_id),
            counterparty: t.counterparty_org_id.as_deref().map(name).unwrap_or_default(),
            input: t.input_part_id.clone().unwrap_or_default(),
            at: lianrong_app::display_time(t.at_ms),
            leaf: t.log_leaf_id.map(|l| l.to_string()).unwrap_or_default(),
        });
    }
    let c = &v.commitment;
    let my_parts: Vec<Opt> = v
        .parts
        .iter()
        .filter(|p| p.holder == me && p.state == PartState::Held)
        .map(|p| Opt {
            value: p.id.clone(),
            label: format!("{} · {}", p.id, yuan(p.amount_fen)),
            selected: form.get("part_id") == p.id,
        })
        .collect();
    let can_operate =
        ctx.allows(Permission::OperateCommitment) && !my_parts.is_empty() && c.state != CommitmentState::Settled;
    let trade = if can_operate { holder_choices(state, ctx).await? } else { Vec::new() };
    let discount_products = if can_operate {
        super::product::product_choices(state, ctx, &[lianrong_domain::product::ProductKind::CommitmentDiscount])
            .await?
    } else {
        Vec::new()
    };
    let days_to_maturity = state.app.days_until(c.maturity_date);
    let matured = state.app.today() >= c.maturity_date;
    let can_settle = ctx.allows(Permission::OperateCommitment)
        && me == c.issuer_org_id
        && c.state != CommitmentState::Settled
        && matured;
    let mut ui = ctx.ui("commitments").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = DetailPage {
        ui,
        id: c.id.clone(),
        issuer: name(&c.issuer_org_id),
        first_holder: name(&c.first_holder_org_id),
        bank: name(&c.bank_org_id),
        face: yuan(c.face_fen),
        live: yuan(v.live_fen),
        settled: yuan(c.settled_fen),
        held_by_me: yuan(v.held_by_caller_fen),
        issue_date: c.issue_date.to_string(),
        maturity: c.maturity_date.to_string(),
        settled_state: c.state == CommitmentState::Settled,
        beyond_principle_days: c.beyond_principle_days.map(|d| d.to_string()).unwrap_or_default(),
        leaf: c.log_leaf_id.map(|l| l.to_string()).unwrap_or_default(),
        balanced: v.invariant_broken.is_none(),
        parts,
        transfers,
        my_parts,
        trade,
        discount_products,
        days_to_maturity,
        consent_until: state.app.day_in(90).to_string(),
        can_operate,
        can_settle,
        live_yuan: Money::from_fen(v.live_fen).display_yuan().trim_start_matches('¥').to_string(),
        next_transfer_id: lianrong_app::new_id(),
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// The verified invoices the caller's suppliers issued to it: what a transfer can pay.
async fn holder_choices(state: &AppState, ctx: &Ctx) -> AppResult<Vec<InvoiceChoice>> {
    let owed = receivable::list(&state.app, ctx.actor(), Side::Debtor, PageRequest::all_small()).await?.page;
    let mut trade = Vec::new();
    for r in owed.items.iter().filter(|r| r.verdict.status == VerificationStatus::Verified.code()) {
        trade.push(InvoiceChoice {
            invoice_id: r.verdict.invoice_id.clone(),
            seller: r.seller_name.clone(),
            invoice_no_or_id: invoice_no_or_id(r),
            invoiced: yuan(r.verdict.invoiced_fen),
        });
    }
    Ok(trade)
}

/// The commitment's page showing a refusal of a form posted elsewhere (an application from this page).
pub async fn detail_with_error(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: Params,
    e: &AppError,
) -> AppResult<Response> {
    detail_page(state, ctx, id, &Params::default(), form, Some(e)).await
}

fn split_amounts(f: &Params) -> AppResult<Vec<i64>> {
    let lines: Vec<&str> =
        f.get("amounts_yuan").split(['\n', ';', '；', '、']).map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.len() > SPLIT_LINES_MAX {
        return Err(AppError::invalid(
            "amounts_yuan",
            "split_count",
            format!("At most {SPLIT_LINES_MAX} parts in one split"),
            format!("一次最多拆分为{SPLIT_LINES_MAX}份"),
        ));
    }
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            parse_amount_fen(l).map_err(|_| {
                AppError::invalid(
                    "amounts_yuan",
                    "amount_invalid",
                    format!("Line {}: '{l}' is not an amount in yuan", n + 1),
                    format!("第{}行：“{l}”不是以元为单位的金额", n + 1),
                )
            })
        })
        .collect()
}

/// A holder's split, transfer or discount; a bank's post or void; the issuer's settlement.
pub async fn act(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let actor = ctx.actor();
    let transfer_id = f.get("transfer_id").to_string();
    let part_id = f.get("part_id").to_string();
    let result: AppResult<(&str, String)> = async {
        match f.get("action") {
            "split" => {
                let op = Operation::Split { part_id, amounts_fen: split_amounts(&f)? };
                app::operate(&state.app, actor, &id, &transfer_id, &op).await?;
                Ok(("split", format!("/commitments/{id}")))
            }
            "transfer" => {
                let invoice_ids = f.all("invoice_id");
                let to_org_id = match invoice_ids.first() {
                    Some(first) => app::seller_of(&state.app, actor, first).await?.map(|o| o.0).unwrap_or_default(),
                    None => String::new(),
                };
                let amount_fen = amount_field(&f, "amount_yuan")?;
                let op = Operation::Transfer { part_id, to_org_id, amount_fen, invoice_ids };
                app::operate(&state.app, actor, &id, &transfer_id, &op).await?;
                Ok(("transferred", format!("/commitments/{id}")))
            }
            "discount" => {
                let amount_fen = amount_field(&f, "amount_yuan")?;
                let op = Operation::Discount { part_id, bank_org_id: f.get("bank_org_id").to_string(), amount_fen };
                app::operate(&state.app, actor, &id, &transfer_id, &op).await?;
                Ok(("discount_asked", format!("/commitments/{id}")))
            }
            action @ ("post" | "void") => {
                let done =
                    match app::decide_discount(&state.app, actor, &id, f.get("discount_id"), action == "post").await? {
                        app::DiscountDecision::AwaitingSecondApprover(_) => "discount_first_approval",
                        app::DiscountDecision::Done(_) if action == "post" => "discount_posted",
                        app::DiscountDecision::Done(_) => "discount_voided",
                    };
                Ok((done, "/commitments".to_string()))
            }
            "settle" => {
                let amount_fen = amount_field(&f, "amount_yuan")?;
                lianrong_app::settlement::settle(&state.app, actor, &id, f.get("payment_reference"), amount_fen)
                    .await?;
                Ok(("settled", format!("/commitments/{id}")))
            }
            _ => Err(AppError::invalid("action", "action_unknown", "Unknown action", "未知操作")),
        }
    }
    .await;
    match result {
        Ok((done, to)) => see_other(&format!("{to}?ok={done}")),
        Err(e) if matches!(f.get("action"), "post" | "void") => {
            ctx.respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e)).await)
        }
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), f, Some(&e)).await),
    }
}
