//! Receivables and their two credit paths, side by side but never mixed: the core's confirmation (确权,
//! asked by the supplier, signed by the core) and the data-only "four no's" path (数据确真, needing
//! nothing from the core). Suppliers see what is owed to them and ask for confirmation; cores see what
//! they owe and decide requests, signing with their SM2 key.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use lianrong_app::confirmation::{self as app, DecisionInput};
use lianrong_app::confirmation::{ConfirmationFilter, ConfirmationRecord, Role};
use lianrong_app::receivable::Side;
use lianrong_app::receivable::{self, Receivable};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::Money;
use lianrong_domain::confirmation::{ConfirmationStatus, Decision, KeyHolder};
use lianrong_domain::four_flow::VerificationStatus;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct ReceivableRow {
    pub invoice_id: String,
    /// The invoice's number, what people look for (the record's id stays in the link).
    pub invoice_no: String,
    pub counterparty: String,
    pub counterparty_uscc: String,
    pub outstanding: String,
    pub due_date: String,
    pub ageing: String,
    pub verification_code: &'static str,
    pub verification: &'static str,
    /// (badge class, label) of the core's path, or `None` when never asked.
    pub confirmation: Option<(&'static str, String)>,
    pub confirmation_code: &'static str,
    /// The data-only path: eligible, or the reasons why not.
    pub data_only: bool,
    pub data_only_reasons: String,
    pub sme_breach: String,
    pub registration: String,
    /// The creditor may ask for confirmation now (or, on the debtor's side, the debtor may confirm).
    pub can_request: bool,
}

fn receivable_row(r: &Receivable, side: Side, lang_en: bool) -> ReceivableRow {
    let v = &r.verdict;
    let status = VerificationStatus::parse(&v.status).unwrap_or(VerificationStatus::Unverified);
    let confirmation = r.confirmation.as_ref().map(|c| {
        let class = match c.status {
            ConfirmationStatus::Confirmed => "badge-ok",
            ConfirmationStatus::Requested => "badge-warn",
            ConfirmationStatus::Rejected | ConfirmationStatus::Withdrawn => "badge-refused",
            // The record changed after it was confirmed: the creditor asks again.
            ConfirmationStatus::Superseded => "badge-warn",
        };
        let label = match c.source {
            Some(source) => source.label(lang_en).to_string(),
            None => c.status.label(lang_en).to_string(),
        };
        (class, label)
    });
    let live = r
        .confirmation
        .as_ref()
        .is_some_and(|c| matches!(c.status, ConfirmationStatus::Requested | ConfirmationStatus::Confirmed));
    ReceivableRow {
        invoice_id: v.invoice_id.clone(),
        invoice_no: if r.invoice_no.is_empty() { v.invoice_id.clone() } else { r.invoice_no.clone() },
        counterparty: if side == Side::Debtor { r.seller_name.clone() } else { r.buyer_name.clone() },
        counterparty_uscc: if side == Side::Debtor { v.seller_uscc.clone() } else { v.buyer_uscc.clone() },
        outstanding: Money::from_fen(v.outstanding_fen).display_yuan(),
        due_date: v.due_date.clone().unwrap_or_else(|| "—".into()),
        ageing: r.ageing.map(|a| a.label(lang_en).to_string()).unwrap_or_else(|| "—".into()),
        verification_code: status.code(),
        verification: status.label(lang_en),
        confirmation_code: r.confirmation.as_ref().map(|c| c.status.code()).unwrap_or("none"),
        confirmation,
        data_only: r.data_only_eligible(),
        data_only_reasons: r.data_only_ineligibility.iter().map(|i| i.label(lang_en)).collect::<Vec<_>>().join("；"),
        registration: r.registration_reference.clone().unwrap_or_default(),
        sme_breach: r
            .sme_breach_days
            .map(|d| if lang_en { format!("{d} days over") } else { format!("超{d}天") })
            .unwrap_or_default(),
        can_request: !live && status != VerificationStatus::Inconsistent && v.outstanding_fen > 0,
    }
}

#[derive(Template)]
#[template(path = "receivables.html")]
struct ReceivablesPage {
    ui: Ui,
    /// "creditor" (owed to us) or "debtor" (we owe).
    side: &'static str,
    rows: Vec<ReceivableRow>,
    pager: Pager,
    can_request: bool,
}

fn side_of(q: &Params, actor_is_core: bool) -> Side {
    match q.get("side") {
        "debtor" => Side::Debtor,
        "creditor" => Side::Creditor,
        _ if actor_is_core => Side::Debtor,
        _ => Side::Creditor,
    }
}

pub async fn receivables(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(receivables_page(&state, &ctx, &q, None).await)
}

async fn receivables_page(state: &AppState, ctx: &Ctx, q: &Params, failed: Option<&AppError>) -> AppResult<Response> {
    let lang_en = ctx.lang_en();
    let is_core = ctx.actor().org_kind == lianrong_domain::org::OrgKind::Core;
    let side = side_of(q, is_core);
    let page = receivable::list(&state.app, ctx.actor(), side, q.seek()?).await?;
    let side_code = if side == Side::Debtor { "debtor" } else { "creditor" };
    let mut ui = ctx.ui("receivables").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = ReceivablesPage {
        ui,
        side: side_code,
        rows: page.page.items.iter().map(|r| receivable_row(r, side, lang_en)).collect(),
        pager: Pager::keyed(&page, "/receivables", &[("side", side_code)]),
        can_request: if side == Side::Creditor {
            ctx.allows(Permission::RequestConfirmation)
        } else {
            ctx.allows(Permission::DecideConfirmation)
        },
    };
    Ok(render(status_for(failed), &view))
}

/// The supplier asks the debtors of the ticked receivables to confirm them.
pub async fn request(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let ids = f.all("invoice_id");
    match app::request(&state.app, ctx.actor(), &ids).await {
        Ok(made) => {
            let batch = made.first().map(|c| c.batch_id.clone()).unwrap_or_default();
            see_other(&format!("/confirmations?role=sent&ok=requested&batch_id={batch}"))
        }
        Err(e) => {
            let q = Params(vec![("side".into(), "creditor".into())]);
            ctx.respond(receivables_page(&state, &ctx, &q, Some(&e)).await)
        }
    }
}

/// The debtor confirms the ticked payables unasked, signing each (uploading its payables).
pub async fn confirm_payables(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let inputs: Vec<app::PayableInput> =
        f.all("invoice_id").into_iter().map(|id| app::PayableInput { invoice_id: id, signature_hex: None }).collect();
    match app::confirm_payables(&state.app, ctx.actor(), &inputs).await {
        Ok(_) => see_other("/receivables?side=debtor&ok=confirmed"),
        Err(e) => {
            let q = Params(vec![("side".into(), "debtor".into())]);
            ctx.respond(receivables_page(&state, &ctx, &q, Some(&e)).await)
        }
    }
}

/// The seller asks the buyer of an order to vouch that it is real (确真), from the order's page.
pub async fn request_order(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let ids = vec![f.get("order_id").to_string()];
    match app::request_orders(&state.app, ctx.actor(), &ids).await {
        Ok(_) => see_other("/confirmations?role=sent&ok=requested"),
        Err(e) => ctx.respond(Err(e)),
    }
}

pub struct ConfirmationRow {
    pub id: String,
    pub subject: &'static str,
    pub invoice_id: String,
    pub invoice_no: String,
    pub amount: String,
    pub due_date: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub requested: String,
    pub decided: String,
    pub wait: String,
    pub reason: String,
    pub log_leaf_id: String,
    pub open: bool,
}

/// A wait in days, hours and minutes, the way people read it.
fn wait_text(ms: i64, lang_en: bool) -> String {
    let minutes = ms.max(0) / 60_000;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (d, h, lang_en) {
        (0, 0, true) => format!("{m} min"),
        (0, 0, false) => format!("{m}分钟"),
        (0, _, true) => format!("{h} h {m} min"),
        (0, _, false) => format!("{h}小时{m}分钟"),
        (_, _, true) => format!("{d} d {h} h"),
        (_, _, false) => format!("{d}天{h}小时"),
    }
}

fn confirmation_row(c: &ConfirmationRecord, lang_en: bool) -> ConfirmationRow {
    ConfirmationRow {
        id: c.id.clone(),
        subject: c.subject.label(lang_en),
        invoice_id: c.invoice_id.clone(),
        invoice_no: c.invoice_no.clone(),
        amount: Money::from_fen(c.amount_fen).display_yuan(),
        due_date: c.due_date.map_or_else(|| "—".into(), |d| d.to_string()),
        status_code: c.status.code(),
        status: c.status.label(lang_en),
        requested: lianrong_app::display_time(c.requested_at_ms),
        decided: c.decided_at_ms.map(lianrong_app::display_time).unwrap_or_default(),
        wait: c.decided_at_ms.map(|d| wait_text(d - c.requested_at_ms, lang_en)).unwrap_or_default(),
        reason: c.reason.clone().unwrap_or_default(),
        log_leaf_id: c.log_leaf_id.map(|l| l.to_string()).unwrap_or_default(),
        open: c.status == ConfirmationStatus::Requested,
    }
}

#[derive(Template)]
#[template(path = "confirmations.html")]
struct ConfirmationsPage {
    ui: Ui,
    /// "received" (we are the debtor) or "sent" (we are the creditor).
    role: &'static str,
    rows: Vec<ConfirmationRow>,
    pager: Pager,
    can_decide: bool,
    can_withdraw: bool,
    /// The debtor signs with a platform-held key (the console can sign); false when it holds its own.
    platform_signs: bool,
    key_id: String,
    /// Time to confirm: (decided, median, p90, pending, oldest pending).
    figures: (usize, String, String, i64, String),
    form: Params,
}

pub async fn confirmations(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(confirmations_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn confirmations_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang_en = ctx.lang_en();
    let actor = ctx.actor();
    let is_core = actor.org_kind == lianrong_domain::org::OrgKind::Core;
    let role = match q.get("role") {
        "sent" => Role::Sent,
        "received" => Role::Received,
        _ if is_core || actor.sees_everything() => Role::Received,
        _ => Role::Sent,
    };
    let status = match q.opt("status") {
        Some(s) => Some(ConfirmationStatus::parse(s)?),
        None => None,
    };
    let filter = ConfirmationFilter { status, batch_id: q.opt("batch_id").map(str::to_string) };
    let page = app::list(&state.app, actor, role, &filter, q.page()?).await?;
    let role_code = if role == Role::Sent { "sent" } else { "received" };
    let t = app::time_to_confirm(&state.app, actor, None).await?;
    let can_decide = role == Role::Received && ctx.allows(Permission::DecideConfirmation);
    let (platform_signs, key_id) = if can_decide {
        let k = app::signing_key(&state.app, actor).await?;
        (k.held_by == KeyHolder::Platform, k.key_id)
    } else {
        (false, String::new())
    };
    let mut ui = ctx.ui("confirmations").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let status_code = filter.status.map(|s| s.code()).unwrap_or("").to_string();
    let view = ConfirmationsPage {
        ui,
        role: role_code,
        rows: page.items.iter().map(|c| confirmation_row(c, lang_en)).collect(),
        pager: Pager::new(&page, "/confirmations", &[("role", role_code), ("status", &status_code)]),
        can_decide,
        can_withdraw: role == Role::Sent && ctx.allows(Permission::RequestConfirmation),
        platform_signs,
        key_id,
        figures: (
            t.figures.decided,
            wait_text(t.figures.median_ms, lang_en),
            wait_text(t.figures.p90_ms, lang_en),
            t.pending,
            t.oldest_pending_ms.map(|w| wait_text(w, lang_en)).unwrap_or_else(|| "—".into()),
        ),
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// The debtor confirms or rejects the ticked requests (`action=confirm|reject`), or the creditor
/// withdraws one (`action=withdraw`).
pub async fn decide(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let ids = f.all("confirmation_id");
    let result = match f.get("action") {
        "withdraw" => match ids.first() {
            Some(id) => app::withdraw(&state.app, ctx.actor(), id).await.map(|_| ("sent", "withdrawn")),
            None => Err(AppError::invalid("confirmation_id", "empty", "Choose a request", "请选择确权申请")),
        },
        action => {
            let decision = if action == "reject" { Decision::Reject } else { Decision::Confirm };
            let reason = f.opt("reason").map(str::to_string);
            let inputs: Vec<DecisionInput> = ids
                .iter()
                .map(|id| DecisionInput {
                    confirmation_id: id.clone(),
                    decision,
                    reason: reason.clone(),
                    signature_hex: None,
                })
                .collect();
            let done = if decision == Decision::Reject { "rejected" } else { "confirmed" };
            app::decide(&state.app, ctx.actor(), &inputs).await.map(|_| ("received", done))
        }
    };
    match result {
        Ok((role, done)) => see_other(&format!("/confirmations?role={role}&ok={done}")),
        Err(e) => {
            let role = if f.get("action") == "withdraw" { "sent" } else { "received" };
            let q = Params(vec![("role".into(), role.into())]);
            ctx.respond(confirmations_page(&state, &ctx, &q, f, Some(&e)).await)
        }
    }
}
