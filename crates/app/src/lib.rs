//! Lianrong's use cases. One module per capability, named as in every other layer. Each public function
//! takes the [`Actor`], asks the [`policy`], runs one transaction and writes the audit trail. Nothing here
//! knows HTTP or HTML.
#![forbid(unsafe_code)]

pub mod api_key;
pub mod application;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod clock;
pub mod cluster;
pub mod collection_account;
pub mod column_mapping;
pub mod commitment;
pub mod confirmation;
pub mod consent;
pub mod core_library;
pub mod credit_line;
pub mod curated;
pub mod demo;
pub mod error;
pub mod four_flow;
mod four_flow_judge;
mod four_flow_pass;
pub mod idempotency;
pub mod loan;
pub mod log;
pub mod mailbox;
pub mod org;
pub mod penetration;
pub mod policy;
pub mod product;
pub mod receivable;
pub mod registration;
pub mod secret;
pub mod settlement;
pub mod stats;
pub mod submission;
pub mod trade;
pub mod user;

pub use error::{AppError, AppResult, ErrorKind};
pub use policy::{Actor, Permission};

use lianrong_store::Db;

/// The application: a database handle, the lake and the field-encryption key, and nothing else, so that
/// any number of processes can serve one database behind a load balancer (all with the same key).
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    /// The raw and curated zones (a local folder or an S3-compatible store).
    pub lake: std::sync::Arc<lianrong_lake::Lake>,
    /// Seals and opens sensitive fields (SM4-GCM under the platform key); see [`secret`].
    secret: std::sync::Arc<secret::Secret>,
    /// The business date's source ([`clock`]): the wall clock on a server, pinned in the demo and tests.
    clock: std::sync::Arc<clock::BusinessClock>,
}

impl App {
    /// [`App::open_with`] under the key the environment names (`LIANRONG_SECRET_KEY` or
    /// `LIANRONG_SECRET_KEY_FILE`), else under a fresh key that lives as long as the process: for tests
    /// and benchmarks on throw-away databases. Servers use `open_with` and a key kept on disk.
    pub async fn open(url: &str, lake_url: &str) -> AppResult<App> {
        let key = match secret::SecretKey::from_env()? {
            Some((key, _)) => key,
            None => secret::SecretKey::random()?,
        };
        App::open_with(url, lake_url, &key).await
    }

    /// Connects, migrates, opens the lake, checks that `key` is the database's field-encryption key (or
    /// binds a new database to it) and seeds the cluster list when the database is new.
    pub async fn open_with(url: &str, lake_url: &str, key: &secret::SecretKey) -> AppResult<App> {
        let db = Db::connect(url).await.map_err(|e| {
            tracing::error!(error = %e, url = %lianrong_store::redact_url(url), "cannot open the database");
            AppError::new(
                ErrorKind::Unavailable,
                "database_unavailable",
                format!("Cannot open the database: {e}"),
                format!("无法打开数据库：{e}"),
            )
        })?;
        let applied = db.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        let lake = lianrong_lake::Lake::open(lake_url).map_err(|e| {
            tracing::error!(error = %e, "cannot open the lake");
            AppError::new(
                ErrorKind::Unavailable,
                "lake_unavailable",
                format!("Cannot open the data lake at {lake_url}: {}", e.code()),
                format!("无法打开数据湖 {lake_url}：{}", e.code()),
            )
        })?;
        let secret = secret::Secret::new(key);
        secret::check_key(&db, &secret).await?;
        tracing::info!(key_id = secret.key_id(), "field encryption key ready");
        let app = App {
            db,
            lake: std::sync::Arc::new(lake),
            secret: std::sync::Arc::new(secret),
            clock: std::sync::Arc::new(clock::BusinessClock::wall()),
        };
        cluster::seed_if_empty(&app).await?;
        // The verifiable log's sequencer runs beside every open app unless the environment turns it off:
        // operations only write pending leaves, and this task gives them their place in the tree
        // (several processes on one database take turns through the log state's lock).
        if log::sequencer_enabled() {
            tokio::spawn(log::run_sequencer(app.clone()));
        }
        Ok(app)
    }

    /// The field-encryption seal: `app.secret().seal(plaintext, &secret::aad(table, column, row_id))`.
    pub fn secret(&self) -> &secret::Secret {
        &self.secret
    }

    /// The same app judging business rules on a pinned business date instead of the wall clock's (the
    /// demo's `--business-date`, and every test world). Set before the app is shared: clones made
    /// earlier keep their clock.
    pub fn with_business_date(mut self, date: jiff::civil::Date) -> App {
        self.clock = std::sync::Arc::new(clock::BusinessClock::pinned(date));
        self
    }

    /// The pinned business date, if the app runs on one.
    pub fn pinned_business_date(&self) -> Option<jiff::civil::Date> {
        self.clock.pinned_date()
    }

    /// Today's business date (Asia/Shanghai, or the pinned date), with the demo's or a test's shift
    /// applied: the only clock of business dates.
    pub fn today(&self) -> jiff::civil::Date {
        self.clock.today()
    }

    /// The business date on which an instant fell, in the same calendar as [`App::today`].
    pub fn date_at(&self, at_ms: i64) -> jiff::civil::Date {
        self.clock.date_at(at_ms)
    }

    /// The business date `days` from today.
    pub fn day_in(&self, days: i64) -> jiff::civil::Date {
        clock::plus_days(self.today(), days)
    }

    /// Days from today to `date` (zero when past).
    pub fn days_until(&self, date: jiff::civil::Date) -> i64 {
        lianrong_domain::loan::days_between(self.today(), date)
    }

    /// Moves this process's business date by `days` (negative goes back): what the demo uses to show a
    /// commitment maturing, and tests to reach a maturity without waiting for it.
    pub fn shift_business_date(&self, days: i64) {
        self.clock.shift(days);
    }

    pub async fn ready(&self) -> AppResult<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// The database pool's connections now, for the metrics endpoint.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats { open: self.db.pool.size(), idle: self.db.pool.num_idle() }
    }
}

/// Connections of the database pool: open (in use or idle) and idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: usize,
}

pub use clock::now_ms;

/// A new opaque, time-ordered record id (UUIDv7 as text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An instant as `YYYY-MM-DD HH:MM` in Asia/Shanghai, for the console.
pub fn display_time(at_ms: i64) -> String {
    clock::zoned(at_ms).strftime("%Y-%m-%d %H:%M").to_string()
}

/// Random bytes from the operating system, for tokens and secrets.
pub(crate) fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| {
        tracing::error!(error = %e, "the operating system's random source failed");
        AppError::internal()
    })?;
    Ok(buf)
}

/// SM3 digest as lower-case hex: used to store session tokens and API key secrets.
pub fn sm3_hex(data: &[u8]) -> String {
    use sm3::Digest;
    hex::encode(sm3::Sm3::digest(data))
}

/// An instant as RFC 3339 in UTC with milliseconds, for the API.
pub fn rfc3339_utc(at_ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
