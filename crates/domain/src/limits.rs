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
/// A verifiable-log leaf: its data as canonical JSON (digests and identifiers, never whole files), the
/// id of what it records, and the organisations it concerns.
pub const LOG_LEAF_BYTES_MAX: usize = 32 * 1024;
pub const LOG_SUBJECT_ID_CHARS_MAX: usize = 200;
pub const LOG_PARTIES_MAX: usize = 16;
/// Largest JSON or form body the HTTP layer accepts for the foundation endpoints.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;
pub const PAGE_SIZE_DEFAULT: u32 = 50;
pub const PAGE_SIZE_MAX: u32 = 200;
/// A list's resume point as the client hands it back: a few sort-key values, the page number and a count.
pub const PAGE_CURSOR_CHARS_MAX: usize = 1024;
/// Failed logins on one account within the window before it is locked.
pub const LOGIN_FAILURES_MAX: i64 = 5;
pub const LOGIN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;
/// Console sessions end after this much idle time, and in any case after the absolute lifetime.
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
pub const API_KEYS_PER_ORG_MAX: i64 = 50;
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 200;

// ---- Data lake ----
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
// ---- Fixed repayment accounts ----
/// Digits of a bank account number once spaces and hyphens are dropped. Corporate settlement accounts run
/// from 9 digits (some city and rural banks) to over 20 (the large banks); 30 leaves room for sub-account
/// suffixes. Shorter or longer is a typing error.
pub const ACCOUNT_NO_DIGITS_MIN: usize = 9;
pub const ACCOUNT_NO_DIGITS_MAX: usize = 30;
/// The bank and branch an account is held at (开户行), e.g. 中国工商银行股份有限公司重庆解放碑支行.
pub const BANK_NAME_CHARS_MAX: usize = 60;
pub const REMARKS_CHARS_MAX: usize = 500;
/// Any single cell; longer cells are refused before parsing.
pub const CELL_CHARS_MAX: usize = 2_000;
/// An invoice line's goods name, specification, unit or tax code.
pub const LINE_TEXT_CHARS_MAX: usize = 200;
/// A line's quantity or unit price as decimal text.
pub const LINE_QUANTITY_CHARS_MAX: usize = 40;
/// Lines of one invoice, and lines held while one submission is read (they are matched to their
/// invoices when the file ends).
pub const LINES_PER_INVOICE_MAX: usize = 2_000;
pub const LINES_PER_SUBMISSION_MAX: usize = 200_000;
/// Columns in one sheet.
pub const COLUMNS_MAX: usize = 200;
/// Column headers an organisation has told the platform the meaning of, and the length of one.
pub const COLUMN_MAPPINGS_PER_ORG_MAX: usize = 500;
pub const COLUMN_HEADER_CHARS_MAX: usize = 100;
/// Column meanings changed in one request.
pub const COLUMN_MAPPINGS_PER_REQUEST_MAX: usize = 200;
/// Rows of each sheet a preview shows, and rows it counts before it stops counting.
pub const PREVIEW_SAMPLE_ROWS: usize = 5;
pub const PREVIEW_ROWS_COUNTED_MAX: u64 = 1_000_000;
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
// The designated mailbox (channel 3 of the data lake): SMTP receiver, Maildir pick-up and senders.
/// Largest message the SMTP receiver accepts (advertised as `SIZE`, enforced as a hard cap while reading
/// DATA). Base64 grows attachments by a third, so this carries about 24 MB of files.
pub const SMTP_MESSAGE_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Longest SMTP command line, CRLF included (RFC 5321 asks for at least 512; extensions add parameters).
pub const SMTP_COMMAND_LINE_BYTES_MAX: usize = 2048;
/// Longest line inside DATA (RFC 5321 says 1000; some mailers write longer HTML lines, so be generous).
pub const SMTP_DATA_LINE_BYTES_MAX: usize = 16 * 1024;
/// How long the receiver waits for the next command or the next piece of DATA before it hangs up.
pub const SMTP_COMMAND_TIMEOUT_MS: u64 = 5 * 60 * 1000;
/// Recipients of one message; each must be a designated address.
pub const SMTP_RECIPIENTS_MAX: usize = 10;
/// SMTP sessions served at once; the next connection is told to come back later (421).
pub const SMTP_SESSIONS_MAX: usize = 64;
/// Bad commands in one session before the receiver hangs up.
pub const SMTP_ERRORS_PER_SESSION_MAX: usize = 20;
/// Messages in one SMTP session.
pub const SMTP_MESSAGES_PER_SESSION_MAX: usize = 100;
/// Files taken from one message (attachments, and those of messages attached to it).
pub const ATTACHMENTS_PER_MESSAGE_MAX: usize = 20;
/// An e-mail address (RFC 5321 path limit).
pub const MAIL_ADDRESS_CHARS_MAX: usize = 254;
/// Registered senders of one organisation.
pub const MAILBOX_SENDERS_PER_ORG_MAX: i64 = 100;
/// Subjects are kept for receipts up to this length (longer ones are shortened, not refused).
pub const MAIL_SUBJECT_CHARS_MAX: usize = 200;
/// How often Maildir pick-up looks into `new/`.
pub const MAILDIR_POLL_MS: u64 = 5_000;
/// Messages taken from `new/` in one pass, so one pass is bounded.
pub const MAILDIR_BATCH_MAX: usize = 100;
/// Rejected rows listed in a receipt mail (the console shows them all).
pub const RECEIPT_ROW_ERRORS_MAX: usize = 50;

// Registration of receivables.
/// Most invoices one registration may claim.
pub const REGISTRATION_INVOICES_MAX: usize = 100;
/// Longest 登记证明编号 (the national registry's certificate number) recorded on a registration.
pub const REGISTRY_CERTIFICATE_NO_CHARS_MAX: usize = 64;
/// Most registrations one export lists (one file for the registries' batch upload).
pub const REGISTRATION_EXPORT_ROWS_MAX: i64 = 10_000;
/// Largest confirmation file from the receivables financing platform that is imported.
pub const CONFIRMATION_FILE_BYTES_MAX: usize = 10 * 1024 * 1024;
/// Most rows one confirmation file may hold.
pub const CONFIRMATION_ROWS_MAX: u64 = 10_000;
