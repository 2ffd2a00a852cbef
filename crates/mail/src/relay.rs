//! Receipts mailed back to registered senders through an SMTP relay (lettre). The receipt row is stored
//! before sending and marked mailed only after the relay took the message, so the console always shows
//! whether the sender was told.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use lianrong_app::App;
use lianrong_app::mailbox::{self, Delivery};

/// How long one receipt may take to hand to the relay.
pub const RELAY_TIMEOUT_MS: u64 = 30_000;

pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Relay {
    /// A relay from a URL: `smtp://host:port` (plain; add `?tls=required` or `?tls=opportunistic` for
    /// STARTTLS) or `smtps://host:port`; user and password may be given as `smtp://user:pass@host`.
    /// Receipts come from `receipts@<mail domain>`.
    pub fn from_url(url: &str, mail_domain: &str) -> Result<Relay, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("invalid --smtp-relay URL: {e}"))?
            .timeout(Some(Duration::from_millis(RELAY_TIMEOUT_MS)))
            .build();
        Self::with_transport(transport, mail_domain)
    }

    /// A relay over a transport built by the caller (tests use one that trusts their own certificate).
    pub fn with_transport(transport: AsyncSmtpTransport<Tokio1Executor>, mail_domain: &str) -> Result<Relay, String> {
        let from = format!("Lianrong 链融 <receipts@{mail_domain}>")
            .parse::<Mailbox>()
            .map_err(|e| format!("cannot build the receipts address for mail domain {mail_domain}: {e}"))?;
        Ok(Relay { transport, from })
    }

    /// Mails the receipt of `d` to its registered sender and marks it mailed; failures are logged (the
    /// receipt stays visible in the console as not mailed).
    pub async fn send_receipt(&self, app: &App, d: &Delivery, in_reply_to: &str) {
        let Some(to) = &d.reply_to else {
            return;
        };
        let result = async {
            let message = self.receipt_message(d, to.as_str(), in_reply_to)?;
            self.transport.send(message).await.map_err(|e| format!("the relay refused the receipt: {e}"))?;
            mailbox::mark_mailed(app, &d.receipt.id).await.map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(()) => tracing::info!(receipt = %d.receipt.id, to = %to, "receipt mailed"),
            Err(e) => tracing::warn!(receipt = %d.receipt.id, error = %e, "receipt not mailed"),
        }
    }

    fn receipt_message(&self, d: &Delivery, to: &str, in_reply_to: &str) -> Result<Message, String> {
        let (subject, body) = mailbox::receipt_mail(d);
        let to: Mailbox = to.parse().map_err(|e| format!("bad receipt address {to}: {e}"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            // RFC 3834: an automatic answer, so that auto-responders do not answer it in turn.
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-replied".into()));
        if !in_reply_to.is_empty() {
            builder = builder.in_reply_to(format!("<{in_reply_to}>")).references(format!("<{in_reply_to}>"));
        }
        builder.body(body).map_err(|e| format!("cannot build the receipt: {e}"))
    }
}
