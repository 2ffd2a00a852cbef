//! Submissions, their files and their report lines (row errors and warnings).

use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::keyset::{self, KeyColumn, KeyedList};
use crate::{Conn, Result, StoreError, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub channel: String,
    pub source: String,
    pub media_type: String,
    pub raw_sm3: String,
    pub raw_size_bytes: i64,
    pub status: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub file_errors: i64,
    pub error_code: Option<String>,
    pub error_en: Option<String>,
    pub error_zh: Option<String>,
    pub submitted_by: String,
    pub log_leaf_id: Option<i64>,
    pub received_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT s.id, s.org_id, o.name AS org_name, s.channel, s.source, s.media_type, s.raw_sm3, \
    s.raw_size_bytes, s.status, s.rows_total, s.accepted, s.unchanged, s.rejected, s.warnings, s.file_errors, \
    s.error_code, s.error_en, s.error_zh, s.submitted_by, s.log_leaf_id, s.received_at_ms, s.finished_at_ms \
    FROM submission s JOIN organisation o ON o.id = s.org_id";

fn from_row(r: &AnyRow) -> Result<SubmissionRow> {
    Ok(SubmissionRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        channel: r.try_get("channel")?,
        source: r.try_get("source")?,
        media_type: r.try_get("media_type")?,
        raw_sm3: r.try_get("raw_sm3")?,
        raw_size_bytes: r.try_get("raw_size_bytes")?,
        status: r.try_get("status")?,
        rows_total: r.try_get("rows_total")?,
        accepted: r.try_get("accepted")?,
        unchanged: r.try_get("unchanged")?,
        rejected: r.try_get("rejected")?,
        warnings: r.try_get("warnings")?,
        file_errors: r.try_get("file_errors")?,
        error_code: r.try_get("error_code")?,
        error_en: r.try_get("error_en")?,
        error_zh: r.try_get("error_zh")?,
        submitted_by: r.try_get("submitted_by")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
        received_at_ms: r.try_get("received_at_ms")?,
        finished_at_ms: r.try_get("finished_at_ms")?,
    })
}

