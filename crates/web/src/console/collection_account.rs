//! The fixed repayment account page of one receivable (回款账户): the bound account, masked; the form to
//! bind it (the creditor) or to propose a change (any party); and the change requests with their consents,
//! each with the buttons the caller's organisation may press. One POST route carries every action.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::collection_account::{self as app, AccountState, Change, NewAccount, Relation};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::collection_account::ChangeStatus;

use super::ctx::Ctx;
use super::form::{FormData, Params, QueryData};
use super::page::{Ui, render, see_other, status_for};
use crate::auth::urlencode;
use crate::state::AppState;

pub struct ChangeRowView {
    pub id: String,
    pub status_label: &'static str,
    pub status_code: &'static str,
    pub badge: &'static str,
    pub masked: String,
    pub bank_name: String,
    pub holder_name: String,
    pub reason: String,
    pub proposed_by: String,
    pub proposed: String,
    pub consented: String,
    pub awaiting: String,
    pub can_consent: bool,
    pub can_withdraw: bool,
    pub can_decline: bool,
}

#[derive(Template)]
#[template(path = "collection_account.html")]
struct AccountPage {
    ui: Ui,
    s: AccountState,
    relation: &'static str,
    bound_at: String,
    changes: Vec<ChangeRowView>,
    can_bind: bool,
    can_propose: bool,
    action: String,
    form: Params,
}

fn badge(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Pending => "badge-warn",
        ChangeStatus::Applied => "badge-ok",
        ChangeStatus::Withdrawn => "badge-withdrawn",
        ChangeStatus::Refused => "badge-refused",
    }
}

/// A party's organisation named by its standing to the receivable, never by another organisation's data.
fn party(s: &AccountState, org_id: &str, lang_en: bool) -> &'static str {
    let t = |zh, en| if lang_en { en } else { zh };
    if s.creditor_org_id.as_deref() == Some(org_id) {
        t("债权人", "Creditor")
    } else if s.debtor_org_id.as_deref() == Some(org_id) {
        t("债务人", "Debtor")
    } else if s.financier_org_id.as_deref() == Some(org_id) {
        t("融资银行", "Financing bank")
    } else {
        t("其他机构", "Another organisation")
    }
}

fn relation_label(r: Relation, lang_en: bool) -> &'static str {
    let t = |zh, en| if lang_en { en } else { zh };
    match r {
        Relation::Creditor => t("债权人（销方）", "Creditor (seller)"),
        Relation::Debtor => t("债务人（购方）", "Debtor (buyer)"),
        Relation::Financier => t("融资银行", "Financing bank"),
        Relation::Custodian => t("平台（数据托管方）", "Platform (custodian)"),
    }
}

fn change_view(c: &Change, s: &AccountState, me: &str, manage: bool, lang_en: bool) -> ChangeRowView {
    let pending = c.status == ChangeStatus::Pending;
    let proposer = c.proposed_by_org_id == me;
    let required = c.required_org_ids.iter().any(|r| r == me);
    let join =
        |ids: &mut dyn Iterator<Item = &String>| ids.map(|id| party(s, id, lang_en)).collect::<Vec<_>>().join("、");
    ChangeRowView {
        id: c.id.clone(),
        status_label: c.status.label(lang_en),
        status_code: c.status.code(),
        badge: badge(c.status),
        masked: c.masked.clone(),
        bank_name: c.bank_name.clone(),
        holder_name: c.holder_name.clone(),
        reason: c.reason.clone(),
        proposed_by: format!("{}（{}）", party(s, &c.proposed_by_org_id, lang_en), c.proposed_by),
        proposed: lianrong_app::display_time(c.proposed_at_ms),
        consented: join(&mut c.consents.iter().map(|k| &k.org_id)),
        awaiting: join(&mut c.awaiting_org_ids.iter()),
        can_consent: manage && pending && c.awaiting_org_ids.iter().any(|a| a == me),
        can_withdraw: manage && pending && proposer,
        can_decline: manage && pending && required && !proposer,
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(invoice_id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(account_page(&state, &ctx, &invoice_id, q.get("ok"), Params::default(), None).await)
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    invoice_id: &str,
    ok: &str,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let s = app::get(&state.app, ctx.actor(), invoice_id, false).await?;
    let changes = app::list_changes(&state.app, ctx.actor(), invoice_id).await?;
    let lang_en = ctx.lang_en();
    let mut ui = ctx.ui("submissions").done(ok);
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let manage = ctx.allows(Permission::ManageCollectionAccount);
    let me = ctx.actor().org_id.clone();
    let party_may_act = manage && s.relation != Relation::Custodian;
    let view = AccountPage {
        ui,
        relation: relation_label(s.relation, lang_en),
        bound_at: s.account.as_ref().map(|a| lianrong_app::display_time(a.bound_at_ms)).unwrap_or_default(),
        changes: changes.iter().map(|c| change_view(c, &s, &me, party_may_act, lang_en)).collect(),
        can_bind: manage && s.relation == Relation::Creditor && s.account.is_none(),
        can_propose: party_may_act && s.account.is_some() && s.pending_change_id.is_none(),
        action: format!("/receivables/{}/account", urlencode(invoice_id)),
        form,
        s,
    };
    Ok(render(status_for(failed), &view))
}

/// `action` = bind, propose, consent, withdraw or decline (the last three with `change_id`).
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(invoice_id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let actor = ctx.actor();
    let account = || NewAccount {
        account_no: f.get("account_no").to_string(),
        bank_name: f.get("bank_name").to_string(),
        holder_name: f.get("holder_name").to_string(),
    };
    let change_id = f.get("change_id");
    let reason = f.opt("reason");
    let result = match f.get("action") {
        "bind" => app::bind(&state.app, actor, &invoice_id, &account()).await.map(|_| "bound"),
        "propose" => app::propose(&state.app, actor, &invoice_id, &account(), reason).await.map(|_| "proposed"),
        "consent" => app::consent(&state.app, actor, &invoice_id, change_id).await.map(|_| "consented"),
        "withdraw" => app::withdraw(&state.app, actor, &invoice_id, change_id).await.map(|_| "change_withdrawn"),
        "decline" => app::decline(&state.app, actor, &invoice_id, change_id, reason).await.map(|_| "declined"),
        _ => Err(AppError::invalid(
            "action",
            "action_unknown",
            "action must be bind, propose, consent, withdraw or decline",
            "action 须为 bind、propose、consent、withdraw 或 decline",
        )),
    };
    match result {
        Ok(done) => see_other(&format!("/receivables/{}/account?ok={done}", urlencode(&invoice_id))),
        Err(e) => {
            // The typed account number is not echoed back into the re-rendered form.
            let kept = Params(f.0.into_iter().filter(|(k, _)| k != "account_no" && k != "csrf_token").collect());
            ctx.respond(account_page(&state, &ctx, &invoice_id, "", kept, Some(&e)).await)
        }
    }
}
