//! A file's preview: how the pipeline will read it, shown before anything is stored. For each sheet, the
//! header row found, the record type, how each column is read (by the standard's names, by the
//! organisation's own meanings, or not at all) and the first rows' values under their columns. Nothing is
//! written: the preview reads the file with the same header rules as the pipeline, so what it shows is
//! what an upload of the same file does.

use std::path::Path;

use lianrong_domain::limits::{HEADER_SCAN_ROWS_MAX, PREVIEW_ROWS_COUNTED_MAX, PREVIEW_SAMPLE_ROWS};
use lianrong_domain::trade::header::{self, ColumnMapping, ColumnMeaning, ColumnOrigin};
use lianrong_domain::trade::{Field, RecordType, value};
use lianrong_lake::file::{Table, column_name};

use super::ingest::{lists_lines, own_side, total_row, typed_map};
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Permission};
use crate::{App, audit};

/// A problem named by code with its message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: String,
    pub en: String,
    pub zh: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePreview {
    pub file_name: String,
    /// The detected format of the file's first readable part (csv, xlsx, xls, ods), if any.
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub sheets: Vec<SheetPreview>,
    /// Why the file could not be opened at all.
    pub error: Option<Problem>,
}

/// What became of one sheet (or one CSV file, or one file inside a ZIP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetStatus {
    /// Its rows will be read as records (or as invoice lines).
    Read,
    /// Hidden in the workbook: not read.
    Hidden,
    /// No rows at all.
    Empty,
    /// No header row naming the standard's columns near its top.
    NoHeader,
    /// A header row, but neither its columns nor its names tell the record type.
    TypeUnknown,
    /// The part could not be read (a broken sheet, a refused file inside a ZIP).
    Unreadable,
}

impl SheetStatus {
    pub fn code(self) -> &'static str {
        match self {
            SheetStatus::Read => "read",
            SheetStatus::Hidden => "hidden",
            SheetStatus::Empty => "empty",
            SheetStatus::NoHeader => "no_header",
            SheetStatus::TypeUnknown => "type_unknown",
            SheetStatus::Unreadable => "unreadable",
        }
    }

    pub fn label(self, lang_en: bool) -> &'static str {
        let (zh, en) = match self {
            SheetStatus::Read => ("将读取", "Will be read"),
            SheetStatus::Hidden => ("隐藏工作表，不读取", "Hidden, not read"),
            SheetStatus::Empty => ("空工作表", "Empty"),
            SheetStatus::NoHeader => ("未找到表头，跳过", "No header row, skipped"),
            SheetStatus::TypeUnknown => ("无法判断记录类型", "Record type unknown"),
            SheetStatus::Unreadable => ("无法读取", "Unreadable"),
        };
        if lang_en { en } else { zh }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetPreview {
    /// The file's name; for a file inside a ZIP, `archive.zip/inner.csv`.
    pub file_name: String,
    pub sheet_name: Option<String>,
    pub status: SheetStatus,
    pub problem: Option<Problem>,
    pub header_row_no: Option<u64>,
    /// With no header row found, the row shown as the likeliest one (the first with two cells or more),
    /// so its columns can be given meanings.
    pub header_guess_row_no: Option<u64>,
    pub record_type: Option<RecordType>,
    /// The sheet lists invoices' lines rather than records.
    pub lines: bool,
    /// The party column the sheet lacks, taken to be the submitter.
    pub own_side: Option<Field>,
    pub columns: Vec<ColumnPreview>,
    pub samples: Vec<SampleRow>,
    /// Data rows under the header (total rows not included), counted up to a limit.
    pub rows: u64,
    /// Whether `rows` stopped at the counting limit.
    pub rows_more: bool,
    pub total_rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPreview {
    pub index: usize,
    /// The spreadsheet's column letter (A, B, …, AA).
    pub letter: String,
    pub header: String,
    /// What the column is read as; `None` when it is not read.
    pub meaning: Option<ColumnMeaning>,
    pub origin: ColumnOrigin,
}

/// One of the first rows under the header: its row number and its cells' text by column, shortened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRow {
    pub row_no: u64,
    pub cells: Vec<String>,
}

/// Previews a file on disk (an upload spooled as it arrived) as the actor's organisation's files are read.
pub async fn preview_path(app: &App, actor: &Actor, name: &str, path: &Path) -> AppResult<FilePreview> {
    audit::run(app, actor, Permission::SubmitTrade, "submission.preview", "submission", "", async {
        crate::policy::guard_trade_sharer(actor)?;
        let mapping = crate::column_mapping::mapping_of(app, &actor.org_id).await?;
        let (name, path) = (name.to_string(), path.to_path_buf());
        tokio::task::spawn_blocking(move || {
            let parts = match std::fs::File::open(&path) {
                Ok(f) => lianrong_lake::file::open_reader(&name, std::io::BufReader::new(f)),
                Err(e) => Err(lianrong_lake::FileError::new(
                    "upload_unreadable",
                    format!("the spooled upload could not be read: {e}"),
                    format!("无法读取已接收的文件：{e}"),
                )),
            };
            preview_parts(&name, parts, &mapping)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the preview thread failed");
            AppError::internal()
        })
    })
    .await
}

