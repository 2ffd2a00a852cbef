//! The pipeline's engine. A blocking thread decodes the files and validates rows (CPU work), sending
//! batches over a bounded channel to the async writer, which looks up existing records, writes new ones
//! and new versions, and records the report — all in one write transaction, so a submission is either
//! wholly recorded or not at all. Memory stays bounded: rows stream through in batches, only the first
//! [`ROW_ERRORS_KEPT_MAX`] report lines are kept, and in-file duplicates are found through the database.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use lianrong_domain::limits::{
    CELL_CHARS_MAX, COLUMNS_MAX, HEADER_SCAN_ROWS_MAX, ROW_ERRORS_KEPT_MAX, ROWS_PER_SUBMISSION_MAX,
};
use lianrong_domain::submission::{Severity, SubmissionStatus};
use lianrong_domain::trade::header::{self, HeaderMap};
use lianrong_domain::trade::{self, Context, Field, FieldError, RawRecord, RecordType, TradeRecord};
use lianrong_lake::file::{CellKind, Row, Table};
use lianrong_store::StoreError;
use lianrong_store::submission::{self as store, FileRow, IssueRow, Outcome, SubmissionRow};
use lianrong_store::trade::{self as trade_store, TradeRow};
use tokio::sync::mpsc;

use super::{REPORT_ROW_ERRORS_MAX, RowErrorReport, SubmissionReport};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::{App, new_id, now_ms, sm3_hex};

/// Rows per batch between the parser thread and the writer.
const BATCH_ROWS: usize = 2_000;
/// Batches in flight between them (bounds memory).
const BATCHES_IN_FLIGHT: usize = 4;

pub enum FileSource {
    Bytes(bytes::Bytes),
    Path(PathBuf),
}

/// Where the rows come from.
pub enum RowSource {
    Files(Vec<(String, FileSource)>),
    Json(Vec<serde_json::Map<String, serde_json::Value>>),
}

/// A row that passed validation.
struct Valid {
    file_no: usize,
    file_name: String,
    row_no: u64,
    record: TradeRecord,
    key: String,
    content_sm3: String,
    payee_sm3: Option<String>,
    payee_last4: Option<String>,
}

struct Issue {
    file_no: usize,
    severity: Severity,
    file_name: String,
    sheet: Option<String>,
    row_no: Option<u64>,
    field: Option<String>,
    code: String,
    en: String,
    zh: String,
    raw_text: Option<String>,
    /// Whether this issue rejects a data row (counted once per row).
    rejects_row: bool,
}

struct FileDone {
    file_no: usize,
    name: String,
    sm3: String,
    size_bytes: u64,
    format: String,
    encoding: Option<String>,
    error: Option<(String, String, String)>,
}

enum Msg {
    Batch { valid: Vec<Valid>, issues: Vec<Issue>, rows: u64 },
    File(FileDone),
}

/// Runs the pipeline for a received submission and answers its report.
pub(super) async fn run(
    app: &App,
    actor: &Actor,
    received: SubmissionRow,
    source: RowSource,
) -> AppResult<SubmissionReport> {
    let org =
        lianrong_store::org::get(&mut *app.db.pool.acquire().await.map_err(StoreError::from)?, &actor.org_id).await?;
    let submitter_uscc = org.uscc.clone();
    let today = app.today();
    let ctx = Context { today };
    let accounts = app.secret().account_digest().clone();
    let (tx, rx) = mpsc::channel::<Msg>(BATCHES_IN_FLIGHT);
    let system = actor.system;
    let parser = tokio::task::spawn_blocking(move || {
        let mut p =
            Parser { tx, ctx, accounts, submitter_uscc, system, valid: Vec::new(), issues: Vec::new(), rows: 0 };
        p.run(source);
    });
    let started = std::time::Instant::now();
    let result = write(app, actor, &received, rx).await;
    let written_ms = started.elapsed().as_millis() as u64;
    if let Err(e) = parser.await {
        tracing::error!(error = %e, "the parser thread failed");
    }
    let (report, mut spool) = result?;
    let published = std::time::Instant::now();
    if let Err(e) = crate::curated::publish_spooled(app, &mut spool).await {
        tracing::error!(code = e.code, "curated publication failed; partitions stay stale for the next run");
    }
    let mut pairs: Vec<(String, String)> = std::mem::take(&mut spool.pairs).into_iter().collect();
    drop(spool);
    if let Err(e) = crate::curated::publish_stale(app).await {
        tracing::error!(code = e.code, "curated publication failed; partitions stay stale for the next run");
    }
    pairs.sort();
    if let Err(e) = crate::four_flow::verify_pairs(app, &pairs).await {
        tracing::error!(code = e.code, "four-flow verification failed; it runs again with the pair's next change");
    }
    tracing::info!(
        submission = %report.submission_id,
        written_ms,
        published_ms = published.elapsed().as_millis() as u64,
        "submission stored and published"
    );
    Ok(report)
}

