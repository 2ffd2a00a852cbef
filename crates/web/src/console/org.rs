//! The organisation directory: a filtered list, one organisation with its chains, and the operator's
//! form to register an organisation.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::org::{OrgFilter, OrgRecord};
use lianrong_app::{AppError, AppResult, Permission, org};
use lianrong_domain::org::{OrgKind, SizeClass};

use super::chain::{self as chain_view, ChainRow};
use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub verified: bool,
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub size: &'static str,
    pub sme: bool,
    pub region: String,
    pub created: String,
}

fn row(o: &OrgRecord, lang_en: bool) -> OrgRow {
    OrgRow {
        id: o.id.clone(),
        name: o.name.clone(),
        uscc: o.uscc.clone(),
        verified: o.uscc_verified,
        kind: o.kind.label(lang_en),
        kind_code: o.kind.code(),
        size: o.size_class.label(lang_en),
        sme: o.sme,
        region: o.region_code.clone(),
        created: lianrong_app::display_time(o.created_at_ms),
    }
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    ui: Ui,
    rows: Vec<OrgRow>,
    pager: Pager,
    kind_filter: Vec<Opt>,
    q: String,
    can_create: bool,
    kinds: Vec<Opt>,
    sizes: Vec<Opt>,
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
    let lang = ctx.lang_en();
    let kind = q.opt("kind").map(OrgKind::parse).transpose()?;
    let search = q.opt("q").map(str::to_string);
    let filter = OrgFilter { kind, query: search.clone() };
    let page = org::list(&state.app, ctx.actor(), filter, q.page()?).await?;
    let kind_code = kind.map_or("", OrgKind::code);
    let search = search.unwrap_or_default();
    let mut ui = ctx.ui("orgs").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = OrgsPage {
        ui,
        rows: page.items.iter().map(|o| row(o, lang)).collect(),
        pager: Pager::new(&page, "/orgs", &[("kind", kind_code), ("q", &search)]),
        kind_filter: Opt::list(OrgKind::ALL.iter().map(|k| (k.code(), k.label(lang))), |v| v == kind_code),
        q: search.clone(),
        can_create: ctx.allows(Permission::CreateOrg),
        kinds: Opt::list(OrgKind::ALL.iter().map(|k| (k.code(), k.label(lang))), |v| v == form.get("kind")),
        sizes: Opt::list(SizeClass::ALL.iter().map(|s| (s.code(), s.label(lang))), |v| v == form.get("size_class")),
        form,
    };
    Ok(render(status_for(failed), &view))
}

pub async fn create(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let input = org::NewOrg {
        uscc: f.get("uscc").to_string(),
        name: f.get("name").to_string(),
        kind: f.get("kind").to_string(),
        size_class: f.get("size_class").to_string(),
        region_code: f.opt("region_code").map(str::to_string),
    };
    match org::create(&state.app, ctx.actor(), input).await {
        Ok(o) => see_other(&format!("/orgs/{}?ok=created", o.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    ui: Ui,
    org: OrgRow,
    chains: Vec<ChainRow>,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id, &q).await)
}

async fn detail_page(state: &AppState, ctx: &Ctx, id: &str, q: &Params) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let o = org::get(&state.app, actor, id).await?;
    let names = super::cluster::names(state, actor, lang).await?;
    let chains: Vec<ChainRow> = lianrong_app::chain::memberships(&state.app, actor, &o.id)
        .await?
        .iter()
        .map(|m| {
            let mut r = ChainRow::new(&m.chain, &names);
            r.own_role = m.role.label(lang).to_string();
            r.own_tier = chain_view::tier_label(m.tier, lang);
            r
        })
        .collect();
    let view = OrgPage { ui: ctx.ui("orgs").done(q.get("ok")), org: row(&o, lang), chains };
    Ok(render(axum::http::StatusCode::OK, &view))
}
