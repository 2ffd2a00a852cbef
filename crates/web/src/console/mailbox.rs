//! The designated mailbox pages: the organisation's address with its registered senders (added and
//! removed by its admin), and the receipts of received messages. Operator staff open another
//! organisation's mailbox with `?org_id=` (a record id or a credit code).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::mailbox::ReceiptRecord;
use lianrong_app::{AppError, AppResult, Permission, mailbox};
use lianrong_domain::mailbox::ReceiptOutcome;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Ui, render, see_other, status_for};
use crate::auth::urlencode;
use crate::state::AppState;

pub struct SenderRow {
    pub address: String,
    pub created_by: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct MailboxPage {
    ui: Ui,
    /// `None` for operator staff who have not chosen an organisation yet.
    mailbox: Option<mailbox::Mailbox>,
    /// The `org_id` to carry in links and forms ("" for the caller's own organisation).
    org_param: String,
    rows: Vec<SenderRow>,
    pager: Option<Pager>,
    can_manage: bool,
    form: Params,
}

impl MailboxPage {
    fn receipts_href(&self) -> String {
        if self.org_param.is_empty() {
            "/mailbox/receipts".to_string()
        } else {
            format!("/mailbox/receipts?org_id={}", urlencode(&self.org_param))
        }
    }
}

fn org_param(q: &Params) -> Option<&str> {
    q.opt("org_id")
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(mailbox_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn mailbox_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let mut ui = ctx.ui("mailbox").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let org = org_param(q);
    let can_manage = ctx.allows(Permission::ManageMailbox);
    // The operator has no mailbox of its own: it picks an organisation first.
    if org.is_none() && !actor.submits_trade_data() && actor.is_operator_manager() {
        let view =
            MailboxPage { ui, mailbox: None, org_param: String::new(), rows: vec![], pager: None, can_manage, form };
        return Ok(render(status_for(failed), &view));
    }
    let m = mailbox::get(&state.app, actor, org, state.config.mail_domain()).await?;
    let page = mailbox::list_senders(&state.app, actor, org, q.page()?).await?;
    let org_param = org.unwrap_or_default().to_string();
    let view = MailboxPage {
        ui,
        rows: page
            .items
            .iter()
            .map(|s| SenderRow {
                address: s.address.clone(),
                created_by: s.created_by.clone(),
                created: lianrong_app::display_time(s.created_at_ms),
            })
            .collect(),
        pager: Some(Pager::new(&page, "/mailbox", &[("org_id", &org_param)])),
        mailbox: Some(m),
        org_param,
        can_manage,
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// Adds (`action=add`) or removes (`action=remove`) a registered sender.
pub async fn change(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let org = org_param(&f).map(str::to_string);
    let result = match f.get("action") {
        "remove" => {
            mailbox::remove_sender(&state.app, ctx.actor(), org.as_deref(), f.get("address")).await.map(|()| "removed")
        }
        _ => mailbox::add_sender(&state.app, ctx.actor(), org.as_deref(), f.get("address")).await.map(|_| "created"),
    };
    let q = Params(org.iter().map(|o| ("org_id".to_string(), o.clone())).collect());
    match result {
        Ok(done) => {
            let carry = org.map(|o| format!("&org_id={}", urlencode(&o))).unwrap_or_default();
            see_other(&format!("/mailbox?ok={done}{carry}"))
        }
        Err(e) => ctx.respond(mailbox_page(&state, &ctx, &q, f, Some(&e)).await),
    }
}

pub struct ReceiptRow {
    pub time: String,
    pub sender: String,
    pub subject: String,
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    pub summary: String,
    pub submission_id: String,
    pub mailed: bool,
}

fn outcome_class(o: ReceiptOutcome) -> &'static str {
    match o {
        ReceiptOutcome::Accepted => "badge-ok",
        ReceiptOutcome::PartiallyAccepted | ReceiptOutcome::NoAttachment | ReceiptOutcome::TooManyAttachments => {
            "badge-warn"
        }
        ReceiptOutcome::Rejected | ReceiptOutcome::SenderUnknown => "badge-refused",
    }
}

fn receipt_row(r: &ReceiptRecord, lang_en: bool) -> ReceiptRow {
    ReceiptRow {
        time: lianrong_app::display_time(r.created_at_ms),
        sender: r.sender.clone(),
        subject: r.subject.clone(),
        outcome: r.outcome.label(lang_en),
        outcome_class: outcome_class(r.outcome),
        summary: if lang_en { r.summary_en.clone() } else { r.summary_zh.clone() },
        submission_id: r.submission_id.clone().unwrap_or_else(|| "—".to_string()),
        mailed: r.mailed,
    }
}

#[derive(Template)]
#[template(path = "mailbox_receipts.html")]
struct ReceiptsPage {
    ui: Ui,
    address: String,
    org_name: String,
    back: String,
    rows: Vec<ReceiptRow>,
    pager: Pager,
}

pub async fn receipts(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(receipts_page(&state, &ctx, &q).await)
}

async fn receipts_page(state: &AppState, ctx: &Ctx, q: &Params) -> AppResult<Response> {
    let org = org_param(q);
    let m = mailbox::get(&state.app, ctx.actor(), org, state.config.mail_domain()).await?;
    let page = mailbox::list_receipts(&state.app, ctx.actor(), org, q.page()?).await?;
    let org_param = org.unwrap_or_default();
    let back =
        if org_param.is_empty() { "/mailbox".to_string() } else { format!("/mailbox?org_id={}", urlencode(org_param)) };
    let view = ReceiptsPage {
        ui: ctx.ui("mailbox"),
        address: m.address,
        org_name: m.org_name,
        back,
        rows: page.items.iter().map(|r| receipt_row(r, ctx.lang_en())).collect(),
        pager: Pager::new(&page, "/mailbox/receipts", &[("org_id", org_param)]),
    };
    Ok(render(StatusCode::OK, &view))
}
