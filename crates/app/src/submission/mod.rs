//! Submissions to the data lake through the three channels (API, designated-account upload,
//! designated mailbox), all through one pipeline: the raw bytes go to the raw zone first, addressed by
//! their SM3 digest, so nothing is ever lost; then the files are decoded, their columns matched to the
//! data standard, every row validated, and the good rows staged batch by batch in short transactions,
//! then made current as canonical records with lineage in one final transaction with the submission's
//! report. A re-sent file finds every record unchanged; a changed
//! record becomes a new version. Afterwards the touched curated partitions are republished as Parquet.

mod ingest;
mod preview;
mod report;

use lianrong_domain::limits::{SOURCE_NAME_CHARS_MAX, UPLOAD_BYTES_MAX};
use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};
use lianrong_domain::submission::{Channel, SubmissionStatus};
use lianrong_store::StoreError;
use lianrong_store::submission::{self as store, SubmissionScope};

use crate::error::{AppError, AppResult, ErrorKind, lake_error};
use crate::policy::{Actor, Permission};
use crate::{App, audit, new_id, now_ms};

pub use ingest::RowSource;
pub use preview::{ColumnPreview, FilePreview, Problem, SampleRow, SheetPreview, SheetStatus, preview_path};
pub use report::{REPORT_ROW_ERRORS_MAX, RowErrorReport, SubmissionReport};

/// The app's read views of submissions, their files and issues: plain data, decoded in the store; the API and
/// console show them.
pub use lianrong_store::submission::{FileRow, IssueRow, SubmissionRow};

/// One file to parse (an attachment, an uploaded file).
#[derive(Debug, Clone)]
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What arrived through a channel.
#[derive(Debug, Clone)]
pub struct SubmissionInput {
    pub channel: Channel,
    /// A human description: the file name, or "mail from a@b.cn: subject".
    pub source: String,
    /// The whole message, file or body, stored byte for byte before parsing.
    pub raw: Vec<u8>,
    pub media_type: String,
    /// The files to parse (for an upload, the file itself; for mail, its attachments).
    pub files: Vec<InputFile>,
}

/// Takes a submission through the pipeline and answers its report.
pub async fn submit(app: &App, actor: &Actor, input: SubmissionInput) -> AppResult<SubmissionReport> {
    let action = "submission.submit";
    audit::guard(app, actor, Permission::SubmitTrade, action, "submission", "").await?;
    if let Err(e) = crate::policy::guard_trade_sharer(actor) {
        audit::refused(app, actor, action, "submission", "", &e.en).await;
        return Err(e);
    }
    if input.raw.len() as u64 > UPLOAD_BYTES_MAX {
        return Err(too_large());
    }
    let files: Vec<(String, ingest::FileSource)> = input
        .files
        .iter()
        .map(|f| (f.name.clone(), ingest::FileSource::Bytes(bytes::Bytes::from(f.bytes.clone()))))
        .collect();
    let received = receive(app, actor, &input).await?;
    ingest::run(app, actor, received, RowSource::Files(files)).await
}

/// A submission whose raw bytes are safe in the raw zone and whose processing has not run yet.
#[derive(Debug)]
pub struct Received(SubmissionRow);

