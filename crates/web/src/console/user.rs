//! Users: the list (own organisation; the operator's managers see all), creation with roles fit for the
//! organisation's kind, and one user's roles, status and password. Forms appear only to those who may
//! use them; the app checks again.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::user::UserRecord;
use lianrong_app::{AppError, AppResult, Permission, user};
use lianrong_domain::org::OrgKind;
use lianrong_domain::role::Role;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::org_lookup::OrgNames;
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::state::AppState;

pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub org_name: String,
    pub roles: String,
    pub active: bool,
    pub locked: bool,
    pub created: String,
    /// "by — reason (time)" when the operator suspended the account.
    pub suspension: Option<String>,
}

fn row(u: &UserRecord, org_name: String, lang_en: bool) -> UserRow {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.label(lang_en)).collect();
    UserRow {
        id: u.id.clone(),
        login: u.login.clone(),
        name: u.display_name.clone(),
        org_name,
        roles: roles.join(if lang_en { ", " } else { "、" }),
        active: u.active,
        locked: u.locked_until_ms.is_some_and(|t| t > lianrong_app::now_ms()),
        created: lianrong_app::display_time(u.created_at_ms),
        suspension: u
            .suspension
            .as_ref()
            .map(|s| format!("{} — {}（{}）", s.by, s.reason, lianrong_app::display_time(s.at_ms))),
    }
}

/// Role checkboxes for an organisation kind (every role for the operator, which creates users anywhere).
fn role_boxes(kind: Option<OrgKind>, lang_en: bool, checked: impl Fn(&str) -> bool) -> Vec<Opt> {
    let roles = Role::ALL.iter().filter(|r| kind.is_none_or(|k| r.allowed_for(k)));
    Opt::list(roles.map(|r| (r.code(), r.label(lang_en))), checked)
}

/// Whether the actor administers users of `org_id` (as the app decides: only its own organisation's).
fn manages(ctx: &Ctx, org_id: &str) -> bool {
    ctx.allows(Permission::ManageUsers) && user::manages_org(ctx.actor(), org_id)
}

fn operator_admin(ctx: &Ctx) -> bool {
    let a = ctx.actor();
    a.org_kind == OrgKind::Operator && a.has_role(Role::OrgAdmin)
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    ui: Ui,
    rows: Vec<UserRow>,
    pager: Pager,
    show_org: bool,
    can_manage: bool,
    other_orgs: bool,
    roles: Vec<Opt>,
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
    let page = user::list(&state.app, actor, q.page()?).await?;
    let show_org = page.items.iter().any(|u| u.org_id != actor.org_id);
    let mut orgs = OrgNames::default();
    let mut rows = Vec::new();
    for u in &page.items {
        let org_name = if u.org_id == actor.org_id {
            actor.org_name.clone()
        } else {
            orgs.name(state, actor, &u.org_id).await.unwrap_or_else(|| u.org_id.clone())
        };
        rows.push(row(u, org_name, lang));
    }
    let mut ui = ctx.ui("users").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let other_orgs = operator_admin(ctx);
    let kind = if other_orgs { None } else { Some(actor.org_kind) };
    let view = UsersPage {
        ui,
        rows,
        pager: Pager::new(&page, "/users", &[]),
        show_org,
        can_manage: ctx.allows(Permission::ManageUsers),
        other_orgs,
        roles: role_boxes(kind, lang, |v| form.has("roles", v)),
        form,
    };
    Ok(render(status_for(failed), &view))
}

fn passwords_differ() -> AppError {
    AppError::invalid("password_confirm", "password_mismatch", "The two passwords differ", "两次输入的密码不一致")
}

pub async fn create(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async {
        if f.get("password") != f.get("password_confirm") {
            return Err(passwords_differ());
        }
        let org_id = match f.opt("org_uscc") {
            Some(code) if operator_admin(&ctx) => super::org_lookup::find_by_uscc(&state, ctx.actor(), code).await?.id,
            _ => ctx.actor().org_id.clone(),
        };
        let input = user::NewUser {
            org_id,
            login: f.get("login").to_string(),
            display_name: f.get("display_name").to_string(),
            password: f.get("password").to_string(),
            roles: f.all("roles"),
        };
        user::create(&state.app, ctx.actor(), input).await
    }
    .await;
    match result {
        Ok(u) => see_other(&format!("/users/{}?ok=created", u.id)),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), without_passwords(f), Some(&e)).await),
    }
}

/// A form to show again: never echo a password into a page.
fn without_passwords(f: Params) -> Params {
    Params(f.0.into_iter().filter(|(k, _)| !k.starts_with("password")).collect())
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    ui: Ui,
    user: UserRow,
    can_manage: bool,
    /// The operator's managers may suspend another organisation's account (never set its credentials).
    can_suspend: bool,
    roles: Vec<Opt>,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id, &q, None).await)
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let u = user::get(&state.app, actor, id).await?;
    let (org_name, kind) = if u.org_id == actor.org_id {
        (actor.org_name.clone(), Some(actor.org_kind))
    } else {
        match lianrong_app::org::get(&state.app, actor, &u.org_id).await {
            Ok(o) => (o.name, Some(o.kind)),
            Err(_) => (u.org_id.clone(), None),
        }
    };
    let mut ui = ctx.ui("users").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = UserPage {
        ui,
        can_manage: manages(ctx, &u.org_id),
        can_suspend: !manages(ctx, &u.org_id) && actor.is_operator_manager() && u.active,
        roles: role_boxes(kind, lang, |v| u.roles.iter().any(|r| r.code() == v)),
        user: row(&u, org_name, lang),
    };
    Ok(render(status_for(failed), &view))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match user::update(&state.app, ctx.actor(), &id, f.all("roles"), f.checked("active")).await {
        Ok(_) => see_other(&format!("/users/{id}?ok=updated")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), Some(&e)).await),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = if f.get("password") == f.get("password_confirm") {
        user::reset_password(&state.app, ctx.actor(), &id, f.get("password")).await
    } else {
        Err(passwords_differ())
    };
    match result {
        Ok(()) => see_other(&format!("/users/{id}?ok=password_reset")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), Some(&e)).await),
    }
}

pub async fn suspend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match user::suspend(&state.app, ctx.actor(), &id, f.get("reason")).await {
        Ok(_) => see_other(&format!("/users/{id}?ok=suspended")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), Some(&e)).await),
    }
}
