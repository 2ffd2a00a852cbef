//! The "33618" cluster list, grouped by tier, with the seed rows a source has not confirmed marked.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::cluster::ClusterRecord;
use lianrong_app::{Actor, AppResult, cluster};
use lianrong_domain::cluster::ClusterTier;

use super::ctx::Ctx;
use super::page::{Opt, Ui, render};
use crate::state::AppState;

fn name(c: &ClusterRecord, lang_en: bool) -> &str {
    if lang_en { &c.name_en } else { &c.name_zh }
}

/// Cluster id → name in the reader's language, for tables that show a cluster.
pub(super) async fn names(state: &AppState, actor: &Actor, lang_en: bool) -> AppResult<HashMap<String, String>> {
    let list = cluster::list(&state.app, actor).await?;
    Ok(list.iter().map(|c| (c.id.clone(), name(c, lang_en).to_string())).collect())
}

/// A cluster's name, or its id when it is not on the list (it was renamed away meanwhile).
pub(super) fn name_of(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// Clusters of one tier, for a select's `<optgroup>`.
pub struct Group {
    pub label: &'static str,
    pub options: Vec<Opt>,
}

/// Every cluster as select options grouped by tier, with `selected` chosen.
pub(super) async fn groups(state: &AppState, actor: &Actor, lang_en: bool, selected: &str) -> AppResult<Vec<Group>> {
    let list = cluster::list(&state.app, actor).await?;
    Ok(ClusterTier::ALL
        .iter()
        .map(|&tier| Group {
            label: tier.label(lang_en),
            options: Opt::list(
                list.iter().filter(|c| c.tier == tier).map(|c| (c.id.as_str(), name(c, lang_en))),
                |v| v == selected,
            ),
        })
        .filter(|g| !g.options.is_empty())
        .collect())
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub other_name: String,
    pub verified: bool,
}

pub struct TierView {
    pub label: &'static str,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    ui: Ui,
    tiers: Vec<TierView>,
    total: usize,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Response {
    ctx.respond(list_page(&state, &ctx).await)
}

async fn list_page(state: &AppState, ctx: &Ctx) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let list = cluster::list(&state.app, ctx.actor()).await?;
    let tiers = ClusterTier::ALL
        .iter()
        .map(|&tier| TierView {
            label: tier.label(lang),
            rows: list
                .iter()
                .filter(|c| c.tier == tier)
                .map(|c| Row {
                    id: c.id.clone(),
                    name: name(c, lang).to_string(),
                    other_name: name(c, !lang).to_string(),
                    verified: c.verified,
                })
                .collect(),
        })
        .collect();
    Ok(render(StatusCode::OK, &ClustersPage { ui: ctx.ui("clusters"), tiers, total: list.len() }))
}
