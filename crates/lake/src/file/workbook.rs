//! Workbooks: XLSX through calamine's streaming cell reader (values and formulas in one pass, rows
//! built sparsely so a stray far-away cell cannot force a huge allocation), legacy XLS through calamine
//! after a pre-scan of its record stream.
//!
//! calamine's cell reader borrows the workbook, so the workbook lives on a reading thread of its own
//! that sends rows in small batches over a bounded channel: a sheet of a million rows streams in
//! bounded memory like CSV. Each sheet's reading is fenced with `catch_unwind`, so a bug tripped by a
//! hostile file is an error, not a crash.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use calamine::{Data, DataRef, Dimensions, Reader, SheetType, SheetVisible, Xls, Xlsx};
use zip::ZipArchive;

use super::archive::{check_declared, ratio_exceeded, zip_unreadable};
use super::cell::{Cell, CellKind};
use super::cell::{format_datetime, format_number};
use super::detect::Format;
use super::source::Source;
use super::table::{MergedRange, Part, PartError, Parts, Row, Rows, Table};
use super::text::too_many_columns;
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
            return Err(FileError::zip_bomb("workbook parts", "工作簿的组成部分"));
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
        Err(calamine::XlsxError::Password) => Err(xls_scan::encrypted()),
        Err(e) => Err(unreadable(format, &e)),
    })?;
    let sheets = sheet_list(book.sheets_metadata())?;
    workbook_parts(Book::Xlsx(Box::new(book)), format, file_name, sheets)
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
        Err(calamine::XlsError::Password) => Err(xls_scan::encrypted()),
        Err(e) => Err(unreadable(format, &e)),
    })?;
    let sheets = sheet_list(book.sheets_metadata())?;
    workbook_parts(Book::Xls(Box::new(book)), format, file_name, sheets)
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

/// Rows per message from the reading thread and messages in flight: together they bound memory.
const ROWS_PER_BATCH: usize = 512;
const BATCHES_IN_FLIGHT: usize = 4;

/// What the reading thread sends, in order: per sheet a header, row batches, then an end or a failure;
/// `Done` after the last sheet. `seq` is the sheet's index in the list of worksheets.
enum Msg {
    Sheet { seq: usize, merged: Vec<MergedRange> },
    Rows { seq: usize, rows: Vec<Result<Row, FileError>> },
    SheetEnd { seq: usize },
    SheetFailed { seq: usize, error: FileError },
    Done,
}

impl Msg {
    fn seq(&self) -> Option<usize> {
        match self {
            Msg::Sheet { seq, .. } | Msg::Rows { seq, .. } | Msg::SheetEnd { seq } | Msg::SheetFailed { seq, .. } => {
                Some(*seq)
            }
            Msg::Done => None,
        }
    }
}

/// The receiving end, shared by the parts iterator and the table being read, with one message of
/// look-ahead.
struct Feed {
    rx: Receiver<Msg>,
    back: Option<Msg>,
}

type SharedFeed = Arc<Mutex<Feed>>;

fn recv(feed: &SharedFeed) -> Option<Msg> {
    let mut feed = feed.lock().unwrap_or_else(PoisonError::into_inner);
    feed.back.take().or_else(|| feed.rx.recv().ok())
}

fn put_back(feed: &SharedFeed, msg: Msg) {
    feed.lock().unwrap_or_else(PoisonError::into_inner).back = Some(msg);
}

pub(crate) struct WorkbookParts {
    feed: SharedFeed,
    format: Format,
    file_name: String,
    sheets: Vec<SheetInfo>,
    /// Sheets before this one have been handed out; their leftover rows are skipped.
    next_seq: usize,
    /// Empty sheets seen before any sheet with data: shown only if some sheet has data, otherwise the
    /// whole workbook is reported once as `workbook_empty`.
    empty_before_data: Vec<PartError>,
    queued: VecDeque<Part>,
    any_data: bool,
    finished: bool,
}

fn workbook_parts(book: Book, format: Format, file_name: &str, sheets: Vec<SheetInfo>) -> Result<Parts, FileError> {
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
    std::thread::Builder::new()
        .name("lake-workbook".into())
        .spawn(move || read_workbook(book, format, &names, &tx))
        .map_err(|e| unreadable(format, &e))?;
    Ok(Parts::new(WorkbookParts {
        feed: Arc::new(Mutex::new(Feed { rx, back: None })),
        format,
        file_name: file_name.to_owned(),
        sheets,
        next_seq: 0,
        empty_before_data: Vec::new(),
        queued: VecDeque::new(),
        any_data: false,
        finished: false,
    }))
}

