//! The designated mailbox (定点邮箱): the organisation's address, its registered senders and the
//! receipts of received messages. The operator's staff may name another organisation with `org_id`;
//! everyone else works on their own organisation, and another's answers 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::mailbox as app;
use lianrong_app::mailbox::{ReceiptRecord, SenderRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MailboxDto {
    pub org_id: String,
    pub org_name: String,
    /// The designated address: the organisation's credit code in lower case at the platform's mail domain.
    pub address: String,
    /// Number of registered senders.
    pub senders: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SenderDto {
    /// Lower-cased e-mail address.
    pub address: String,
    pub created_by: String,
    pub created_at: String,
}

impl From<SenderRecord> for SenderDto {
    fn from(s: SenderRecord) -> SenderDto {
        SenderDto { address: s.address, created_by: s.created_by, created_at: rfc3339(s.created_at_ms) }
    }
}

page_dto!(SenderPage, SenderDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptDto {
    pub id: String,
    /// The submission the message became (also for refused messages, whose raw bytes are kept).
    pub submission_id: Option<String>,
    pub sender: String,
    pub subject: String,
    pub message_id: String,
    /// accepted, partially_accepted, rejected, mailbox_no_attachment, mailbox_too_many_attachments or
    /// mailbox_sender_unknown.
    pub outcome: String,
    pub summary_zh: String,
    pub summary_en: String,
    /// Whether the receipt was mailed back to the sender (only registered senders, only with a relay).
    pub mailed: bool,
    pub created_at: String,
}

impl From<ReceiptRecord> for ReceiptDto {
    fn from(r: ReceiptRecord) -> ReceiptDto {
        ReceiptDto {
            id: r.id,
            submission_id: r.submission_id,
            sender: r.sender,
            subject: r.subject,
            message_id: r.message_id,
            outcome: r.outcome.code().to_string(),
            summary_zh: r.summary_zh,
            summary_en: r.summary_en,
            mailed: r.mailed,
            created_at: rfc3339(r.created_at_ms),
        }
    }
}

page_dto!(ReceiptPage, ReceiptDto);

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailboxQuery {
    /// The organisation (operator staff only); defaults to the caller's own.
    pub org_id: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

impl MailboxQuery {
    fn paging(&self) -> PageParams {
        PageParams { page: self.page, page_size: self.page_size }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSenderDto {
    /// The e-mail address allowed to send trade files to the mailbox.
    pub address: String,
    /// The organisation (operator staff only); defaults to the caller's own.
    pub org_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/mailbox", tag = "mailbox", params(MailboxQuery),
    description = "The designated address of the caller's organisation (core enterprises and suppliers; admins and finance staff).",
    responses((status = 200, body = MailboxDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<MailboxQuery>,
) -> ApiResult<Json<MailboxDto>> {
    let m = app::get(&s.app, &actor, q.org_id.as_deref(), s.config.mail_domain()).await?;
    Ok(Json(MailboxDto { org_id: m.org_id, org_name: m.org_name, address: m.address, senders: m.senders }))
}

#[utoipa::path(get, path = "/api/v1/mailbox/senders", tag = "mailbox", params(MailboxQuery),
    responses((status = 200, body = SenderPage), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_senders(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<MailboxQuery>,
) -> ApiResult<Json<SenderPage>> {
    let page = app::list_senders(&s.app, &actor, q.org_id.as_deref(), q.paging().request()?).await?;
    Ok(Json(SenderPage::from_page(page, SenderDto::from)))
}

#[utoipa::path(post, path = "/api/v1/mailbox/senders", tag = "mailbox", request_body = NewSenderDto,
    description = "Organisation admin (or operator staff). Only mail whose envelope sender and From: header are both registered is processed.",
    responses((status = 201, body = SenderDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_sender(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewSenderDto>,
) -> ApiResult<(StatusCode, Json<SenderDto>)> {
    let rec = app::add_sender(&s.app, &actor, b.org_id.as_deref(), &b.address).await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(delete, path = "/api/v1/mailbox/senders/{address}", tag = "mailbox",
    params(("address" = String, Path, description = "The registered address"), MailboxQuery),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_sender(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(address): Path<String>,
    ApiQuery(q): ApiQuery<MailboxQuery>,
) -> ApiResult<StatusCode> {
    app::remove_sender(&s.app, &actor, q.org_id.as_deref(), &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/mailbox/receipts", tag = "mailbox", params(MailboxQuery),
    description = "One receipt per received message, newest first, whether or not it was mailed back.",
    responses((status = 200, body = ReceiptPage), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_receipts(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<MailboxQuery>,
) -> ApiResult<Json<ReceiptPage>> {
    let page = app::list_receipts(&s.app, &actor, q.org_id.as_deref(), q.paging().request()?).await?;
    Ok(Json(ReceiptPage::from_page(page, ReceiptDto::from)))
}
