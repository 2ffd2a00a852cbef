//! Workbooks: XLSX through calamine's streaming cell reader (values and formulas in one pass, stored
//! sparsely so a stray far-away cell cannot force a huge allocation), legacy XLS through calamine after
//! a pre-scan of its record stream. One sheet is read at a time; each calamine call is fenced with
//! `catch_unwind` so a bug tripped by a hostile file is an error, not a crash.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, DataRef, Dimensions, Reader, SheetType, SheetVisible, Xls, Xlsx};
use zip::ZipArchive;

use super::archive::{check_declared, ratio_exceeded, zip_unreadable};
use super::cell::{format_datetime, format_number};
use super::text::too_many_columns;
use super::{Cell, CellKind, Format, MergedRange, Part, PartError, Parts, PartsInner, Row, Rows, Source, Table};
use crate::error::FileError;
use crate::limits::{COLUMNS_MAX, SHEETS_MAX, XLS_BYTES_MAX, XLSX_ENTRIES_MAX, XLSX_UNCOMPRESSED_BYTES_MAX};

mod xls_scan;

enum Book {
    Xlsx(Box<Xlsx<Source>>),
    Xls(Box<Xls<Source>>),
}

struct SheetInfo {
    name: String,
    hidden: bool,
}

pub(crate) struct WorkbookParts {
    book: Book,
    format: Format,
    file_name: String,
    sheets: Vec<SheetInfo>,
    next_sheet: usize,
    /// Empty sheets seen before any sheet with data: shown only if some sheet has data, otherwise the
    /// whole workbook is reported once as `workbook_empty`.
    empty_before_data: Vec<PartError>,
    queued: VecDeque<Part>,
    any_data: bool,
    finished: bool,
}

fn unreadable(format: Format, detail: &dyn std::fmt::Display) -> FileError {
    let (code, kind) = match format {
        Format::Xls => ("xls_unreadable", "XLS"),
        _ => ("xlsx_unreadable", "XLSX"),
    };
    FileError::new(
        code,
        format!("The {kind} workbook cannot be read ({detail}); open it in Excel or WPS and save it again."),
        format!("无法读取该 {kind} 工作簿（{detail}）；请用 Excel 或 WPS 打开后重新保存。"),
    )
}

fn encrypted() -> FileError {
    FileError::new(
        "file_encrypted",
        "The workbook is password-protected; send it without a password.",
        "该工作簿设有密码；请提交未加密的文件。",
    )
}

fn guarded<T>(format: Format, f: impl FnOnce() -> Result<T, FileError>) -> Result<T, FileError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(unreadable(format, &"internal reader failure")))
}

/// Inflates every part of the package into nothing, counting, so a package whose parts inflate beyond
/// the limit (whatever their headers claim) is refused before calamine reads it.
fn check_xlsx_package(source: Source) -> Result<Source, FileError> {
    let mut archive = ZipArchive::new(source).map_err(|e| zip_unreadable(&e))?;
    check_declared(&archive, XLSX_ENTRIES_MAX, XLSX_UNCOMPRESSED_BYTES_MAX)?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(_) => continue, // calamine reports the parts it needs and cannot read
        };
        let compressed = entry.compressed_size();
        let budget = XLSX_UNCOMPRESSED_BYTES_MAX - total;
        let inflated = std::io::copy(&mut (&mut entry).take(budget + 1), &mut std::io::sink()).unwrap_or(0);
        total += inflated.min(budget);
        if inflated > budget || ratio_exceeded(inflated, compressed) {
            return Err(FileError::zip_bomb("workbook parts"));
        }
    }
    Ok(archive.into_inner())
}

