//! The audit trail for admins and auditors: who did or tried what, newest first.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::audit::AuditRecord;
use lianrong_app::{AppResult, audit};

use super::ctx::Ctx;
use super::form::{Pager, Params, QueryData};
use super::org_lookup::OrgNames;
use super::page::{Ui, render};
use crate::state::AppState;

pub struct AuditRow {
    pub time: String,
    pub org: String,
    pub who: String,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ui: Ui,
    rows: Vec<AuditRow>,
    pager: Pager,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q).await)
}

async fn list_page(state: &AppState, ctx: &Ctx, q: &Params) -> AppResult<Response> {
    let page = audit::list(&state.app, ctx.actor(), q.seek()?).await?;
    let mut orgs = OrgNames::default();
    let mut rows = Vec::new();
    for a in &page.page.items {
        rows.push(row(state, ctx, a, &mut orgs).await);
    }
    let view = AuditPage { ui: ctx.ui("audit"), rows, pager: Pager::keyed(&page, "/audit", &[]) };
    Ok(render(StatusCode::OK, &view))
}

async fn row(state: &AppState, ctx: &Ctx, a: &AuditRecord, orgs: &mut OrgNames) -> AuditRow {
    let lang = ctx.lang_en();
    let t = |zh: &'static str, en: &'static str| if lang { en } else { zh };
    let org = match &a.actor_org_id {
        Some(id) => orgs.name(state, ctx.actor(), id).await.unwrap_or_else(|| id.clone()),
        None => "—".to_string(),
    };
    // Ids are opaque; the user or key id is enough to follow up, and avoids a look-up per row.
    let who = match (&a.actor_user_id, &a.actor_api_key_id) {
        (Some(u), _) => format!("{} {u}", t("用户", "user")),
        (None, Some(k)) => format!("{} {k}", t("API密钥", "API key")),
        (None, None) => t("系统", "system").to_string(),
    };
    let (outcome, outcome_class) = match a.outcome.as_str() {
        "ok" => (t("成功", "OK"), "ok"),
        "refused" => (t("已拒绝", "Refused"), "refused"),
        "failed" => (t("失败", "Failed"), "failed"),
        _ => ("", "other"),
    };
    AuditRow {
        time: lianrong_app::display_time(a.at_ms),
        org,
        who,
        action: a.action.clone(),
        object: format!("{} {}", a.object_type, a.object_id),
        outcome: if outcome.is_empty() { a.outcome.clone() } else { outcome.to_string() },
        outcome_class,
        detail: a.detail.clone(),
    }
}
