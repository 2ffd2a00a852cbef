//! The programme office's financing page: by chain and supplier tier, what commitments carried down the
//! chain (received, held) and what suppliers turned into money at banks (discounted).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use lianrong_app::AppResult;
use lianrong_domain::Money;

use super::{Ctx, Ui, render};
use crate::state::AppState;
use axum::http::StatusCode;

pub struct FigureRow {
    pub chain: String,
    pub tier: String,
    pub tier_code: String,
    pub holders: i64,
    pub received: String,
    pub held: String,
    pub discounted: String,
}

#[derive(Template)]
#[template(path = "financing.html")]
struct FinancingPage {
    ui: Ui,
    rows: Vec<FigureRow>,
    total_received: String,
    total_discounted: String,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    ctx.respond(financing_page(&state, &ctx).await)
}

async fn financing_page(state: &AppState, ctx: &Ctx) -> AppResult<Response> {
    let figures = lianrong_app::stats::financing_by_chain_tier(&state.app, ctx.actor()).await?;
    let lang = ctx.lang_en();
    let yuan = |fen: i64| Money::from_fen(fen).display_yuan();
    let rows = figures
        .iter()
        .map(|f| FigureRow {
            chain: f.chain_name.clone(),
            tier: match f.tier {
                Some(t) if lang => format!("Tier {t}"),
                Some(t) => format!("{t}级供应商"),
                None => (if lang { "Outside the chain" } else { "链外" }).to_string(),
            },
            tier_code: f.tier.map(|t| t.to_string()).unwrap_or_default(),
            holders: f.holders,
            received: yuan(f.received_fen),
            held: yuan(f.held_fen),
            discounted: yuan(f.discounted_fen),
        })
        .collect();
    let view = FinancingPage {
        ui: ctx.ui("financing"),
        rows,
        total_received: yuan(figures.iter().map(|f| f.received_fen).sum()),
        total_discounted: yuan(figures.iter().map(|f| f.discounted_fen).sum()),
    };
    Ok(render(StatusCode::OK, &view))
}
