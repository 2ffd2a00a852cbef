//! Named limits on every input, with their units. Going past one is a clear error, never a crash.

/// Organisation names (registered Chinese names are rarely over 60 characters).
pub const ORG_NAME_CHARS_MAX: usize = 100;
pub const USER_LOGIN_CHARS_MAX: usize = 64;
pub const USER_LOGIN_CHARS_MIN: usize = 3;
pub const USER_DISPLAY_NAME_CHARS_MAX: usize = 50;
pub const PASSWORD_CHARS_MIN: usize = 10;
pub const PASSWORD_CHARS_MAX: usize = 128;
pub const CHAIN_NAME_CHARS_MAX: usize = 100;
pub const CLUSTER_NAME_CHARS_MAX: usize = 60;
pub const REASON_CHARS_MAX: usize = 500;
pub const API_KEY_NAME_CHARS_MAX: usize = 60;
pub const NOTE_CHARS_MAX: usize = 500;
/// Largest JSON or form body the HTTP layer accepts for the foundation endpoints.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;
pub const PAGE_SIZE_DEFAULT: u32 = 50;
pub const PAGE_SIZE_MAX: u32 = 200;
/// Failed logins on one account within the window before it is locked.
pub const LOGIN_FAILURES_MAX: i64 = 5;
pub const LOGIN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;
/// Console sessions end after this much idle time, and in any case after the absolute lifetime.
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
pub const API_KEYS_PER_ORG_MAX: i64 = 50;
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 200;

// ---- Data lake (issue 3) ----
/// Largest single amount on one trade record: 10 billion yuan (100亿元), in fen. Larger is a typing error.
pub const TRADE_AMOUNT_FEN_MAX: i64 = 1_000_000_000_000;
/// Trade dates before this year or after the other are refused as implausible.
pub const TRADE_DATE_YEAR_MIN: i16 = 2000;
pub const TRADE_DATE_YEAR_MAX: i16 = 2099;
/// Document numbers (order, delivery, invoice, payment, credit note).
pub const DOC_NO_CHARS_MAX: usize = 64;
/// References to other documents in one cell (an invoice may cover many orders).
pub const REFS_PER_FIELD_MAX: usize = 100;
/// Longest payment term the standard accepts (three years); the SME rule is checked separately.
pub const TERM_DAYS_MAX: i64 = 1095;
pub const PARTY_NAME_CHARS_MAX: usize = 100;
pub const REMARKS_CHARS_MAX: usize = 500;
/// Any single cell; longer cells are refused before parsing.
pub const CELL_CHARS_MAX: usize = 2_000;
/// Columns in one sheet.
pub const COLUMNS_MAX: usize = 200;
/// Rows scanned from the top of a sheet to find its header row (title rows above are skipped).
pub const HEADER_SCAN_ROWS_MAX: u64 = 20;
/// Rows in one submission (all its files together).
pub const ROWS_PER_SUBMISSION_MAX: u64 = 5_000_000;
/// Records in one JSON batch through the API.
pub const RECORDS_PER_API_BATCH_MAX: usize = 10_000;
/// A JSON batch body.
pub const API_BATCH_BYTES_MAX: usize = 16 * 1024 * 1024;
/// One uploaded file (CSV, XLSX or ZIP) through the console or the API.
pub const UPLOAD_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// Row errors kept in full per submission (the counts are always exact).
pub const ROW_ERRORS_KEPT_MAX: u64 = 10_000;
/// Source name of a submission (file name, mail subject).
pub const SOURCE_NAME_CHARS_MAX: usize = 200;
