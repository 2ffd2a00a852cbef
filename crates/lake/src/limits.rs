//! Named bounds on every input the lake reads. Going past one is a clear error with a stable code,
//! never a crash or an unbounded allocation.

/// Largest single object the raw zone accepts (a streamed upload is cut off past it).
pub const RAW_OBJECT_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Largest file the decoder opens (a top-level upload or a file read from disk).
pub const FILE_BYTES_MAX: u64 = 1024 * 1024 * 1024;

/// How much of a text file is looked at to choose its encoding and delimiter.
pub const TEXT_SNIFF_BYTES: usize = 1024 * 1024;
/// Longest CSV record (all its fields with delimiters and quotes); a quote that never closes stops here.
pub const CSV_RECORD_BYTES_MAX: u64 = 1024 * 1024;
/// Most columns a row may use; beyond it the row is refused (Excel's own limit is 16,384).
pub const COLUMNS_MAX: usize = 1024;
/// Longest cell text in characters: Excel's own limit per cell.
pub const CELL_CHARS_MAX: usize = 32_767;

/// Most entries an uploaded ZIP may list (directories included).
pub const ZIP_ENTRIES_MAX: usize = 1000;
/// Most bytes all entries of an uploaded ZIP may inflate to together.
pub const ZIP_UNCOMPRESSED_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Most bytes one ZIP entry may inflate to (an entry is read into memory before it is decoded).
pub const ZIP_ENTRY_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// Highest inflated/compressed ratio of one entry; real spreadsheets and CSV stay far below it,
/// zip bombs (about 1,000:1 per layer) far above.
pub const ZIP_RATIO_MAX: u64 = 200;
/// Entries smaller than this once inflated are not ratio-checked (tiny files compress absurdly well).
pub const ZIP_RATIO_CHECK_BYTES_MIN: u64 = 1024 * 1024;

/// Most parts (ZIP entries and their files) an XLSX package may list.
pub const XLSX_ENTRIES_MAX: usize = 10_000;
/// Most bytes all parts of an XLSX package may inflate to together (checked before calamine reads it).
pub const XLSX_UNCOMPRESSED_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Most worksheets a workbook may have.
pub const SHEETS_MAX: usize = 255;

/// Largest legacy XLS file opened (calamine reads it whole).
pub const XLS_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Most cells a legacy XLS sheet's bounding box may span (calamine allocates it densely).
pub const XLS_SHEET_CELLS_MAX: u64 = 16 * 1024 * 1024;
