//! The designated mailbox (定点邮箱, channel 3 of the data lake). Each core enterprise or supplier
//! has one address, `<credit code in lower case>@<mail domain>`; its admin registers the addresses
//! allowed to send to it. A message from a registered sender becomes a submission through the same
//! pipeline as an upload; a message from anyone else is kept byte for byte as a refused submission and
//! never parsed. Every message leaves a receipt, mailed back to a registered sender when a relay is
//! configured. SMTP, Maildir and MIME live in `lianrong-mail`; this module knows none of them.

use lianrong_domain::limits::{MAIL_SUBJECT_CHARS_MAX, MAILBOX_SENDERS_PER_ORG_MAX, RECEIPT_ROW_ERRORS_MAX};
use lianrong_domain::mailbox::{self as domain, AddressError, MailAddress, ReceiptOutcome};
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_store::StoreError;
use lianrong_store::mailbox as store;
use lianrong_store::org::{self as org_store, OrgRecord};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of mail receipts and registered senders: plain data, decoded in the store; the API
/// and console show them.
pub use lianrong_store::mailbox::{ReceiptRecord, SenderRecord};

/// Why a registered sender's message yielded no files to submit, as the MIME walk (in `lianrong-mail`)
/// reports it; the domain words the refusal.
pub use lianrong_domain::mailbox::AttachmentError;

/// The mail domain when none is configured: `.localhost` never leaves the machine.
pub const MAIL_DOMAIN_DEFAULT: &str = "lianrong.localhost";

/// An organisation's designated mailbox as its console page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub org_id: String,
    pub org_name: String,
    pub org_kind: OrgKind,
    pub address: String,
    pub senders: i64,
}

fn address_error(e: AddressError) -> AppError {
    AppError::refusal(ErrorKind::Invalid, &e)
}

fn mailbox_not_found() -> AppError {
    AppError::not_found("Mailbox", "邮箱")
}

/// The organisation whose mailbox the actor works on: its own, or — for the operator's staff — the one
/// named by `org_id` (a record id or a credit code). Another organisation's mailbox answers `not_found`, as if it did not exist.
async fn target(app: &App, actor: &Actor, org_id: Option<&str>, p: Permission, action: &str) -> AppResult<OrgRecord> {
    let wanted = org_id.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(&actor.org_id).to_string();
    audit::guard(app, actor, p, action, "mailbox", &wanted).await?;
    let foreign = wanted != actor.org_id;
    if foreign && !(actor.system || actor.is_operator_manager()) {
        audit::refused(app, actor, action, "mailbox", &wanted, "another organisation's mailbox").await;
        return Err(mailbox_not_found());
    }
    let mut conn = app.db.acquire().await?;
    let org = match org_store::get(&mut conn, &wanted).await {
        Ok(org) => org,
        // The operator's staff know enterprises by credit code better than by record id.
        Err(StoreError::NotFound) if foreign => {
            org_store::find_by_uscc(&mut conn, &wanted.to_uppercase()).await?.ok_or_else(mailbox_not_found)?
        }
        Err(StoreError::NotFound) => return Err(mailbox_not_found()),
        Err(other) => return Err(other.into()),
    };
    if !matches!(org.kind, OrgKind::Core | OrgKind::Supplier) {
        return Err(AppError::invalid(
            "org_id",
            "no_mailbox",
            format!("Only core enterprises and suppliers have a designated mailbox, not a {}", org.kind.label_en()),
            format!("只有核心企业和供应商设有定点邮箱，{}没有", org.kind.label_zh()),
        ));
    }
    Ok(org)
}

/// The designated address of an organisation, at `mail_domain`.
pub async fn get(app: &App, actor: &Actor, org_id: Option<&str>, mail_domain: &str) -> AppResult<Mailbox> {
    let org = target(app, actor, org_id, Permission::ReadMailbox, "mailbox.read").await?;
    let mut conn = app.db.acquire().await?;
    let senders = store::count_senders(&mut conn, &org.id).await?;
    Ok(Mailbox {
        address: domain::designated_address(&org.uscc, mail_domain),
        org_id: org.id,
        org_name: org.name,
        org_kind: org.kind,
        senders,
    })
}

pub async fn list_senders(
    app: &App,
    actor: &Actor,
    org_id: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<SenderRecord>> {
    let org = target(app, actor, org_id, Permission::ReadMailbox, "mailbox.senders.read").await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list_senders(&mut conn, &org.id, page).await?)
}

