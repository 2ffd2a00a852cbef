//! Lianrong's use cases. One module per capability, named as in every other layer. Each public function
//! takes the [`Actor`], asks the [`policy`], runs one transaction and writes the audit trail. Nothing here
//! knows HTTP or HTML.
#![forbid(unsafe_code)]

pub mod api_key;
pub mod application;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod cluster;
pub mod collection_account;
pub mod commitment;
pub mod confirmation;
pub mod consent;
pub mod core_library;
pub mod credit_line;
pub mod curated;
pub mod demo;
pub mod demo_commitment;
pub mod demo_credit;
pub mod demo_trade;
pub mod error;
pub mod four_flow;
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
    /// Days added to the business date by [`App::shift_business_date`]: only the demo (to show a
    /// commitment at maturity) and tests move it; a server never does.
    business_day_shift: std::sync::Arc<std::sync::atomic::AtomicI64>,
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
            business_day_shift: Default::default(),
        };
        cluster::seed_if_empty(&app).await?;
        Ok(app)
    }

    /// The field-encryption seal: `app.secret().seal(plaintext, &secret::aad(table, column, row_id))`.
    pub fn secret(&self) -> &secret::Secret {
        &self.secret
    }

    /// Today's business date (Asia/Shanghai), with the demo's or a test's shift applied.
    pub fn today(&self) -> jiff::civil::Date {
        let shift = self.business_day_shift.load(std::sync::atomic::Ordering::Relaxed);
        let today =
            jiff::civil::Date::strptime("%Y-%m-%d", business_date(now_ms())).unwrap_or(jiff::civil::date(2099, 12, 31));
        today.checked_add(jiff::Span::new().days(shift)).unwrap_or(today)
    }

    /// The business date `days` from today.
    pub fn day_in(&self, days: i64) -> jiff::civil::Date {
        let today = self.today();
        today.checked_add(jiff::Span::new().days(days)).unwrap_or(today)
    }

    /// Days from today to the date written `YYYY-MM-DD` (zero when past or unreadable).
    pub fn days_until(&self, date: &str) -> i64 {
        jiff::civil::Date::strptime("%Y-%m-%d", date)
            .map(|d| lianrong_domain::loan::days_between(self.today(), d))
            .unwrap_or(0)
    }

    /// Moves this process's business date by `days` (negative goes back): what the demo uses to show a
    /// commitment maturing, and tests to reach a maturity without waiting for it.
    pub fn shift_business_date(&self, days: i64) {
        self.business_day_shift.fetch_add(days, std::sync::atomic::Ordering::Relaxed);
    }

    pub async fn ready(&self) -> AppResult<()> {
        self.db.ping().await?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A new opaque, time-ordered record id (UUIDv7 as text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The business date in Asia/Shanghai for an instant, `YYYY-MM-DD`.
pub fn business_date(at_ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    match jiff::tz::TimeZone::get("Asia/Shanghai") {
        Ok(tz) => ts.to_zoned_datetime(tz).date().to_string(),
        Err(_) => ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).date().to_string(),
    }
}

/// An instant as `YYYY-MM-DD HH:MM` in Asia/Shanghai, for the console.
pub fn display_time(at_ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let tz =
        jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    ts.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M").to_string()
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