impl Received {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

/// A large file on disk (an upload spooled while it arrived, or a benchmark's file): streamed into the
/// raw zone and parsed from disk, so memory stays bounded whatever its size.
pub async fn submit_path(
    app: &App,
    actor: &Actor,
    channel: Channel,
    name: &str,
    path: &std::path::Path,
) -> AppResult<SubmissionReport> {
    let received = receive_path(app, actor, channel, name, path).await?;
    process_path(app, actor, received, name, path).await
}

/// The first half of [`submit_path`]: checks, stores the raw bytes and records the submission as
/// received, so a caller that cannot wait for the processing can answer with its id at once.
pub async fn receive_path(
    app: &App,
    actor: &Actor,
    channel: Channel,
    name: &str,
    path: &std::path::Path,
) -> AppResult<Received> {
    let action = "submission.submit";
    audit::guard(app, actor, Permission::SubmitTrade, action, "submission", "").await?;
    if let Err(e) = crate::policy::guard_trade_sharer(actor) {
        audit::refused(app, actor, action, "submission", "", &e.en).await;
        return Err(e);
    }
    let size = tokio::fs::metadata(path).await.map_err(|e| unreadable(&e))?.len();
    if size > UPLOAD_BYTES_MAX {
        return Err(too_large());
    }
    let file = tokio::fs::File::open(path).await.map_err(|e| unreadable(&e))?;
    let raw = app.lake.raw().put_stream(file).await.map_err(lake_error)?;
    let input = SubmissionInput {
        channel,
        source: name.to_string(),
        raw: Vec::new(),
        media_type: media_type_of(name).to_string(),
        files: Vec::new(),
    };
    Ok(Received(record_received(app, actor, &input, raw).await?))
}

/// The second half of [`submit_path`]: parses the file and records its rows and report.
pub async fn process_path(
    app: &App,
    actor: &Actor,
    received: Received,
    name: &str,
    path: &std::path::Path,
) -> AppResult<SubmissionReport> {
    ingest::run(
        app,
        actor,
        received.0,
        RowSource::Files(vec![(name.to_string(), ingest::FileSource::Path(path.into()))]),
    )
    .await
}

/// A JSON batch through the direct link: `records` are objects keyed by the standard's field codes.
pub async fn submit_records(
    app: &App,
    actor: &Actor,
    raw_body: Vec<u8>,
    source: &str,
    records: Vec<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<SubmissionReport> {
    let action = "submission.submit";
    audit::guard(app, actor, Permission::SubmitTrade, action, "submission", "").await?;
    if let Err(e) = crate::policy::guard_trade_sharer(actor) {
        audit::refused(app, actor, action, "submission", "", &e.en).await;
        return Err(e);
    }
    let input = SubmissionInput {
        channel: Channel::Api,
        source: source.to_string(),
        raw: raw_body,
        media_type: "application/json".into(),
        files: Vec::new(),
    };
    let received = receive(app, actor, &input).await?;
    ingest::run(app, actor, received, RowSource::Json(records)).await
}

/// Keeps the raw bytes and records a refused submission without parsing it (mail from an unknown
/// sender…), so that the operator can see what was refused and why.
pub async fn refuse(app: &App, org_id: &str, input: SubmissionInput, reason: &AppError) -> AppResult<String> {
    let raw = app.lake.raw().put(input.raw.clone()).await.map_err(lake_error)?;
    let now = now_ms();
    let row = SubmissionRow {
        id: new_id(),
        org_id: org_id.to_string(),
        org_name: String::new(),
        channel: input.channel.code().to_string(),
        source: clip(&input.source),
        media_type: input.media_type.clone(),
        raw_sm3: raw.sm3_hex,
        raw_size_bytes: raw.size_bytes as i64,
        status: SubmissionStatus::Refused.code().to_string(),
        rows_total: 0,
        accepted: 0,
        unchanged: 0,
        rejected: 0,
        warnings: 0,
        file_errors: 0,
        error_code: Some(reason.code.to_string()),
        error_en: Some(reason.en.clone()),
        error_zh: Some(reason.zh.clone()),
        submitted_by: input.source.chars().take(100).collect(),
        log_leaf_id: None,
        received_at_ms: now,
        finished_at_ms: Some(now),
    };
    let mut conn = app.db.acquire().await?;
    store::insert(&mut conn, &row).await?;
    tracing::warn!(org = %org_id, code = reason.code, "submission refused; raw bytes kept");
    Ok(row.id)
}

/// Stores the raw bytes and every file's bytes in the raw zone, then records the submission as received.
async fn receive(app: &App, actor: &Actor, input: &SubmissionInput) -> AppResult<SubmissionRow> {
    let raw = app.lake.raw().put(input.raw.clone()).await.map_err(lake_error)?;
    for f in &input.files {
        if f.bytes != input.raw {
            app.lake.raw().put(f.bytes.clone()).await.map_err(lake_error)?;
        }
    }
    record_received(app, actor, input, raw).await
}

async fn record_received(
    app: &App,
    actor: &Actor,
    input: &SubmissionInput,
    raw: lianrong_lake::raw::RawRef,
) -> AppResult<SubmissionRow> {
    let row = SubmissionRow {
        id: new_id(),
        org_id: actor.org_id.clone(),
        org_name: actor.org_name.clone(),
        channel: input.channel.code().to_string(),
        source: clip(&input.source),
        media_type: input.media_type.clone(),
        raw_sm3: raw.sm3_hex,
        raw_size_bytes: raw.size_bytes as i64,
        status: SubmissionStatus::Received.code().to_string(),
        rows_total: 0,
        accepted: 0,
        unchanged: 0,
        rejected: 0,
        warnings: 0,
        file_errors: 0,
        error_code: None,
        error_en: None,
        error_zh: None,
        submitted_by: actor.trail_name(),
        log_leaf_id: None,
        received_at_ms: now_ms(),
        finished_at_ms: None,
    };
    let mut conn = app.db.acquire().await?;
    store::insert(&mut conn, &row).await?;
    Ok(row)
}

fn clip(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() { "(unnamed)".into() } else { s.chars().take(SOURCE_NAME_CHARS_MAX).collect() }
}

pub fn media_type_of(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    if lower.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if lower.ends_with(".xls") {
        "application/vnd.ms-excel"
    } else if lower.ends_with(".zip") {
        "application/zip"
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") || lower.ends_with(".tsv") {
        "text/csv"
    } else {
        "application/octet-stream"
    }
}

fn too_large() -> AppError {
    AppError::invalid(
        "file",
        "file_too_large",
        format!("The file is larger than the limit of {} MiB", UPLOAD_BYTES_MAX / 1024 / 1024),
        format!("文件超过 {} MiB 的上限", UPLOAD_BYTES_MAX / 1024 / 1024),
    )
}

fn unreadable(e: &std::io::Error) -> AppError {
    tracing::error!(error = %e, "cannot read a spooled upload");
    AppError::new(ErrorKind::Internal, "upload_unreadable", "The upload could not be read", "无法读取上传的文件")
}

fn scope(actor: &Actor) -> SubmissionScope {
    use lianrong_domain::org::OrgKind;
    if actor.system || actor.org_kind == OrgKind::Operator {
        SubmissionScope::All
    } else {
        SubmissionScope::Org { org_id: actor.org_id.clone() }
    }
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<SubmissionRow>> {
    crate::policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &scope(actor), page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<SubmissionRow> {
    crate::policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    let row = store::get(&mut conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Submission", "报送批次"),
        other => other.into(),
    })?;
    // The operator reads other organisations' submissions as the lake's custodian: each read is audited.
    if !actor.system && row.org_id != actor.org_id {
        audit::ok_in(&mut conn, actor, "submission.read", "submission", id, "custodian read").await?;
    }
    Ok(row)
}

pub async fn files(app: &App, actor: &Actor, id: &str) -> AppResult<Vec<FileRow>> {
    get(app, actor, id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::files(&mut conn, id).await?)
}

pub async fn issues(app: &App, actor: &Actor, id: &str, seek: impl Into<Seek>) -> AppResult<KeyedPage<IssueRow>> {
    get(app, actor, id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::issues(&mut conn, id, &seek.into()).await?)
}

/// The submission's raw bytes, re-checked against their digest (a tampered raw object is refused).
pub async fn raw(app: &App, actor: &Actor, id: &str) -> AppResult<(SubmissionRow, bytes::Bytes)> {
    let row = get(app, actor, id).await?;
    let bytes = app.lake.raw().get(&row.raw_sm3).await.map_err(lake_error)?;
    Ok((row, bytes))
}
