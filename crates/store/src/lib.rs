//! Lianrong's storage seam. One sqlx `Any` pool serves SQLite (the embedded default) and PostgreSQL
//! (production); migrations are per backend; every repository function takes a connection so that a use
//! case composes several of them in one transaction. Only this crate knows SQL.
#![forbid(unsafe_code)]

pub mod api_key;
pub mod application;
pub mod audit;
pub mod chain;
pub mod cluster;
pub mod collection_account;
pub mod column_mapping;
pub mod commitment;
pub mod confirmation;
pub mod consent;
pub mod core_library;
pub mod credit_line;
mod dialect;
pub mod four_flow;
mod four_flow_copy;
pub mod four_flow_pass;
pub mod idempotency;
mod keyset;
pub mod loan;
pub mod log;
pub mod mailbox;
pub mod org;
pub mod product;
pub mod registration;
pub mod secret;
pub mod session;
pub mod submission;
pub mod trade;
pub mod user;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Executor, SqlSafeStr};

pub use sqlx::Row;

pub type Conn = AnyConnection;
/// A transaction. A write transaction on SQLite also holds the process's write gate (see
/// [`Db::begin_write`]) until it commits, rolls back or is dropped.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; the app maps it to a domain conflict.
    #[error("constraint {constraint} refused the write")]
    Conflict { constraint: String },
    #[error("stored value in {column} is not valid: {value}")]
    Corrupt { column: &'static str, value: String },
    #[error("unsupported database URL; use sqlite://… or postgres://…")]
    UnsupportedUrl,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A list's cursor does not fit the list (another list's, or altered): the caller's error.
    #[error(transparent)]
    Page(#[from] lianrong_domain::page::PageError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Maps a constraint violation to `Conflict` so callers can answer "already exists" precisely.
pub(crate) fn map_write(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && (db.is_unique_violation() || db.is_foreign_key_violation())
    {
        let constraint = db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
        return StoreError::Conflict { constraint };
    }
    StoreError::Sql(e)
}

/// Parses a stored enum code, treating an unknown one as corruption rather than panicking.
pub(crate) fn decode<T>(
    column: &'static str,
    value: String,
    parse: impl Fn(&str) -> std::result::Result<T, lianrong_domain::labelled::UnknownCode>,
) -> Result<T> {
    parse(&value).map_err(|_| StoreError::Corrupt { column, value })
}

/// Parses a stored calendar date (`YYYY-MM-DD`); anything else is corruption, never a default.
pub(crate) fn decode_date(column: &'static str, value: String) -> Result<jiff::civil::Date> {
    jiff::civil::Date::strptime("%Y-%m-%d", &value).map_err(|_| StoreError::Corrupt { column, value })
}

/// Parses an optional stored calendar date.
pub(crate) fn decode_opt_date(column: &'static str, value: Option<String>) -> Result<Option<jiff::civil::Date>> {
    value.map(|v| decode_date(column, v)).transpose()
}

/// Parses a stored JSON column into its typed value; JSON that does not fit is corruption, never a default.
pub(crate) fn decode_json<T>(
    column: &'static str,
    value: String,
    parse: impl Fn(&serde_json::Value) -> Option<T>,
) -> Result<T> {
    serde_json::from_str::<serde_json::Value>(&value)
        .ok()
        .and_then(|v| parse(&v))
        .ok_or(StoreError::Corrupt { column, value })
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// A small pool of the backend's own driver beside `Any`, for the fast paths `Any` cannot take
    /// (PostgreSQL's `COPY`, SQLite statements prepared once and reused); it connects on first use.
    pub native: Native,
    /// SQLite allows one writer at a time: this process's write transactions queue here, in order,
    /// instead of sleeping in SQLite's busy handler (which backs off up to 100 ms a try and lets a late
    /// arrival overtake one that has waited longer).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// The backend's own sqlx pool. Each fast path that uses it is covered by the same tests on its backend
/// as the portable path it replaces.
#[derive(Clone)]
pub enum Native {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// The longest a SQLite write transaction waits for its turn in this process's queue (the same bound as
/// a pool acquire).
const WRITE_QUEUE_WAIT_MAX: Duration = Duration::from_secs(30);

/// Connections of the native pool: fast paths are bulk work (a load, a verification run), a few at a time.
const NATIVE_CONNECTIONS_MAX: u32 = 4;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish()
    }
}

/// The URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, "lake", include_str!("../migrations/sqlite/0002_lake.sql")),
    (3, "log", include_str!("../migrations/sqlite/0003_log.sql")),
    (4, "mailbox", include_str!("../migrations/sqlite/0004_mailbox.sql")),
    (5, "four_flow", include_str!("../migrations/sqlite/0005_four_flow.sql")),
    (6, "receivable", include_str!("../migrations/sqlite/0006_receivable.sql")),
    (7, "confirmation", include_str!("../migrations/sqlite/0007_confirmation.sql")),
    (8, "registration", include_str!("../migrations/sqlite/0008_registration.sql")),
    (9, "collection_account", include_str!("../migrations/sqlite/0009_collection_account.sql")),
    (10, "external_confirmation", include_str!("../migrations/sqlite/0010_external_confirmation.sql")),
    (11, "credit_line", include_str!("../migrations/sqlite/0011_credit_line.sql")),
    (12, "commitment", include_str!("../migrations/sqlite/0012_commitment.sql")),
    (13, "product", include_str!("../migrations/sqlite/0013_product.sql")),
    (14, "consent", include_str!("../migrations/sqlite/0014_consent.sql")),
    (15, "application", include_str!("../migrations/sqlite/0015_application.sql")),
    (16, "loan", include_str!("../migrations/sqlite/0016_loan.sql")),
    (17, "evidence_chain", include_str!("../migrations/sqlite/0017_evidence_chain.sql")),
    (18, "files_users_have", include_str!("../migrations/sqlite/0018_files_users_have.sql")),
    (19, "column_mapping", include_str!("../migrations/sqlite/0019_column_mapping.sql")),
    (20, "log_sequencer", include_str!("../migrations/sqlite/0020_log_sequencer.sql")),
    (21, "lake_bulk", include_str!("../migrations/sqlite/0021_lake_bulk.sql")),
    (22, "keyed_lists", include_str!("../migrations/sqlite/0022_keyed_lists.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/postgres/0001_foundation.sql")),
    (2, "lake", include_str!("../migrations/postgres/0002_lake.sql")),
    (3, "log", include_str!("../migrations/postgres/0003_log.sql")),
    (4, "mailbox", include_str!("../migrations/postgres/0004_mailbox.sql")),
    (5, "four_flow", include_str!("../migrations/postgres/0005_four_flow.sql")),
    (6, "receivable", include_str!("../migrations/postgres/0006_receivable.sql")),
    (7, "confirmation", include_str!("../migrations/postgres/0007_confirmation.sql")),
    (8, "registration", include_str!("../migrations/postgres/0008_registration.sql")),
    (9, "collection_account", include_str!("../migrations/postgres/0009_collection_account.sql")),
    (10, "external_confirmation", include_str!("../migrations/postgres/0010_external_confirmation.sql")),
    (11, "credit_line", include_str!("../migrations/postgres/0011_credit_line.sql")),
    (12, "commitment", include_str!("../migrations/postgres/0012_commitment.sql")),
    (13, "product", include_str!("../migrations/postgres/0013_product.sql")),
    (14, "consent", include_str!("../migrations/postgres/0014_consent.sql")),
    (15, "application", include_str!("../migrations/postgres/0015_application.sql")),
    (16, "loan", include_str!("../migrations/postgres/0016_loan.sql")),
    (17, "evidence_chain", include_str!("../migrations/postgres/0017_evidence_chain.sql")),
    (18, "files_users_have", include_str!("../migrations/postgres/0018_files_users_have.sql")),
    (19, "column_mapping", include_str!("../migrations/postgres/0019_column_mapping.sql")),
    (20, "log_sequencer", include_str!("../migrations/postgres/0020_log_sequencer.sql")),
    (21, "lake_bulk", include_str!("../migrations/postgres/0021_lake_bulk.sql")),
    (22, "keyed_lists", include_str!("../migrations/postgres/0022_keyed_lists.sql")),
];