/// The reading thread: streams every sheet, stopping early when the receiver is gone.
fn read_workbook(mut book: Book, format: Format, names: &[String], tx: &SyncSender<Msg>) {
    for (seq, name) in names.iter().enumerate() {
        let outcome = catch_unwind(AssertUnwindSafe(|| stream_sheet(&mut book, seq, name, tx)));
        let error = match outcome {
            Ok(Ok(true)) => continue,
            Ok(Ok(false)) => return,
            Ok(Err(error)) => error,
            Err(_) => {
                // After a panic the workbook's state is unknown: report this sheet and stop.
                let _ = tx.send(Msg::SheetFailed { seq, error: unreadable(format, &"internal reader failure") });
                return;
            }
        };
        if tx.send(Msg::SheetFailed { seq, error }).is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::Done);
}

/// Groups cells arriving in row order into rows and sends them in batches. `push` and `finish`
/// return false when the receiver is gone.
struct RowSender<'a> {
    tx: &'a SyncSender<Msg>,
    seq: usize,
    current: Option<(u32, Vec<(u32, Cell)>)>,
    batch: Vec<Result<Row, FileError>>,
}

impl<'a> RowSender<'a> {
    fn new(tx: &'a SyncSender<Msg>, seq: usize) -> Self {
        RowSender { tx, seq, current: None, batch: Vec::with_capacity(ROWS_PER_BATCH) }
    }

    fn push(&mut self, row: u32, col: u32, cell: Cell) -> bool {
        if cell.is_empty() {
            return true;
        }
        if let Some((current_row, cells)) = &mut self.current
            && *current_row == row
        {
            cells.push((col, cell));
            return true;
        }
        let ok = self.flush_row();
        self.current = Some((row, vec![(col, cell)]));
        ok
    }

    fn flush_row(&mut self) -> bool {
        if let Some((row, cells)) = self.current.take() {
            self.batch.push(build_row(row, cells));
            if self.batch.len() >= ROWS_PER_BATCH {
                return self.send_batch();
            }
        }
        true
    }

    fn send_batch(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let rows = std::mem::replace(&mut self.batch, Vec::with_capacity(ROWS_PER_BATCH));
        self.tx.send(Msg::Rows { seq: self.seq, rows }).is_ok()
    }

    fn finish(mut self) -> bool {
        self.flush_row() && self.send_batch() && self.tx.send(Msg::SheetEnd { seq: self.seq }).is_ok()
    }
}

