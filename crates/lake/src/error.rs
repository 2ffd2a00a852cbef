//! Errors of the lake: `FileError` for what is wrong with a submitted file (shown to the person who
//! sent it, in Chinese and English, naming the row), `LakeError` for the storage underneath.

use std::fmt;

/// What is wrong with a submitted file, a sheet in it or one row. The code is stable and snake_case;
/// the messages are for the person who sent the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub code: &'static str,
    /// 1-based row number as the spreadsheet shows it, when the error is about one row.
    pub row_no: Option<u64>,
    pub en: String,
    pub zh: String,
}

impl FileError {
    pub fn new(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        FileError { code, row_no: None, en: en.into(), zh: zh.into() }
    }

    /// The same error about one row; the row number is prefixed to both messages.
    pub fn at_row(code: &'static str, row_no: u64, en: impl fmt::Display, zh: impl fmt::Display) -> Self {
        FileError {
            code, row_no: Some(row_no), en: format!("Row {row_no}: {en}"), zh: format!("第 {row_no} 行：{zh}")
        }
    }

    pub(crate) fn unsupported(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new("unsupported_format", en, zh)
    }

    pub(crate) fn too_large(limit_bytes: u64) -> Self {
        Self::new(
            "file_too_large",
            format!("The file is larger than {} MiB.", limit_bytes / (1024 * 1024)),
            format!("文件超过 {} MiB。", limit_bytes / (1024 * 1024)),
        )
    }

    /// A compressed file that inflates too far; `what_en` and `what_zh` say which limit, in each language.
    pub(crate) fn zip_bomb(what_en: &str, what_zh: &str) -> Self {
        Self::new(
            "zip_bomb",
            format!("The compressed file inflates beyond the allowed size ({what_en}); it was not unpacked."),
            format!("压缩文件解压后超出允许的大小（{what_zh}），未予解压。"),
        )
    }

    pub(crate) fn io(err: &std::io::Error) -> Self {
        Self::new("file_unreadable", format!("The file could not be read: {err}."), format!("文件无法读取：{err}。"))
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.en)
    }
}

impl std::error::Error for FileError {}

/// Failures of the storage underneath: object store, Parquet writer, bad configuration. The
/// `code()` is stable; `Display` includes internal causes, which are for logs, not for users.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("invalid lake URL: {0}")]
    InvalidUrl(String),
    #[error("raw object {sm3} not found")]
    NotFound { sm3: String },
    #[error("invalid SM3 digest {0:?}: expected 64 lowercase hex characters")]
    InvalidDigest(String),
    #[error("raw object {sm3} does not match its digest (found {actual}): the stored bytes were altered")]
    Tampered { sm3: String, actual: String },
    #[error("object larger than {limit_bytes} bytes")]
    TooLarge { limit_bytes: u64 },
    #[error("invalid partition {field}: {value:?}")]
    InvalidPartition { field: &'static str, value: String },
    #[error("record batch schema does not match the partition schema")]
    SchemaMismatch,
    #[error("reading the upload failed: {0}")]
    Read(#[source] std::io::Error),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

impl LakeError {
    /// Stable snake_case code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            LakeError::InvalidUrl(_) => "lake_url_invalid",
            LakeError::NotFound { .. } => "not_found",
            LakeError::InvalidDigest(_) => "digest_invalid",
            LakeError::Tampered { .. } => "raw_tampered",
            LakeError::TooLarge { .. } => "file_too_large",
            LakeError::InvalidPartition { .. } => "partition_invalid",
            LakeError::SchemaMismatch => "schema_mismatch",
            LakeError::Read(_) => "upload_unreadable",
            LakeError::Store(_) => "lake_unavailable",
            LakeError::Parquet(_) => "parquet_failed",
        }
    }
}

pub type LakeResult<T> = Result<T, LakeError>;