pub(crate) fn open_xlsx(file_name: &str, source: Source) -> Result<Parts, FileError> {
    let format = Format::Xlsx;
    let mut source = check_xlsx_package(source)?;
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    let book = guarded(format, || match Xlsx::new(source) {
        Ok(book) => Ok(book),
        Err(calamine::XlsxError::Password) => Err(encrypted()),
        Err(e) => Err(unreadable(format, &e)),
    })?;
    let sheets = sheet_list(book.sheets_metadata())?;
    Ok(workbook_parts(Book::Xlsx(Box::new(book)), format, file_name, sheets))
}

pub(crate) fn open_xls(file_name: &str, mut source: Source) -> Result<Parts, FileError> {
    let format = Format::Xls;
    let len = source.seek(SeekFrom::End(0)).map_err(|e| FileError::io(&e))?;
    if len > XLS_BYTES_MAX {
        return Err(FileError::too_large(XLS_BYTES_MAX));
    }
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    let mut source = xls_scan::check(source)?;
    source.seek(SeekFrom::Start(0)).map_err(|e| FileError::io(&e))?;
    let book = guarded(format, || match Xls::new(source) {
        Ok(book) => Ok(book),
        Err(calamine::XlsError::Password) => Err(encrypted()),
        Err(e) => Err(unreadable(format, &e)),
    })?;
    let sheets = sheet_list(book.sheets_metadata())?;
    Ok(workbook_parts(Book::Xls(Box::new(book)), format, file_name, sheets))
}

fn sheet_list(metadata: &[calamine::Sheet]) -> Result<Vec<SheetInfo>, FileError> {
    let sheets: Vec<SheetInfo> = metadata
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| SheetInfo { name: s.name.clone(), hidden: s.visible != SheetVisible::Visible })
        .collect();
    if sheets.len() > SHEETS_MAX {
        return Err(FileError::new(
            "too_many_sheets",
            format!("The workbook has more than {SHEETS_MAX} sheets."),
            format!("工作簿超过 {SHEETS_MAX} 个工作表。"),
        ));
    }
    Ok(sheets)
}

fn workbook_parts(book: Book, format: Format, file_name: &str, sheets: Vec<SheetInfo>) -> Parts {
    Parts(PartsInner::Workbook(Box::new(WorkbookParts {
        book,
        format,
        file_name: file_name.to_owned(),
        sheets,
        next_sheet: 0,
        empty_before_data: Vec::new(),
        queued: VecDeque::new(),
        any_data: false,
        finished: false,
    })))
}

/// One sheet read into sparse rows.
struct SheetData {
    rows: Vec<Result<Row, FileError>>,
    merged: Vec<MergedRange>,
}

impl WorkbookParts {
    pub(crate) fn next(&mut self) -> Option<Part> {
        loop {
            if let Some(part) = self.queued.pop_front() {
                return Some(part);
            }
            if self.next_sheet >= self.sheets.len() {
                if !self.any_data && !self.finished {
                    self.finished = true;
                    return Some(Err(PartError {
                        file_name: self.file_name.clone(),
                        sheet_name: None,
                        error: FileError::new(
                            "workbook_empty",
                            "The workbook has no data in any sheet.",
                            "工作簿的所有工作表都没有数据。",
                        ),
                    }));
                }
                return None;
            }
            let index = self.next_sheet;
            self.next_sheet += 1;
            self.read_sheet(index);
        }
    }