fn preview_parts(
    name: &str,
    parts: Result<lianrong_lake::file::Parts, lianrong_lake::FileError>,
    mapping: &ColumnMapping,
) -> FilePreview {
    let mut out =
        FilePreview { file_name: name.to_string(), format: None, encoding: None, sheets: Vec::new(), error: None };
    let parts = match parts {
        Ok(p) => p,
        Err(e) => {
            out.error = Some(Problem { code: e.code.to_string(), en: e.en, zh: e.zh });
            return out;
        }
    };
    let mut invoice_sheet_seen = false;
    for part in parts {
        match part {
            Ok(table) => {
                out.format.get_or_insert_with(|| table.format.code().to_string());
                if out.encoding.is_none() {
                    out.encoding = table.encoding.map(|e| e.code().to_string());
                }
                let sheet = preview_table(table, mapping, invoice_sheet_seen);
                invoice_sheet_seen |= sheet.record_type == Some(RecordType::Invoice) && !sheet.lines;
                out.sheets.push(sheet);
            }
            Err(pe) => {
                let status = if pe.error.code == "sheet_empty" { SheetStatus::Empty } else { SheetStatus::Unreadable };
                let mut sheet = empty_sheet(pe.file_name, pe.sheet_name, status);
                sheet.problem = Some(Problem { code: pe.error.code.to_string(), en: pe.error.en, zh: pe.error.zh });
                out.sheets.push(sheet);
            }
        }
    }
    out
}

fn empty_sheet(file_name: String, sheet_name: Option<String>, status: SheetStatus) -> SheetPreview {
    SheetPreview {
        file_name,
        sheet_name,
        status,
        problem: None,
        header_row_no: None,
        header_guess_row_no: None,
        record_type: None,
        lines: false,
        own_side: None,
        columns: Vec::new(),
        samples: Vec::new(),
        rows: 0,
        rows_more: false,
        total_rows: 0,
    }
}

/// Reads one table as the pipeline would: the header row within the scan limit, then the data rows.
fn preview_table(table: Table, mapping: &ColumnMapping, invoice_sheet_seen: bool) -> SheetPreview {
    let mut sheet = empty_sheet(table.file_name.clone(), table.sheet_name.clone(), SheetStatus::NoHeader);
    if table.sheet_hidden {
        sheet.status = SheetStatus::Hidden;
        return sheet;
    }
    let mut map = None;
    let mut scanned = 0u64;
    // The rows scanned for a header, kept (at most the scan limit) to show the likeliest one if none is.
    let mut scanned_rows: Vec<(u64, Vec<String>)> = Vec::new();
    for row in table.rows {
        let Some(m) = &map else {
            let Ok(row) = row else { continue };
            scanned += 1;
            let texts: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
            if header::is_header_row_with(&texts, mapping) {
                let (m, rt) =
                    typed_map(header::map_headers_with(&texts, mapping), sheet.sheet_name.as_deref(), &sheet.file_name);
                sheet.samples.clear();
                read_header(&mut sheet, &texts, &m, rt, invoice_sheet_seen);
                sheet.header_row_no = Some(row.row_no);
                map = Some(m);
            } else {
                scanned_rows.push((row.row_no, texts));
                if scanned >= HEADER_SCAN_ROWS_MAX {
                    break;
                }
            }
            continue;
        };
        if sheet.rows >= PREVIEW_ROWS_COUNTED_MAX {
            sheet.rows_more = true;
            break;
        }
        match row {
            Ok(row) if total_row(&row, m).is_some() => sheet.total_rows += 1,
            Ok(row) => {
                sheet.rows += 1;
                if sheet.samples.len() < PREVIEW_SAMPLE_ROWS {
                    sheet.samples.push(sample(&row, sheet.columns.len()));
                }
            }
            Err(_) => sheet.rows += 1,
        }
    }
    if map.is_none() {
        guess_header(&mut sheet, &scanned_rows, mapping, invoice_sheet_seen);
    }
    sheet
}