/// Records a received submission (its raw bytes are already in the raw zone).
pub async fn insert(conn: &mut Conn, s: &SubmissionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO submission (id, org_id, channel, source, media_type, raw_sm3, raw_size_bytes, status, \
         error_code, error_en, error_zh, submitted_by, received_at_ms, finished_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(s.id.clone())
    .bind(s.org_id.clone())
    .bind(s.channel.clone())
    .bind(s.source.clone())
    .bind(s.media_type.clone())
    .bind(s.raw_sm3.clone())
    .bind(s.raw_size_bytes)
    .bind(s.status.clone())
    .bind(s.error_code.clone())
    .bind(s.error_en.clone())
    .bind(s.error_zh.clone())
    .bind(s.submitted_by.clone())
    .bind(s.received_at_ms)
    .bind(s.finished_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// The outcome of processing, written in the same transaction as the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub status: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub file_errors: i64,
    pub error_code: Option<String>,
    pub error_en: Option<String>,
    pub error_zh: Option<String>,
    pub log_leaf_id: Option<i64>,
    pub finished_at_ms: i64,
}

pub async fn finish(conn: &mut Conn, id: &str, o: &Outcome) -> Result<()> {
    let done = sqlx::query(
        "UPDATE submission SET status = $2, rows_total = $3, accepted = $4, unchanged = $5, rejected = $6, \
         warnings = $7, file_errors = $8, error_code = $9, error_en = $10, error_zh = $11, log_leaf_id = $12, \
         finished_at_ms = $13 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(o.status.clone())
    .bind(o.rows_total)
    .bind(o.accepted)
    .bind(o.unchanged)
    .bind(o.rejected)
    .bind(o.warnings)
    .bind(o.file_errors)
    .bind(o.error_code.clone())
    .bind(o.error_en.clone())
    .bind(o.error_zh.clone())
    .bind(o.log_leaf_id)
    .bind(o.finished_at_ms)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Which submissions a query may return.
#[derive(Debug, Clone)]
pub enum SubmissionScope {
    /// The operator, as the lake's custodian.
    All,
    Org {
        org_id: String,
    },
}

fn scope_binds(scope: &SubmissionScope) -> (i64, String) {
    match scope {
        SubmissionScope::All => (1, String::new()),
        SubmissionScope::Org { org_id } => (0, org_id.clone()),
    }
}

pub async fn get(conn: &mut Conn, scope: &SubmissionScope, id: &str) -> Result<SubmissionRow> {
    let (all, org) = scope_binds(scope);
    let r = sqlx::query(AssertSqlSafe(format!("{SELECT} WHERE s.id = $3 AND ($1 = 1 OR s.org_id = $2)")))
        .bind(all)
        .bind(org)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

pub async fn list(conn: &mut Conn, scope: &SubmissionScope, page: PageRequest) -> Result<Page<SubmissionRow>> {
    let (all, org) = scope_binds(scope);
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM submission s WHERE ($1 = 1 OR s.org_id = $2)")
        .bind(all)
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{SELECT} WHERE ($1 = 1 OR s.org_id = $2) ORDER BY s.received_at_ms DESC, s.id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(all)
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub submission_id: String,
    pub file_no: i64,
    pub name: String,
    pub raw_sm3: String,
    pub size_bytes: i64,
    pub format: String,
    pub encoding: Option<String>,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub error_code: Option<String>,
    pub error_en: Option<String>,
    pub error_zh: Option<String>,
}

pub async fn insert_file(conn: &mut Conn, f: &FileRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO submission_file (submission_id, file_no, name, raw_sm3, size_bytes, format, encoding, \
         rows_total, accepted, unchanged, rejected, error_code, error_en, error_zh) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(f.submission_id.clone())
    .bind(f.file_no)
    .bind(f.name.clone())
    .bind(f.raw_sm3.clone())
    .bind(f.size_bytes)
    .bind(f.format.clone())
    .bind(f.encoding.clone())
    .bind(f.rows_total)
    .bind(f.accepted)
    .bind(f.unchanged)
    .bind(f.rejected)
    .bind(f.error_code.clone())
    .bind(f.error_en.clone())
    .bind(f.error_zh.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn files(conn: &mut Conn, submission_id: &str) -> Result<Vec<FileRow>> {
    let rows = sqlx::query(
        "SELECT submission_id, file_no, name, raw_sm3, size_bytes, format, encoding, rows_total, accepted, \
         unchanged, rejected, error_code, error_en, error_zh FROM submission_file WHERE submission_id = $1 \
         ORDER BY file_no",
    )
    .bind(submission_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FileRow {
                submission_id: r.try_get("submission_id")?,
                file_no: r.try_get("file_no")?,
                name: r.try_get("name")?,
                raw_sm3: r.try_get("raw_sm3")?,
                size_bytes: r.try_get("size_bytes")?,
                format: r.try_get("format")?,
                encoding: r.try_get("encoding")?,
                rows_total: r.try_get("rows_total")?,
                accepted: r.try_get("accepted")?,
                unchanged: r.try_get("unchanged")?,
                rejected: r.try_get("rejected")?,
                error_code: r.try_get("error_code")?,
                error_en: r.try_get("error_en")?,
                error_zh: r.try_get("error_zh")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRow {
    pub seq: i64,
    pub severity: String,
    pub file_name: String,
    pub sheet: Option<String>,
    pub row_no: Option<i64>,
    pub field: Option<String>,
    pub code: String,
    pub en: String,
    pub zh: String,
    pub raw_text: Option<String>,
}

/// Rows per multi-row INSERT of report lines (11 binds each).
const ISSUE_BATCH_ROWS_MAX: usize = 1_000;

pub async fn insert_issues(conn: &mut Conn, submission_id: &str, issues: &[IssueRow]) -> Result<()> {
    for chunk in issues.chunks(ISSUE_BATCH_ROWS_MAX) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| crate::dialect::placeholders(conn, i * 11 + 1, 11)).collect();
        let sql = format!(
            "INSERT INTO submission_issue (submission_id, seq, severity, file_name, sheet, row_no, field, code, en, \
             zh, raw_text) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(submission_id.to_string())
                .bind(i.seq)
                .bind(i.severity.clone())
                .bind(i.file_name.clone())
                .bind(i.sheet.clone())
                .bind(i.row_no)
                .bind(i.field.clone())
                .bind(i.code.clone())
                .bind(i.en.clone())
                .bind(i.zh.clone())
                .bind(i.raw_text.clone());
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

/// A submission's report lines in the order they were found, paged by key.
pub async fn issues(conn: &mut Conn, submission_id: &str, seek: &Seek) -> Result<KeyedPage<IssueRow>> {
    let list = KeyedList {
        from: "submission_issue",
        columns: "seq, severity, file_name, sheet, row_no, field, code, en, zh, raw_text",
        key: &[KeyColumn::Int("seq")],
        descending: false,
        arms: vec!["submission_id = $1"],
        filter: "1 = 1",
        binds: vec![submission_id.to_string()],
    };
    keyset::fetch(conn, &list, seek, |r| {
        Ok(IssueRow {
            seq: r.try_get("seq")?,
            severity: r.try_get("severity")?,
            file_name: r.try_get("file_name")?,
            sheet: r.try_get("sheet")?,
            row_no: r.try_get("row_no")?,
            field: r.try_get("field")?,
            code: r.try_get("code")?,
            en: r.try_get("en")?,
            zh: r.try_get("zh")?,
            raw_text: r.try_get("raw_text")?,
        })
    })
    .await
}
