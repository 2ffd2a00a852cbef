//! Industry chains: the list, one chain with its members, and the operator's forms to create a chain and
//! add a member (found by its credit code).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::chain::{ChainRecord, MemberRecord};
use lianrong_app::{AppError, AppResult, Permission, chain};
use lianrong_domain::chain::MemberRole;

use super::cluster::{self as cluster_view, Group};
use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct ChainRow {
    pub id: String,
    pub name: String,
    pub cluster: String,
    pub pilot: bool,
    pub members: i64,
    pub created: String,
    /// The viewer's own role and tier in the chain, where the page shows them (home page).
    pub own_role: String,
    pub own_tier: String,
}

impl ChainRow {
    pub(super) fn new(c: &ChainRecord, clusters: &HashMap<String, String>) -> ChainRow {
        ChainRow {
            id: c.id.clone(),
            name: c.name.clone(),
            cluster: cluster_view::name_of(clusters, &c.cluster_id),
            pilot: c.pilot,
            members: c.member_count,
            created: lianrong_app::display_time(c.created_at_ms),
            own_role: String::new(),
            own_tier: String::new(),
        }
    }
}

/// "一级" / "Tier 1": declared tiers run from 1 to `chain::TIER_MAX` (9).
pub(super) fn tier_label(tier: Option<i64>, lang_en: bool) -> String {
    const DIGITS_ZH: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match tier {
        Some(t) if lang_en => format!("Tier {t}"),
        Some(t) => match usize::try_from(t).ok().and_then(|i| DIGITS_ZH.get(i)) {
            Some(d) => format!("{d}级"),
            None => format!("{t}级"),
        },
        None => "—".to_string(),
    }
}

#[derive(Template)]
#[template(path = "chains.html")]
struct ChainsPage {
    ui: Ui,
    rows: Vec<ChainRow>,
    pager: Pager,
    can_manage: bool,
    clusters: Vec<Group>,
    form: Params,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    let ok = q.get("ok").to_string();
    ctx.respond(list_page(&state, &ctx, &q, Params::default(), None, &ok).await)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
    ok: &str,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let page = chain::list(&state.app, actor, q.page()?).await?;
    let names = cluster_view::names(state, actor, lang).await?;
    let mut ui = ctx.ui("chains").done(ok);
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = ChainsPage {
        ui,
        rows: page.items.iter().map(|c| ChainRow::new(c, &names)).collect(),
        pager: Pager::new(&page, "/chains", &[]),
        can_manage: ctx.allows(Permission::ManageChains),
        clusters: cluster_view::groups(state, actor, lang, form.get("cluster_id")).await?,
        form,
    };
    Ok(render(status_for(failed), &view))
}

pub async fn create(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match chain::create(&state.app, ctx.actor(), f.get("name"), f.get("cluster_id"), f.checked("pilot")).await {
        Ok(c) => see_other(&format!("/chains/{}?ok=created", c.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e), "").await),
    }
}

pub struct MemberRow {
    pub org_id: String,
    pub name: String,
    pub uscc: String,
    pub kind: &'static str,
    pub role: &'static str,
    pub role_code: &'static str,
    pub tier: String,
    pub joined: String,
}

#[derive(Template)]
#[template(path = "chain.html")]
struct ChainPage {
    ui: Ui,
    chain: ChainRow,
    members: Vec<MemberRow>,
    pager: Pager,
    role_filter: Vec<Opt>,
    can_manage: bool,
    roles: Vec<Opt>,
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
    let c = chain::get(&state.app, actor, id).await?;
    let role = q.opt("role").map(MemberRole::parse).transpose()?;
    let page = chain::members(&state.app, actor, id, role, q.page()?).await?;
    let names = cluster_view::names(state, actor, lang).await?;
    let mut ui = ctx.ui("chains").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let role_code = role.map_or("", MemberRole::code);
    let view = ChainPage {
        ui,
        chain: ChainRow::new(&c, &names),
        members: page.items.iter().map(|m| member_row(m, lang)).collect(),
        pager: Pager::new(&page, &format!("/chains/{id}"), &[("role", role_code)]),
        role_filter: Opt::list(MemberRole::ALL.iter().map(|r| (r.code(), r.label(lang))), |v| v == role_code),
        can_manage: ctx.allows(Permission::ManageChains),
        roles: Opt::list(MemberRole::ALL.iter().map(|r| (r.code(), r.label(lang))), |v| v == form.get("role")),
        form,
    };
    Ok(render(status_for(failed), &view))
}

fn member_row(m: &MemberRecord, lang_en: bool) -> MemberRow {
    MemberRow {
        org_id: m.org_id.clone(),
        name: m.org_name.clone(),
        uscc: m.org_uscc.clone(),
        kind: m.org_kind.label(lang_en),
        role: m.role.label(lang_en),
        role_code: m.role.code(),
        tier: tier_label(m.tier, lang_en),
        joined: lianrong_app::display_time(m.joined_at_ms),
    }
}

fn bad_tier(text: &str) -> AppError {
    AppError::invalid(
        "tier",
        "invalid_tier",
        format!("tier must be a whole number, got '{text}'"),
        format!("层级须为整数，收到“{text}”"),
    )
}

pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async {
        let org = super::org_lookup::find_by_uscc(&state, ctx.actor(), f.get("uscc")).await?;
        let tier = f.opt("tier").map(|t| t.parse::<i64>().map_err(|_| bad_tier(t))).transpose()?;
        chain::add_member(&state.app, ctx.actor(), &id, &org.id, f.get("role"), tier).await
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/chains/{id}?ok=member_added")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), f, Some(&e)).await),
    }
}