/// Registers `address` as a sender allowed to mail the organisation's designated mailbox.
pub async fn add_sender(app: &App, actor: &Actor, org_id: Option<&str>, address: &str) -> AppResult<SenderRecord> {
    let org = target(app, actor, org_id, Permission::ManageMailbox, "mailbox.sender.add").await?;
    let address = MailAddress::parse(address).map_err(address_error)?;
    let rec = SenderRecord {
        org_id: org.id.clone(),
        address: address.to_string(),
        created_by: actor.login.clone().unwrap_or_else(|| "system".into()),
        created_at_ms: now_ms(),
    };
    let mut tx = app.db.begin_write().await?;
    if store::count_senders(&mut tx, &org.id).await? >= MAILBOX_SENDERS_PER_ORG_MAX {
        return Err(AppError::conflict(
            "mailbox_sender_limit",
            format!("A mailbox may have at most {MAILBOX_SENDERS_PER_ORG_MAX} registered senders; remove one first"),
            format!("每个邮箱最多登记{MAILBOX_SENDERS_PER_ORG_MAX}个发件人，请先删除不用的发件人"),
        ));
    }
    store::insert_sender(&mut tx, &rec).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "mailbox_sender_exists",
            format!("{address} is already a registered sender"),
            format!("{address} 已是登记的发件人"),
        )
        .with_field("address"),
        other => other.into(),
    })?;
    audit::ok_in(&mut tx, actor, "mailbox.sender.add", "mailbox", &org.id, address.as_str()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(rec)
}

pub async fn remove_sender(app: &App, actor: &Actor, org_id: Option<&str>, address: &str) -> AppResult<()> {
    let org = target(app, actor, org_id, Permission::ManageMailbox, "mailbox.sender.remove").await?;
    let address = MailAddress::parse(address).map_err(address_error)?;
    let mut tx = app.db.begin_write().await?;
    store::delete_sender(&mut tx, &org.id, address.as_str()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Registered sender", "登记的发件人"),
        other => other.into(),
    })?;
    audit::ok_in(&mut tx, actor, "mailbox.sender.remove", "mailbox", &org.id, address.as_str()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn list_receipts(
    app: &App,
    actor: &Actor,
    org_id: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<ReceiptRecord>> {
    let org = target(app, actor, org_id, Permission::ReadMailbox, "mailbox.receipts.read").await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list_receipts(&mut conn, &org.id, page).await?)
}

// ---------------------------------------------------------------------------------------------------
// Receiving. The SMTP peer is not a signed-in user: the receiver acts as the platform, and a message
// acts for its organisation only once its sender is found registered.

/// The organisation a designated address belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub org_id: String,
    pub org_name: String,
    pub org_kind: OrgKind,
    pub address: MailAddress,
}

/// Finds the organisation of a designated address at `mail_domain`. Anything else — another domain, a
/// malformed address, an unknown code, a bank's or the operator's code — is `mailbox_unknown_recipient`.
pub async fn resolve_recipient(app: &App, rcpt: &str, mail_domain: &str) -> AppResult<Recipient> {
    let unknown = || {
        AppError::new(
            ErrorKind::NotFound,
            "mailbox_unknown_recipient",
            format!("{} is not a designated mailbox of this platform", rcpt.trim()),
            format!("{} 不是本平台的定点邮箱", rcpt.trim()),
        )
    };
    let address = MailAddress::parse(rcpt).map_err(|_| unknown())?;
    let uscc = domain::uscc_of_designated(&address, mail_domain).ok_or_else(unknown)?;
    let mut conn = app.db.acquire().await?;
    match org_store::find_by_uscc(&mut conn, &uscc).await? {
        Some(org) if matches!(org.kind, OrgKind::Core | OrgKind::Supplier) => {
            Ok(Recipient { org_id: org.id, org_name: org.name, org_kind: org.kind, address })
        }
        _ => Err(unknown()),
    }
}

/// A received message: the envelope, the few headers the mailbox needs, and the whole message.
#[derive(Debug, Clone, Default)]
pub struct IncomingMail {
    /// `MAIL FROM` (empty for a bounce, `<>`).
    pub envelope_from: String,
    /// The address of the `From:` header, if there is one.
    pub header_from: Option<String>,
    pub subject: String,
    pub message_id: String,
    /// The message byte for byte as received.
    pub raw: Vec<u8>,
}

/// A file taken from a message, to be parsed by the submission pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One rejected row as a receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLine {
    pub file_name: String,
    pub row_no: u64,
    pub field: Option<String>,
    pub code: String,
    pub en: String,
    pub zh: String,
}

