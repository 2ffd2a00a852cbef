//! The app layer's one error type: a stable code, a kind that the web layer maps to an HTTP status, the
//! field at fault when there is one, and the message in English and Chinese. Internal causes are logged
//! here and never shown to the caller.

use lianrong_domain::refusal::Refusal;
use lianrong_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooManyRequests,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {en}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub field: Option<String>,
    pub en: String,
    pub zh: String,
    pub retry_after_s: Option<u32>,
    /// Facts beyond the message that the caller needs to act on, when there are any (boxed: errors
    /// travel in every `Result`, so the common case stays small).
    pub detail: Option<Box<ErrorDetail>>,
}

/// Extra facts some errors carry to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    /// The reference of the record a conflict is with (e.g. the registration that already claims a
    /// receivable).
    pub reference: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AppError {
        AppError { kind, code, field: None, en: en.into(), zh: zh.into(), retry_after_s: None, detail: None }
    }

    pub fn invalid(field: &str, code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AppError {
        AppError { field: Some(field.to_string()), ..AppError::new(ErrorKind::Invalid, code, en, zh) }
    }

    /// A domain rule's refusal, worded as the rule words it; the app decides only how it answers (`kind`).
    pub fn refusal(kind: ErrorKind, refusal: &dyn Refusal) -> AppError {
        AppError {
            field: refusal.field().map(|f| f.into_owned()),
            ..AppError::new(kind, refusal.code(), refusal.en(), refusal.zh())
        }
    }

    pub fn not_found(what_en: &str, what_zh: &str) -> AppError {
        AppError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what_en} not found, or not visible to your organisation"),
            format!("{what_zh}不存在，或您的机构无权查看"),
        )
    }

    pub fn forbidden(en: impl Into<String>, zh: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Forbidden, "forbidden", en, zh)
    }

    pub fn conflict(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Conflict, code, en, zh)
    }

    pub fn unauthenticated(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Unauthenticated, code, en, zh)
    }

    pub fn internal() -> AppError {
        AppError::new(
            ErrorKind::Internal,
            "internal",
            "An internal error occurred; it has been logged. Please try again later.",
            "系统内部错误，已记录日志，请稍后重试。",
        )
    }

    pub fn with_field(mut self, field: &str) -> AppError {
        self.field = Some(field.to_string());
        self
    }

    pub fn with_reference(mut self, reference: &str) -> AppError {
        self.detail.get_or_insert_with(Default::default).reference = Some(reference.to_string());
        self
    }

    /// The reference of the record a conflict is with, if the error names one.
    pub fn reference(&self) -> Option<&str> {
        self.detail.as_ref().and_then(|d| d.reference.as_deref())
    }

    /// The message in the reader's language.
    pub fn message(&self, lang_en: bool) -> &str {
        if lang_en { &self.en } else { &self.zh }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::not_found("The record", "记录"),
            StoreError::Page(e) => AppError::from(e),
            StoreError::Conflict { constraint } => {
                tracing::info!(%constraint, "write refused by a constraint");
                AppError::conflict(
                    "conflict",
                    "The change conflicts with existing data (a duplicate, or a record changed meanwhile)",
                    "该操作与现有数据冲突（重复记录，或记录已被他人修改）",
                )
            }
            StoreError::Sql(sqlx::Error::PoolTimedOut) => AppError::new(
                ErrorKind::Unavailable,
                "database_busy",
                "The database is busy; please retry shortly",
                "数据库繁忙，请稍后重试",
            ),
            other => {
                tracing::error!(error = %other, "storage error");
                AppError::internal()
            }
        }
    }
}

// Text, codes and pages are checked in almost every use case, so `?` turns their refusals into an
// invalid request directly.
impl From<lianrong_domain::text::TextError> for AppError {
    fn from(e: lianrong_domain::text::TextError) -> AppError {
        AppError::refusal(ErrorKind::Invalid, &e)
    }
}

impl From<lianrong_domain::labelled::UnknownCode> for AppError {
    fn from(e: lianrong_domain::labelled::UnknownCode) -> AppError {
        AppError::refusal(ErrorKind::Invalid, &e)
    }
}

impl From<lianrong_domain::page::PageError> for AppError {
    fn from(e: lianrong_domain::page::PageError) -> AppError {
        AppError::refusal(ErrorKind::Invalid, &e)
    }
}

pub(crate) fn lake_error(e: lianrong_lake::LakeError) -> AppError {
    tracing::error!(error = %e, code = e.code(), "lake storage failed");
    AppError::new(
        ErrorKind::Unavailable,
        "lake_unavailable",
        "The data lake's storage is unavailable; nothing was recorded, please retry",
        "数据湖存储暂不可用，本次未记录任何数据，请重试",
    )
}
