//! Uploaded files, the same for the API and the console: a multipart form's parts read one by one, a
//! data file spooled to disk as it arrives (bounded memory whatever its size) and handed to the lake's
//! pipeline, and a confirmation file read into memory. Both edges use these, so a file is received the
//! same way whichever door it came through.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::http::StatusCode;
use lianrong_app::submission::{self, SubmissionReport};
use lianrong_app::{Actor, App, AppError};
use lianrong_domain::limits::{CONFIRMATION_FILE_BYTES_MAX, UPLOAD_BYTES_MAX};
use lianrong_domain::submission::Channel;

use crate::error::{ApiError, ApiResult};

/// The whole body an upload may carry: the file at its limit and room for the form's other parts.
pub const UPLOAD_BODY_BYTES_MAX: usize = UPLOAD_BYTES_MAX as usize + 64 * 1024;

/// A file spooled to disk as it arrived, under the name it was sent with; the temporary file is removed
/// when this is dropped.
pub struct SpooledFile {
    pub name: String,
    pub file: tempfile::NamedTempFile,
}

fn bad_upload(code: &'static str, en: String, zh: &str) -> ApiError {
    ApiError::with_status(StatusCode::BAD_REQUEST, code, en, zh.to_string())
}

/// The next part of a multipart form; a malformed body is a 400 naming the problem.
pub async fn next_part(multipart: &mut Multipart) -> ApiResult<Option<Field<'_>>> {
    multipart.next_field().await.map_err(|e| {
        bad_upload(
            "multipart_invalid",
            format!("The upload is not a valid multipart form: {e}"),
            "上传内容不是有效的 multipart 表单",
        )
    })
}

/// The answer when a form carries no file.
pub fn file_missing() -> ApiError {
    bad_upload("file_missing", "The form has no part named 'file'".into(), "表单中没有名为 file 的文件")
}

/// Writes one part to a temporary file chunk by chunk, so memory stays bounded whatever the file's size,
/// refusing a file larger than [`UPLOAD_BYTES_MAX`]. The API's upload and the console's share it.
pub async fn spool(mut field: Field<'_>) -> ApiResult<SpooledFile> {
    use tokio::io::AsyncWriteExt;
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "cannot spool an upload");
        ApiError::from(AppError::internal())
    };
    let name =
        field.file_name().map(str::to_string).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "upload".into());
    let file = tempfile::NamedTempFile::new().map_err(|e| internal(&e))?;
    let mut out = tokio::fs::File::create(file.path()).await.map_err(|e| internal(&e))?;
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| bad_upload("upload_interrupted", format!("The upload was interrupted: {e}"), "上传中断"))?
    {
        size += chunk.len() as u64;
        if size > UPLOAD_BYTES_MAX {
            return Err(ApiError::with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!("The file is larger than {} MiB", UPLOAD_BYTES_MAX / 1024 / 1024),
                format!("文件超过 {} MiB", UPLOAD_BYTES_MAX / 1024 / 1024),
            ));
        }
        out.write_all(&chunk).await.map_err(|e| internal(&e))?;
    }
    out.flush().await.map_err(|e| internal(&e))?;
    Ok(SpooledFile { name, file })
}

/// How long an upload's request waits for the processing before answering with the submission's id
/// (well below the server's request timeout); the processing goes on either way, and its outcome is
/// polled at `/api/v1/submissions/{id}`.
pub const UPLOAD_ANSWER_WAIT_MS: u64 = 20_000;

/// What an upload's request can answer: the report, or the id of a submission still being processed.
pub enum Processed {
    Done(SubmissionReport),
    Pending(String),
}

/// Stores the spooled file in the raw zone and records the submission, then processes it in a task of
/// its own, so that a request timing out or a client hanging up cannot cut the processing short. The
/// request waits for the outcome at most `wait` (`WebConfig::upload_answer_wait`).
pub async fn process_spooled(
    app: &App,
    actor: &Actor,
    spooled: Arc<SpooledFile>,
    wait: Duration,
) -> ApiResult<Processed> {
    let received = submission::receive_path(app, actor, Channel::Upload, &spooled.name, spooled.file.path()).await?;
    let id = received.id().to_string();
    let (app_state, task_actor) = (app.clone(), actor.clone());
    let task = tokio::spawn(async move {
        let report =
            submission::process_path(&app_state, &task_actor, received, &spooled.name, spooled.file.path()).await;
        drop(spooled);
        report
    });
    match tokio::time::timeout(wait, task).await {
        Ok(Ok(report)) => Ok(Processed::Done(report?)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, submission = %id, "the processing task failed");
            Err(AppError::internal().into())
        }
        Err(_) => Ok(Processed::Pending(id)),
    }
}

/// The whole body an import may carry: the file at its limit and room for the form's other parts.
pub const IMPORT_BODY_BYTES_MAX: usize = CONFIRMATION_FILE_BYTES_MAX + 64 * 1024;

/// Reads a part into memory, refusing one larger than the confirmation file limit.
pub async fn read_file_part(mut field: Field<'_>) -> ApiResult<(String, Vec<u8>)> {
    let name =
        field.file_name().map(str::to_string).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "upload".into());
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        ApiError::with_status(
            StatusCode::BAD_REQUEST,
            "upload_interrupted",
            format!("The upload was interrupted: {e}"),
            "上传中断",
        )
    })? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > CONFIRMATION_FILE_BYTES_MAX {
            return Err(ApiError::with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!("The file is larger than {} MiB", CONFIRMATION_FILE_BYTES_MAX / 1024 / 1024),
                format!("文件超过 {} MiB", CONFIRMATION_FILE_BYTES_MAX / 1024 / 1024),
            ));
        }
    }
    Ok((name, bytes))
}