/// What became of a message: the receipt row (already stored), whom to answer, and the rows to list.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub receipt: ReceiptRecord,
    /// The registered sender to mail the receipt to; `None` for an unregistered sender.
    pub reply_to: Option<MailAddress>,
    pub accepted: u64,
    pub rejected: u64,
    pub unchanged: u64,
    pub row_errors: Vec<RowLine>,
    pub row_errors_total: u64,
}

impl Delivery {
    /// Whether the SMTP receiver refuses the message after DATA (550): only for unregistered senders.
    pub fn refused(&self) -> bool {
        self.receipt.outcome == ReceiptOutcome::SenderUnknown
    }
}

/// Processes one message received at `to`'s mailbox. The sender check comes first and needs only the
/// envelope and the `From:` header; `extract` (the MIME walk) runs only for a registered sender, so a
/// stranger's message is never parsed. Errors are only the platform's own failures (database down …):
/// the receiver then answers "try again later" and the sender's server retries.
pub async fn receive(
    app: &App,
    to: &Recipient,
    mail: &IncomingMail,
    extract: impl FnOnce(&[u8]) -> Result<Vec<Attachment>, AttachmentError>,
) -> AppResult<Delivery> {
    let subject: String = mail.subject.chars().filter(|c| !c.is_control()).take(MAIL_SUBJECT_CHARS_MAX).collect();
    let source = format!("mail from {}: {subject}", mail.envelope_from);
    let sender = match registered_sender(app, to, mail).await? {
        Ok(sender) => sender,
        Err(reason) => {
            let submission_id = pipeline::refuse(app, &to.org_id, &source, &mail.raw, &reason).await?;
            let receipt =
                receipt(to, mail, &subject, submission_id, ReceiptOutcome::SenderUnknown, &reason.zh, &reason.en);
            return record(app, to, mail, receipt, None, Processed::default()).await;
        }
    };
    let actor = Actor::mailbox(&to.org_id, to.org_kind, &to.org_name, sender.as_str());
    let files = match extract(&mail.raw) {
        Ok(files) if files.is_empty() => Err(no_attachment()),
        Ok(files) => Ok(files),
        Err(e) => Err(attachment_error(&e)),
    };
    let files = match files {
        Ok(files) => files,
        Err((outcome, reason)) => {
            let submission_id = pipeline::refuse(app, &to.org_id, &source, &mail.raw, &reason).await?;
            let receipt = receipt(to, mail, &subject, submission_id, outcome, &reason.zh, &reason.en);
            return record(app, to, mail, receipt, Some(sender), Processed::default()).await;
        }
    };
    let processed = match pipeline::submit(app, &actor, &source, &mail.raw, files).await {
        Ok(p) => p,
        // The platform's own failures are retried by the sender's server; anything else is the
        // message's fault (too large, unreadable …): keep it, refuse it and say why.
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) => return Err(e),
        Err(reason) => {
            let submission_id = pipeline::refuse(app, &to.org_id, &source, &mail.raw, &reason).await?;
            let receipt = receipt(to, mail, &subject, submission_id, ReceiptOutcome::Rejected, &reason.zh, &reason.en);
            return record(app, to, mail, receipt, Some(sender), Processed::default()).await;
        }
    };
    let outcome = processed.outcome.unwrap_or_else(|| {
        ReceiptOutcome::from_counts(processed.accepted, processed.rejected + processed.file_errors, processed.unchanged)
    });
    let (zh, en) = summary(&processed);
    let receipt = receipt(to, mail, &subject, Some(processed.submission_id.clone()), outcome, &zh, &en);
    record(app, to, mail, receipt, Some(sender), processed).await
}

/// The sender, when both the envelope sender and the `From:` header are registered to the recipient's
/// organisation; otherwise the reason for refusing, in both languages.
async fn registered_sender(app: &App, to: &Recipient, mail: &IncomingMail) -> AppResult<Result<MailAddress, AppError>> {
    let refuse =
        |en: String, zh: String| Ok(Err(AppError::new(ErrorKind::Forbidden, "mailbox_sender_unknown", en, zh)));
    let Ok(envelope) = MailAddress::parse(&mail.envelope_from) else {
        return refuse(
            format!("The envelope sender '{}' is not a registered sender of this mailbox", mail.envelope_from),
            format!("信封发件人“{}”不是本邮箱登记的发件人", mail.envelope_from),
        );
    };
    let header = mail.header_from.as_deref().and_then(|h| MailAddress::parse(h).ok());
    let Some(header) = header else {
        return refuse(
            "The message has no valid From: header, so its sender cannot be checked".into(),
            "邮件没有有效的 From 头，无法核对发件人".into(),
        );
    };
    let mut conn = app.db.acquire().await?;
    for address in [&envelope, &header] {
        if !store::sender_registered(&mut conn, &to.org_id, address.as_str()).await? {
            return refuse(
                format!(
                    "{address} is not a registered sender of {}; its admin registers senders in the console (Mailbox)",
                    to.address
                ),
                format!("{address} 不是 {} 登记的发件人；请该机构管理员在控制台“定点邮箱”中登记", to.address),
            );
        }
    }
    Ok(Ok(header))
}

