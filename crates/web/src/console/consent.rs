//! Data authorisation in the console (我的授权). An owner of trade data grants a bank named
//! categories of it (bank, categories, purpose, end date), revokes grants, and sees who read what when.
//! A bank sees the consents given to it and opens each as a data room that shows the consented
//! categories only — every category it opens is one audited read.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::consent::{self as app, Consent, NewConsent};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::Money;
use lianrong_domain::consent::{Category, ConsentState, latest_valid_until};
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for, time_or_dash};
use crate::state::AppState;

pub struct ConsentLine {
    pub id: String,
    pub owner: String,
    pub bank: String,
    pub categories: String,
    pub purpose: String,
    pub valid_until: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub reads: i64,
    pub can_revoke: bool,
}

fn line(c: &Consent, actor_org: &str, lang: bool) -> ConsentLine {
    ConsentLine {
        id: c.row.id.clone(),
        owner: c.owner_name.clone(),
        bank: c.bank_name.clone(),
        categories: c.row.categories.iter().map(|k| k.label(lang)).collect::<Vec<_>>().join(if lang {
            ", "
        } else {
            "、"
        }),
        purpose: c.row.purpose.clone(),
        valid_until: c.row.valid_until.to_string(),
        state: c.state.label(lang),
        state_code: c.state.code(),
        reads: c.reads,
        can_revoke: c.row.owner_org_id == actor_org && c.state != ConsentState::Revoked,
    }
}