impl Db {
    /// Connects to `sqlite://path` or `postgres://…`. SQLite is opened in WAL mode with foreign keys and
    /// a busy timeout, so concurrent writers queue instead of failing. Its file is read by ordinary reads
    /// from the OS cache, not through a memory map: every mapped page a connection has touched counts in
    /// the process's resident memory (what an operator's monitoring sees), and with the whole file
    /// mapped by each connection a million-row upload showed 2–3.5 GB resident, for a third less copying
    /// when verification reads a pair's records.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        let native = Self::native_pool(url, backend)?;
        Ok(Db { pool, backend, native, write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// The native pool, connected lazily with the same settings as the `Any` pool's connections.
    fn native_pool(url: &str, backend: Backend) -> Result<Native> {
        fn options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
            sqlx::pool::PoolOptions::new()
                .max_connections(NATIVE_CONNECTIONS_MAX)
                .acquire_timeout(Duration::from_secs(30))
        }
        Ok(match backend {
            Backend::Sqlite => {
                let connect = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    // The same page cache as the `Any` pool's connections: staging a large upload
                    // inserts into a B-tree by key, and a small cache rereads its pages.
                    .pragma("cache_size", "-32768");
                Native::Sqlite(options().connect_lazy_with(connect))
            }
            Backend::Postgres => {
                Native::Postgres(options().connect_lazy_with(sqlx::postgres::PgConnectOptions::from_str(url)?))
            }
        })
    }

    /// The SQLite URL for a file in `data_dir`, created if missing.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    fn migrator(&self) -> Migrator {
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        Migrator::with_migrations(
            list.iter()
                .map(|&(version, name, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(name),
                        MigrationType::Simple,
                        AssertSqlSafe(sql).into_sql_str(),
                        false,
                    )
                })
                .collect(),
        )
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let before = self.applied_migrations().await.unwrap_or(0);
        self.migrator().run(&self.pool).await?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Number of migrations this build knows.
    pub fn known_migrations(&self) -> usize {
        self.migrator().iter().count()
    }

