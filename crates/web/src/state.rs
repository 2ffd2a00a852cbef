//! Shared state of the HTTP layer: the app, the metrics and the cookie settings.

use std::sync::Arc;

use lianrong_app::App;

use crate::ops::Metrics;

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure`: set when the platform is served over TLS (directly or behind a proxy).
    pub secure_cookies: bool,
    /// The domain of the designated mailboxes' addresses (`<credit code>@<mail domain>`); empty means
    /// `app::mailbox::MAIL_DOMAIN_DEFAULT`.
    pub mail_domain: String,
    /// How long an upload's request waits for its processing before answering 202 with the submission
    /// id; `None` means `api::submission::UPLOAD_ANSWER_WAIT_MS`.
    pub upload_answer_wait_ms: Option<u64>,
}

impl WebConfig {
    pub fn mail_domain(&self) -> &str {
        if self.mail_domain.trim().is_empty() {
            lianrong_app::mailbox::MAIL_DOMAIN_DEFAULT
        } else {
            self.mail_domain.trim()
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> AppState {
        AppState { app, config: Arc::new(config), metrics: Arc::new(Metrics::default()) }
    }
}