struct Parser {
    tx: mpsc::Sender<Msg>,
    ctx: Context,
    /// Payee accounts are kept as keyed digests only (see `secret::AccountDigest`).
    accounts: crate::secret::AccountDigest,
    submitter_uscc: String,
    system: bool,
    valid: Vec<Valid>,
    issues: Vec<Issue>,
    rows: u64,
}

impl Parser {
    fn run(&mut self, source: RowSource) {
        match source {
            RowSource::Files(files) => {
                for (file_no, (name, src)) in files.into_iter().enumerate() {
                    self.file(file_no, &name, src);
                }
            }
            RowSource::Json(records) => self.json(records),
        }
        self.flush();
    }

    fn flush(&mut self) {
        if self.valid.is_empty() && self.issues.is_empty() && self.rows == 0 {
            return;
        }
        let msg = Msg::Batch {
            valid: std::mem::take(&mut self.valid),
            issues: std::mem::take(&mut self.issues),
            rows: std::mem::take(&mut self.rows),
        };
        // The writer hung up only if it failed; its error is the one reported.
        let _ = self.tx.blocking_send(msg);
    }

    fn file(&mut self, file_no: usize, name: &str, src: FileSource) {
        let (sm3, size_bytes, parts) = match src {
            FileSource::Bytes(b) => (sm3_hex(&b), b.len() as u64, lianrong_lake::file::open_bytes(name, b)),
            FileSource::Path(p) => {
                let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                let parts = match std::fs::File::open(&p) {
                    Ok(f) => lianrong_lake::file::open_reader(name, std::io::BufReader::new(f)),
                    Err(e) => Err(lianrong_lake::FileError::new(
                        "upload_unreadable",
                        format!("the spooled upload could not be read: {e}"),
                        format!("无法读取已接收的文件：{e}"),
                    )),
                };
                (String::new(), size, parts)
            }
        };
        let mut done = FileDone {
            file_no,
            name: name.to_string(),
            sm3,
            size_bytes,
            format: "unknown".into(),
            encoding: None,
            error: None,
        };
        match parts {
            Err(e) => {
                done.error = Some((e.code.to_string(), e.en.clone(), e.zh.clone()));
                self.issue_plain(file_no, name, None, e.row_no, None, e.code, &e.en, &e.zh, false);
            }
            Ok(parts) => {
                for part in parts {
                    match part {
                        Ok(table) => {
                            done.format = table.format.code().to_string();
                            done.encoding = table.encoding.map(|e| e.code().to_string());
                            self.table(file_no, table);
                        }
                        Err(pe) => {
                            let e = &pe.error;
                            if done.error.is_none() {
                                done.error = Some((e.code.to_string(), e.en.clone(), e.zh.clone()));
                            }
                            self.issue_plain(
                                file_no,
                                &pe.file_name,
                                pe.sheet_name.clone(),
                                e.row_no,
                                None,
                                e.code,
                                &e.en,
                                &e.zh,
                                false,
                            );
                        }
                    }
                }
            }
        }
        self.flush();
        let _ = self.tx.blocking_send(Msg::File(done));
    }

    #[allow(clippy::too_many_arguments)]
    fn issue_plain(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: Option<String>,
        row_no: Option<u64>,
        field: Option<Field>,
        code: &str,
        en: &str,
        zh: &str,
        rejects_row: bool,
    ) {
        self.issues.push(Issue {
            file_no,
            severity: if rejects_row || field.is_none() { Severity::Error } else { Severity::Warning },
            file_name: file_name.to_string(),
            sheet,
            row_no,
            field: field.map(|f| f.code().to_string()),
            code: code.to_string(),
            en: en.to_string(),
            zh: zh.to_string(),
            raw_text: None,
            rejects_row,
        });
    }

