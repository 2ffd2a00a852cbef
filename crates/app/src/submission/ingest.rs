//! The pipeline's engine. A blocking thread decodes the files and validates rows (CPU work), sending
//! batches over a bounded channel to the async writer, which looks up existing records and stages new
//! ones and new versions batch by batch in short transactions; one final transaction makes them current
//! and records the report, so a submission is either wholly recorded or not at all. Memory stays bounded: rows stream through in batches, only the first
//! [`ROW_ERRORS_KEPT_MAX`] report lines are kept, and in-file duplicates are found through the database.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use lianrong_domain::limits::{
    CELL_CHARS_MAX, COLUMNS_MAX, HEADER_SCAN_ROWS_MAX, LINES_PER_INVOICE_MAX, LINES_PER_SUBMISSION_MAX,
    ROW_ERRORS_KEPT_MAX, ROWS_PER_SUBMISSION_MAX,
};
use lianrong_domain::submission::{Severity, SubmissionStatus};
use lianrong_domain::trade::header::{self, ColumnMapping, HeaderMap};
use lianrong_domain::trade::line::{self, InvoiceLine, RawLine};
use lianrong_domain::trade::{self, Context, Field, FieldError, RawRecord, RecordType, Stated, TradeRecord};
use lianrong_lake::file::{CellKind, Row, Table};
use lianrong_store::StoreError;
use lianrong_store::submission::{self as store, FileRow, IssueRow, Outcome, SubmissionRow};
use lianrong_store::trade::{self as trade_store, TradeRow};
use tokio::sync::mpsc;

use super::report::{self, REPORT_ROW_ERRORS_MAX, RowErrorReport, SubmissionReport};
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
    /// The fields the row stated: a restatement keeps the earlier version's values of the others.
    stated: Stated,
    key: String,
    content_sm3: String,
    payee_sm3: Option<String>,
    payee_last4: Option<String>,
}

/// The lines of one invoice read from a line sheet, waiting for the end of the file to be matched to
/// their invoice (the invoice sheet may come after the line sheet).
struct LineGroup {
    file_no: usize,
    file_name: String,
    sheet: Option<String>,
    /// The invoice as its number reads in messages.
    doc_no: String,
    /// The natural key of the submitter's statement of the invoice.
    key: String,
    lines: Vec<(u64, InvoiceLine)>,
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
    Lines(Vec<LineGroup>),
    File(FileDone),
}

