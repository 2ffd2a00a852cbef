//! `serve --smtp … / --maildir …`: the designated mailbox beside the HTTP server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use lianrong_app::App;
use lianrong_mail::relay::Relay;
use lianrong_mail::{MailOptions, Running};

#[derive(Args, Clone)]
pub struct MailArgs {
    /// Receive mail for the designated mailboxes by SMTP on this address (e.g. 127.0.0.1:2525).
    #[arg(long, env = "LIANRONG_SMTP")]
    pub smtp: Option<SocketAddr>,
    /// PEM certificate chain offered with STARTTLS (needs --smtp-key).
    #[arg(long, env = "LIANRONG_SMTP_CERT", requires = "smtp_key")]
    pub smtp_cert: Option<PathBuf>,
    /// PEM private key of --smtp-cert.
    #[arg(long, env = "LIANRONG_SMTP_KEY", requires = "smtp_cert")]
    pub smtp_key: Option<PathBuf>,
    /// Domain of the designated addresses: <credit code in lower case>@<domain>.
    #[arg(long, env = "LIANRONG_MAIL_DOMAIN", default_value = lianrong_app::mailbox::MAIL_DOMAIN_DEFAULT)]
    pub mail_domain: String,
    /// Mail receipts to registered senders through this relay: smtp://host:port[?tls=required] or smtps://…
    #[arg(long, env = "LIANRONG_SMTP_RELAY")]
    pub smtp_relay: Option<String>,
    /// Pick messages up from this Maildir (new/ → cur/ or .failed/), instead of or beside --smtp.
    #[arg(long, env = "LIANRONG_MAILDIR")]
    pub maildir: Option<PathBuf>,
}

/// Starts what the flags ask for; `None` when neither --smtp nor --maildir is given.
pub async fn start(app: &App, args: &MailArgs) -> Result<Option<Running>, String> {
    if args.smtp.is_none() && args.maildir.is_none() {
        return Ok(None);
    }
    lianrong_mail::install_crypto_provider();
    let mut opts = MailOptions::new(&args.mail_domain);
    opts.smtp = args.smtp;
    opts.maildir = args.maildir.clone();
    if let (Some(cert), Some(key)) = (&args.smtp_cert, &args.smtp_key) {
        opts.tls = Some(lianrong_mail::tls::server_config_from_files(cert, key)?);
    }
    if let Some(url) = &args.smtp_relay {
        opts.relay = Some(Arc::new(Relay::from_url(url, &opts.mail_domain)?));
    }
    let running = lianrong_mail::start(app.clone(), opts).await?;
    if let Some(addr) = running.smtp_addr {
        println!("Designated mailbox: SMTP on {addr} for <credit code>@{}", args.mail_domain);
    }
    Ok(Some(running))
}
