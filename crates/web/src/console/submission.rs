//! Submissions to the data lake in the console: an organisation's submissions with the upload form (the
//! second of the three channels), each submission's report with its files and row issues, and the raw
//! bytes as received. The operator, as the lake's custodian, sees every organisation's; everyone else
//! sees their own. The records they became are in `trade`, the standard they follow in `standard`.

use askama::Template;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianrong_app::submission::{FileRow, IssueRow, SubmissionRow};
use lianrong_app::{AppError, AppResult, ErrorKind, Permission, submission as app, trade};
use lianrong_domain::Money;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::submission::{Channel, Severity, SubmissionStatus};
use lianrong_domain::trade::{Field as StdField, RecordType};

use super::ctx::Ctx;
use super::form::{Pager, Params, QueryData};
use super::label::{channel_label, label_of, or_dash};
use super::page::{Ui, render, see_other, time_or_dash};
use crate::state::AppState;
use crate::upload::{Processed, SpooledFile, UPLOAD_BODY_BYTES_MAX, next_part, process_spooled, spool};

/// The upload route's body limit: a file at the upload limit, not the console's small-form limit.
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(UPLOAD_BODY_BYTES_MAX)
}

/// The file types the upload form offers (the pipeline also reads what it finds inside a ZIP).
const ACCEPTED_FILES: &str = ".csv,.xlsx,.xls,.zip";

/// A CSRF token is 64 hex characters; anything much longer is not one.
const CSRF_FIELD_BYTES_MAX: usize = 256;

/// Whether the actor keeps the lake for everyone (and so sees every organisation's submissions).
pub(super) fn custodian(ctx: &Ctx) -> bool {
    ctx.actor().org_kind == OrgKind::Operator
}

/// Those who share data through the console: administrators and finance staff of cores and suppliers.
fn may_upload(ctx: &Ctx) -> bool {
    matches!(ctx.actor().org_kind, OrgKind::Core | OrgKind::Supplier) && ctx.allows(Permission::SubmitTrade)
}

// ---- the list of submissions and the upload form ----

pub struct SubmissionItem {
    pub id: String,
    pub org_name: String,
    pub channel: String,
    pub source: String,
    pub status: String,
    pub status_code: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub received: String,
}

fn submission_item(s: &SubmissionRow, lang_en: bool) -> SubmissionItem {
    SubmissionItem {
        id: s.id.clone(),
        org_name: s.org_name.clone(),
        channel: channel_label(&s.channel, lang_en),
        source: s.source.clone(),
        status: label_of(&s.status, |c| SubmissionStatus::parse(c).ok(), |c| c.label(lang_en)),
        status_code: s.status.clone(),
        rows_total: s.rows_total,
        accepted: s.accepted,
        unchanged: s.unchanged,
        rejected: s.rejected,
        warnings: s.warnings,
        received: lianrong_app::display_time(s.received_at_ms),
    }
}

/// One record type's templates.
pub struct TemplateLink {
    pub code: &'static str,
    pub label: &'static str,
}

pub fn template_links(lang_en: bool) -> Vec<TemplateLink> {
    RecordType::ALL.iter().map(|rt| TemplateLink { code: rt.code(), label: rt.label(lang_en) }).collect()
}

#[derive(Template)]
#[template(path = "submissions.html")]
struct SubmissionsPage {
    ui: Ui,
    rows: Vec<SubmissionItem>,
    pager: Pager,
    tab: &'static str,
    custodian: bool,
    enterprise: bool,
    can_upload: bool,
    accept: &'static str,
    templates: Vec<TemplateLink>,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q, None).await)
}

/// The list; after a failed upload, with the error above it and the error's status.
async fn list_page(state: &AppState, ctx: &Ctx, q: &Params, failed: Option<&Failed>) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let page = app::list(&state.app, ctx.actor(), q.page()?).await?;
    let mut ui = ctx.ui("submissions");
    if let Some(f) = failed {
        ui = ui.error(&f.error);
    }
    let view = SubmissionsPage {
        ui,
        rows: page.items.iter().map(|s| submission_item(s, lang)).collect(),
        pager: Pager::new(&page, "/submissions", &[]),
        tab: "submissions",
        custodian: custodian(ctx),
        enterprise: matches!(ctx.actor().org_kind, OrgKind::Core | OrgKind::Supplier),
        can_upload: may_upload(ctx),
        accept: ACCEPTED_FILES,
        templates: template_links(lang),
    };
    Ok(render(failed.map_or(StatusCode::OK, |f| f.status), &view))
}

