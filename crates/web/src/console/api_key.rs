//! The organisation's API keys. A new key's secret is shown once, on the page that answers the creating
//! POST (never in a URL, never again); only its digest is kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::api_key::ApiKeyRecord;
use lianrong_app::{AppError, AppResult, api_key};
use lianrong_domain::role::Scope;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for, time_or_dash};
use crate::state::AppState;

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<&'static str>,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
    pub revoked_at: String,
}

fn row(k: &ApiKeyRecord, lang_en: bool) -> KeyRow {
    KeyRow {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: format!("lrk_{}_…", k.prefix),
        scopes: k.scopes.iter().map(|s| s.label(lang_en)).collect(),
        created: lianrong_app::display_time(k.created_at_ms),
        last_used: time_or_dash(k.last_used_at_ms),
        revoked: k.revoked_at_ms.is_some(),
        revoked_at: time_or_dash(k.revoked_at_ms),
    }
}

/// A key just created: its name and the full secret to copy now.
pub struct NewKey {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    ui: Ui,
    rows: Vec<KeyRow>,
    pager: Pager,
    scopes: Vec<Opt>,
    created: Option<NewKey>,
    form: Params,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q, Params::default(), Outcome::Shown).await)
}

/// What the page reports above the list.
enum Outcome<'a> {
    Shown,
    Created(NewKey),
    Failed(&'a AppError),
}

async fn list_page(state: &AppState, ctx: &Ctx, q: &Params, form: Params, outcome: Outcome<'_>) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let page = api_key::list(&state.app, ctx.actor(), q.page()?).await?;
    let mut ui = ctx.ui("api_keys").done(q.get("ok"));
    let (failed, created) = match outcome {
        Outcome::Shown => (None, None),
        Outcome::Created(k) => (None, Some(k)),
        Outcome::Failed(e) => (Some(e), None),
    };
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let status = if created.is_some() { StatusCode::CREATED } else { status_for(failed) };
    let view = KeysPage {
        ui,
        rows: page.items.iter().map(|k| row(k, lang)).collect(),
        pager: Pager::new(&page, "/api-keys", &[]),
        scopes: Opt::list(Scope::ALL.iter().map(|s| (s.code(), s.label(lang))), |v| form.has("scopes", v)),
        created,
        form,
    };
    Ok(render(status, &view))
}

pub async fn create(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let q = Params::default();
    match api_key::create(&state.app, ctx.actor(), f.get("name"), &f.all("scopes")).await {
        Ok(k) => {
            let created = NewKey { name: k.record.name, secret: k.plaintext };
            ctx.respond(list_page(&state, &ctx, &q, Params::default(), Outcome::Created(created)).await)
        }
        Err(e) => ctx.respond(list_page(&state, &ctx, &q, f, Outcome::Failed(&e)).await),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match api_key::revoke(&state.app, ctx.actor(), &id).await {
        Ok(()) => see_other("/api-keys?ok=revoked"),
        Err(e) => {
            ctx.respond(list_page(&state, &ctx, &Params::default(), Params::default(), Outcome::Failed(&e)).await)
        }
    }
}