#[derive(Template)]
#[template(path = "consents.html")]
struct ConsentsPage {
    ui: Ui,
    rows: Vec<ConsentLine>,
    pager: Pager,
    is_owner: bool,
    is_bank: bool,
    banks: Vec<Opt>,
    categories: Vec<Opt>,
    form: Params,
    min_date: String,
    max_date: String,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let actor = ctx.actor();
    let page = app::list(&state.app, actor, q.page()?).await?;
    let is_owner = ctx.allows(Permission::GrantConsent);
    let banks = if is_owner {
        let chosen = form.get("bank_org_id").to_string();
        let banks = app::banks(&state.app, actor).await?;
        Opt::list(banks.iter().map(|b| (b.id.as_str(), b.name.as_str())), |v| v == chosen)
    } else {
        Vec::new()
    };
    let today = state.app.today();
    let mut ui = ctx.ui("consents").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = ConsentsPage {
        ui,
        rows: page.items.iter().map(|c| line(c, &actor.org_id, lang)).collect(),
        pager: Pager::new(&page, "/consents", &[]),
        is_owner,
        is_bank: actor.org_kind == OrgKind::Bank,
        banks,
        categories: Opt::list(Category::ALL.iter().map(|c| (c.code(), c.label(lang))), |v| form.has("categories", v)),
        min_date: today.tomorrow().map(|d| d.to_string()).unwrap_or_default(),
        max_date: latest_valid_until(today).to_string(),
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// The owner grants a consent.
pub async fn grant(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let new = NewConsent {
        bank_org_id: f.get("bank_org_id").trim().to_string(),
        categories: f.all("categories"),
        purpose: f.get("purpose").to_string(),
        application_id: f.opt("application_id").map(str::to_string),
        valid_until: f.get("valid_until").to_string(),
    };
    match app::grant(&state.app, ctx.actor(), &new).await {
        Ok(c) => see_other(&format!("/consents/{}?ok=consent_granted", c.row.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

pub struct ReadLine {
    pub category: &'static str,
    pub reader: String,
    pub items: i64,
    pub at: String,
}

pub struct ReceivableLine {
    pub invoice_no: String,
    pub debtor: String,
    pub invoiced: String,
    pub outstanding: String,
    pub due_date: String,
    pub verification: &'static str,
    pub confirmation: String,
    pub data_only: bool,
    pub registration: String,
}

pub struct TotalLine {
    pub counterparty: String,
    pub invoices: i64,
    pub invoiced: String,
    pub verified: String,
    pub verified_invoices: i64,
    pub paid: String,
    pub outstanding: String,
    pub doubtful: i64,
}

pub struct RecordLine {
    pub record_type: String,
    pub doc_no: String,
    pub doc_date: String,
    pub buyer: String,
    pub amount: String,
}

/// What the data room shows for the chosen category.
pub enum Room {
    Receivables(Vec<ReceivableLine>, Pager),
    Totals(Vec<TotalLine>),
    Records(Vec<RecordLine>, Pager),
    /// A note instead of data: the score does not exist yet, or the consent no longer lets the bank read.
    Note(String),
}

#[derive(Template)]
#[template(path = "consent.html")]
struct DetailPage {
    ui: Ui,
    c: ConsentLine,
    application_id: String,
    granted: String,
    revoked: String,
    reads: Vec<ReadLine>,
    reads_pager: Option<Pager>,
    /// The bank's data room: a tab per consented category, and what the chosen one shows.
    tabs: Vec<Opt>,
    room: Option<Room>,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id, &q, None).await)
}

fn dash(s: Option<&str>) -> String {
    s.filter(|v| !v.is_empty()).map_or_else(|| "—".to_string(), str::to_string)
}

async fn room(state: &AppState, ctx: &Ctx, c: &Consent, category: Category, q: &Params) -> AppResult<Room> {
    let lang = ctx.lang_en();
    let actor = ctx.actor();
    let base = format!("/consents/{}", c.row.id);
    let filters = [("category", category.code())];
    Ok(match category {
        Category::Receivables => {
            let page = app::receivables(&state.app, actor, &c.row.id, q.seek()?).await?;
            let lines = page
                .page
                .items
                .iter()
                .map(|r| {
                    let v = &r.receivable.verdict;
                    ReceivableLine {
                        invoice_no: r.invoice_no.clone(),
                        debtor: r.debtor_name.clone().unwrap_or_else(|| v.buyer_uscc.clone()),
                        invoiced: Money::from_fen(v.invoiced_fen).display_yuan(),
                        outstanding: Money::from_fen(v.outstanding_fen).display_yuan(),
                        due_date: dash(v.due_date.as_deref()),
                        verification: VerificationStatus::parse(&v.status)
                            .unwrap_or(VerificationStatus::Unverified)
                            .label(lang),
                        confirmation: r
                            .receivable
                            .confirmation
                            .as_ref()
                            .map_or_else(|| "—".to_string(), |s| s.status.label(lang).to_string()),
                        data_only: r.receivable.data_only_eligible(),
                        registration: dash(r.receivable.registration_reference.as_deref()),
                    }
                })
                .collect();
            Room::Receivables(lines, Pager::keyed(&page, &base, &filters))
        }
        Category::TradeTotals => Room::Totals(
            app::trade_totals(&state.app, actor, &c.row.id)
                .await?
                .into_iter()
                .map(|t| TotalLine {
                    counterparty: t.counterparty_name.clone().unwrap_or_else(|| t.counterparty_uscc.clone()),
                    invoices: t.invoices,
                    invoiced: Money::from_fen(t.invoiced_fen).display_yuan(),
                    verified: Money::from_fen(t.verified_fen).display_yuan(),
                    verified_invoices: t.verified_invoices,
                    paid: Money::from_fen(t.paid_fen).display_yuan(),
                    outstanding: Money::from_fen(t.outstanding_fen).display_yuan(),
                    doubtful: t.inconsistent_invoices,
                })
                .collect(),
        ),
        Category::RawRecords => {
            let page = app::records(&state.app, actor, &c.row.id, q.seek()?).await?;
            let lines = page
                .page
                .items
                .iter()
                .map(|r| RecordLine {
                    record_type: r.record_type.clone(),
                    doc_no: r.doc_no.clone(),
                    doc_date: r.doc_date.clone(),
                    buyer: r.buyer_name.clone().unwrap_or_else(|| r.buyer_uscc.clone()),
                    amount: Money::from_fen(r.total_fen).display_yuan(),
                })
                .collect();
            Room::Records(lines, Pager::keyed(&page, &base, &filters))
        }
        Category::ReferenceScore => match app::reference_score(&state.app, actor, &c.row.id).await {
            Ok(()) => Room::Note(String::new()),
            Err(e) => Room::Note(e.message(lang).to_string()),
        },
    })
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let actor = ctx.actor();
    let c = app::get(&state.app, actor, id).await?;
    let is_owner = c.row.owner_org_id == actor.org_id;
    let is_bank = c.row.bank_org_id == actor.org_id && ctx.allows(Permission::UseConsent);
    let (reads, reads_pager) =
        if is_owner || actor.org_kind == OrgKind::Regulator || actor.org_kind == OrgKind::Operator {
            let page = app::reads(&state.app, actor, id, q.page()?).await?;
            let lines = page
                .items
                .iter()
                .map(|r| ReadLine {
                    category: r.category.label(lang),
                    reader: r.reader.clone(),
                    items: r.items,
                    at: lianrong_app::display_time(r.at_ms),
                })
                .collect();
            (lines, Some(Pager::new(&page, &format!("/consents/{id}"), &[])))
        } else {
            (Vec::new(), None)
        };
    let (tabs, room) = if is_bank {
        let chosen = Category::parse(q.get("category"))
            .ok()
            .filter(|k| c.row.covers(*k))
            .or_else(|| c.row.categories.first().copied());
        let tabs = Opt::list(c.row.categories.iter().map(|k| (k.code(), k.label(lang))), |v| {
            chosen.is_some_and(|k| k.code() == v)
        });
        let room = match chosen {
            // A consent that no longer lets the bank read shows why, without trying.
            Some(_) if c.state != ConsentState::Granted => Some(Room::Note(if lang {
                format!("This consent is {}: its data can no longer be read.", c.state.label_en())
            } else {
                format!("该授权{}，已无法读取其数据。", c.state.label_zh())
            })),
            Some(k) => Some(match room(state, ctx, &c, k, q).await {
                Ok(r) => r,
                Err(e) if e.code == "no_consent" => Room::Note(e.message(lang).to_string()),
                Err(e) => return Err(e),
            }),
            None => None,
        };
        (tabs, room)
    } else {
        (Vec::new(), None)
    };
    let mut ui = ctx.ui("consents").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = DetailPage {
        ui,
        application_id: c.row.application_id.clone().unwrap_or_default(),
        granted: format!("{} · {}", lianrong_app::display_time(c.row.granted_at_ms), c.row.granted_by),
        revoked: time_or_dash(c.row.revoked_at_ms),
        reads,
        reads_pager,
        tabs,
        room,
        c: line(&c, &actor.org_id, lang),
    };
    Ok(render(status_for(failed), &view))
}

/// The owner revokes a consent from its page or the list.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match app::revoke(&state.app, ctx.actor(), &id).await {
        Ok(_) => see_other(&format!("/consents/{id}?ok=consent_revoked")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), Some(&e)).await),
    }
}
