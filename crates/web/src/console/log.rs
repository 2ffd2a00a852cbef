//! The verifiable log in the console: the current signed tree head and the latest leaves (all of them
//! for the operator and the regulator, the organisation's own for everyone else), and one leaf with its
//! data, its inclusion proof and the commands that check it offline.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::log::{self as log_app, SignedTreeHead};
use lianrong_app::log::{LeafFilter, LeafRecord};
use lianrong_app::{AppError, AppResult};
use lianrong_domain::log::LeafKind;

use super::ctx::Ctx;
use super::form::{Pager, Params, QueryData};
use super::page::{Opt, Ui, render};
use crate::state::AppState;

pub struct HeadView {
    pub tree_size: u64,
    pub root_hash: String,
    pub hash_alg: &'static str,
    pub signed_at: String,
    pub key_id: String,
    pub signature: String,
}

fn head_view(h: &SignedTreeHead, lang_en: bool) -> HeadView {
    HeadView {
        tree_size: h.tree_size,
        root_hash: log_app::hash_hex(&h.root_hash),
        hash_alg: h.hash_alg.label(lang_en),
        signed_at: lianrong_app::display_time(h.timestamp_ms),
        key_id: h.key_id.clone(),
        signature: hex_of(&h.signature),
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct LeafRow {
    pub leaf_index: u64,
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub subject_id: String,
    pub time: String,
    pub leaf_hash: String,
}

fn leaf_row(l: &LeafRecord, lang_en: bool) -> LeafRow {
    LeafRow {
        leaf_index: l.leaf_index,
        kind: l.kind.label(lang_en),
        kind_code: l.kind.code(),
        subject_id: l.subject_id.clone(),
        time: lianrong_app::display_time(l.appended_at_ms),
        leaf_hash: log_app::hash_hex(&l.leaf_hash),
    }
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    ui: Ui,
    head: HeadView,
    sees_all: bool,
    rows: Vec<LeafRow>,
    pager: Pager,
    kind_filter: Vec<Opt>,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q).await)
}

async fn list_page(state: &AppState, ctx: &Ctx, q: &Params) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    let kind = q.opt("kind").map(LeafKind::parse).transpose()?;
    let head = log_app::tree_head(&state.app, actor).await?;
    let page = log_app::list(&state.app, actor, LeafFilter { kind, subject_id: None }, q.seek()?).await?;
    let kind_code = kind.map_or("", LeafKind::code);
    let view = LogPage {
        ui: ctx.ui("log"),
        head: head_view(&head, lang),
        sees_all: actor.sees_everything(),
        rows: page.page.items.iter().map(|l| leaf_row(l, lang)).collect(),
        pager: Pager::keyed(&page, "/log", &[("kind", kind_code)]),
        kind_filter: Opt::list(LeafKind::ALL.iter().map(|k| (k.code(), k.label(lang))), |v| v == kind_code),
    };
    Ok(render(axum::http::StatusCode::OK, &view))
}

#[derive(Template)]
#[template(path = "log_entry.html")]
struct EntryPage {
    ui: Ui,
    leaf: LeafRow,
    data: String,
    head: HeadView,
    path: Vec<String>,
}

pub async fn detail(State(state): State<AppState>, ctx: Ctx, Path(leaf_index): Path<String>) -> Response {
    ctx.respond(detail_page(&state, &ctx, &leaf_index).await)
}

async fn detail_page(state: &AppState, ctx: &Ctx, leaf_index: &str) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang = ctx.lang_en();
    // A malformed index is answered like an absent leaf.
    let leaf_index: u64 = leaf_index.parse().map_err(|_| AppError::not_found("Log entry", "存证日志条目"))?;
    let head = log_app::tree_head(&state.app, actor).await?;
    let proof = log_app::entry(&state.app, actor, leaf_index, Some(head.tree_size)).await?;
    let view = EntryPage {
        ui: ctx.ui("log"),
        leaf: leaf_row(&proof.leaf, lang),
        data: proof.leaf.data.clone(),
        head: head_view(&head, lang),
        path: proof.path.iter().map(log_app::hash_hex).collect(),
    };
    Ok(render(axum::http::StatusCode::OK, &view))
}

#[derive(Template)]
#[template(path = "log_pending.html")]
struct PendingPage {
    ui: Ui,
    leaf_id: u64,
}

/// A leaf by the id its record shows: its entry page once integrated, else a page saying it waits for
/// the sequencer, which reloads itself.
pub async fn by_id(State(state): State<AppState>, ctx: Ctx, Path(leaf_id): Path<String>) -> Response {
    ctx.respond(by_id_page(&state, &ctx, &leaf_id).await)
}

async fn by_id_page(state: &AppState, ctx: &Ctx, leaf_id: &str) -> AppResult<Response> {
    // A malformed id is answered like an absent leaf.
    let leaf_id: u64 = leaf_id.parse().map_err(|_| AppError::not_found("Log entry", "存证日志条目"))?;
    match log_app::entry_by_id(&state.app, ctx.actor(), leaf_id, None).await? {
        log_app::EntryById::Integrated(proof) => Ok(super::page::see_other(&format!("/log/{}", proof.leaf.leaf_index))),
        log_app::EntryById::Pending { leaf_id } => {
            Ok(render(axum::http::StatusCode::ACCEPTED, &PendingPage { ui: ctx.ui("log"), leaf_id }))
        }
    }
}