    fn read_sheet(&mut self, index: usize) {
        let (name, hidden) = (self.sheets[index].name.clone(), self.sheets[index].hidden);
        let format = self.format;
        let book = &mut self.book;
        let sheet = guarded(format, || match book {
            Book::Xlsx(book) => read_xlsx_sheet(book, &name),
            Book::Xls(book) => read_xls_sheet(book, &name),
        });
        let part_error = |error| PartError { file_name: self.file_name.clone(), sheet_name: Some(name.clone()), error };
        match sheet {
            Err(error) => {
                self.any_data = true;
                self.queued.push_back(Err(part_error(error)));
            }
            Ok(sheet) if sheet.rows.is_empty() => {
                let error = part_error(FileError::new(
                    "sheet_empty",
                    format!("Sheet \"{name}\" has no data."),
                    format!("工作表“{name}”没有数据。"),
                ));
                if self.any_data {
                    self.queued.push_back(Err(error));
                } else {
                    self.empty_before_data.push(error);
                }
            }
            Ok(sheet) => {
                self.any_data = true;
                self.queued.extend(self.empty_before_data.drain(..).map(Err));
                self.queued.push_back(Ok(Table {
                    file_name: self.file_name.clone(),
                    sheet_name: Some(name),
                    sheet_hidden: hidden,
                    format,
                    encoding: None,
                    delimiter: None,
                    merged: sheet.merged,
                    rows: Rows::new(sheet.rows.into_iter()),
                }));
            }
        }
    }
}

fn merged_ranges(dimensions: &[Dimensions]) -> Vec<MergedRange> {
    dimensions
        .iter()
        .map(|d| MergedRange {
            first_row_no: u64::from(d.start.0) + 1,
            last_row_no: u64::from(d.end.0) + 1,
            first_col: d.start.1,
            last_col: d.end.1,
        })
        .collect()
}

fn read_xlsx_sheet(book: &mut Xlsx<Source>, name: &str) -> Result<SheetData, FileError> {
    let format = Format::Xlsx;
    let merged = book.merge_cells_by_sheet_name(name).map(|d| merged_ranges(&d)).unwrap_or_default();
    let mut reader = book.worksheet_cells_reader(name).map_err(|e| unreadable(format, &e))?;
    let mut builder = RowsBuilder::default();
    while let Some(record) = reader.next_cell_with_formula_metadata().map_err(|e| unreadable(format, &e))? {
        let cell = cell_from_ref(&record.value, record.formula.is_some());
        builder.push(record.pos.0, record.pos.1, cell);
    }
    Ok(SheetData { rows: builder.finish(), merged })
}

fn read_xls_sheet(book: &mut Xls<Source>, name: &str) -> Result<SheetData, FileError> {
    let format = Format::Xls;
    let merged = book.merge_cells_by_sheet_name(name).map(|d| merged_ranges(&d)).unwrap_or_default();
    let values = book.worksheet_range(name).map_err(|e| unreadable(format, &e))?;
    let formulas = book.worksheet_formula(name).map_err(|e| unreadable(format, &e))?;
    let mut builder = RowsBuilder::default();
    for (row, col, value) in values.used_cells() {
        let (abs_row, abs_col) =
            (values.start().unwrap_or_default().0 + row as u32, values.start().unwrap_or_default().1 + col as u32);
        let is_formula = formulas.get_value((abs_row, abs_col)).is_some_and(|f| !f.is_empty());
        builder.push(abs_row, abs_col, cell_from_data(value, is_formula));
    }
    Ok(SheetData { rows: builder.finish(), merged })
}

/// Groups cells into rows, tolerating out-of-order cells; rows and cells beyond the column limit
/// become row errors.
#[derive(Default)]
struct RowsBuilder {
    rows: Vec<(u32, Vec<(u32, Cell)>)>,
    unsorted: bool,
}

impl RowsBuilder {
    fn push(&mut self, row: u32, col: u32, cell: Cell) {
        if cell.is_empty() {
            return;
        }
        match self.rows.last_mut() {
            Some((last, cells)) if *last == row => cells.push((col, cell)),
            Some((last, _)) if *last > row => {
                self.unsorted = true;
                self.rows.push((row, vec![(col, cell)]));
            }
            _ => self.rows.push((row, vec![(col, cell)])),
        }
    }