    fn table(&mut self, file_no: usize, table: Table) {
        let file_name = table.file_name.clone();
        let sheet = table.sheet_name.clone();
        let merged = table.merged.clone();
        let mut header: Option<(HeaderMap, Option<RecordType>)> = None;
        let mut scanned = 0u64;
        for row in table.rows {
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    self.rows += 1;
                    self.issue_plain(file_no, &file_name, sheet.clone(), e.row_no, None, e.code, &e.en, &e.zh, true);
                    continue;
                }
            };
            let Some((map, sheet_type)) = &header else {
                scanned += 1;
                let texts: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
                if header::is_header_row(&texts) {
                    let map = header::map_headers(&texts);
                    let rt = header::infer_type(&map)
                        .or_else(|| sheet.as_deref().and_then(RecordType::from_name))
                        .or_else(|| RecordType::from_name(&file_name));
                    self.header_warnings(file_no, &file_name, &sheet, row.row_no, &map);
                    if rt.is_none() && !map.has(Field::RecordType) {
                        self.issue_plain(
                            file_no,
                            &file_name,
                            sheet.clone(),
                            Some(row.row_no),
                            None,
                            "record_type_unknown",
                            "The sheet's record type cannot be told from its columns or name; add a record_type (记录类型) column",
                            "无法从列名或表名判断记录类型；请增加“记录类型”列",
                            false,
                        );
                        return;
                    }
                    header = Some((map, rt));
                } else if scanned >= HEADER_SCAN_ROWS_MAX {
                    break;
                }
                continue;
            };
            if self.rows >= ROWS_PER_SUBMISSION_MAX {
                self.issue_plain(
                    file_no,
                    &file_name,
                    sheet.clone(),
                    Some(row.row_no),
                    None,
                    "rows_too_many",
                    &format!("More than {ROWS_PER_SUBMISSION_MAX} rows in one submission; the rest were not read"),
                    &format!("单次报送超过 {ROWS_PER_SUBMISSION_MAX} 行，其余未读取"),
                    false,
                );
                return;
            }
            let row_merged = merged.iter().any(|m| m.covers_row(row.row_no));
            self.data_row(file_no, &file_name, &sheet, map, *sheet_type, row, row_merged);
            if self.valid.len() + self.issues.len() >= BATCH_ROWS {
                self.flush();
            }
        }
        if header.is_none() {
            self.issue_plain(
                file_no,
                &file_name,
                sheet,
                None,
                None,
                "header_not_found",
                &format!(
                    "No header row naming the standard's columns in the first {HEADER_SCAN_ROWS_MAX} rows (download a template from /api/v1/standard)"
                ),
                &format!("前 {HEADER_SCAN_ROWS_MAX} 行中没有找到与数据标准列名匹配的表头（可从 /api/v1/standard 下载模板）"),
                false,
            );
        }
    }

    fn header_warnings(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        row_no: u64,
        map: &HeaderMap,
    ) {
        for (i, h) in &map.unknown {
            let col = lianrong_lake::file::column_name(*i);
            self.issue_plain(
                file_no,
                file_name,
                sheet.clone(),
                Some(row_no),
                None,
                "column_unknown",
                &format!(
                    "Column {col} '{}' is not part of the data standard and was ignored",
                    trade::value::excerpt(h)
                ),
                &format!("第 {col} 列“{}”不属于数据标准，已忽略", trade::value::excerpt(h)),
                false,
            );
            if let Some(last) = self.issues.last_mut() {
                last.severity = Severity::Warning;
            }
        }
        for (i, h, f) in &map.duplicates {
            let col = lianrong_lake::file::column_name(*i);
            self.issue_plain(
                file_no,
                file_name,
                sheet.clone(),
                Some(row_no),
                Some(*f),
                "column_duplicate",
                &format!("Column {col} '{}' names {} again and was ignored", trade::value::excerpt(h), f.code()),
                &format!("第 {col} 列“{}”与前面的列重复（{}），已忽略", trade::value::excerpt(h), f.label_zh()),
                false,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn data_row(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        map: &HeaderMap,
        sheet_type: Option<RecordType>,
        row: Row,
        merged: bool,
    ) {
        self.rows += 1;
        let raw_text = || -> String {
            let joined: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
            joined.join(",").chars().take(500).collect()
        };
        let mut errors: Vec<FieldError> = Vec::new();
        if merged {
            errors.push(FieldError::new(
                None,
                "merged_cell",
                "The row lies in a merged cell range; unmerge the cells and fill every row",
                "该行位于合并单元格内；请取消合并并逐行填写",
            ));
        }
        if row.cells.len() > COLUMNS_MAX {
            errors.push(FieldError::new(
                None,
                "columns_too_many",
                format!("More than {COLUMNS_MAX} columns"),
                format!("超过 {COLUMNS_MAX} 列"),
            ));
        }
        let mut raw = RawRecord::new();
        for (i, cell) in row.cells.iter().enumerate() {
            let Some(Some(field)) = map.columns.get(i) else { continue };
            match cell.kind {
                CellKind::Formula => errors.push(FieldError::new(
                    Some(*field),
                    "formula_cell",
                    format!("{} holds a formula; paste values only", field.code()),
                    format!("“{}”单元格含公式；请粘贴为数值后重新上传", field.label_zh()),
                )),
                CellKind::Error => errors.push(FieldError::new(
                    Some(*field),
                    "error_cell",
                    format!("{} holds a spreadsheet error value '{}'", field.code(), cell.text),
                    format!("“{}”单元格为错误值“{}”", field.label_zh(), cell.text),
                )),
                _ if cell.text.chars().count() > CELL_CHARS_MAX => errors.push(FieldError::new(
                    Some(*field),
                    "cell_too_long",
                    format!("{} is longer than {CELL_CHARS_MAX} characters", field.code()),
                    format!("“{}”超过 {CELL_CHARS_MAX} 个字符", field.label_zh()),
                )),
                _ => raw.set(*field, &cell.text),
            }
        }
        let rt = match raw.get(Field::RecordType) {
            Some(t) => RecordType::from_name(t),
            None => sheet_type,
        };
        let Some(rt) = rt else {
            errors.push(FieldError::new(
                Some(Field::RecordType),
                "record_type_unknown",
                "unknown record type (order, delivery, invoice, payment, credit_note)",
                "未知的记录类型（采购订单、发货/验收、发票、付款、扣款/折让）",
            ));
            self.reject(file_no, file_name, sheet, row.row_no, errors, raw_text());
            return;
        };
        let raw = reinterpret(rt, raw);
        self.finish_row(file_no, file_name, sheet, row.row_no, rt, &raw, errors, raw_text);
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_row(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        row_no: u64,
        rt: RecordType,
        raw: &RawRecord,
        mut errors: Vec<FieldError>,
        raw_text: impl Fn() -> String,
    ) {
        match trade::validate(rt, raw, &self.ctx) {
            Ok(record) => {
                let party = self.system
                    || record.buyer_uscc.as_str() == self.submitter_uscc
                    || record.seller_uscc.as_str() == self.submitter_uscc;
                if !party {
                    errors.push(FieldError::new(
                        Some(Field::BuyerUscc),
                        "not_a_party",
                        "Your organisation is neither the buyer nor the seller of this record; share only your own trade",
                        "贵单位既不是该记录的购方也不是销方；只能报送本单位参与的贸易",
                    ));
                }
                if !errors.is_empty() {
                    self.reject(file_no, file_name, sheet, row_no, errors, raw_text());
                    return;
                }
                let content = serde_json::to_vec(&record).unwrap_or_default();
                let payee = record.payee_account.clone();
                let mut digest_input = content;
                if let Some(p) = &payee {
                    digest_input.extend_from_slice(p.as_bytes());
                }
                self.valid.push(Valid {
                    file_no,
                    file_name: file_name.to_string(),
                    row_no,
                    key: record.natural_key(&self.submitter_uscc),
                    content_sm3: sm3_hex(&digest_input),
                    payee_sm3: payee.as_ref().map(|p| self.accounts.of(p)),
                    payee_last4: payee
                        .as_ref()
                        .map(|p| p.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect()),
                    record,
                });
            }
            Err(mut field_errors) => {
                errors.append(&mut field_errors);
                self.reject(file_no, file_name, sheet, row_no, errors, raw_text());
            }
        }
    }

    fn reject(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        row_no: u64,
        errors: Vec<FieldError>,
        raw_text: String,
    ) {
        for (i, e) in errors.into_iter().enumerate() {
            self.issues.push(Issue {
                file_no,
                severity: Severity::Error,
                file_name: file_name.to_string(),
                sheet: sheet.clone(),
                row_no: Some(row_no),
                field: e.field.map(|f| f.code().to_string()),
                code: e.code.to_string(),
                en: e.en,
                zh: e.zh,
                raw_text: if i == 0 { Some(raw_text.clone()) } else { None },
                rejects_row: i == 0,
            });
        }
    }

    fn json(&mut self, records: Vec<serde_json::Map<String, serde_json::Value>>) {
        let file_name = "records".to_string();
        let mut unknown_keys: HashSet<String> = HashSet::new();
        for (i, obj) in records.into_iter().enumerate() {
            let row_no = i as u64 + 1;
            self.rows += 1;
            let mut raw = RawRecord::new();
            let mut errors = Vec::new();
            for (k, v) in &obj {
                let Ok(field) = Field::parse(k) else {
                    if unknown_keys.len() < 100 && unknown_keys.insert(k.clone()) {
                        self.issues.push(Issue {
                            file_no: 0,
                            severity: Severity::Warning,
                            file_name: file_name.clone(),
                            sheet: None,
                            row_no: Some(row_no),
                            field: None,
                            code: "field_unknown".into(),
                            en: format!(
                                "'{}' is not a field of the data standard and was ignored",
                                trade::value::excerpt(k)
                            ),
                            zh: format!("“{}”不是数据标准的字段，已忽略", trade::value::excerpt(k)),
                            raw_text: None,
                            rejects_row: false,
                        });
                    }
                    continue;
                };
                match v {
                    serde_json::Value::Null => {}
                    serde_json::Value::String(s) => raw.set(field, s),
                    serde_json::Value::Number(n) => raw.set(field, &n.to_string()),
                    serde_json::Value::Array(items) => {
                        let parts: Vec<String> = items
                            .iter()
                            .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                            .collect();
                        raw.set(field, &parts.join(","));
                    }
                    other => errors.push(FieldError::new(
                        Some(field),
                        "value_type",
                        format!("{} must be a string or a number, not {}", field.code(), json_kind(other)),
                        format!("“{}”须为字符串或数字", field.label_zh()),
                    )),
                }
            }
            let raw_text = || serde_json::to_string(&obj).unwrap_or_default().chars().take(500).collect::<String>();
            let rt = match raw.get(Field::RecordType).map(RecordType::from_name) {
                Some(Some(rt)) => rt,
                _ => {
                    errors.push(FieldError::new(
                        Some(Field::RecordType),
                        "record_type_unknown",
                        "record_type must be one of order, delivery, invoice, payment, credit_note",
                        "record_type 须为 order、delivery、invoice、payment、credit_note 之一",
                    ));
                    self.reject(0, &file_name, &None, row_no, errors, raw_text());
                    continue;
                }
            };
            self.finish_row(0, &file_name, &None, row_no, rt, &raw, errors, raw_text);
            if self.valid.len() + self.issues.len() >= BATCH_ROWS {
                self.flush();
            }
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Object(_) => "an object",
        _ => "another type",
    }
}

/// Moves values to the field each column means in this record type (see `RecordType::reading_of`).
fn reinterpret(rt: RecordType, raw: RawRecord) -> RawRecord {
    let mut out = RawRecord::new();
    for f in Field::ALL {
        if let Some(v) = raw.get(*f) {
            let target = rt.reading_of(*f);
            if out.get(target).is_none() || target == *f {
                out.set(target, v);
            }
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Counts {
    rows: u64,
    accepted: u64,
    unchanged: u64,
    rejected: u64,
}

/// The writer: one write transaction for the whole submission.
async fn write(
    app: &App,
    actor: &Actor,
    sub: &SubmissionRow,
    mut rx: mpsc::Receiver<Msg>,
) -> AppResult<(SubmissionReport, crate::curated::Spool)> {
    let mut tx = app.db.begin_write().await?;
    let chains = chain_map(&mut tx).await?;
    let channel = sub.channel.clone();
    let mut totals = Counts::default();
    let mut per_file: HashMap<usize, Counts> = HashMap::new();
    let mut files: Vec<FileDone> = Vec::new();
    let mut kept: Vec<IssueRow> = Vec::new();
    let mut warnings = 0u64;
    let mut row_errors_total = 0u64;
    let mut first_errors: Vec<RowErrorReport> = Vec::new();
    let mut spool = crate::curated::Spool::new(&sub.id);
    let mut seq = 0i64;
    let mut waited = std::time::Duration::ZERO;
    loop {
        let wait_started = std::time::Instant::now();
        let Some(msg) = rx.recv().await else { break };
        waited += wait_started.elapsed();
        match msg {
            Msg::File(done) => files.push(done),
            Msg::Batch { valid, issues, rows } => {
                totals.rows += rows;
                let mut batch_rejects: Vec<Issue> = Vec::new();
                let outcome =
                    write_batch(&mut tx, sub, &channel, &chains, valid, &mut batch_rejects, &mut spool).await?;
                for (file_no, c) in outcome {
                    let f = per_file.entry(file_no).or_default();
                    f.accepted += c.accepted;
                    f.unchanged += c.unchanged;
                    totals.accepted += c.accepted;
                    totals.unchanged += c.unchanged;
                }
                for issue in issues.into_iter().chain(batch_rejects) {
                    if issue.rejects_row {
                        totals.rejected += 1;
                        per_file.entry(issue.file_no).or_default().rejected += 1;
                    }
                    match issue.severity {
                        Severity::Warning => warnings += 1,
                        Severity::Error => row_errors_total += 1,
                    }
                    if issue.severity == Severity::Error
                        && first_errors.len() < REPORT_ROW_ERRORS_MAX
                        && let Some(row_no) = issue.row_no
                    {
                        first_errors.push(RowErrorReport {
                            file_name: issue.file_name.clone(),
                            row_no,
                            field: issue.field.clone(),
                            code: issue.code.clone(),
                            en: issue.en.clone(),
                            zh: issue.zh.clone(),
                        });
                    }
                    if (kept.len() as u64) < ROW_ERRORS_KEPT_MAX {
                        seq += 1;
                        kept.push(IssueRow {
                            seq,
                            severity: issue.severity.code().to_string(),
                            file_name: issue.file_name,
                            sheet: issue.sheet,
                            row_no: issue.row_no.map(|n| n as i64),
                            field: issue.field,
                            code: issue.code,
                            en: issue.en,
                            zh: issue.zh,
                            raw_text: issue.raw_text,
                        });
                    }
                }
            }
        }
    }
    tracing::debug!(waited_ms = waited.as_millis() as u64, "the writer waited for the parser this long");
    let file_errors = files.iter().filter(|f| f.error.is_some()).count() as u64;
    for f in &files {
        let c = per_file.get(&f.file_no).copied().unwrap_or_default();
        store::insert_file(
            &mut tx,
            &FileRow {
                submission_id: sub.id.clone(),
                file_no: f.file_no as i64 + 1,
                name: f.name.chars().take(200).collect(),
                raw_sm3: if f.sm3.is_empty() { sub.raw_sm3.clone() } else { f.sm3.clone() },
                size_bytes: f.size_bytes as i64,
                format: f.format.clone(),
                encoding: f.encoding.clone(),
                rows_total: (c.accepted + c.unchanged + c.rejected) as i64,
                accepted: c.accepted as i64,
                unchanged: c.unchanged as i64,
                rejected: c.rejected as i64,
                error_code: f.error.as_ref().map(|e| e.0.clone()),
                error_en: f.error.as_ref().map(|e| e.1.clone()),
                error_zh: f.error.as_ref().map(|e| e.2.clone()),
            },
        )
        .await?;
    }
    store::insert_issues(&mut tx, &sub.id, &kept).await?;
    let mut touched: Vec<crate::curated::Key> = spool.touched.iter().cloned().collect();
    // A fixed order of row locks, so two submissions touching the same partitions cannot deadlock.
    touched.sort();
    for key in &touched {
        let change = trade_store::touch_partition(&mut tx, &key.0, &key.1, &key.2).await?;
        spool.set_change(key, change);
    }
    let status = SubmissionStatus::from_counts(totals.accepted + totals.unchanged, totals.rejected, file_errors);
    let (error_code, error_en, error_zh) = match files.iter().find_map(|f| f.error.clone()) {
        Some((c, en, zh)) => (Some(c), Some(en), Some(zh)),
        None if totals.rows == 0 => (
            Some("no_rows".to_string()),
            Some("No data rows were found".to_string()),
            Some("未找到任何数据行".to_string()),
        ),
        None => (None, None, None),
    };
    let leaf = super::log_leaf(&mut tx, sub, status, totals.accepted, totals.unchanged, totals.rejected).await?;
    let outcome = Outcome {
        status: status.code().to_string(),
        rows_total: totals.rows as i64,
        accepted: totals.accepted as i64,
        unchanged: totals.unchanged as i64,
        rejected: totals.rejected as i64,
        warnings: warnings as i64,
        file_errors: file_errors as i64,
        error_code,
        error_en,
        error_zh,
        log_leaf_index: leaf.map(|l| l as i64),
        finished_at_ms: now_ms(),
    };
    // Invariant: every data row is accepted, unchanged or rejected exactly once. A breach is a bug; the
    // transaction is dropped rather than a wrong report recorded.
    if totals.accepted + totals.unchanged + totals.rejected != totals.rows {
        tracing::error!(?outcome, "row counts do not add up; submission not recorded");
        return Err(AppError::internal());
    }
    store::finish(&mut tx, &sub.id, &outcome).await?;
    lianrong_store::audit::insert(
        &mut tx,
        &crate::audit::record(
            actor,
            "submission.submit",
            "submission",
            &sub.id,
            "ok",
            &format!(
                "{} via {}: {} accepted, {} unchanged, {} rejected",
                sub.source, sub.channel, totals.accepted, totals.unchanged, totals.rejected
            ),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(
        submission = %sub.id,
        channel = %sub.channel,
        rows = totals.rows,
        accepted = totals.accepted,
        unchanged = totals.unchanged,
        rejected = totals.rejected,
        "submission processed"
    );
    let report = SubmissionReport {
        submission_id: sub.id.clone(),
        status,
        raw_sm3: sub.raw_sm3.clone(),
        rows_total: totals.rows,
        accepted: totals.accepted,
        rejected: totals.rejected,
        unchanged: totals.unchanged,
        warnings,
        file_errors,
        row_errors: first_errors,
        row_errors_total,
        log_leaf_index: leaf,
    };
    Ok((report, spool))
}

/// Credit code → the chains its organisation belongs to, in chain order.
async fn chain_map(conn: &mut lianrong_store::Conn) -> AppResult<HashMap<String, Vec<String>>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (uscc, chain) in lianrong_store::chain::chains_by_uscc(conn).await? {
        map.entry(uscc).or_default().push(chain);
    }
    Ok(map)
}

/// The chain a record belongs to: one both parties are members of; else one of either party's; else
/// `none` (trade with an organisation not yet on any chain still enters the lake).
fn chain_of(chains: &HashMap<String, Vec<String>>, r: &TradeRecord) -> String {
    let empty = Vec::new();
    let b = chains.get(r.buyer_uscc.as_str()).unwrap_or(&empty);
    let s = chains.get(r.seller_uscc.as_str()).unwrap_or(&empty);
    b.iter()
        .find(|c| s.contains(c))
        .or_else(|| b.first())
        .or_else(|| s.first())
        .cloned()
        .unwrap_or_else(|| "none".to_string())
}

async fn write_batch(
    tx: &mut lianrong_store::Conn,
    sub: &SubmissionRow,
    channel: &str,
    chains: &HashMap<String, Vec<String>>,
    valid: Vec<Valid>,
    rejects: &mut Vec<Issue>,
    spool: &mut crate::curated::Spool,
) -> AppResult<HashMap<usize, Counts>> {
    let mut out: HashMap<usize, Counts> = HashMap::new();
    if valid.is_empty() {
        return Ok(out);
    }
    let keys: Vec<&str> = valid.iter().map(|v| v.key.as_str()).collect();
    let existing: HashMap<String, trade_store::Existing> =
        trade_store::existing(tx, &keys).await?.into_iter().map(|e| (e.natural_key.clone(), e)).collect();
    let now = now_ms();
    let mut seen_in_batch: HashMap<String, (String, u64)> = HashMap::new();
    let mut inserts: Vec<TradeRow> = Vec::new();
    for v in valid {
        let dup_of = seen_in_batch.get(&v.key).cloned().or_else(|| {
            existing.get(&v.key).filter(|e| e.submission_id == sub.id).map(|e| (e.file_name.clone(), e.row_no as u64))
        });
        if let Some((first_file, first_row)) = dup_of {
            rejects.push(Issue {
                file_no: v.file_no,
                severity: Severity::Error,
                file_name: v.file_name.clone(),
                sheet: None,
                row_no: Some(v.row_no),
                field: Some(v.record.record_type.key_field().code().to_string()),
                code: "duplicate_in_submission".into(),
                en: format!(
                    "{} {} appears again; it was first given in {first_file} row {first_row}",
                    v.record.record_type.label_en(),
                    v.record.doc_no
                ),
                zh: format!(
                    "{} {} 重复出现；首次出现在 {first_file} 第 {first_row} 行",
                    v.record.record_type.label_zh(),
                    v.record.doc_no
                ),
                raw_text: None,
                rejects_row: true,
            });
            continue;
        }
        seen_in_batch.insert(v.key.clone(), (v.file_name.clone(), v.row_no));
        let counts = out.entry(v.file_no).or_default();
        let chain_id = chain_of(chains, &v.record);
        match existing.get(&v.key) {
            Some(e) if e.content_sm3 == v.content_sm3 => counts.unchanged += 1,
            Some(e) => {
                let row = to_row(&v, e.id.clone(), e.version + 1, sub, channel, chain_id, now);
                let old_key = (row.record_type.clone(), e.chain_id.clone(), e.month.clone());
                let new_key = (row.record_type.clone(), row.chain_id.clone(), row.month.clone());
                spool.superseded(&old_key);
                spool.superseded(&new_key);
                spool.pairs.insert((row.buyer_uscc.clone(), row.seller_uscc.clone()));
                spool.touched.insert(old_key);
                spool.touched.insert(new_key);
                trade_store::supersede(tx, &row, now).await?;
                // What the debtor stated no longer describes the record: its confirmation is superseded
                // and a result imported from the central bank's platform is set aside.
                lianrong_store::confirmation::supersede_for_record(tx, &e.id).await?;
                lianrong_store::registration::set_aside_external_confirmations(tx, &e.id, now).await?;
                counts.accepted += 1;
            }
            None => {
                let row = to_row(&v, new_id(), 1, sub, channel, chain_id, now);
                let key = (row.record_type.clone(), row.chain_id.clone(), row.month.clone());
                spool.add(&key, &row);
                spool.touched.insert(key);
                spool.pairs.insert((row.buyer_uscc.clone(), row.seller_uscc.clone()));
                inserts.push(row);
                counts.accepted += 1;
            }
        }
    }
    trade_store::insert_batch(tx, &inserts).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "submission_conflict",
            "Another submission wrote some of the same records at the same moment; nothing was recorded, please send again",
            "另一批次同时写入了部分相同记录；本批次未记录任何数据，请重新报送",
        ),
        other => other.into(),
    })?;
    Ok(out)
}

fn to_row(
    v: &Valid,
    id: String,
    version: i64,
    sub: &SubmissionRow,
    channel: &str,
    chain_id: String,
    now: i64,
) -> TradeRow {
    let r = &v.record;
    TradeRow {
        id,
        record_type: r.record_type.code().to_string(),
        natural_key: v.key.clone(),
        version,
        content_sm3: v.content_sm3.clone(),
        doc_no: r.doc_no.clone(),
        invoice_code: r.invoice_code.clone(),
        doc_date: r.doc_date.clone(),
        month: r.month().to_string(),
        buyer_uscc: r.buyer_uscc.to_string(),
        buyer_name: r.buyer_name.clone(),
        seller_uscc: r.seller_uscc.to_string(),
        seller_name: r.seller_name.clone(),
        currency: r.currency.to_string(),
        total_fen: r.total_fen,
        tax_fen: r.tax_fen,
        net_fen: r.net_fen,
        term_days: r.term_days,
        term_basis: r.term_basis.map(|b| b.code().to_string()),
        invoice_kind: r.invoice_kind.map(|k| k.code().to_string()),
        acceptance_status: r.acceptance_status.map(|k| k.code().to_string()),
        accepted_date: r.accepted_date.clone(),
        payment_method: r.payment_method.map(|k| k.code().to_string()),
        payee_account_sm3: v.payee_sm3.clone(),
        payee_account_last4: v.payee_last4.clone(),
        order_refs: r.order_refs.join(","),
        delivery_refs: r.delivery_refs.join(","),
        invoice_refs: r.invoice_refs.join(","),
        remarks: r.remarks.clone(),
        chain_id,
        submission_id: sub.id.clone(),
        channel: channel.to_string(),
        file_name: v.file_name.chars().take(200).collect(),
        row_no: v.row_no as i64,
        submitter_org_id: sub.org_id.clone(),
        created_at_ms: now,
        updated_at_ms: now,
    }
}
