//! An upload's preview in the console, and the organisation's column meanings confirmed or fixed on it.
//! The file is held (not stored in the lake) while the user reads how each sheet and column will be
//! read; a column the standard does not know, or reads wrongly, is given its meaning once for the
//! organisation; then the held file is uploaded as it is, or let go.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::column_mapping::{self as mapping, MappingChange, STANDARD};
use lianrong_app::submission::{self as app, FilePreview};
use lianrong_app::{AppError, AppResult};
use lianrong_domain::trade::header::{ColumnMeaning, ColumnOrigin, header_key, match_header};
use lianrong_domain::trade::line::match_line_header;

use super::ctx::Ctx;
use super::form::{FormData, Params, QueryData};
use super::label::record_type_label;
use super::page::{Ui, render, see_other};
use crate::state::AppState;
use crate::upload::{Processed, SpooledFile, process_spooled};

/// Who a held file belongs to: one user of one organisation.
fn owner(ctx: &Ctx) -> String {
    let a = ctx.actor();
    format!("{}/{}", a.org_id, a.user_id.as_deref().unwrap_or(""))
}

pub struct ColumnView {
    pub letter: String,
    pub header: String,
    pub read_as: String,
    pub origin: &'static str,
    pub origin_code: &'static str,
}

pub struct SheetView {
    pub title: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub problem: Option<String>,
    pub record_type: String,
    pub header_row: String,
    pub rows: String,
    pub total_rows: u64,
    pub lines: bool,
    pub own_party: Option<&'static str>,
    pub columns: Vec<ColumnView>,
    pub samples: Vec<(u64, Vec<String>)>,
}

/// One header of the file the user may give a meaning.
pub struct Choice {
    pub header: String,
    /// `standard`, or the organisation's meaning's code.
    pub current: String,
    /// What the standard's names read the header as.
    pub standard_reading: String,
}

pub struct MeaningOption {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "submission_preview.html")]
struct PreviewPage {
    ui: Ui,
    token: String,
    file_name: String,
    format: String,
    error: Option<String>,
    sheets: Vec<SheetView>,
    choices: Vec<Choice>,
    meanings: Vec<MeaningOption>,
    readable: bool,
}

fn sheet_view(s: &app::SheetPreview, lang_en: bool) -> SheetView {
    let title = match &s.sheet_name {
        Some(name) => format!("{} · {name}", s.file_name),
        None => s.file_name.clone(),
    };
    let none = "—";
    SheetView {
        title,
        status: s.status.label(lang_en),
        status_code: s.status.code(),
        problem: s.problem.as_ref().map(|p| if lang_en { p.en.clone() } else { p.zh.clone() }),
        record_type: s.record_type.map_or_else(|| none.to_string(), |rt| record_type_label(rt.code(), lang_en)),
        header_row: match (s.header_row_no, s.header_guess_row_no) {
            (Some(n), _) => n.to_string(),
            (None, Some(n)) if lang_en => {
                format!("none found; row {n} shown as the likeliest — give its columns meanings below")
            }
            (None, Some(n)) => format!("未找到；按第 {n} 行列出各列，请在下方设定其含义"),
            (None, None) => none.to_string(),
        },
        rows: if s.rows_more { format!("{}+", s.rows) } else { s.rows.to_string() },
        total_rows: s.total_rows,
        lines: s.lines,
        own_party: s.own_side.map(|f| f.label(lang_en)),
        columns: s
            .columns
            .iter()
            .map(|c| ColumnView {
                letter: c.letter.clone(),
                header: c.header.clone(),
                read_as: c.meaning.map_or_else(|| none.to_string(), |m| m.label(lang_en).to_string()),
                origin: c.origin.label(lang_en),
                origin_code: c.origin.code(),
            })
            .collect(),
        samples: s.samples.iter().map(|r| (r.row_no, r.cells.clone())).collect(),
    }
}

/// The headers of the file's read sheets, each once, with the reading the user may change.
fn choices(p: &FilePreview, lang_en: bool) -> Vec<Choice> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for s in &p.sheets {
        for c in &s.columns {
            let key = header_key(&c.header);
            if c.origin == ColumnOrigin::Blank || key.is_empty() || !seen.insert(key) {
                continue;
            }
            let current = match (c.origin, c.meaning) {
                (ColumnOrigin::Organisation, Some(m)) => m.code().to_string(),
                (ColumnOrigin::Organisation, None) => ColumnMeaning::Ignore.code().to_string(),
                _ => STANDARD.to_string(),
            };
            out.push(Choice {
                header: c.header.clone(),
                current,
                standard_reading: standard_reading(&c.header, lang_en),
            });
        }
    }
    out
}

