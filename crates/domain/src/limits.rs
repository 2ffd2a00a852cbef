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
/// Failed logins on one account within the window before it is locked.
pub const LOGIN_FAILURES_MAX: i64 = 5;
pub const LOGIN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;
/// Console sessions end after this much idle time, and in any case after the absolute lifetime.
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
pub const API_KEYS_PER_ORG_MAX: i64 = 50;
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 200;