fn no_attachment() -> (ReceiptOutcome, AppError) {
    (
        ReceiptOutcome::NoAttachment,
        AppError::invalid(
            "attachments",
            "mailbox_no_attachment",
            "The message has no attachment; attach the trade data as CSV, XLSX or ZIP files",
            "邮件没有附件；请以CSV、XLSX或ZIP文件附上贸易数据",
        ),
    )
}

/// What a receipt records for a message whose attachments were refused, and the refusal it states.
fn attachment_error(e: &AttachmentError) -> (ReceiptOutcome, AppError) {
    let outcome = match e {
        AttachmentError::TooMany { .. } => ReceiptOutcome::TooManyAttachments,
        AttachmentError::Unreadable(_) => ReceiptOutcome::Rejected,
    };
    (outcome, AppError::refusal(ErrorKind::Invalid, e))
}

fn summary(p: &Processed) -> (String, String) {
    (
        format!(
            "接收{}行，拒收{}行，未变化{}行，文件错误{}个（提交编号 {}）",
            p.accepted, p.rejected, p.unchanged, p.file_errors, p.submission_id
        ),
        format!(
            "{} rows accepted, {} rejected, {} unchanged, {} file errors (submission {})",
            p.accepted, p.rejected, p.unchanged, p.file_errors, p.submission_id
        ),
    )
}

fn receipt(
    to: &Recipient,
    mail: &IncomingMail,
    subject: &str,
    submission_id: Option<String>,
    outcome: ReceiptOutcome,
    zh: &str,
    en: &str,
) -> ReceiptRecord {
    ReceiptRecord {
        id: new_id(),
        org_id: to.org_id.clone(),
        submission_id,
        sender: mail.header_from.clone().unwrap_or_else(|| mail.envelope_from.clone()).chars().take(300).collect(),
        subject: subject.to_string(),
        message_id: mail.message_id.chars().take(300).collect(),
        outcome,
        summary_zh: zh.chars().take(1000).collect(),
        summary_en: en.chars().take(1000).collect(),
        mailed: false,
        created_at_ms: now_ms(),
    }
}