/// An upload that went wrong: the error and the status the page answers with (400 for a broken form,
/// 413 for a file over the limit, else the error kind's).
struct Failed {
    status: StatusCode,
    error: AppError,
}

impl From<crate::error::ApiError> for Failed {
    fn from(e: crate::error::ApiError) -> Failed {
        let status = e.status.unwrap_or_else(|| crate::error::status_of(e.error.kind));
        Failed { status, error: e.error }
    }
}

impl From<AppError> for Failed {
    fn from(error: AppError) -> Failed {
        Failed { status: crate::error::status_of(error.kind), error }
    }
}

/// Why an upload ended without a report.
enum UploadError {
    /// The CSRF token was missing, came after the file, or was wrong: answered before any file is read.
    Refused(Response),
    Failed(Failed),
}

impl<E: Into<Failed>> From<E> for UploadError {
    fn from(e: E) -> UploadError {
        UploadError::Failed(e.into())
    }
}

/// The console's upload form: `multipart/form-data` with the CSRF token first and the file after it.
/// Browsers send a form's fields in document order, so the token is checked before a byte of the file is
/// read; a file arriving before a valid token is refused unread.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let outcome = match multipart {
        Ok(m) => receive(&state, &ctx, m).await,
        Err(r) => Err(UploadError::Failed(Failed {
            status: StatusCode::BAD_REQUEST,
            error: AppError::new(
                ErrorKind::Invalid,
                "multipart_invalid",
                format!("The upload form could not be read: {}", r.body_text()),
                "无法读取上传表单，请返回页面后重新上传",
            ),
        })),
    };
    match outcome {
        Ok((id, true)) => see_other(&format!("/submissions/{id}?ok=uploaded")),
        Ok((id, false)) => see_other(&format!("/submissions/{id}?ok=processing")),
        Err(UploadError::Refused(r)) => r,
        Err(UploadError::Failed(f)) => ctx.respond(list_page(&state, &ctx, &Params::default(), Some(&f)).await),
    }
}

/// The upload form's other button: the file is read and held, and its preview shown, before anything is
/// stored (see `preview`).
pub async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let spooled = match multipart {
        Ok(m) => receive_file(&ctx, m).await,
        Err(r) => Err(UploadError::Failed(Failed {
            status: StatusCode::BAD_REQUEST,
            error: AppError::new(
                ErrorKind::Invalid,
                "multipart_invalid",
                format!("The upload form could not be read: {}", r.body_text()),
                "无法读取上传表单，请返回页面后重新上传",
            ),
        })),
    };
    match spooled {
        Ok(file) => super::preview::show_new(&state, &ctx, file).await,
        Err(UploadError::Refused(r)) => r,
        Err(UploadError::Failed(f)) => ctx.respond(list_page(&state, &ctx, &Params::default(), Some(&f)).await),
    }
}

/// Answers the submission's id and whether its processing finished while the request waited.
async fn receive(state: &AppState, ctx: &Ctx, multipart: Multipart) -> Result<(String, bool), UploadError> {
    let spooled = receive_file(ctx, multipart).await?;
    Ok(
        match process_spooled(&state.app, ctx.actor(), std::sync::Arc::new(spooled), state.config.upload_answer_wait())
            .await?
        {
            Processed::Done(report) => (report.submission_id, true),
            Processed::Pending(id) => (id, false),
        },
    )
}

/// Reads the form's token, then spools its file.
async fn receive_file(ctx: &Ctx, mut multipart: Multipart) -> Result<SpooledFile, UploadError> {
    let mut token_checked = false;
    while let Some(field) = next_part(&mut multipart).await? {
        match field.name() {
            Some("csrf_token") => {
                let token = small_text(field).await?;
                if let Some(refusal) = ctx.csrf_refusal(&Params(vec![("csrf_token".into(), token)])) {
                    return Err(UploadError::Refused(refusal));
                }
                token_checked = true;
            }
            Some("file") if !token_checked => return Err(UploadError::Refused(token_refusal(ctx))),
            Some("file") => {
                if field.file_name().is_none_or(|n| n.trim().is_empty()) {
                    return Err(no_file().into());
                }
                return Ok(spool(field).await?);
            }
            _ => {}
        }
    }
    if token_checked { Err(no_file().into()) } else { Err(UploadError::Refused(token_refusal(ctx))) }
}

/// The 403 page for a form without its token.
fn token_refusal(ctx: &Ctx) -> Response {
    ctx.csrf_refusal(&Params::default())
        .unwrap_or_else(|| ctx.fail(&AppError::forbidden("The form's security token is missing", "表单安全令牌缺失")))
}

