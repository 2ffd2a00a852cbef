//! What decoding yields: tables of rows of cells, and the parts of a submitted file.

use super::cell::Cell;
use super::detect::Format;
use crate::error::FileError;

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
pub struct Parts(Box<dyn Iterator<Item = Part> + Send>);

impl Iterator for Parts {
    type Item = Part;
    fn next(&mut self) -> Option<Part> {
        self.0.next()
    }
}

impl Parts {
    pub(crate) fn new(inner: impl Iterator<Item = Part> + Send + 'static) -> Self {
        Parts(Box::new(inner))
    }

    pub(crate) fn one(part: Part) -> Self {
        Parts::new(std::iter::once(part))
    }
}

/// The text encoding detected for delimited text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark (also plain ASCII).
    Utf8,
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark (Excel's "Unicode text").
    Utf16Le,
    /// UTF-16 big-endian with a byte-order mark.
    Utf16Be,
    /// GB18030, the superset of GBK and GB2312 (what Chinese Windows saves as "CSV").
    Gb18030,
}

impl TextEncoding {
    pub fn code(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Gb18030 => "gb18030",
        }
    }
}