/// Runs the pipeline for a received submission and answers its report.
pub(super) async fn run(
    app: &App,
    actor: &Actor,
    received: SubmissionRow,
    source: RowSource,
) -> AppResult<SubmissionReport> {
    let org = lianrong_store::org::get(&mut *app.db.acquire().await?, &actor.org_id).await?;
    let submitter_uscc = org.uscc.clone();
    let mapping = crate::column_mapping::mapping_of(app, &actor.org_id).await?;
    let today = app.today();
    let ctx = Context { today };
    let accounts = app.secret().account_digest().clone();
    let (tx, rx) = mpsc::channel::<Msg>(BATCHES_IN_FLIGHT);
    let system = actor.system;
    let parser = tokio::task::spawn_blocking(move || {
        let mut p = Parser {
            tx,
            ctx,
            accounts,
            submitter_uscc,
            mapping,
            system,
            valid: Vec::new(),
            issues: Vec::new(),
            rows: 0,
            file: FileState::default(),
            lines: Vec::new(),
            line_index: HashMap::new(),
            lines_held: 0,
        };
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
    /// The submitter's own column meanings, applied before the standard's names.
    mapping: ColumnMapping,
    system: bool,
    valid: Vec<Valid>,
    issues: Vec<Issue>,
    rows: u64,
    file: FileState,
    /// Line groups of the current file, in order of first appearance, with their index by invoice key.
    lines: Vec<LineGroup>,
    line_index: HashMap<String, usize>,
    /// Lines held across the submission, bounded by [`LINES_PER_SUBMISSION_MAX`].
    lines_held: usize,
}

/// What the parser learns about one file across its sheets.
#[derive(Default)]
struct FileState {
    /// Sheets that had a header row the standard recognises.
    tables_with_header: usize,
    /// Whether an invoice sheet (not lines) was read, so a later sheet of lines belongs to it.
    invoice_sheet_seen: bool,
    /// Sheets without a recognisable header: notes if another sheet had data, errors if none did.
    no_header: Vec<(String, Option<String>)>,
    /// Sheets already told that their formulas have no saved results.
    uncalculated_sheets: HashSet<Option<String>>,
    /// The first problem that concerns the whole file, shown as the file's error.
    error: Option<(String, String, String)>,
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
                        Err(pe) if pe.error.code == "sheet_empty" => {
                            // An empty sheet beside sheets with data is how workbooks come; noted, not an error.
                            let e = &pe.error;
                            self.note(file_no, &pe.file_name, pe.sheet_name.clone(), e.code, &e.en, &e.zh);
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
        self.finish_file(file_no);
        if done.error.is_none() {
            done.error = self.file.error.take();
        }
        self.file = FileState::default();
        self.flush();
        let groups = std::mem::take(&mut self.lines);
        self.line_index.clear();
        if !groups.is_empty() {
            let _ = self.tx.blocking_send(Msg::Lines(groups));
        }
        let _ = self.tx.blocking_send(Msg::File(done));
    }

    /// Sheets without a header are notes when another sheet of the file had data, else the file's error.
    fn finish_file(&mut self, file_no: usize) {
        let no_header = std::mem::take(&mut self.file.no_header);
        let had_data = self.file.tables_with_header > 0;
        for (file_name, sheet) in no_header {
            let (code, en, zh) = if had_data {
                let (part_en, part_zh) = match &sheet {
                    Some(s) => (format!("Sheet '{s}'"), format!("工作表“{s}”")),
                    None => (format!("File '{file_name}'"), format!("文件“{file_name}”")),
                };
                (
                    "sheet_skipped",
                    format!("{part_en} has no header row naming the standard's columns and was skipped"),
                    format!("{part_zh}没有与数据标准列名匹配的表头，已跳过"),
                )
            } else {
                (
                    "header_not_found",
                    format!(
                        "No header row naming the standard's columns in the first {HEADER_SCAN_ROWS_MAX} rows (download a template from /api/v1/standard)"
                    ),
                    format!(
                        "前 {HEADER_SCAN_ROWS_MAX} 行中没有找到与数据标准列名匹配的表头（可从 /api/v1/standard 下载模板）"
                    ),
                )
            };
            if had_data {
                self.note(file_no, &file_name, sheet, code, &en, &zh);
            } else {
                // Nothing of the file could be read: this is the file's error, counted as one.
                if self.file.error.is_none() {
                    self.file.error = Some((code.to_string(), en.clone(), zh.clone()));
                }
                self.issue_plain(file_no, &file_name, sheet, None, None, code, &en, &zh, false);
            }
        }
    }

    /// A warning about a file or sheet that does not stop its rows (a sheet skipped, a total row).
    #[allow(clippy::too_many_arguments)]
    fn note_row(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: Option<String>,
        row_no: Option<u64>,
        code: &str,
        en: &str,
        zh: &str,
    ) {
        self.issue_plain(file_no, file_name, sheet, row_no, None, code, en, zh, false);
        if let Some(last) = self.issues.last_mut() {
            last.severity = Severity::Warning;
        }
    }

    fn note(&mut self, file_no: usize, file_name: &str, sheet: Option<String>, code: &str, en: &str, zh: &str) {
        self.note_row(file_no, file_name, sheet, None, code, en, zh);
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
        if table.sheet_hidden {
            let name = sheet.clone().unwrap_or_default();
            self.note(
                file_no,
                &file_name,
                sheet,
                "sheet_hidden_skipped",
                &format!("Sheet '{name}' is hidden in the workbook and was not read; unhide it to share its rows"),
                &format!("工作表“{name}”在工作簿中被隐藏，未读取；如需报送请取消隐藏"),
            );
            return;
        }
        let merged = table.merged.clone();
        let mut header: Option<SheetReading> = None;
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
            let Some(reading) = &header else {
                scanned += 1;
                let texts: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
                if header::is_header_row_with(&texts, &self.mapping) {
                    match self.read_header(file_no, &file_name, &sheet, row.row_no, &texts) {
                        Some(reading) => header = Some(reading),
                        None => return,
                    }
                } else if scanned >= HEADER_SCAN_ROWS_MAX {
                    break;
                }
                continue;
            };
            if let Some(total_word) = total_row(&row, &reading.map) {
                self.note_row(
                    file_no,
                    &file_name,
                    sheet.clone(),
                    Some(row.row_no),
                    "total_row_skipped",
                    &format!("Row {} is a '{total_word}' row, not a record, and was skipped", row.row_no),
                    &format!("第 {} 行为“{total_word}”行，不是单据，已跳过", row.row_no),
                );
                continue;
            }
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
            let reading = reading.clone();
            self.data_row(file_no, &file_name, &sheet, &reading, row, row_merged);
            if self.valid.len() + self.issues.len() >= BATCH_ROWS {
                self.flush();
            }
        }
        if header.is_none() {
            self.file.no_header.push((file_name, sheet));
        }
    }

    /// Reads a sheet's header row: its columns, its record type, whether it lists invoice lines, and
    /// which party the sheet leaves to the submitter. `None` when the record type cannot be told.
    fn read_header(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        row_no: u64,
        texts: &[String],
    ) -> Option<SheetReading> {
        let map = header::map_headers_with(texts, &self.mapping);
        let (map, rt) = typed_map(map, sheet.as_deref(), file_name);
        self.header_warnings(file_no, file_name, sheet, row_no, &map);
        if rt.is_none() && !map.has(Field::RecordType) {
            self.issue_plain(
                file_no,
                file_name,
                sheet.clone(),
                Some(row_no),
                None,
                "record_type_unknown",
                "The sheet's record type cannot be told from its columns or name; add a record_type (记录类型) column",
                "无法从列名或表名判断记录类型；请增加“记录类型”列",
                false,
            );
            return None;
        }
        self.file.tables_with_header += 1;
        let lines = lists_lines(&map, self.file.invoice_sheet_seen, sheet.as_deref(), file_name);
        if rt == Some(RecordType::Invoice) && !lines {
            self.file.invoice_sheet_seen = true;
        }
        let own_side = own_side(&map);
        if let Some(side) = own_side {
            self.note_row(
                file_no,
                file_name,
                sheet.clone(),
                Some(row_no),
                "own_party_assumed",
                &format!("The sheet has no {} column; your organisation is taken as that party", side.code()),
                &format!("该表没有“{}”列，视为贵单位", side.label_zh()),
            );
        }
        Some(SheetReading { map, sheet_type: rt, lines, own_side })
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

    fn data_row(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        reading: &SheetReading,
        row: Row,
        merged: bool,
    ) {
        self.rows += 1;
        let raw_text = || -> String {
            let joined: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
            joined.join(",").chars().take(500).collect()
        };
        let map = &reading.map;
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
        // Every column of the sheet states its field, even where this row's cell is empty.
        for field in map.columns.iter().flatten() {
            raw.state(*field);
        }
        let mut uncalculated = false;
        for (i, cell) in row.cells.iter().enumerate() {
            let Some(Some(field)) = map.columns.get(i) else { continue };
            match cell_text(*field, cell) {
                Ok(Some(text)) => raw.set(*field, text),
                Ok(None) => uncalculated = true,
                Err(e) => errors.push(e),
            }
        }
        if let Some(side) = reading.own_side {
            let own = self.submitter_uscc.clone();
            raw.set(side, &own);
        }
        if uncalculated {
            let e = self.formula_not_calculated(file_no, file_name, sheet);
            errors.push(e);
        }
        if reading.lines {
            let mut line_raw = RawLine::new();
            for (i, field) in &map.lines {
                if let Some(cell) = row.cell(*i)
                    && !matches!(cell.kind, CellKind::Error)
                {
                    line_raw.set(*field, &cell.text);
                }
            }
            let raw = raw.reinterpret(RecordType::Invoice);
            self.line_row(file_no, file_name, sheet, row.row_no, &raw, &line_raw, errors, raw_text);
            return;
        }
        let rt = match raw.get(Field::RecordType) {
            Some(t) => RecordType::from_name(t),
            None => reading.sheet_type,
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
        let raw = raw.reinterpret(rt);
        self.finish_row(file_no, file_name, sheet, row.row_no, rt, &raw, errors, raw_text);
    }

    /// The row error for formulas without saved results; the sheet is told once how to re-save the file.
    fn formula_not_calculated(&mut self, file_no: usize, file_name: &str, sheet: &Option<String>) -> FieldError {
        let en = "The file holds formulas without their results (it was written by a program that does not \
                  calculate, such as a script); open it in Excel, WPS or LibreOffice, let it recalculate, save it \
                  and send it again";
        let zh = "文件中的公式没有保存计算结果（由不进行计算的程序生成，如脚本）；请用 Excel、WPS 或 LibreOffice 打开，\
                  重新计算并保存后再报送";
        if self.file.uncalculated_sheets.insert(sheet.clone()) {
            self.issue_plain(file_no, file_name, sheet.clone(), None, None, "formula_not_calculated", en, zh, false);
            if self.file.error.is_none() {
                self.file.error = Some(("formula_not_calculated".into(), en.into(), zh.into()));
            }
        }
        FieldError::new(
            None,
            "formula_not_calculated",
            "a formula in this row has no saved result (see the sheet's message)",
            "该行公式没有保存计算结果（见工作表提示）",
        )
    }

    /// One row of a line sheet: the invoice it belongs to and the line itself, held until the file ends.
    #[allow(clippy::too_many_arguments)]
    fn line_row(
        &mut self,
        file_no: usize,
        file_name: &str,
        sheet: &Option<String>,
        row_no: u64,
        raw: &RawRecord,
        line_raw: &RawLine,
        mut errors: Vec<FieldError>,
        raw_text: impl Fn() -> String,
    ) {
        let identity = trade::invoice_identity(raw, &self.ctx);
        let line = line::validate_line(raw, line_raw);
        let (identity, line) = match (identity, line) {
            (Ok(identity), Ok(line)) if errors.is_empty() => (identity, line),
            (identity, line) => {
                errors.extend(identity.err().unwrap_or_default());
                errors.extend(line.err().unwrap_or_default());
                self.reject(file_no, file_name, sheet, row_no, errors, raw_text());
                return;
            }
        };
        let party = self.system
            || identity.buyer_uscc.as_str() == self.submitter_uscc
            || identity.seller_uscc.as_str() == self.submitter_uscc;
        if !party {
            self.reject(file_no, file_name, sheet, row_no, vec![not_a_party()], raw_text());
            return;
        }
        if self.lines_held >= LINES_PER_SUBMISSION_MAX {
            let e = FieldError::new(
                None,
                "lines_too_many",
                format!(
                    "More than {LINES_PER_SUBMISSION_MAX} invoice lines in one submission; send the rest separately"
                ),
                format!("单次报送的发票明细超过 {LINES_PER_SUBMISSION_MAX} 行；其余请另行报送"),
            );
            self.reject(file_no, file_name, sheet, row_no, vec![e], raw_text());
            return;
        }
        let key = identity.natural_key(&self.submitter_uscc);
        let index = match self.line_index.get(&key) {
            Some(i) => *i,
            None => {
                self.lines.push(LineGroup {
                    file_no,
                    file_name: file_name.to_string(),
                    sheet: sheet.clone(),
                    doc_no: identity.doc_no.clone(),
                    key: key.clone(),
                    lines: Vec::new(),
                });
                self.line_index.insert(key, self.lines.len() - 1);
                self.lines.len() - 1
            }
        };
        let full = self.lines.get(index).is_none_or(|g| g.lines.len() >= LINES_PER_INVOICE_MAX);
        if full {
            let e = FieldError::new(
                None,
                "lines_too_many",
                format!("Invoice {} has more than {LINES_PER_INVOICE_MAX} lines", identity.doc_no),
                format!("发票 {} 的明细超过 {LINES_PER_INVOICE_MAX} 行", identity.doc_no),
            );
            self.reject(file_no, file_name, sheet, row_no, vec![e], raw_text());
            return;
        }
        if let Some(group) = self.lines.get_mut(index) {
            group.lines.push((row_no, line));
            self.lines_held += 1;
        }
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
                    errors.push(not_a_party());
                }
                if !errors.is_empty() {
                    self.reject(file_no, file_name, sheet, row_no, errors, raw_text());
                    return;
                }
                let payee = record.payee_account.clone();
                let payee_sm3 = payee.as_ref().map(|p| self.accounts.of(p));
                self.valid.push(Valid {
                    file_no,
                    file_name: file_name.to_string(),
                    row_no,
                    key: record.natural_key(&self.submitter_uscc),
                    content_sm3: content_digest(&record, payee_sm3.as_deref()),
                    stated: raw.stated(),
                    payee_sm3,
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
                    // null states "none", as an empty cell under a present column does.
                    serde_json::Value::Null => raw.state(field),
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

fn not_a_party() -> FieldError {
    FieldError::new(
        Some(Field::BuyerUscc),
        "not_a_party",
        "Your organisation is neither the buyer nor the seller of this record; share only your own trade",
        "贵单位既不是该记录的购方也不是销方；只能报送本单位参与的贸易",
    )
}

/// A cell's text for a field: a formula's saved result stands for the formula, as the spreadsheet shows
/// it; `Ok(None)` when a formula has no saved result.
fn cell_text(field: Field, cell: &lianrong_lake::file::Cell) -> Result<Option<&str>, FieldError> {
    match cell.kind {
        CellKind::Formula if cell.text.is_empty() => Ok(None),
        CellKind::Error => Err(FieldError::new(
            Some(field),
            "error_cell",
            format!("{} holds a spreadsheet error value '{}'", field.code(), cell.text),
            format!("“{}”单元格为错误值“{}”", field.label_zh(), cell.text),
        )),
        _ if cell.text.chars().count() > CELL_CHARS_MAX => Err(FieldError::new(
            Some(field),
            "cell_too_long",
            format!("{} is longer than {CELL_CHARS_MAX} characters", field.code()),
            format!("“{}”超过 {CELL_CHARS_MAX} 个字符", field.label_zh()),
        )),
        _ => Ok(Some(cell.text.as_str())),
    }
}

/// How one sheet is read, decided at its header row.
#[derive(Clone)]
struct SheetReading {
    map: HeaderMap,
    sheet_type: Option<RecordType>,
    /// The sheet lists invoice lines, one row per goods line.
    lines: bool,
    /// The party column the sheet lacks, which is then the submitter.
    own_side: Option<Field>,
}

/// A sheet's record type, from its columns, else its sheet's name, else its file's name; the generic
/// number and date columns then become that type's.
pub(super) fn typed_map(mut map: HeaderMap, sheet: Option<&str>, file_name: &str) -> (HeaderMap, Option<RecordType>) {
    let rt = header::infer_type(&map)
        .or_else(|| sheet.and_then(RecordType::from_name))
        .or_else(|| RecordType::from_name(file_name));
    if let Some(rt) = rt {
        map.resolve_generic(rt);
    }
    (map, rt)
}

/// Whether a sheet lists an invoice's lines: its columns say so, and an invoice sheet came before it in
/// the file or its name says so.
pub(super) fn lists_lines(map: &HeaderMap, invoice_sheet_seen: bool, sheet: Option<&str>, file_name: &str) -> bool {
    map.is_invoice_lines() && (invoice_sheet_seen || names_lines(sheet) || names_lines(Some(file_name)))
}

/// An ERP export lists the counterparty only: the submitter is the other party.
pub(super) fn own_side(map: &HeaderMap) -> Option<Field> {
    match (map.has(Field::BuyerUscc), map.has(Field::SellerUscc)) {
        (false, true) => Some(Field::BuyerUscc),
        (true, false) => Some(Field::SellerUscc),
        _ => None,
    }
}

/// Whether a sheet or file name says it holds lines (the tax service's 信息汇总表, an ERP's 发票明细).
fn names_lines(name: Option<&str>) -> bool {
    let name = name.unwrap_or("").to_lowercase();
    ["明细", "信息汇总", "line", "detail", "item"].iter().any(|w| name.contains(w))
}

/// The words of total and subtotal rows that spreadsheets put under the data.
const TOTAL_WORDS: &[&str] = &["合计", "小计", "总计", "本页合计", "累计", "total", "subtotal", "grandtotal"];

/// A total or subtotal row: no document number of its own, and one of its cells reads 合计, 小计, 总计
/// or Total (with or without a colon or spaces). Returns the word as written.
pub(super) fn total_row(row: &Row, map: &HeaderMap) -> Option<String> {
    let numbered = [
        Field::OrderNo,
        Field::DeliveryNo,
        Field::InvoiceNo,
        Field::DigitalInvoiceNo,
        Field::PaymentNo,
        Field::CreditNoteNo,
    ];
    let has_number =
        map.columns.iter().enumerate().any(|(i, f)| {
            f.is_some_and(|f| numbered.contains(&f))
                && row.cell(i).is_some_and(|c| !c.is_empty() && !is_total_word(&c.text))
        }) || map.generic_doc_no.and_then(|i| row.cell(i)).is_some_and(|c| !c.is_empty() && !is_total_word(&c.text));
    if has_number {
        return None;
    }
    row.cells.iter().find(|c| is_total_word(&c.text)).map(|c| c.text.trim().to_string())
}

fn is_total_word(text: &str) -> bool {
    let t: String =
        trade::value::normalize_width(text).to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    !t.is_empty() && TOTAL_WORDS.contains(&t.as_str())
}

/// The digest of a statement's content: the canonical record, then the keyed digest of its payee
/// account (never the account itself), so a stored version can be digested again without the account.
fn content_digest(record: &TradeRecord, payee_sm3: Option<&str>) -> String {
    let mut input = serde_json::to_vec(record).unwrap_or_default();
    if let Some(p) = payee_sm3 {
        input.extend_from_slice(p.as_bytes());
    }
    sm3_hex(&input)
}

#[derive(Default, Clone, Copy)]
struct Counts {
    rows: u64,
    accepted: u64,
    unchanged: u64,
    rejected: u64,
}

/// The writer. Each batch is staged in a short transaction of its own (see `trade_store::stage`), so
/// other organisations' requests keep being answered during a large upload; the final transaction makes
/// the staged records current and records the report, so a submission is either wholly recorded or not
/// at all. What was staged is deleted afterwards, whether the submission was recorded or not.
async fn write(
    app: &App,
    actor: &Actor,
    sub: &SubmissionRow,
    rx: mpsc::Receiver<Msg>,
) -> AppResult<(SubmissionReport, crate::curated::Spool)> {
    let result = write_staged(app, actor, sub, rx).await;
    if let Err(e) = trade_store::stage::discard_stage(&app.db, &sub.id).await {
        tracing::error!(submission = %sub.id, error = %e, "staged records not deleted; they are never read");
    }
    result
}

async fn write_staged(
    app: &App,
    actor: &Actor,
    sub: &SubmissionRow,
    mut rx: mpsc::Receiver<Msg>,
) -> AppResult<(SubmissionReport, crate::curated::Spool)> {
    let chains = chain_map(&mut *app.db.acquire().await?).await?;
    let channel = sub.channel.clone();
    let mut tally = Tally::default();
    let mut files: Vec<FileDone> = Vec::new();
    let mut spool = crate::curated::Spool::new(&sub.id);
    // Lines refer to their invoices by id, so they are written once the invoices are current.
    let mut line_groups: Vec<LineGroup> = Vec::new();
    let mut waited = std::time::Duration::ZERO;
    loop {
        let wait_started = std::time::Instant::now();
        let Some(msg) = rx.recv().await else { break };
        waited += wait_started.elapsed();
        match msg {
            Msg::File(done) => files.push(done),
            Msg::Lines(groups) => line_groups.extend(groups),
            Msg::Batch { valid, issues, rows } => {
                tally.totals.rows += rows;
                let mut batch_rejects: Vec<Issue> = Vec::new();
                let outcome = stage_batch(app, sub, &channel, &chains, valid, &mut batch_rejects, &mut spool).await?;
                tally.counts(outcome);
                issues.into_iter().chain(batch_rejects).for_each(|issue| tally.issue(issue));
            }
        }
    }
    let mut tx = app.db.begin_write().await?;
    make_current(&mut tx, sub).await?;
    if !line_groups.is_empty() {
        let mut rejects: Vec<Issue> = Vec::new();
        let outcome = write_lines(&mut tx, sub, line_groups, &mut rejects).await?;
        tally.counts(outcome);
        rejects.into_iter().for_each(|issue| tally.issue(issue));
    }
    let Tally { totals, per_file, kept, warnings, row_errors_total, first_errors, .. } = tally;
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
    let leaf = report::log_leaf(&mut tx, sub, status, totals.accepted, totals.unchanged, totals.rejected).await?;
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
        log_leaf_id: leaf.map(|l| l as i64),
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
        log_leaf_id: leaf,
    };
    Ok((report, spool))
}

/// What the writer counts while batches arrive: rows by outcome, per file and in all, and the report
/// lines (all counted, the first ones kept).
#[derive(Default)]
struct Tally {
    totals: Counts,
    per_file: HashMap<usize, Counts>,
    kept: Vec<IssueRow>,
    warnings: u64,
    row_errors_total: u64,
    first_errors: Vec<RowErrorReport>,
    seq: i64,
}

impl Tally {
    fn counts(&mut self, outcome: HashMap<usize, Counts>) {
        for (file_no, c) in outcome {
            let f = self.per_file.entry(file_no).or_default();
            f.accepted += c.accepted;
            f.unchanged += c.unchanged;
            self.totals.accepted += c.accepted;
            self.totals.unchanged += c.unchanged;
        }
    }

    fn issue(&mut self, issue: Issue) {
        if issue.rejects_row {
            self.totals.rejected += 1;
            self.per_file.entry(issue.file_no).or_default().rejected += 1;
        }
        match issue.severity {
            Severity::Warning => self.warnings += 1,
            Severity::Error => self.row_errors_total += 1,
        }
        if issue.severity == Severity::Error
            && self.first_errors.len() < REPORT_ROW_ERRORS_MAX
            && let Some(row_no) = issue.row_no
        {
            self.first_errors.push(RowErrorReport {
                file_name: issue.file_name.clone(),
                row_no,
                field: issue.field.clone(),
                code: issue.code.clone(),
                en: issue.en.clone(),
                zh: issue.zh.clone(),
            });
        }
        if (self.kept.len() as u64) < ROW_ERRORS_KEPT_MAX {
            self.seq += 1;
            self.kept.push(issue_row(self.seq, issue));
        }
    }
}

fn issue_row(seq: i64, issue: Issue) -> IssueRow {
    IssueRow {
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
    }
}

/// Writes the lines of each invoice against the submitter's own statement of that invoice: a repeated
/// set is unchanged, another set supersedes the current one. Lines of an invoice the submitter never
/// stated are refused by row; lines whose amounts do not add up to the invoice's are kept with a warning.
async fn write_lines(
    tx: &mut lianrong_store::Conn,
    sub: &SubmissionRow,
    groups: Vec<LineGroup>,
    rejects: &mut Vec<Issue>,
) -> AppResult<HashMap<usize, Counts>> {
    let mut out: HashMap<usize, Counts> = HashMap::new();
    let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    let existing: HashMap<String, trade_store::Existing> =
        trade_store::existing(tx, &keys).await?.into_iter().map(|e| (e.natural_key.clone(), e)).collect();
    let ids: Vec<&str> = existing.values().map(|e| e.id.as_str()).collect();
    let current_sm3: HashMap<String, String> = trade_store::lines_sm3(tx, &ids).await?.into_iter().collect();
    let invoices: HashMap<String, TradeRow> =
        trade_store::current(tx, &ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let now = now_ms();
    for g in groups {
        let counts = out.entry(g.file_no).or_default();
        let Some(invoice) = existing.get(&g.key) else {
            for (row_no, _) in &g.lines {
                rejects.push(line_issue(&g, *row_no, Severity::Error, "line_invoice_not_found", &format!(
                    "Invoice {} is not among your organisation's invoices; send its invoice sheet (发票基础信息) with its lines",
                    g.doc_no
                ), &format!("发票 {} 不在贵单位已报送的发票中；请将发票基础信息表与明细一并报送", g.doc_no), true));
            }
            continue;
        };
        let lines: Vec<&InvoiceLine> = g.lines.iter().map(|(_, l)| l).collect();
        let digest = sm3_hex(&serde_json::to_vec(&lines).unwrap_or_default());
        if current_sm3.get(&invoice.id) == Some(&digest) {
            counts.unchanged += g.lines.len() as u64;
            continue;
        }
        let owned: Vec<InvoiceLine> = lines.iter().map(|l| (*l).clone()).collect();
        if let Some(inv) = invoices.get(&invoice.id)
            && let (Some(net), Some(sum)) = (inv.net_fen, line::net_sum_fen(&owned))
            && net != sum
        {
            let first_row = g.lines.first().map(|(r, _)| *r).unwrap_or(0);
            rejects.push(line_issue(
                &g,
                first_row,
                Severity::Warning,
                "lines_do_not_add_up",
                &format!(
                    "The lines of invoice {} add up to {} before tax, the invoice says {}",
                    g.doc_no,
                    lianrong_domain::Money::from_fen(sum),
                    lianrong_domain::Money::from_fen(net)
                ),
                &format!(
                    "发票 {} 的明细金额合计 {}，与发票金额 {} 不符",
                    g.doc_no,
                    lianrong_domain::Money::from_fen(sum),
                    lianrong_domain::Money::from_fen(net)
                ),
                false,
            ));
        }
        let rows: Vec<trade_store::LineRow> = g
            .lines
            .iter()
            .enumerate()
            .map(|(i, (row_no, l))| trade_store::LineRow {
                record_id: invoice.id.clone(),
                line_no: i as i64 + 1,
                goods_name: l.goods_name.clone(),
                specification: l.specification.clone(),
                unit: l.unit.clone(),
                quantity: l.quantity.clone(),
                unit_price: l.unit_price.clone(),
                net_fen: l.net_fen,
                tax_fen: l.tax_fen,
                tax_rate: l.tax_rate.clone(),
                tax_class_code: l.tax_class_code.clone(),
                lines_sm3: digest.clone(),
                submission_id: sub.id.clone(),
                row_no: *row_no as i64,
                created_at_ms: now,
            })
            .collect();
        trade_store::replace_lines(tx, &invoice.id, &rows, now).await?;
        counts.accepted += g.lines.len() as u64;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn line_issue(
    g: &LineGroup,
    row_no: u64,
    severity: Severity,
    code: &str,
    en: &str,
    zh: &str,
    rejects_row: bool,
) -> Issue {
    Issue {
        file_no: g.file_no,
        severity,
        file_name: g.file_name.clone(),
        sheet: g.sheet.clone(),
        row_no: Some(row_no),
        field: Some(Field::InvoiceNo.code().to_string()),
        code: code.to_string(),
        en: en.to_string(),
        zh: zh.to_string(),
        raw_text: None,
        rejects_row,
    }
}

/// A stored version read back as the record it states, to carry its values into a restatement that does
/// not state them. `None` only if the row no longer decodes (then the restatement stands alone).
fn record_of(r: &TradeRow) -> Option<TradeRecord> {
    use lianrong_domain::trade::{AcceptanceStatus, InvoiceKind, InvoiceStatus, PaymentMethod, TermBasis};
    let refs = |s: &str| -> Vec<String> { s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect() };
    let currency = trade::value::parse_currency(&r.currency).ok()?;
    Some(TradeRecord {
        record_type: RecordType::parse(&r.record_type).ok()?,
        doc_no: r.doc_no.clone(),
        invoice_code: r.invoice_code.clone(),
        doc_date: r.doc_date.clone(),
        buyer_uscc: lianrong_domain::Uscc::parse_format(&r.buyer_uscc).ok()?,
        buyer_name: r.buyer_name.clone(),
        seller_uscc: lianrong_domain::Uscc::parse_format(&r.seller_uscc).ok()?,
        seller_name: r.seller_name.clone(),
        currency,
        total_fen: r.total_fen,
        tax_fen: r.tax_fen,
        net_fen: r.net_fen,
        term_days: r.term_days,
        term_basis: r.term_basis.as_deref().and_then(|c| TermBasis::parse(c).ok()),
        invoice_kind: r.invoice_kind.as_deref().and_then(|c| InvoiceKind::parse(c).ok()),
        invoice_status: r.invoice_status.as_deref().and_then(|c| InvoiceStatus::parse(c).ok()),
        acceptance_status: r.acceptance_status.as_deref().and_then(|c| AcceptanceStatus::parse(c).ok()),
        accepted_date: r.accepted_date.clone(),
        payment_method: r.payment_method.as_deref().and_then(|c| PaymentMethod::parse(c).ok()),
        payee_account: None,
        order_refs: refs(&r.order_refs),
        delivery_refs: refs(&r.delivery_refs),
        invoice_refs: refs(&r.invoice_refs),
        remarks: r.remarks.clone(),
    })
}

/// A restatement with what it did not state taken from the version it replaces (see
/// `TradeRecord::keep_unstated`), its payee digest kept when it names no account, and its digest again.
fn with_unstated_kept(v: &Valid, prior: &TradeRow) -> Option<Valid> {
    let prior_record = record_of(prior)?;
    let mut record = v.record.clone();
    record.keep_unstated(&prior_record, |f| v.stated.has(f));
    let (payee_sm3, payee_last4) = if v.stated.has(Field::PayeeAccount) {
        (v.payee_sm3.clone(), v.payee_last4.clone())
    } else {
        (prior.payee_account_sm3.clone(), prior.payee_account_last4.clone())
    };
    let content_sm3 = content_digest(&record, payee_sm3.as_deref());
    Some(Valid {
        file_no: v.file_no,
        file_name: v.file_name.clone(),
        row_no: v.row_no,
        record,
        stated: v.stated,
        key: v.key.clone(),
        content_sm3,
        payee_sm3,
        payee_last4,
    })
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

/// Restatements staged by this submission, made current per chunk in the final transaction.
const RESTATEMENTS_CHUNK_ROWS: i64 = 500;

/// Inside the final transaction: the staged restatements supersede their records (each one's
/// confirmation superseded, an imported external result set aside), then the new records are inserted.
async fn make_current(tx: &mut lianrong_store::Conn, sub: &SubmissionRow) -> AppResult<()> {
    let now = now_ms();
    let mut after = String::new();
    loop {
        let rows = trade_store::stage::staged_restatements(tx, &sub.id, &after, RESTATEMENTS_CHUNK_ROWS).await?;
        let Some(last) = rows.last() else { break };
        after = last.natural_key.clone();
        for row in &rows {
            trade_store::supersede(tx, row, now).await.map_err(conflict_of_writes)?;
            // What the debtor stated no longer describes the record: its confirmation is superseded
            // and a result imported from the central bank's platform is set aside.
            lianrong_store::confirmation::supersede_for_record(tx, &row.id).await?;
            lianrong_store::registration::set_aside_external_confirmations(tx, &row.id, now).await?;
        }
    }
    trade_store::stage::merge_new(tx, &sub.id).await.map_err(conflict_of_writes)?;
    Ok(())
}

/// Another submission changed some of the same records between this one's staging and its end.
fn conflict_of_writes(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "submission_conflict",
            "Another submission wrote some of the same records at the same moment; nothing was recorded, please send again",
            "另一批次同时写入了部分相同记录；本批次未记录任何数据，请重新报送",
        ),
        other => other.into(),
    }
}

/// Looks up a batch's records (committed, and staged earlier by this submission), sorts its rows into
/// new records, restatements, unchanged ones and duplicates, and stages the first two.
async fn stage_batch(
    app: &App,
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
    let (committed, staged) = trade_store::stage::lookup(&app.db, &sub.id, &keys).await?;
    let mut existing: HashMap<String, trade_store::Existing> =
        committed.into_iter().map(|e| (e.natural_key.clone(), e)).collect();
    // What this submission staged stands for what it will have written: a key given again is a duplicate.
    existing.extend(staged.into_iter().map(|e| (e.natural_key.clone(), e)));
    // Restatements that differ as given: read what they would replace, to keep what they do not state.
    let differing: Vec<&str> = valid
        .iter()
        .filter_map(|v| {
            existing
                .get(&v.key)
                .filter(|e| e.content_sm3 != v.content_sm3 && e.submission_id != sub.id)
                .map(|e| e.id.as_str())
        })
        .collect();
    let priors: HashMap<String, TradeRow> = trade_store::current(&mut *app.db.acquire().await?, &differing)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let now = now_ms();
    let mut seen_in_batch: HashMap<String, (String, u64)> = HashMap::new();
    let mut staging: Vec<trade_store::stage::StagedRow> = Vec::new();
    for v in valid {
        let v = match existing.get(&v.key).and_then(|e| priors.get(&e.id)) {
            Some(prior) => with_unstated_kept(&v, prior).unwrap_or(v),
            None => v,
        };
        let dup_of = seen_in_batch.get(&v.key).cloned().or_else(|| {
            existing.get(&v.key).filter(|e| e.submission_id == sub.id).map(|e| (e.file_name.clone(), e.row_no as u64))
        });
        if let Some((first_file, first_row)) = dup_of {
            rejects.push(duplicate(&v, &first_file, first_row));
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
                staging.push(trade_store::stage::StagedRow { row, prior_version: Some(e.version) });
                counts.accepted += 1;
            }
            None => {
                let row = to_row(&v, new_id(), 1, sub, channel, chain_id, now);
                let key = (row.record_type.clone(), row.chain_id.clone(), row.month.clone());
                spool.add(&key, &row);
                spool.touched.insert(key);
                spool.pairs.insert((row.buyer_uscc.clone(), row.seller_uscc.clone()));
                staging.push(trade_store::stage::StagedRow { row, prior_version: None });
                counts.accepted += 1;
            }
        }
    }
    // In key order, the stage's index grows by neighbouring pages rather than at random places.
    staging.sort_by(|a, b| a.row.natural_key.cmp(&b.row.natural_key));
    trade_store::stage::stage(&app.db, &staging).await.map_err(conflict_of_writes)?;
    Ok(out)
}

/// The report line of a row whose record the submission already gave.
fn duplicate(v: &Valid, first_file: &str, first_row: u64) -> Issue {
    Issue {
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
    }
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
        invoice_status: r.invoice_status.map(|k| k.code().to_string()),
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
