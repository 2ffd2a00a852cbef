//! The home page, one per kind of organisation. It leads with the party's main job (`home_jobs`): what
//! a supplier can finance now, what a core must confirm and pay, a bank's queue against the service
//! clock, financing per chain for the programme office. Below that: programme figures for the operator
//! (with its work queue) and the regulator (read-only); the library entry and chains for cores and
//! suppliers; the library's size and the chains for banks and service institutions. The app decides
//! what each may see.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::core_library::EntryFilter;
use lianrong_app::{AppResult, Permission, core_library, stats};
use lianrong_domain::core_library::LibraryStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;

use super::chain::{self as chain_view, ChainRow};
use super::core_library::{EntryRow, entry_row};
use super::ctx::Ctx;
use super::home_jobs::{self as jobs, BankJob, CoreJob, Progress, SupplierJob};
use super::page::{Ui, render};
use crate::state::AppState;

pub struct Count {
    pub label: &'static str,
    pub code: &'static str,
    pub n: i64,
}

pub struct StatsView {
    pub orgs: Vec<Count>,
    pub orgs_total: i64,
    pub chains: i64,
    pub pilot_chains: i64,
    pub library: Vec<Count>,
    pub applied: i64,
    pub users: i64,
}

fn stats_view(s: &stats::PlatformStats, lang_en: bool) -> StatsView {
    StatsView {
        orgs: OrgKind::ALL.iter().map(|&k| Count { label: k.label(lang_en), code: k.code(), n: s.orgs(k) }).collect(),
        orgs_total: s.orgs_by_kind.iter().map(|(_, n)| n).sum(),
        chains: s.chains,
        pilot_chains: s.pilot_chains,
        library: LibraryStatus::ALL
            .iter()
            .map(|&st| Count { label: st.label(lang_en), code: st.code(), n: s.library(st) })
            .collect(),
        applied: s.library(LibraryStatus::Applied),
        users: s.users,
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ui: Ui,
    kind: &'static str,
    stats: Option<StatsView>,
    can_decide: bool,
    chains: Vec<ChainRow>,
    chains_total: i64,
    entry: Option<EntryRow>,
    can_apply: bool,
    admitted: Option<i64>,
    /// What a core or supplier has shared with the data lake.
    lake: Option<super::submission::LakeTile>,
    /// The party's main job, shown first: one of these, by kind of organisation.
    supplier_job: Option<SupplierJob>,
    core_job: Option<CoreJob>,
    bank_job: Option<BankJob>,
    progress: Option<Progress>,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    ctx.respond(home(&state, &ctx).await)
}

async fn home(state: &AppState, ctx: &Ctx) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let stats = stats::platform(&state.app, actor).await?.map(|s| stats_view(&s, lang));
    let (chains, chains_total) = if actor.sees_everything() { (Vec::new(), 0) } else { own_chains(state, ctx).await? };
    let enterprise = matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier);
    let entry = if enterprise { own_entry(state, ctx).await? } else { None };
    let admitted = if actor.org_kind == OrgKind::Bank { Some(count_admitted(state, ctx).await?) } else { None };
    let lake = if enterprise { Some(super::submission::home_tile(state, ctx).await?) } else { None };
    let kind = actor.org_kind;
    let supplier_job = if kind == OrgKind::Supplier { Some(jobs::supplier(state, ctx).await?) } else { None };
    let core_job = if kind == OrgKind::Core { Some(jobs::core(state, ctx).await?) } else { None };
    let bank_job = if kind == OrgKind::Bank { Some(jobs::bank(state, ctx).await?) } else { None };
    let progress = if actor.sees_everything() { Some(jobs::progress(state, ctx).await?) } else { None };
    let view = HomePage {
        ui: ctx.ui("home"),
        kind: actor.org_kind.code(),
        stats,
        can_decide: ctx.allows(Permission::DecideLibrary),
        chains,
        chains_total,
        can_apply: enterprise && entry.is_none() && ctx.allows(Permission::ApplyLibrary),
        entry,
        admitted,
        lake,
        supplier_job,
        core_job,
        bank_job,
        progress,
    };
    Ok(render(StatusCode::OK, &view))
}

/// The chains the organisation belongs to, each with the role and tier it declared.
async fn own_chains(state: &AppState, ctx: &Ctx) -> AppResult<(Vec<ChainRow>, i64)> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let memberships = lianrong_app::chain::memberships(&state.app, actor, &actor.org_id).await?;
    let names = super::cluster::names(state, actor, lang).await?;
    let rows: Vec<ChainRow> = memberships
        .iter()
        .map(|m| {
            let mut r = ChainRow::new(&m.chain, &names);
            r.own_role = m.role.label(lang).to_string();
            r.own_tier = chain_view::tier_label(m.tier, lang);
            r
        })
        .collect();
    let total = rows.len() as i64;
    Ok((rows, total))
}

/// A core's or supplier's own library entry: its scope holds at most this one.
async fn own_entry(state: &AppState, ctx: &Ctx) -> AppResult<Option<EntryRow>> {
    let actor = ctx.actor();
    let page = core_library::list(&state.app, actor, EntryFilter::default(), PageRequest::first()).await?;
    let names = super::cluster::names(state, actor, ctx.lang_en()).await?;
    Ok(page.items.iter().find(|e| e.org_id == actor.org_id).map(|e| entry_row(e, &names, ctx.lang_en())))
}

async fn count_admitted(state: &AppState, ctx: &Ctx) -> AppResult<i64> {
    let filter = EntryFilter { status: Some(LibraryStatus::Admitted), cluster_id: None };
    let page = core_library::list(&state.app, ctx.actor(), filter, PageRequest { page: 1, page_size: 1 }).await?;
    Ok(page.total)
}
