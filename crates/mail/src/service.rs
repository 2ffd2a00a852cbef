//! Starting the mail side beside the HTTP server: the SMTP receiver, Maildir pick-up, or both.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lianrong_app::App;
use lianrong_domain::limits::MAILDIR_POLL_MS;
use lianrong_domain::mailbox::MailAddress;
use rustls::ServerConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::deliver::MailContext;
use crate::relay::Relay;
use crate::smtp::{SmtpConfig, SmtpLimits};

/// What to run.
#[derive(Clone)]
pub struct MailOptions {
    /// Where the SMTP receiver listens; `None`: no receiver.
    pub smtp: Option<SocketAddr>,
    /// STARTTLS configuration (see [`crate::tls`]).
    pub tls: Option<Arc<ServerConfig>>,
    pub limits: SmtpLimits,
    /// The domain of the designated addresses.
    pub mail_domain: String,
    /// Where receipts are mailed through; `None`: receipts are only recorded.
    pub relay: Option<Arc<Relay>>,
    /// A Maildir to pick messages up from; `None`: no pick-up.
    pub maildir: Option<PathBuf>,
    pub maildir_poll: Duration,
}

impl MailOptions {
    pub fn new(mail_domain: &str) -> MailOptions {
        MailOptions {
            smtp: None,
            tls: None,
            limits: SmtpLimits::default(),
            mail_domain: mail_domain.trim().to_lowercase(),
            relay: None,
            maildir: None,
            maildir_poll: Duration::from_millis(MAILDIR_POLL_MS),
        }
    }
}

/// The running mail side; [`Running::stop`] ends it.
pub struct Running {
    /// The address the receiver is bound to (useful with port 0).
    pub smtp_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Checks that `domain` can carry addresses (`x@domain` parses).
pub fn check_mail_domain(domain: &str) -> Result<(), String> {
    MailAddress::parse(&format!("x@{domain}"))
        .map(|_| ())
        .map_err(|_| format!("--mail-domain '{domain}' is not a mail domain (like lake.example.cn)"))
}

/// Binds the receiver and starts the tasks. Returns once the receiver listens.
pub async fn start(app: App, opts: MailOptions) -> Result<Running, String> {
    crate::install_crypto_provider();
    check_mail_domain(&opts.mail_domain)?;
    let ctx = MailContext { app, mail_domain: opts.mail_domain.clone(), relay: opts.relay.clone() };
    let (stop, watch_stop) = watch::channel(false);
    let stopped = move || {
        let mut rx = watch_stop.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut tasks = Vec::new();
    let mut smtp_addr = None;
    if let Some(addr) = opts.smtp {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen for SMTP on {addr}: {e} (is another server running there?)"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        smtp_addr = Some(bound);
        let config = SmtpConfig { hostname: None, tls: opts.tls.clone(), limits: opts.limits.clone() };
        let (ctx, shutdown) = (ctx.clone(), stopped());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = crate::smtp::serve(listener, ctx, config, shutdown).await {
                tracing::error!(error = %e, "SMTP receiver stopped");
            }
        }));
        tracing::info!(addr = %bound, starttls = opts.tls.is_some(), domain = %opts.mail_domain, "SMTP receiver listening");
    }
    if let Some(dir) = opts.maildir.clone() {
        crate::maildir::prepare(&dir).await.map_err(|e| format!("cannot use Maildir {}: {e}", dir.display()))?;
        let (ctx, shutdown, poll) = (ctx.clone(), stopped(), opts.maildir_poll);
        tracing::info!(dir = %dir.display(), "Maildir pick-up running");
        tasks.push(tokio::spawn(crate::maildir::run(ctx, dir, poll, shutdown)));
    }
    Ok(Running { smtp_addr, stop, tasks })
}
