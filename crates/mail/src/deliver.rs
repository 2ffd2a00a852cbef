//! One received message, from the SMTP receiver or from Maildir, handed to `app::mailbox::receive` for
//! each recipient organisation; receipts are then mailed through the relay, if one is configured.

use std::sync::Arc;

use lianrong_app::App;
use lianrong_app::mailbox::{self, IncomingMail, Recipient};

use crate::mime;
use crate::relay::Relay;

/// What the mail side needs: the app, the mail domain of the designated addresses, and the relay that
/// carries receipts (none: receipts are only recorded).
#[derive(Clone)]
pub struct MailContext {
    pub app: App,
    pub mail_domain: String,
    pub relay: Option<Arc<Relay>>,
}

/// The answer to the sender after DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Taken in; the receipt ids, one per recipient organisation.
    Accepted(Vec<String>),
    /// Every recipient refused it (unregistered sender); the reason in English, for the SMTP reply.
    Refused(String),
    /// The platform could not process it now (database unavailable …): try again later.
    Unavailable,
}

/// Processes `raw` for each recipient. A registered sender's receipt is mailed in the background, so the
/// SMTP session does not wait on the relay.
pub async fn deliver(ctx: &MailContext, envelope_from: &str, recipients: &[Recipient], raw: Vec<u8>) -> Verdict {
    let headers = mime::headers(&raw);
    let mail = IncomingMail {
        envelope_from: envelope_from.to_string(),
        header_from: headers.from.clone(),
        subject: headers.subject.clone(),
        message_id: headers.message_id.clone(),
        raw,
    };
    let mut accepted = Vec::new();
    let mut refusal = None;
    for to in recipients {
        match mailbox::receive(&ctx.app, to, &mail, mime::attachments).await {
            Ok(d) if d.refused() => refusal = Some(d.receipt.summary_en.clone()),
            Ok(d) => {
                accepted.push(d.receipt.id.clone());
                if let (Some(relay), false) = (&ctx.relay, headers.auto_submitted) {
                    let (relay, app, message_id) = (relay.clone(), ctx.app.clone(), headers.message_id.clone());
                    tokio::spawn(async move { relay.send_receipt(&app, &d, &message_id).await });
                }
            }
            Err(e) => {
                tracing::error!(error = %e, org = %to.org_id, "a received message could not be processed");
                return Verdict::Unavailable;
            }
        }
    }
    match (accepted.is_empty(), refusal) {
        (true, Some(reason)) => Verdict::Refused(reason),
        (true, None) => Verdict::Unavailable,
        (false, _) => Verdict::Accepted(accepted),
    }
}
