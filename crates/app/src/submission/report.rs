//! What a submission answers: its counts and first row errors, and the log leaf that records a
//! submission which changed something.

use lianrong_domain::submission::SubmissionStatus;

use crate::error::AppResult;
use crate::now_ms;
use lianrong_store::submission::SubmissionRow;

/// The answer to a submission: counts and the first row errors (all are kept, up to a limit, and paged
/// through the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionReport {
    pub submission_id: String,
    pub status: SubmissionStatus,
    pub raw_sm3: String,
    pub rows_total: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub unchanged: u64,
    pub warnings: u64,
    pub file_errors: u64,
    pub row_errors: Vec<RowErrorReport>,
    pub row_errors_total: u64,
    pub log_leaf_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowErrorReport {
    pub file_name: String,
    pub row_no: u64,
    pub field: Option<String>,
    pub code: String,
    pub en: String,
    pub zh: String,
}

/// Row errors included in the immediate answer; the rest are paged from the issues endpoint.
pub const REPORT_ROW_ERRORS_MAX: usize = 100;

/// Appends the submission's digest to the verifiable log, inside the submission's transaction.
pub(crate) async fn log_leaf(
    conn: &mut lianrong_store::Conn,
    sub: &SubmissionRow,
    status: SubmissionStatus,
    accepted: u64,
    unchanged: u64,
    rejected: u64,
) -> AppResult<Option<u64>> {
    // Only submissions that recorded something are leaves; a wholly rejected one changed nothing.
    if accepted + unchanged == 0 {
        return Ok(None);
    }
    let entry = serde_json::json!({
        "raw_sm3": sub.raw_sm3,
        "raw_size_bytes": sub.raw_size_bytes,
        "media_type": sub.media_type,
        "channel": sub.channel,
        "org_id": sub.org_id,
        "status": status.code(),
        "accepted": accepted,
        "unchanged": unchanged,
        "rejected": rejected,
    });
    let index =
        crate::log::append(conn, crate::log::LeafKind::Submission, &sub.id, &[sub.org_id.as_str()], &entry, now_ms())
            .await?;
    Ok(Some(index))
}