fn stream_sheet(book: &mut Book, seq: usize, name: &str, tx: &SyncSender<Msg>) -> Result<bool, FileError> {
    match book {
        Book::Xlsx(book) => stream_xlsx_sheet(book, seq, name, tx),
        Book::Xls(book) => stream_xls_sheet(book, seq, name, tx),
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

fn stream_xlsx_sheet(book: &mut Xlsx<Source>, seq: usize, name: &str, tx: &SyncSender<Msg>) -> Result<bool, FileError> {
    let format = Format::Xlsx;
    let merged = book.merge_cells_by_sheet_name(name).map(|d| merged_ranges(&d)).unwrap_or_default();
    let mut reader = book.worksheet_cells_reader(name).map_err(|e| unreadable(format, &e))?;
    if tx.send(Msg::Sheet { seq, merged }).is_err() {
        return Ok(false);
    }
    let mut sender = RowSender::new(tx, seq);
    while let Some(record) = reader.next_cell_with_formula_metadata().map_err(|e| unreadable(format, &e))? {
        let cell = cell_from_ref(&record.value, record.formula.is_some());
        if !sender.push(record.pos.0, record.pos.1, cell) {
            return Ok(false);
        }
    }
    Ok(sender.finish())
}

fn stream_xls_sheet(book: &mut Xls<Source>, seq: usize, name: &str, tx: &SyncSender<Msg>) -> Result<bool, FileError> {
    let format = Format::Xls;
    let merged = book.merge_cells_by_sheet_name(name).map(|d| merged_ranges(&d)).unwrap_or_default();
    let values = book.worksheet_range(name).map_err(|e| unreadable(format, &e))?;
    let formulas = book.worksheet_formula(name).map_err(|e| unreadable(format, &e))?;
    if tx.send(Msg::Sheet { seq, merged }).is_err() {
        return Ok(false);
    }
    let start = values.start().unwrap_or_default();
    let mut sender = RowSender::new(tx, seq);
    for (row, col, value) in values.used_cells() {
        let (abs_row, abs_col) = (start.0 + row as u32, start.1 + col as u32);
        let is_formula = formulas.get_value((abs_row, abs_col)).is_some_and(|f| !f.is_empty());
        if !sender.push(abs_row, abs_col, cell_from_data(value, is_formula)) {
            return Ok(false);
        }
    }
    Ok(sender.finish())
}

impl Iterator for WorkbookParts {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        loop {
            if let Some(part) = self.queued.pop_front() {
                return Some(part);
            }
            if self.finished {
                return None;
            }
            match self.next_header() {
                Some(Msg::Sheet { seq, merged }) => self.open_sheet(seq, merged),
                Some(Msg::Done) => {
                    self.finished = true;
                    if !self.any_data {
                        self.queued.push_back(Err(self.part_error(None, workbook_empty())));
                    }
                }
                Some(_) => {}
                None => {
                    self.finished = true;
                    self.queued.push_back(Err(self.part_error(None, unreadable(self.format, &"reader stopped"))));
                }
            }
        }
    }
}

impl WorkbookParts {
    /// The next message that is not a leftover of a sheet already handed out.
    fn next_header(&mut self) -> Option<Msg> {
        loop {
            let msg = recv(&self.feed)?;
            match msg.seq() {
                Some(seq) if seq < self.next_seq => continue,
                _ => return Some(msg),
            }
        }
    }

    fn part_error(&self, sheet: Option<&str>, error: FileError) -> PartError {
        PartError { file_name: self.file_name.clone(), sheet_name: sheet.map(str::to_owned), error }
    }

    fn open_sheet(&mut self, seq: usize, merged: Vec<MergedRange>) {
        self.next_seq = seq + 1;
        let Some(info) = self.sheets.get(seq) else { return };
        let (name, hidden) = (info.name.clone(), info.hidden);
        match recv(&self.feed) {
            Some(Msg::Rows { seq: s, rows }) if s == seq => {
                self.any_data = true;
                self.queued.extend(self.empty_before_data.drain(..).map(Err));
                let rows = SheetRows { feed: self.feed.clone(), seq, buffer: rows.into_iter(), done: false };
                self.queued.push_back(Ok(Table {
                    file_name: self.file_name.clone(),
                    sheet_name: Some(name),
                    sheet_hidden: hidden,
                    format: self.format,
                    encoding: None,
                    delimiter: None,
                    merged,
                    rows: Rows::new(rows),
                }));
            }
            Some(Msg::SheetEnd { seq: s }) if s == seq => {
                let error = self.part_error(
                    Some(&name),
                    FileError::new(
                        "sheet_empty",
                        format!("Sheet \"{name}\" has no data."),
                        format!("工作表“{name}”没有数据。"),
                    ),
                );
                if self.any_data {
                    self.queued.push_back(Err(error));
                } else {
                    self.empty_before_data.push(error);
                }
            }
            Some(Msg::SheetFailed { seq: s, error }) if s == seq => {
                self.any_data = true;
                self.queued.push_back(Err(self.part_error(Some(&name), error)));
            }
            Some(other) => put_back(&self.feed, other),
            None => {}
        }
    }
}

fn workbook_empty() -> FileError {
    FileError::new("workbook_empty", "The workbook has no data in any sheet.", "工作簿的所有工作表都没有数据。")
}

/// The rows of one sheet, pulled from the reading thread batch by batch.
struct SheetRows {
    feed: SharedFeed,
    seq: usize,
    buffer: std::vec::IntoIter<Result<Row, FileError>>,
    done: bool,
}

impl Iterator for SheetRows {
    type Item = Result<Row, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffer.next() {
                return Some(row);
            }
            if self.done {
                return None;
            }
            self.done = true;
            match recv(&self.feed) {
                Some(Msg::Rows { seq, rows }) if seq == self.seq => {
                    self.buffer = rows.into_iter();
                    self.done = false;
                }
                Some(Msg::SheetFailed { seq, error }) if seq == self.seq => return Some(Err(error)),
                Some(Msg::SheetEnd { seq }) if seq == self.seq => return None,
                Some(other) => {
                    put_back(&self.feed, other);
                    return None;
                }
                None => return Some(Err(unreadable(Format::Xlsx, &"reader stopped"))),
            }
        }
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
