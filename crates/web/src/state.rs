//! Shared state of the HTTP layer: the app, the metrics and the cookie settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lianrong_app::App;

use crate::metrics::Metrics;
use crate::upload::{SpooledFile, UPLOAD_ANSWER_WAIT_MS};

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure`: set when the platform is served over TLS (directly or behind a proxy).
    pub secure_cookies: bool,
    /// The domain of the designated mailboxes' addresses (`<credit code>@<mail domain>`); empty means
    /// `app::mailbox::MAIL_DOMAIN_DEFAULT`.
    pub mail_domain: String,
    /// How long an upload's request waits for its processing before answering 202 with the submission
    /// id; `None` means `upload::UPLOAD_ANSWER_WAIT_MS`.
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

    /// How long an upload's request waits for its processing before answering 202.
    pub fn upload_answer_wait(&self) -> Duration {
        Duration::from_millis(self.upload_answer_wait_ms.unwrap_or(UPLOAD_ANSWER_WAIT_MS))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    pub held: Arc<HeldUploads>,
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> AppState {
        AppState {
            app,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            held: Arc::new(HeldUploads::default()),
        }
    }
}

/// Uploads held in the console between their preview and the user's confirmation, so the file is sent
/// once. Nothing of a held file is in the lake: it is a temporary file, removed when confirmed, replaced
/// by the same user's next preview, or expired. Each is bound to the user who sent it.
#[derive(Default)]
pub struct HeldUploads {
    inner: Mutex<HashMap<String, Held>>,
}

/// How long a previewed file waits for its confirmation, and how many wait at once (the oldest goes).
pub const HELD_UPLOAD_MS: u64 = 30 * 60 * 1000;
pub const HELD_UPLOADS_MAX: usize = 32;

struct Held {
    owner: String,
    at: Instant,
    file: Arc<SpooledFile>,
}

impl HeldUploads {
    /// Holds a file for `owner` (one user of one organisation) and answers its token; the owner's earlier
    /// held file is let go.
    pub fn hold(&self, owner: &str, file: SpooledFile) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut held = self.lock();
        let expiry = Duration::from_millis(HELD_UPLOAD_MS);
        held.retain(|_, h| h.owner != owner && h.at.elapsed() < expiry);
        while held.len() >= HELD_UPLOADS_MAX {
            let Some(oldest) = held.iter().min_by_key(|(_, h)| h.at).map(|(k, _)| k.clone()) else { break };
            held.remove(&oldest);
        }
        held.insert(token.clone(), Held { owner: owner.to_string(), at: Instant::now(), file: Arc::new(file) });
        token
    }

    /// The owner's held file, left held (to preview it again).
    pub fn get(&self, owner: &str, token: &str) -> Option<Arc<SpooledFile>> {
        let held = self.lock();
        held.get(token)
            .filter(|h| h.owner == owner && h.at.elapsed() < Duration::from_millis(HELD_UPLOAD_MS))
            .map(|h| h.file.clone())
    }

    /// Takes the owner's held file out, to be processed.
    pub fn take(&self, owner: &str, token: &str) -> Option<Arc<SpooledFile>> {
        let mut held = self.lock();
        match held.get(token) {
            Some(h) if h.owner == owner && h.at.elapsed() < Duration::from_millis(HELD_UPLOAD_MS) => {
                held.remove(token).map(|h| h.file)
            }
            _ => None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // A panic while the map was held cannot leave it inconsistent (each change is one map call).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
