//! The designated mailbox's mail side (channel 3 of the data lake): an SMTP receiver with STARTTLS
//! ([`smtp`]), Maildir pick-up ([`maildir`]), the MIME walk that finds attachments ([`mime`]) and
//! receipts mailed back through a relay ([`relay`]). Every received message goes to
//! `app::mailbox::receive`, which decides; nothing outside this crate knows SMTP or MIME.
//!
//! Why a receiver of our own rather than `mailin-embedded`: that crate serves each session on a blocking
//! thread from a fixed pool (four slow clients stall everyone), runs forever without a shutdown, reads
//! lines without a length cap and offers no `SIZE` extension nor command timeout. The subset of RFC 5321
//! a final-delivery mailbox needs is small, and here every limit is named (`domain::limits::SMTP_*`).
#![forbid(unsafe_code)]

mod deliver;
pub mod maildir;
pub mod mime;
pub mod relay;
pub mod service;
pub mod smtp;
pub mod tls;

use std::sync::Arc;

pub use deliver::{MailContext, Verdict, deliver};
pub use service::{MailOptions, Running, start};

/// Installs ring as the process's rustls crypto provider. The platform builds rustls with ring only, but
/// another dependency may one day enable aws-lc-rs too, and rustls then refuses to guess: choose here.
/// Installing twice is harmless (the first choice stays).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The crypto provider every TLS configuration of this crate is built with.
pub(crate) fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