/// Stores the receipt with its audit record, in one transaction.
async fn record(
    app: &App,
    to: &Recipient,
    mail: &IncomingMail,
    receipt: ReceiptRecord,
    sender: Option<MailAddress>,
    processed: Processed,
) -> AppResult<Delivery> {
    let actor = Actor::mailbox(&to.org_id, to.org_kind, &to.org_name, &mail.envelope_from);
    let outcome = if receipt.outcome == ReceiptOutcome::SenderUnknown { "refused" } else { "ok" };
    let mut tx = app.db.begin_write().await?;
    store::insert_receipt(&mut tx, &receipt).await?;
    let detail = format!("{} {}", receipt.outcome.code(), receipt.summary_en);
    lianrong_store::audit::insert(
        &mut tx,
        &audit::record(&actor, "mailbox.receive", "mailbox_receipt", &receipt.id, outcome, &detail),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(org = %to.org_id, receipt = %receipt.id, outcome = receipt.outcome.code(), "mail received");
    let reply_to = sender.filter(|_| receipt.outcome.may_reply());
    Ok(Delivery {
        receipt,
        reply_to,
        accepted: processed.accepted,
        rejected: processed.rejected,
        unchanged: processed.unchanged,
        row_errors: processed.row_errors,
        row_errors_total: processed.row_errors_total,
    })
}

/// Notes that the receipt was mailed to its sender.
pub async fn mark_mailed(app: &App, receipt_id: &str) -> AppResult<()> {
    let mut conn = app.db.acquire().await?;
    Ok(store::mark_receipt_mailed(&mut conn, receipt_id).await?)
}

/// The receipt mail: a subject and a plain-text body in Chinese then English, listing the rejected rows
/// (at most [`RECEIPT_ROW_ERRORS_MAX`]; the console shows the submission in full).
pub fn receipt_mail(d: &Delivery) -> (String, String) {
    let r = &d.receipt;
    let subject = format!("回执 Receipt: {} — {}", r.outcome.label_zh(), r.outcome.label_en());
    let mut body = String::new();
    body.push_str(&format!("您发送的邮件“{}”已处理。\n{}\n", r.subject, r.summary_zh));
    body.push_str(&format!("Your message \"{}\" has been processed.\n{}\n", r.subject, r.summary_en));
    if let Some(id) = &r.submission_id {
        body.push_str(&format!("\n提交编号 Submission: {id}\n"));
    }
    if !d.row_errors.is_empty() {
        body.push_str("\n拒收的行 Rejected rows (file / row / field / code):\n");
        for e in d.row_errors.iter().take(RECEIPT_ROW_ERRORS_MAX) {
            body.push_str(&format!(
                "- {} 第{}行 row {} [{}] {}: {} / {}\n",
                e.file_name,
                e.row_no,
                e.row_no,
                e.field.as_deref().unwrap_or("-"),
                e.code,
                e.zh,
                e.en
            ));
        }
        let listed = d.row_errors.len().min(RECEIPT_ROW_ERRORS_MAX) as u64;
        if d.row_errors_total > listed {
            body.push_str(&format!(
                "… 另有{}行，请在控制台查看 / {} more rows: see the console.\n",
                d.row_errors_total - listed,
                d.row_errors_total - listed
            ));
        }
    }
    body.push_str(&format!("\n回执编号 Receipt: {}\n", r.id));
    (subject, body)
}

/// What the submission pipeline reported, in the mailbox's terms.
#[derive(Debug, Clone, Default)]
struct Processed {
    submission_id: String,
    outcome: Option<ReceiptOutcome>,
    accepted: u64,
    rejected: u64,
    unchanged: u64,
    file_errors: u64,
    row_errors: Vec<RowLine>,
    row_errors_total: u64,
}

/// The one place that calls the submission pipeline (`app::submission`), channel `Mailbox`.
mod pipeline {
    use lianrong_domain::mailbox::ReceiptOutcome;
    use lianrong_domain::submission::{Channel, SubmissionStatus};

    use super::{Attachment, Processed, RowLine};
    use crate::App;
    use crate::error::{AppError, AppResult};
    use crate::policy::Actor;
    use crate::submission::{self, InputFile, SubmissionInput};

    fn input(source: &str, raw: &[u8], files: Vec<InputFile>) -> SubmissionInput {
        SubmissionInput {
            channel: Channel::Mailbox,
            source: source.to_string(),
            raw: raw.to_vec(),
            media_type: "message/rfc822".to_string(),
            files,
        }
    }

    pub(super) async fn submit(
        app: &App,
        actor: &Actor,
        source: &str,
        raw: &[u8],
        files: Vec<Attachment>,
    ) -> AppResult<Processed> {
        let files = files.into_iter().map(|f| InputFile { name: f.name, bytes: f.bytes }).collect();
        let report = submission::submit(app, actor, input(source, raw, files)).await?;
        let outcome = match report.status {
            SubmissionStatus::Accepted => ReceiptOutcome::Accepted,
            SubmissionStatus::Partial => ReceiptOutcome::PartiallyAccepted,
            SubmissionStatus::Rejected | SubmissionStatus::Refused | SubmissionStatus::Received => {
                ReceiptOutcome::Rejected
            }
        };
        Ok(Processed {
            submission_id: report.submission_id,
            outcome: Some(outcome),
            accepted: report.accepted,
            rejected: report.rejected,
            unchanged: report.unchanged,
            file_errors: report.file_errors,
            row_errors: report
                .row_errors
                .into_iter()
                .map(|e| RowLine {
                    file_name: e.file_name,
                    row_no: e.row_no,
                    field: e.field,
                    code: e.code,
                    en: e.en,
                    zh: e.zh,
                })
                .collect(),
            row_errors_total: report.row_errors_total,
        })
    }

    /// Keeps the raw message as a refused submission; its id.
    pub(super) async fn refuse(
        app: &App,
        org_id: &str,
        source: &str,
        raw: &[u8],
        reason: &AppError,
    ) -> AppResult<Option<String>> {
        Ok(Some(submission::refuse(app, org_id, input(source, raw, Vec::new()), reason).await?))
    }
}