fn standard_reading(header: &str, lang_en: bool) -> String {
    match (match_header(header), match_line_header(header)) {
        (Some(f), _) => f.label(lang_en).to_string(),
        (None, Some(l)) => l.label(lang_en).to_string(),
        (None, None) => (if lang_en { "not recognised" } else { "未识别" }).to_string(),
    }
}

fn page_view(ctx: &Ctx, token: &str, p: &FilePreview, ui: Ui) -> PreviewPage {
    let lang_en = ctx.lang_en();
    PreviewPage {
        ui,
        token: token.to_string(),
        file_name: p.file_name.clone(),
        format: p.format.clone().unwrap_or_default(),
        error: p.error.as_ref().map(|e| if lang_en { e.en.clone() } else { e.zh.clone() }),
        sheets: p.sheets.iter().map(|s| sheet_view(s, lang_en)).collect(),
        choices: choices(p, lang_en),
        meanings: ColumnMeaning::all()
            .into_iter()
            .map(|m| MeaningOption { code: m.code(), label: m.label(lang_en) })
            .collect(),
        readable: p.sheets.iter().any(|s| s.status == app::SheetStatus::Read),
    }
}

async fn show(state: &AppState, ctx: &Ctx, token: &str, file: &SpooledFile, ui: Ui) -> AppResult<Response> {
    let p = app::preview_path(&state.app, ctx.actor(), &file.name, file.file.path()).await?;
    Ok(render(StatusCode::OK, &page_view(ctx, token, &p, ui)))
}

/// Holds a newly sent file and shows its preview.
pub async fn show_new(state: &AppState, ctx: &Ctx, file: SpooledFile) -> Response {
    // Checked before the file is held, so a user who may not share data holds nothing.
    if let Err(e) = lianrong_app::policy::require(ctx.actor(), lianrong_app::Permission::SubmitTrade) {
        return ctx.fail(&e);
    }
    let token = state.held.hold(&owner(ctx), file);
    see_other(&format!("/submissions/preview/{token}"))
}

fn expired() -> AppError {
    AppError::not_found("Previewed file (it waits 30 minutes; upload it again)", "预览的文件（保留30分钟，请重新上传）")
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    let Some(file) = state.held.get(&owner(&ctx), &token) else {
        return ctx.fail(&expired());
    };
    let ui = ctx.ui("submissions").done(q.get("ok"));
    ctx.respond(show(&state, &ctx, &token, &file, ui).await)
}

/// Saves the meanings the user changed, then shows the preview again or uploads the held file.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let who = owner(&ctx);
    if f.get("action") == "cancel" {
        let _ = state.held.take(&who, &token);
        return see_other("/submissions");
    }
    let Some(file) = state.held.get(&who, &token) else {
        return ctx.fail(&expired());
    };
    let changes = changes_of(&f);
    if !changes.is_empty()
        && let Err(e) = mapping::change(&state.app, ctx.actor(), &changes).await
    {
        let ui = ctx.ui("submissions").error(&e);
        return ctx.respond(show(&state, &ctx, &token, &file, ui).await.map(|mut r| {
            *r.status_mut() = crate::error::status_of(e.kind);
            r
        }));
    }
    drop(file);
    match f.get("action") {
        "upload" => upload_held(&state, &ctx, &who, &token).await,
        _ => see_other(&format!("/submissions/preview/{token}?ok=mapped")),
    }
}

/// The form's (header, meaning, current) triples whose meaning the user changed.
fn changes_of(f: &Params) -> Vec<MappingChange> {
    let (headers, meanings, currents) = (f.all("header"), f.all("meaning"), f.all("current"));
    headers
        .into_iter()
        .zip(meanings)
        .zip(currents)
        .filter(|((_, meaning), current)| meaning != current)
        .map(|((header, meaning), _)| MappingChange { header, meaning })
        .collect()
}

async fn upload_held(state: &AppState, ctx: &Ctx, who: &str, token: &str) -> Response {
    let Some(file) = state.held.take(who, token) else {
        return ctx.fail(&expired());
    };
    match process_spooled(&state.app, ctx.actor(), file, state.config.upload_answer_wait()).await {
        Ok(Processed::Done(report)) => see_other(&format!("/submissions/{}?ok=uploaded", report.submission_id)),
        Ok(Processed::Pending(id)) => see_other(&format!("/submissions/{id}?ok=processing")),
        Err(e) => ctx.fail(&e.error),
    }
}