    /// A transaction that writes. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so that
    /// a read-then-write use case cannot deadlock against another writer; on PostgreSQL rows are locked
    /// with `SELECT … FOR UPDATE` where a use case checks and then writes.
    /// On SQLite the process's writers first queue for its write gate, so the database lock is
    /// contended only by other processes.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                // Bounded like a pool acquire: a writer that cannot get its turn fails instead of hanging.
                let gate = tokio::time::timeout(WRITE_QUEUE_WAIT_MAX, self.write_gate.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?;
                Tx { inner: self.pool.begin_with("BEGIN IMMEDIATE").await?, _gate: Some(gate) }
            }
            Backend::Postgres => Tx { inner: self.pool.begin().await?, _gate: None },
        })
    }

    /// A pooled connection for reads outside a transaction: each statement sees the latest commit.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(Tx { inner: self.pool.begin().await?, _gate: None })
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

pub(crate) use dialect::{for_update, is_sqlite};

/// Counts rows for pagination: `total` for the same filter as a page query.
pub(crate) async fn count(conn: &mut Conn, sql: &'static str, binds: &[&str]) -> Result<i64> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    Ok(q.fetch_one(&mut *conn).await?)
}

#[cfg(test)]
mod migration_twins {
    use super::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

    /// The documented differences between the two dialects' schemas, SQLite's spelling first: integers
    /// are 64-bit in both (`INTEGER` is SQLite's name for its 64-bit integer, PostgreSQL's is `BIGINT`),
    /// bytes are `BLOB` and `BYTEA`, and an empty byte string is written `X''` and `'\x'::bytea`.
    const TYPE_MAP: &[(&str, &str)] = &[("INTEGER", "BIGINT"), ("BLOB", "BYTEA"), ("X''", "'\\x'::bytea")];

    /// The documented differences that span several words, SQLite's spelling first: a key that numbers
    /// itself without ever reusing a number (`AUTOINCREMENT`, `BIGSERIAL`), and where that numbering
    /// continues from (the `sqlite_sequence` table, `setval`; SQLite's `seq` is the last number given,
    /// PostgreSQL's `setval(…, n, false)` names the next, hence the `+ 1` and `+ 2`).
    const PHRASE_MAP: &[(&str, &str)] = &[
        ("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"),
        (
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'log_pending', COALESCE(MAX(leaf_index) + 1, 0) FROM log_leaf;",
            "SELECT setval(pg_get_serial_sequence('log_pending', 'leaf_id'), COALESCE((SELECT MAX(leaf_index) + 2 FROM log_leaf), 1), false);",
        ),
    ];

    /// A migration's statements without comments, with runs of whitespace made one space.
    fn statements(sql: &str) -> String {
        let code: Vec<&str> = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect();
        code.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn as_postgres(sqlite: &str) -> String {
        let mut text = statements(sqlite);
        for (from, to) in PHRASE_MAP {
            text = text.replace(from, to);
        }
        let words: Vec<String> = text
            .split(' ')
            .map(|w| {
                let mut w = w.to_string();
                for (from, to) in TYPE_MAP {
                    if w.trim_end_matches([',', ';', ')']) == *from || (from.starts_with('X') && w.contains(from)) {
                        w = w.replacen(from, to, 1);
                    }
                }
                w
            })
            .collect();
        words.join(" ")
    }

    #[test]
    fn the_two_dialects_migrations_agree_beyond_the_type_map() {
        assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len(), "every migration exists in both dialects");
        for ((n, name, sqlite), (pn, pname, postgres)) in SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS) {
            assert_eq!((n, name), (pn, pname), "migrations are numbered and named alike");
            assert_eq!(
                as_postgres(sqlite),
                statements(postgres),
                "migration {n} {name}: SQLite's and PostgreSQL's statements differ beyond the documented type map"
            );
        }
    }

    #[test]
    fn the_check_sees_a_difference() {
        let sqlite = "CREATE TABLE t (a INTEGER NOT NULL, b TEXT); -- note";
        assert_eq!(as_postgres(sqlite), statements("CREATE TABLE t (a BIGINT NOT NULL, b TEXT);"));
        assert_ne!(as_postgres(sqlite), statements("CREATE TABLE t (a BIGINT NOT NULL, b TEXT NOT NULL);"));
    }
}
