//! The core-enterprise library: the list with the operator's admit buttons, one entry with its history
//! and the moves its status allows, and the application form for a core or supplier without an entry.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::core_library::{EntryFilter, EntryRecord, EventRecord};
use lianrong_app::{AppError, AppResult, Permission, core_library};
use lianrong_domain::core_library::{self as domain, LibraryAction, LibraryStatus};
use lianrong_domain::org::OrgKind;

use super::cluster::{self as cluster_view, Group};
use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::org_lookup::OrgNames;
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct EntryRow {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub uscc: String,
    pub cluster: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub admission_date: String,
    pub applied: String,
    pub updated: String,
    pub reason: String,
}

pub(super) fn entry_row(e: &EntryRecord, clusters: &HashMap<String, String>, lang_en: bool) -> EntryRow {
    EntryRow {
        id: e.id.clone(),
        org_id: e.org_id.clone(),
        org_name: e.org_name.clone(),
        uscc: e.org_uscc.clone(),
        cluster: cluster_view::name_of(clusters, &e.cluster_id),
        status: e.status.label(lang_en),
        status_code: e.status.code(),
        admission_date: e.admission_date.map_or_else(|| "—".to_string(), |d| d.to_string()),
        applied: lianrong_app::display_time(e.applied_at_ms),
        updated: lianrong_app::display_time(e.updated_at_ms),
        reason: e.reason.clone(),
    }
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    ui: Ui,
    rows: Vec<EntryRow>,
    pager: Pager,
    status_filter: Vec<Opt>,
    can_decide: bool,
    /// The application form's clusters, when the actor may apply and has no entry yet.
    apply: Option<Vec<Group>>,
    form: Params,
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
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let status = q.opt("status").map(LibraryStatus::parse).transpose()?;
    let page = core_library::list(&state.app, actor, EntryFilter { status, cluster_id: None }, q.page()?).await?;
    let names = cluster_view::names(state, actor, lang).await?;
    let status_code = status.map_or("", LibraryStatus::code);
    let apply = if may_apply(ctx) && !has_own_entry(state, ctx).await? {
        Some(cluster_view::groups(state, actor, lang, form.get("cluster_id")).await?)
    } else {
        None
    };
    let mut ui = ctx.ui("library").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = LibraryPage {
        ui,
        rows: page.items.iter().map(|e| entry_row(e, &names, lang)).collect(),
        pager: Pager::new(&page, "/core-library", &[("status", status_code)]),
        status_filter: Opt::list(LibraryStatus::ALL.iter().map(|s| (s.code(), s.label(lang))), |v| v == status_code),
        can_decide: ctx.allows(Permission::DecideLibrary),
        apply,
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// Cores and suppliers apply for themselves; the operator enters others through the API or CLI.
fn may_apply(ctx: &Ctx) -> bool {
    matches!(ctx.actor().org_kind, OrgKind::Core | OrgKind::Supplier) && ctx.allows(Permission::ApplyLibrary)
}

async fn has_own_entry(state: &AppState, ctx: &Ctx) -> AppResult<bool> {
    let page = core_library::list(
        &state.app,
        ctx.actor(),
        EntryFilter::default(),
        lianrong_domain::page::PageRequest::first(),
    )
    .await?;
    Ok(page.items.iter().any(|e| e.org_id == ctx.actor().org_id))
}

pub async fn apply(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let org_id = ctx.actor().org_id.clone();
    match core_library::apply(&state.app, ctx.actor(), &org_id, f.get("cluster_id"), f.get("reason")).await {
        Ok(e) => see_other(&format!("/core-library/{}?ok=applied", e.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

pub struct EventRow {
    pub seq: i64,
    pub action: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub to_code: &'static str,
    pub reason: String,
    pub actor: String,
    pub time: String,
}

/// A move the actor may make on the entry now.
pub struct ActionForm {
    pub code: &'static str,
    pub label: &'static str,
    pub reason_required: bool,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "library_entry.html")]
struct EntryPage {
    ui: Ui,
    entry: EntryRow,
    history: Vec<EventRow>,
    pager: Pager,
    actions: Vec<ActionForm>,
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
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let e = core_library::get(&state.app, actor, id).await?;
    let page = core_library::history(&state.app, actor, id, q.page()?).await?;
    let names = cluster_view::names(state, actor, lang).await?;
    let mut orgs = OrgNames::default();
    let mut history = Vec::new();
    for ev in &page.items {
        history.push(event_row(state, ctx, &e, ev, &mut orgs).await);
    }
    let mut ui = ctx.ui("library").done(q.get("ok"));
    if let Some(err) = failed {
        ui = ui.error(err);
    }
    let view = EntryPage {
        ui,
        actions: actions_for(ctx, &e),
        entry: entry_row(&e, &names, lang),
        history,
        pager: Pager::new(&page, &format!("/core-library/{id}"), &[]),
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// Who made a move: the organisation's name when the reader may see it; otherwise what the policy
/// implies — only the applicant itself or the operator moves an entry.
async fn event_row(state: &AppState, ctx: &Ctx, e: &EntryRecord, ev: &EventRecord, orgs: &mut OrgNames) -> EventRow {
    let lang = ctx.lang_en();
    let t = |zh: &'static str, en: &'static str| if lang { en } else { zh };
    let actor = match orgs.name(state, ctx.actor(), &ev.actor_org_id).await {
        Some(name) => name,
        None if ev.actor_org_id == e.org_id => t("申报企业", "Applicant").to_string(),
        None => t("平台运营方", "Programme operator").to_string(),
    };
    EventRow {
        seq: ev.seq,
        action: ev.action.map_or(t("提交申请", "Application"), |a| a.label(lang)),
        from: ev.from_status.map_or("—", |s| s.label(lang)),
        to: ev.to_status.label(lang),
        to_code: ev.to_status.code(),
        reason: ev.reason.clone(),
        actor,
        time: lianrong_app::display_time(ev.at_ms),
    }
}

/// The moves the entry's status allows and the actor may make: the operator decides; the applicant may
/// only withdraw its own entry.
fn actions_for(ctx: &Ctx, e: &EntryRecord) -> Vec<ActionForm> {
    let deciding = ctx.allows(Permission::DecideLibrary);
    let own = e.org_id == ctx.actor().org_id && ctx.allows(Permission::ApplyLibrary);
    LibraryAction::ALL
        .iter()
        .filter(|&&a| domain::transition(e.status, a).is_ok())
        .filter(|&&a| deciding || (own && !a.operator_only()))
        .map(|&a| ActionForm {
            code: a.code(),
            label: a.label(ctx.lang_en()),
            reason_required: a.reason_required(),
            danger: matches!(a, LibraryAction::Suspend | LibraryAction::Withdraw),
        })
        .collect()
}

pub async fn transition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let from_list = f.get("back") == "list";
    match core_library::transition(&state.app, ctx.actor(), &id, f.get("action"), f.opt("reason")).await {
        Ok(_) => {
            // The action was parsed by the app, so its code is one of the fixed few.
            let done = LibraryAction::parse(f.get("action")).map_or("updated", LibraryAction::code);
            if from_list {
                see_other(&format!("/core-library?ok={done}"))
            } else {
                see_other(&format!("/core-library/{id}?ok={done}"))
            }
        }
        Err(e) if from_list => {
            ctx.respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e)).await)
        }
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), f, Some(&e)).await),
    }
}
