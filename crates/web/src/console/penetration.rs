//! How deep a core's credit reaches, drawn as an SVG of tiers (the core on the left, tier 1, 2, 3 … to
//! the right), from the same use case as `/api/v1/penetration/{org_id}`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::AppResult;
use lianrong_domain::Money;
use lianrong_domain::chain::MemberRole;
use lianrong_domain::page::PageRequest;

use super::ctx::Ctx;
use super::form::{Params, QueryData};
use super::page::{Ui, render};
use crate::state::AppState;

/// Names drawn per tier column; the rest are counted.
const NAMES_PER_TIER_MAX: usize = 12;
const COLUMN_WIDTH: u32 = 210;
const ROW_HEIGHT: u32 = 22;

pub struct Column {
    pub x: u32,
    pub title: String,
    pub subtitle: String,
    /// (y, shown text, full name for the tooltip).
    pub names: Vec<(u32, String, String)>,
    pub more: Option<(u32, usize)>,
}

/// A core to draw, as the operator's and the regulator's chooser lists it: (org id, "chain · core").
pub struct CoreChoice {
    pub org_id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "penetration.html")]
struct PenetrationPage {
    ui: Ui,
    /// Every chain's cores, for those who see every chain; empty for a core, which sees its own.
    choices: Vec<CoreChoice>,
    chosen: String,
    /// `false` while an operator or regulator has not chosen a core yet.
    drawn: bool,
    core_name: String,
    depth: u32,
    columns: Vec<Column>,
    width: u32,
    height: u32,
    /// Arrows between neighbouring columns: (x1, x2).
    links: Vec<(u32, u32)>,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(page_of(&state, &ctx, &q).await)
}

/// The cores of every chain the actor sees, chain by chain.
async fn core_choices(state: &AppState, ctx: &Ctx) -> AppResult<Vec<CoreChoice>> {
    let mut choices = Vec::new();
    let chains = lianrong_app::chain::list(&state.app, ctx.actor(), PageRequest::all_small()).await?;
    for chain in chains.items {
        let cores = lianrong_app::chain::members(
            &state.app,
            ctx.actor(),
            &chain.id,
            Some(MemberRole::Core),
            PageRequest::all_small(),
        )
        .await?;
        for core in cores.items {
            choices.push(CoreChoice { org_id: core.org_id, label: format!("{} · {}", chain.name, core.org_name) });
        }
    }
    Ok(choices)
}

async fn page_of(state: &AppState, ctx: &Ctx, q: &Params) -> AppResult<Response> {
    let lang = ctx.lang_en();
    // The operator and the regulator are not chain leaders: they choose a chain's core to draw.
    let chooses = ctx.actor().sees_everything();
    let choices = if chooses { core_choices(state, ctx).await? } else { Vec::new() };
    let org_id = match q.get("org_id") {
        "" if chooses => {
            let view = PenetrationPage {
                ui: ctx.ui("penetration"),
                choices,
                chosen: String::new(),
                drawn: false,
                core_name: String::new(),
                depth: 0,
                columns: Vec::new(),
                width: 0,
                height: 0,
                links: Vec::new(),
            };
            return Ok(render(StatusCode::OK, &view));
        }
        "" => ctx.actor().org_id.clone(),
        chosen => chosen.to_string(),
    };
    let p = lianrong_app::penetration::for_core(&state.app, ctx.actor(), &org_id).await?;
    let core =
        lianrong_app::org::get(&state.app, ctx.actor(), &org_id).await.map(|o| o.name).unwrap_or(p.core_uscc.clone());
    let t = |zh: &str, en: &str| if lang { en.to_string() } else { zh.to_string() };
    let mut columns =
        vec![Column { x: 20, title: core.clone(), subtitle: t("链主", "Core"), names: vec![], more: None }];
    for tier in &p.tiers {
        let x = 20 + tier.tier * COLUMN_WIDTH;
        let names: Vec<String> = p
            .suppliers
            .iter()
            .filter(|s| s.tier == tier.tier)
            .map(|s| s.name.clone().unwrap_or_else(|| s.uscc.clone()))
            .collect();
        let shown: Vec<(u32, String, String)> = names
            .iter()
            .take(NAMES_PER_TIER_MAX)
            .enumerate()
            .map(|(i, n)| (80 + i as u32 * ROW_HEIGHT, n.chars().take(14).collect(), n.clone()))
            .collect();
        let hidden = tier.suppliers.saturating_sub(shown.len());
        let more = (hidden > 0).then(|| (80 + shown.len() as u32 * ROW_HEIGHT, hidden));
        columns.push(Column {
            x,
            title: if lang { format!("Tier {}", tier.tier) } else { format!("第{}级供应商", tier.tier) },
            subtitle: format!(
                "{} · {}",
                if lang { format!("{} suppliers", tier.suppliers) } else { format!("{}家", tier.suppliers) },
                Money::from_fen(tier.volume_fen).display_wan()
            ),
            names: shown,
            more,
        });
    }
    let rows = columns.iter().map(|c| c.names.len() + usize::from(c.more.is_some())).max().unwrap_or(0) as u32;
    let links = columns.windows(2).map(|w| (w[0].x + 180, w[1].x)).collect();
    let view = PenetrationPage {
        ui: ctx.ui("penetration"),
        choices,
        chosen: org_id,
        drawn: true,
        core_name: core,
        depth: p.depth,
        width: 40 + columns.len() as u32 * COLUMN_WIDTH,
        height: 100 + rows * ROW_HEIGHT,
        columns,
        links,
    };
    Ok(render(StatusCode::OK, &view))
}