    fn finish(mut self) -> Vec<Result<Row, FileError>> {
        if self.unsorted {
            self.rows.sort_by_key(|(row, _)| *row);
        }
        let mut out: Vec<Result<Row, FileError>> = Vec::with_capacity(self.rows.len());
        let mut pending: Option<(u32, Vec<(u32, Cell)>)> = None;
        for (row, cells) in self.rows {
            match &mut pending {
                Some((r, acc)) if *r == row => acc.extend(cells),
                _ => {
                    if let Some((r, acc)) = pending.take() {
                        out.push(build_row(r, acc));
                    }
                    pending = Some((row, cells));
                }
            }
        }
        if let Some((r, acc)) = pending {
            out.push(build_row(r, acc));
        }
        out
    }
}

fn build_row(row: u32, mut cells: Vec<(u32, Cell)>) -> Result<Row, FileError> {
    let row_no = u64::from(row) + 1;
    if !cells.is_sorted_by_key(|(col, _)| *col) {
        cells.sort_by_key(|(col, _)| *col);
    }
    let width = cells.last().map_or(0, |(col, _)| *col as usize + 1);
    if width > COLUMNS_MAX {
        return Err(too_many_columns(row_no));
    }
    let mut out = vec![Cell::empty(); width];
    for (col, cell) in cells {
        out[col as usize] = cell;
    }
    Ok(Row { row_no, cells: out })
}

fn kind_or_formula(kind: CellKind, is_formula: bool) -> CellKind {
    if is_formula { CellKind::Formula } else { kind }
}

fn text_cell(text: &str, is_formula: bool) -> Cell {
    if text.trim().is_empty() {
        if is_formula { Cell { kind: CellKind::Formula, text: String::new() } } else { Cell::empty() }
    } else {
        Cell { kind: kind_or_formula(CellKind::Text, is_formula), text: text.to_owned() }
    }
}

fn datetime_cell(dt: &calamine::ExcelDateTime, is_formula: bool) -> Cell {
    if dt.is_duration() {
        return Cell { kind: kind_or_formula(CellKind::Number, is_formula), text: format_number(dt.as_f64()) };
    }
    let text = format_datetime(dt.as_f64(), dt.to_ymd_hms_milli());
    Cell { kind: kind_or_formula(CellKind::Date, is_formula), text }
}

fn cell_from_ref(value: &DataRef<'_>, is_formula: bool) -> Cell {
    let simple = |kind, text: String| Cell { kind: kind_or_formula(kind, is_formula), text };
    match value {
        DataRef::Int(i) => simple(CellKind::Number, i.to_string()),
        DataRef::Float(f) => simple(CellKind::Number, format_number(*f)),
        DataRef::String(s) => text_cell(s, is_formula),
        DataRef::SharedString(s) => text_cell(s, is_formula),
        DataRef::Bool(b) => simple(CellKind::Bool, if *b { "TRUE" } else { "FALSE" }.to_owned()),
        DataRef::DateTime(dt) => datetime_cell(dt, is_formula),
        DataRef::DateTimeIso(s) => simple(CellKind::Date, s.clone()),
        DataRef::DurationIso(s) => simple(CellKind::Text, s.clone()),
        DataRef::Error(e) => simple(CellKind::Error, e.to_string()),
        DataRef::Empty => text_cell("", is_formula),
    }
}

fn cell_from_data(value: &Data, is_formula: bool) -> Cell {
    let simple = |kind, text: String| Cell { kind: kind_or_formula(kind, is_formula), text };
    match value {
        Data::Int(i) => simple(CellKind::Number, i.to_string()),
        Data::Float(f) => simple(CellKind::Number, format_number(*f)),
        Data::String(s) => text_cell(s, is_formula),
        Data::Bool(b) => simple(CellKind::Bool, if *b { "TRUE" } else { "FALSE" }.to_owned()),
        Data::DateTime(dt) => datetime_cell(dt, is_formula),
        Data::DateTimeIso(s) => simple(CellKind::Date, s.clone()),
        Data::DurationIso(s) => simple(CellKind::Text, s.clone()),
        Data::Error(e) => simple(CellKind::Error, e.to_string()),
        Data::Empty => text_cell("", is_formula),
    }
}
