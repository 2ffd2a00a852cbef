//! Tabular decoding: bytes in, rows of text cells out.
//!
//! A submitted file is detected by its magic bytes, then by its extension, and becomes one or more
//! [`Table`]s (a CSV file is one table, a workbook one per sheet, a ZIP one per file inside). Each table
//! yields [`Row`]s lazily; CSV is streamed in bounded memory, a worksheet is read one sheet at a time.
//! Empty rows are left out but row numbers stay those the spreadsheet shows; trailing empty cells are
//! trimmed. Nothing here panics on input: every problem is a [`FileError`] with a stable code, about the
//! whole file, one sheet or one row.
//!
//! Decoding is CPU-bound and synchronous: async callers run it in `tokio::task::spawn_blocking`.

mod archive;
mod cell;
mod detect;
mod text;
mod workbook;

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use bytes::Bytes;

pub use crate::error::FileError;
pub use cell::{Cell, CellKind, column_name};
pub use detect::Format;
pub use text::TextEncoding;

/// One table of a submitted file: a CSV file, or one sheet of a workbook.
pub struct Table {
    /// The file's name as submitted; for a file inside a ZIP, `archive.zip/inner name.csv`.
    pub file_name: String,
    /// The sheet's name in a workbook; `None` for delimited text.
    pub sheet_name: Option<String>,
    /// True when the sheet is hidden in the workbook.
    pub sheet_hidden: bool,
    pub format: Format,
    /// The detected text encoding of delimited text; `None` for workbooks (always Unicode).
    pub encoding: Option<TextEncoding>,
    /// The delimiter of delimited text (`b','`, `b'\t'` or `b';'`).
    pub delimiter: Option<u8>,
    /// Merged-cell ranges of a sheet, so a caller can refuse the rows they overlap.
    pub merged: Vec<MergedRange>,
    pub rows: Rows,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("file_name", &self.file_name)
            .field("sheet_name", &self.sheet_name)
            .field("format", &self.format)
            .field("encoding", &self.encoding)
            .field("delimiter", &self.delimiter)
            .field("merged", &self.merged)
            .finish_non_exhaustive()
    }
}

/// One non-empty row: its number as the spreadsheet shows it (1-based) and its cells from column A,
/// trailing empty cells trimmed (so `cells` is never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub row_no: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    /// The cell in column `index` (0 = column A), if the row reaches it.
    pub fn cell(&self, index: usize) -> Option<&Cell> {
        self.cells.get(index)
    }
}

/// A merged-cell range: rows are 1-based as shown, columns 0-based like `Row::cells`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergedRange {
    pub first_row_no: u64,
    pub last_row_no: u64,
    pub first_col: u32,
    pub last_col: u32,
}

impl MergedRange {
    pub fn covers_row(&self, row_no: u64) -> bool {
        (self.first_row_no..=self.last_row_no).contains(&row_no)
    }
}

/// The rows of a table, produced on demand. A row-level problem (an invalid byte sequence, too many
/// columns) is an `Err` naming the row, and the rows after it still come; a problem that makes the rest
/// unreadable (a quote that never closes) is the last item.
pub struct Rows(Box<dyn Iterator<Item = Result<Row, FileError>> + Send>);

impl Rows {
    pub(crate) fn new(inner: impl Iterator<Item = Result<Row, FileError>> + Send + 'static) -> Self {
        Rows(Box::new(inner))
    }
}

impl Iterator for Rows {
    type Item = Result<Row, FileError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// A file inside the submission, or a sheet, that yields no table, and why (an empty sheet, a nested
/// archive inside a ZIP, an unsupported file inside a ZIP…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartError {
    pub file_name: String,
    pub sheet_name: Option<String>,
    pub error: FileError,
}

/// One part of a submitted file: a table, or the reason a file or sheet gave none.
pub type Part = Result<Table, PartError>;

/// The parts of a submitted file in order, produced on demand: drop each table before asking for the
/// next one to keep memory to one table (a ZIP entry is unpacked only when its turn comes).
pub struct Parts(PartsInner);

pub(crate) enum PartsInner {
    List(std::vec::IntoIter<Part>),
    Workbook(Box<workbook::WorkbookParts>),
    Zip(Box<archive::ZipParts>),
}

impl Iterator for Parts {
    type Item = Part;
    fn next(&mut self) -> Option<Part> {
        match &mut self.0 {
            PartsInner::List(parts) => parts.next(),
            PartsInner::Workbook(parts) => parts.next(),
            PartsInner::Zip(parts) => parts.next(),
        }
    }
}

impl Parts {
    pub(crate) fn one(part: Part) -> Self {
        Parts(PartsInner::List(vec![part].into_iter()))
    }
}

pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}
pub(crate) type Source = Box<dyn ReadSeek>;

/// Opens a submitted file held in memory (e.g. from the raw zone) under its submitted name.
pub fn open_bytes(file_name: &str, bytes: impl Into<Bytes>) -> Result<Parts, FileError> {
    let bytes = bytes.into();
    if bytes.len() as u64 > crate::limits::FILE_BYTES_MAX {
        return Err(FileError::too_large(crate::limits::FILE_BYTES_MAX));
    }
    open_reader(file_name, Cursor::new(bytes))
}

/// Opens a file on disk; CSV is then streamed from disk in bounded memory.
pub fn open_path(path: &Path) -> Result<Parts, FileError> {
    let file = std::fs::File::open(path).map_err(|e| FileError::io(&e))?;
    let len = file.metadata().map_err(|e| FileError::io(&e))?.len();
    if len > crate::limits::FILE_BYTES_MAX {
        return Err(FileError::too_large(crate::limits::FILE_BYTES_MAX));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    open_reader(&name, file)
}

/// Opens a submitted file from any seekable reader under its submitted name. An error here concerns the
/// whole file (unsupported format, zip bomb…); problems with one sheet, entry or row come later.
pub fn open_reader<R: Read + Seek + Send + 'static>(file_name: &str, reader: R) -> Result<Parts, FileError> {
    open_source(file_name, Box::new(reader), Depth::TopLevel)
}

/// Whether a file came inside a ZIP: archives inside archives are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    TopLevel,
    InZip,
}

pub(crate) fn open_source(file_name: &str, mut source: Source, depth: Depth) -> Result<Parts, FileError> {
    let format = detect::detect(file_name, &mut source, depth)?;
    match format {
        Format::Csv => {
            let table = text::open_text(file_name, source)?;
            Ok(Parts::one(Ok(table)))
        }
        Format::Xlsx => workbook::open_xlsx(file_name, source),
        Format::Xls => workbook::open_xls(file_name, source),
        Format::Zip => archive::open_zip(file_name, source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Callers move parts and tables into `spawn_blocking` and across threads.
    #[test]
    fn parts_and_tables_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Parts>();
        assert_send::<Table>();
        assert_send::<Rows>();
        assert_send::<PartError>();
    }
}
