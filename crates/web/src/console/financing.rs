//! The programme office's financing page: by chain and supplier tier, what commitments carried down the
//! chain (received, held) and what suppliers turned into money at banks (discounted).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use lianrong_app::AppResult;
use lianrong_domain::Money;

use super::ctx::Ctx;
use super::page::{Ui, render};
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

pub struct LoanFigureRow {
    pub chain: String,
    pub tier: String,
    pub loans: i64,
    pub disbursed: String,
    pub outstanding: String,
    pub overdue_loans: i64,
    pub overdue: String,
}

#[derive(Template)]
#[template(path = "financing.html")]
struct FinancingPage {
    ui: Ui,
    rows: Vec<FigureRow>,
    loans: Vec<LoanFigureRow>,
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
    // Chain names for the loan figures, which carry the chain the borrower applied as a member of.
    let chain_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| {
                figures.iter().find(|f| &f.chain_id == id).map(|f| f.chain_name.clone()).or(Some(id.clone()))
            })
            .unwrap_or_else(|| (if lang { "No chain" } else { "未入链" }).to_string())
    };
    let loans = lianrong_app::loan::figures_by_chain_tier(&state.app, ctx.actor())
        .await?
        .iter()
        .map(|f| LoanFigureRow {
            chain: chain_name(&f.chain_id),
            tier: match f.tier {
                Some(t) if lang => format!("Tier {t}"),
                Some(t) => format!("{t}级供应商"),
                None => "—".to_string(),
            },
            loans: f.loans,
            disbursed: yuan(f.disbursed_fen),
            outstanding: yuan(f.outstanding_fen),
            overdue_loans: f.overdue_loans,
            overdue: yuan(f.overdue_fen),
        })
        .collect();
    let view = FinancingPage {
        ui: ctx.ui("financing"),
        rows,
        loans,
        total_received: yuan(figures.iter().map(|f| f.received_fen).sum()),
        total_discounted: yuan(figures.iter().map(|f| f.discounted_fen).sum()),
    };
    Ok(render(StatusCode::OK, &view))
}