fn no_file() -> AppError {
    AppError::invalid("file", "file_missing", "Choose a file to upload", "请选择要上传的文件")
}

/// A short text field, read with a bound so that a huge "token" cannot fill memory.
async fn small_text(mut field: Field<'_>) -> Result<String, UploadError> {
    let mut bytes = Vec::new();
    let interrupted = |e: axum::extract::multipart::MultipartError| {
        let error = AppError::new(
            ErrorKind::Invalid,
            "upload_interrupted",
            format!("The upload was interrupted: {e}"),
            "上传中断，请重新上传",
        );
        UploadError::Failed(Failed { status: StatusCode::BAD_REQUEST, error })
    };
    while let Some(chunk) = field.chunk().await.map_err(interrupted)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > CSRF_FIELD_BYTES_MAX {
            return Ok(String::new());
        }
    }
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

// ---- one submission's report ----

pub struct ReportView {
    pub id: String,
    pub org_name: String,
    pub channel: String,
    pub source: String,
    pub media_type: String,
    pub raw_sm3: String,
    pub raw_size: String,
    pub status: String,
    pub status_code: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub file_errors: i64,
    pub error: Option<String>,
    pub submitted_by: String,
    pub received: String,
    pub finished: String,
    pub log_leaf: String,
}

fn report_view(s: &SubmissionRow, lang_en: bool) -> ReportView {
    let item = submission_item(s, lang_en);
    let error = match (&s.error_code, if lang_en { &s.error_en } else { &s.error_zh }) {
        (Some(code), Some(message)) => Some(format!("{message} ({code})")),
        (Some(code), None) => Some(code.clone()),
        (None, Some(message)) => Some(message.clone()),
        (None, None) => None,
    };
    ReportView {
        id: s.id.clone(),
        org_name: s.org_name.clone(),
        channel: item.channel,
        source: s.source.clone(),
        media_type: s.media_type.clone(),
        raw_sm3: s.raw_sm3.clone(),
        raw_size: size_text(s.raw_size_bytes),
        status: item.status,
        status_code: s.status.clone(),
        rows_total: s.rows_total,
        accepted: s.accepted,
        unchanged: s.unchanged,
        rejected: s.rejected,
        warnings: s.warnings,
        file_errors: s.file_errors,
        error,
        submitted_by: s.submitted_by.clone(),
        received: item.received,
        finished: time_or_dash(s.finished_at_ms),
        log_leaf: s.log_leaf_id.map_or_else(|| "—".to_string(), |n| n.to_string()),
    }
}

/// Bytes as the reader counts them: 1,234 B, 56.7 KiB, 12.3 MiB.
fn size_text(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / KIB / KIB)
    }
}

pub struct FileView {
    pub name: String,
    pub format: String,
    pub encoding: String,
    pub size: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub error: String,
}

fn file_view(f: &FileRow, lang_en: bool) -> FileView {
    FileView {
        name: f.name.clone(),
        format: f.format.clone(),
        encoding: or_dash(f.encoding.as_deref()),
        size: size_text(f.size_bytes),
        rows_total: f.rows_total,
        accepted: f.accepted,
        unchanged: f.unchanged,
        rejected: f.rejected,
        error: or_dash(if lang_en { f.error_en.as_deref() } else { f.error_zh.as_deref() }),
    }
}

pub struct IssueView {
    pub seq: i64,
    pub severity: &'static str,
    pub severity_code: String,
    pub file_name: String,
    pub sheet: String,
    pub row_no: String,
    pub field_label: String,
    pub field_code: String,
    pub code: String,
    pub message: String,
    pub raw_text: Option<String>,
}

fn issue_view(i: &IssueRow, lang_en: bool) -> IssueView {
    let field_code = i.field.clone().unwrap_or_default();
    IssueView {
        seq: i.seq,
        severity: Severity::parse(&i.severity).map_or("", |s| s.label(lang_en)),
        severity_code: i.severity.clone(),
        file_name: i.file_name.clone(),
        sheet: or_dash(i.sheet.as_deref()),
        row_no: i.row_no.map_or_else(|| "—".to_string(), |n| n.to_string()),
        field_label: if field_code.is_empty() {
            "—".to_string()
        } else {
            label_of(&field_code, |c| StdField::parse(c).ok(), |f| f.label(lang_en))
        },
        field_code,
        code: i.code.clone(),
        message: if lang_en { i.en.clone() } else { i.zh.clone() },
        raw_text: i.raw_text.clone().filter(|t| !t.is_empty()),
    }
}