/// With no header row found, shows the scanned row with the most filled cells (the first of equals; at
/// least two) as the likeliest header, read as far as it can be, with the rows under it, so the user can
/// give its columns their meanings. The sheet stays skipped until then.
fn guess_header(
    sheet: &mut SheetPreview,
    scanned: &[(u64, Vec<String>)],
    mapping: &ColumnMapping,
    invoice_sheet_seen: bool,
) {
    let filled = |texts: &[String]| texts.iter().filter(|t| !t.trim().is_empty()).count();
    let mut best: Option<usize> = None;
    for (i, (_, texts)) in scanned.iter().enumerate() {
        if filled(texts) >= 2 && best.is_none_or(|b| filled(texts) > filled(&scanned[b].1)) {
            best = Some(i);
        }
    }
    let Some(b) = best else { return };
    let (row_no, texts) = &scanned[b];
    let (m, rt) = typed_map(header::map_headers_with(texts, mapping), sheet.sheet_name.as_deref(), &sheet.file_name);
    read_header(sheet, texts, &m, rt, invoice_sheet_seen);
    sheet.status = SheetStatus::NoHeader;
    sheet.header_guess_row_no = Some(*row_no);
    sheet.samples = scanned[b + 1..]
        .iter()
        .take(PREVIEW_SAMPLE_ROWS)
        .map(|(n, cells)| SampleRow {
            row_no: *n,
            cells: (0..texts.len()).map(|i| cells.get(i).map(|c| value::excerpt(c)).unwrap_or_default()).collect(),
        })
        .collect();
}

fn sample(row: &lianrong_lake::file::Row, columns: usize) -> SampleRow {
    let cells = (0..columns).map(|i| row.cell(i).map(|c| value::excerpt(&c.text)).unwrap_or_default()).collect();
    SampleRow { row_no: row.row_no, cells }
}

fn read_header(
    sheet: &mut SheetPreview,
    texts: &[String],
    map: &header::HeaderMap,
    rt: Option<RecordType>,
    invoice_sheet_seen: bool,
) {
    sheet.record_type = rt;
    sheet.status =
        if rt.is_some() || map.has(Field::RecordType) { SheetStatus::Read } else { SheetStatus::TypeUnknown };
    sheet.lines = lists_lines(map, invoice_sheet_seen, sheet.sheet_name.as_deref(), &sheet.file_name);
    sheet.own_side = own_side(map);
    sheet.columns = texts
        .iter()
        .enumerate()
        .map(|(i, h)| ColumnPreview {
            index: i,
            letter: column_name(i),
            header: h.trim().to_string(),
            meaning: map.meaning_of(i),
            origin: map.origins.get(i).copied().unwrap_or(ColumnOrigin::Blank),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use lianrong_domain::trade::header::ColumnMeaning as M;

    fn preview(name: &str, text: &str, mapping: &ColumnMapping) -> FilePreview {
        preview_parts(name, lianrong_lake::file::open_bytes(name, text.as_bytes().to_vec()), mapping)
    }

    #[test]
    fn a_preview_shows_each_columns_reading_and_the_first_rows() {
        let csv = "采购订单导出\n单号,客户编码,供应商税号,价税合计,颜色\nPO-1,X,Y,10.00,红\nPO-2,X,Y,20.00,蓝\n合计,,,30.00,\n";
        let p = preview("订单.csv", csv, &ColumnMapping::new());
        let s = &p.sheets[0];
        assert_eq!((s.status, s.header_row_no, s.record_type), (SheetStatus::Read, Some(2), Some(RecordType::Order)));
        assert_eq!((s.rows, s.total_rows, s.samples.len()), (2, 1, 2));
        assert_eq!(s.samples[1].cells[0], "PO-2");
        let origins: Vec<_> = s.columns.iter().map(|c| c.origin).collect();
        assert_eq!(
            origins,
            [
                ColumnOrigin::Generic,
                ColumnOrigin::Unknown,
                ColumnOrigin::Standard,
                ColumnOrigin::Standard,
                ColumnOrigin::Unknown
            ]
        );
        assert_eq!(s.columns[0].meaning, Some(M::Field(Field::OrderNo)));
        assert_eq!(s.own_side, Some(Field::BuyerUscc));

        let mut mine = ColumnMapping::new();
        mine.insert("客户编码", M::Field(Field::BuyerUscc)).unwrap();
        mine.insert("颜色", M::Ignore).unwrap();
        let s = &preview("订单.csv", csv, &mine).sheets[0];
        assert_eq!(s.columns[1].meaning, Some(M::Field(Field::BuyerUscc)));
        assert_eq!(
            (s.columns[1].origin, s.columns[4].origin),
            (ColumnOrigin::Organisation, ColumnOrigin::Organisation)
        );
        assert_eq!(s.own_side, None);
    }

    #[test]
    fn a_file_without_a_header_or_unreadable_is_said_so() {
        let p = preview("x.csv", "导出时间,2026-12-01\n客户,货品,总价\nA,B,1\n", &ColumnMapping::new());
        let s = &p.sheets[0];
        assert_eq!((s.status, s.header_row_no, s.header_guess_row_no), (SheetStatus::NoHeader, None, Some(2)));
        assert_eq!((s.columns.len(), s.samples.len()), (3, 1), "the likeliest header's columns, to be given meanings");
        let p = preview_parts(
            "x.xlsx",
            lianrong_lake::file::open_bytes("x.xlsx", b"PK\x03\x04 a broken workbook".to_vec()),
            &ColumnMapping::new(),
        );
        assert!(p.error.is_some() || p.sheets.iter().all(|s| s.status == SheetStatus::Unreadable), "{p:?}");
    }
}
