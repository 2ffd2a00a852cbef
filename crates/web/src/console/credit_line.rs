//! Credit lines in the console: a bank's staff see the lines their bank granted and grant new ones; a
//! core or supplier sees the lines it was granted, with what is in use and what is available.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use lianrong_app::credit_line::{self as app, NewLine};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::Money;
use lianrong_domain::trade::value::parse_amount_fen;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct LineRow {
    pub id: String,
    pub bank: String,
    pub borrower: String,
    pub kind: &'static str,
    pub limit: String,
    pub used: String,
    pub available: String,
    pub term: String,
}

#[derive(Template)]
#[template(path = "credit_lines.html")]
struct LinesPage {
    ui: Ui,
    rows: Vec<LineRow>,
    pager: Pager,
    can_grant: bool,
    form: Params,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(lines_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn org_name(state: &AppState, ctx: &Ctx, id: &str) -> String {
    lianrong_app::org::get(&state.app, ctx.actor(), id).await.map(|o| o.name).unwrap_or_else(|_| id.to_string())
}

async fn lines_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let page = app::list(&state.app, ctx.actor(), q.page()?).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for l in &page.items {
        rows.push(LineRow {
            id: l.id.clone(),
            bank: org_name(state, ctx, &l.bank_org_id).await,
            borrower: org_name(state, ctx, &l.borrower_org_id).await,
            kind: l.kind.label(lang),
            limit: Money::from_fen(l.limit_fen).display_yuan(),
            used: Money::from_fen(l.used_fen).display_yuan(),
            available: Money::from_fen(l.limit_fen - l.used_fen).display_yuan(),
            term: format!("{} – {}", l.valid_from, l.valid_until),
        });
    }
    let mut ui = ctx.ui("credit_lines").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = LinesPage {
        ui,
        rows,
        pager: Pager::new(&page, "/credit-lines", &[]),
        can_grant: ctx.allows(Permission::ManageCreditLines),
        form,
    };
    Ok(render(status_for(failed), &view))
}

/// The bank grants a line; the limit is typed in yuan, as people write it.
pub async fn grant(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async {
        let limit_fen = parse_amount_fen(f.get("limit_yuan")).map_err(|_| {
            AppError::invalid(
                "limit_yuan",
                "amount_invalid",
                "Write the limit in yuan, e.g. 50,000,000.00",
                "额度请以元填写，如 50,000,000.00",
            )
        })?;
        let new = NewLine {
            borrower_org_id: f.get("borrower_org_id").trim().to_string(),
            kind: f.get("kind").to_string(),
            limit_fen,
            valid_from: f.get("valid_from").to_string(),
            valid_until: f.get("valid_until").to_string(),
        };
        app::grant(&state.app, ctx.actor(), &new).await
    }
    .await;
    match result {
        Ok(_) => see_other("/credit-lines?ok=created"),
        Err(e) => ctx.respond(lines_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}