#[derive(Template)]
#[template(path = "submission.html")]
struct ReportPage {
    ui: Ui,
    s: ReportView,
    files: Vec<FileView>,
    issues: Vec<IssueView>,
    pager: Pager,
    custodian: bool,
}

pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(report_page(&state, &ctx, &id, &q).await)
}

async fn report_page(state: &AppState, ctx: &Ctx, id: &str, q: &Params) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let s = app::get(&state.app, ctx.actor(), id).await?;
    let files = app::files(&state.app, ctx.actor(), id).await?;
    let issues = app::issues(&state.app, ctx.actor(), id, q.seek()?).await?;
    let view = ReportPage {
        ui: ctx.ui("submissions").done(q.get("ok")),
        s: report_view(&s, lang),
        files: files.iter().map(|f| file_view(f, lang)).collect(),
        issues: issues.page.items.iter().map(|i| issue_view(i, lang)).collect(),
        pager: Pager::keyed(&issues, &format!("/submissions/{id}"), &[]),
        custodian: custodian(ctx),
    };
    Ok(render(StatusCode::OK, &view))
}

/// The raw bytes exactly as received (checked against their SM3 digest by the app), as a download.
pub async fn raw(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    match app::raw(&state.app, ctx.actor(), &id).await {
        Ok((row, bytes)) => {
            let media = HeaderValue::from_str(&row.media_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
            let mut resp = (StatusCode::OK, bytes).into_response();
            let headers = resp.headers_mut();
            headers.insert(header::CONTENT_TYPE, media);
            if let Ok(v) = HeaderValue::from_str(&attachment(&row)) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("sm3:{}", row.raw_sm3)) {
                headers.insert("x-content-sm3", v);
            }
            resp
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `attachment` with an ASCII name for old clients and the UTF-8 name (RFC 6266/5987) for the rest: an
/// upload keeps its file name; other channels get one made of the channel and id.
fn attachment(row: &SubmissionRow) -> String {
    let ext = match row.media_type.split(';').next().unwrap_or("").trim() {
        "text/csv" => "csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.ms-excel" => "xls",
        "application/zip" => "zip",
        "application/json" => "json",
        "message/rfc822" => "eml",
        _ => "bin",
    };
    let fallback = format!("{}-{}.{ext}", row.channel, row.id);
    let name = if row.channel == Channel::Upload.code() { safe_file_name(&row.source) } else { fallback.clone() };
    let ascii: String = fallback.chars().filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c)).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", rfc5987(&name))
}

fn safe_file_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_control() || "/\\\"".contains(c) { '_' } else { c }).collect();
    if cleaned.trim().is_empty() { "upload".to_string() } else { cleaned }
}

/// Percent-encodes all but RFC 5987's attr-chars.
fn rfc5987(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- the home page's tile ----

pub struct TypeCount {
    pub label: &'static str,
    pub code: &'static str,
    pub n: i64,
    pub amount: String,
}

/// What a core or supplier has shared with the lake, for its home page.
pub struct LakeTile {
    pub submissions: i64,
    pub records: i64,
    pub by_type: Vec<TypeCount>,
}

pub async fn home_tile(state: &AppState, ctx: &Ctx) -> AppResult<LakeTile> {
    let actor = ctx.actor();
    let submissions = app::list(&state.app, actor, PageRequest { page: 1, page_size: 1 }).await?.total;
    let totals = trade::totals(&state.app, actor).await?;
    let by_type: Vec<TypeCount> = RecordType::ALL
        .iter()
        .map(|rt| {
            let (n, fen) = totals.iter().find(|(code, _, _)| code == rt.code()).map_or((0, 0), |(_, n, f)| (*n, *f));
            TypeCount {
                label: rt.label(ctx.lang_en()),
                code: rt.code(),
                n,
                amount: Money::from_fen(fen).display_yuan(),
            }
        })
        .collect();
    Ok(LakeTile { submissions, records: by_type.iter().map(|c| c.n).sum(), by_type })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_unit_that_fits() {
        assert_eq!(size_text(512), "512 B");
        assert_eq!(size_text(1536), "1.5 KiB");
        assert_eq!(size_text(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn download_names_keep_the_uploaded_name_safely() {
        assert_eq!(rfc5987("2026年 发票.csv"), "2026%E5%B9%B4%20%E5%8F%91%E7%A5%A8.csv");
        assert_eq!(safe_file_name("a/b\"c\r.csv"), "a_b_c_.csv");
        assert_eq!(safe_file_name("  "), "upload");
    }
}
