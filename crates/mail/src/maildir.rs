//! Maildir pick-up: for sites whose mail server already delivers the designated addresses into a
//! Maildir. Each pass takes the messages in `new/`; a message is claimed by renaming it into `cur/`
//! (an atomic rename, so two instances polling one folder never both take it), processed, and then
//! flagged seen (`:2,S`) — or moved to the `.failed` sibling folder with a `<name>.reason.txt` beside it.
//! A message whose processing failed for the platform's own reasons (database down) goes back to
//! `new/` for the next pass. A claimed message without the `S` flag was being processed when an
//! instance stopped.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lianrong_app::mailbox::{self, Recipient};
use lianrong_domain::limits::{MAILDIR_BATCH_MAX, SMTP_MESSAGE_BYTES_MAX, SMTP_RECIPIENTS_MAX};

use crate::deliver::{MailContext, Verdict, deliver};
use crate::mime;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub accepted: usize,
    pub failed: usize,
    pub retried: usize,
}

/// The `.failed` sibling folder of a Maildir.
pub fn failed_dir(maildir: &Path) -> PathBuf {
    maildir.join(".failed")
}

/// Polls `maildir` every `poll` until `shutdown` resolves.
pub async fn run(ctx: MailContext, maildir: PathBuf, poll: Duration, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        match pass(&ctx, &maildir).await {
            Ok(p) if p != Pass::default() => tracing::info!(?p, dir = %maildir.display(), "Maildir pass"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, dir = %maildir.display(), "Maildir pass failed"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Creates `new/`, `cur/`, `tmp/` and `.failed/` when missing.
pub async fn prepare(maildir: &Path) -> std::io::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        tokio::fs::create_dir_all(maildir.join(sub)).await?;
    }
    tokio::fs::create_dir_all(failed_dir(maildir)).await
}

/// One pass over `new/`: at most [`MAILDIR_BATCH_MAX`] messages, oldest names first.
pub async fn pass(ctx: &MailContext, maildir: &Path) -> std::io::Result<Pass> {
    prepare(maildir).await?;
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(maildir.join("new")).await?;
    while let Some(entry) = entries.next_entry().await? {
        if let Some(name) = entry.file_name().to_str().filter(|n| !n.starts_with('.')) {
            names.push(name.to_string());
        }
    }
    names.sort();
    let mut done = Pass::default();
    for name in names.into_iter().take(MAILDIR_BATCH_MAX) {
        let base = name.split(':').next().unwrap_or(&name).to_string();
        let claimed = maildir.join("cur").join(format!("{base}:2,"));
        // Whoever renames first owns the message; the other instance finds it gone and moves on.
        if tokio::fs::rename(maildir.join("new").join(&name), &claimed).await.is_err() {
            continue;
        }
        match process(ctx, &claimed).await {
            Ok(()) => {
                tokio::fs::rename(&claimed, maildir.join("cur").join(format!("{base}:2,S"))).await?;
                done.accepted += 1;
            }
            Err(Failure::Retry) => {
                tokio::fs::rename(&claimed, maildir.join("new").join(&base)).await?;
                done.retried += 1;
            }
            Err(Failure::Refused(reason)) => {
                let failed = failed_dir(maildir);
                tokio::fs::write(failed.join(format!("{base}.reason.txt")), format!("{reason}\n")).await?;
                tokio::fs::rename(&claimed, failed.join(&base)).await?;
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

enum Failure {
    Retry,
    Refused(String),
}

async fn process(ctx: &MailContext, path: &Path) -> Result<(), Failure> {
    let size = tokio::fs::metadata(path).await.map_err(|e| Failure::Refused(format!("unreadable: {e}")))?.len();
    if size > SMTP_MESSAGE_BYTES_MAX as u64 {
        return Err(Failure::Refused(format!(
            "message_too_large: {size} bytes; at most {SMTP_MESSAGE_BYTES_MAX} are accepted"
        )));
    }
    let raw = tokio::fs::read(path).await.map_err(|e| Failure::Refused(format!("unreadable: {e}")))?;
    let headers = mime::headers(&raw);
    let recipients = recipients(ctx, &headers.recipients).await?;
    if recipients.is_empty() {
        return Err(Failure::Refused(format!(
            "mailbox_unknown_recipient: none of {:?} is a designated mailbox at {}",
            headers.recipients, ctx.mail_domain
        )));
    }
    // A Maildir has no envelope: the delivering server records the envelope sender as Return-Path.
    let envelope_from = headers.return_path.clone().or(headers.from.clone()).unwrap_or_default();
    match deliver(ctx, &envelope_from, &recipients, raw).await {
        Verdict::Accepted(_) => Ok(()),
        Verdict::Refused(reason) => Err(Failure::Refused(format!("mailbox_sender_unknown: {reason}"))),
        Verdict::Unavailable => Err(Failure::Retry),
    }
}

/// The designated mailboxes among the addresses a message was delivered to, one per organisation.
async fn recipients(ctx: &MailContext, addresses: &[String]) -> Result<Vec<Recipient>, Failure> {
    let mut found: Vec<Recipient> = Vec::new();
    for address in addresses.iter().take(SMTP_RECIPIENTS_MAX * 4) {
        match mailbox::resolve_recipient(&ctx.app, address, &ctx.mail_domain).await {
            Ok(r) if !found.iter().any(|f| f.org_id == r.org_id) && found.len() < SMTP_RECIPIENTS_MAX => found.push(r),
            Ok(_) => {}
            Err(e) if e.kind == lianrong_app::ErrorKind::NotFound => {}
            Err(_) => return Err(Failure::Retry),
        }
    }
    Ok(found)
}
