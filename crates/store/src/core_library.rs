//! The core-enterprise library: one entry per organisation and an append-only history of its moves.

use jiff::civil::Date;
use lianrong_domain::core_library::{LibraryAction, LibraryStatus};
use lianrong_domain::page::{Page, PageRequest};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, decode, decode_opt_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub org_uscc: String,
    pub cluster_id: String,
    pub status: LibraryStatus,
    /// Business date (Asia/Shanghai) of the last admission, `YYYY-MM-DD`.
    pub admission_date: Option<Date>,
    pub reason: String,
    pub applied_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: String,
    pub entry_id: String,
    pub seq: i64,
    /// `None` for the application itself.
    pub action: Option<LibraryAction>,
    pub from_status: Option<LibraryStatus>,
    pub to_status: LibraryStatus,
    pub reason: String,
    pub actor_user_id: Option<String>,
    pub actor_org_id: String,
    pub at_ms: i64,
}

/// Which entries a query may return.
#[derive(Debug, Clone)]
pub enum LibraryScope {
    /// Operator and regulator.
    All,
    /// Banks see admitted and suspended entries (they grant lines to library members) and their own.
    DecidedAndOwn { org_id: String },
    /// Everyone else sees only its own organisation's entry.
    Own { org_id: String },
}

fn scope_binds(scope: &LibraryScope) -> (i64, i64, String) {
    match scope {
        LibraryScope::All => (1, 0, String::new()),
        LibraryScope::DecidedAndOwn { org_id } => (0, 1, org_id.clone()),
        LibraryScope::Own { org_id } => (0, 0, org_id.clone()),
    }
}

const SELECT: &str = "SELECT e.id, e.org_id, o.name AS org_name, o.uscc AS org_uscc, e.cluster_id, e.status, \
     e.admission_date, e.reason, e.applied_at_ms, e.updated_at_ms FROM core_library_entry e \
     JOIN organisation o ON o.id = e.org_id \
     WHERE ($1 = 1 OR e.org_id = $3 OR ($2 = 1 AND e.status IN ('admitted', 'suspended')))";

fn from_row(r: &AnyRow) -> Result<EntryRecord> {
    Ok(EntryRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_uscc: r.try_get("org_uscc")?,
        cluster_id: r.try_get("cluster_id")?,
        status: decode("core_library_entry.status", r.try_get("status")?, LibraryStatus::parse)?,
        admission_date: decode_opt_date("core_library_entry.admission_date", r.try_get("admission_date")?)?,
        reason: r.try_get("reason")?,
        applied_at_ms: r.try_get("applied_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, e: &EntryRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO core_library_entry (id, org_id, cluster_id, status, admission_date, reason, applied_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(&e.org_id)
    .bind(&e.cluster_id)
    .bind(e.status.code())
    .bind(e.admission_date.map(|d| d.to_string()))
    .bind(&e.reason)
    .bind(e.applied_at_ms)
    .bind(e.updated_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// An entry if the scope may see it, else `NotFound`. `lock` adds `FOR UPDATE` on PostgreSQL.
/// One entry as the scope may see it; `locked` takes it `FOR UPDATE` for a transition.
pub async fn get(conn: &mut Conn, scope: &LibraryScope, id: &str, locked: bool) -> Result<EntryRecord> {
    let (all, decided, org) = scope_binds(scope);
    let lock = crate::dialect::lock_if(conn, locked);
    // FOR UPDATE cannot lock the joined organisation row under PostgreSQL's rules for outer tables; it
    // locks both, which is harmless here because organisations are not updated by library moves.
    let sql = format!("{SELECT} AND e.id = $4{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(all)
        .bind(decided)
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub status: Option<LibraryStatus>,
    pub cluster_id: Option<String>,
}

pub async fn list(
    conn: &mut Conn,
    scope: &LibraryScope,
    filter: &EntryFilter,
    page: PageRequest,
) -> Result<Page<EntryRecord>> {
    let (all, decided, org) = scope_binds(scope);
    let status = filter.status.map(|s| s.code()).unwrap_or("");
    let cluster = filter.cluster_id.clone().unwrap_or_default();
    let filt = " AND ($4 = '' OR e.status = $4) AND ($5 = '' OR e.cluster_id = $5)";
    let count_sql = format!("SELECT COUNT(*) FROM ({SELECT}{filt}) t");
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
        .bind(all)
        .bind(decided)
        .bind(&org)
        .bind(status)
        .bind(&cluster)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!(
        "{SELECT}{filt} ORDER BY CASE e.status WHEN 'applied' THEN 0 WHEN 'admitted' THEN 1 WHEN 'suspended' THEN 2 ELSE 3 END, \
         o.name, e.id LIMIT $6 OFFSET $7"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(all)
        .bind(decided)
        .bind(&org)
        .bind(status)
        .bind(&cluster)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Writes a move only if the entry is still in `expected`: a concurrent move makes this return
/// `Conflict` instead of overwriting.
pub async fn update_status(
    conn: &mut Conn,
    id: &str,
    expected: LibraryStatus,
    to: LibraryStatus,
    admission_date: Option<Date>,
    now_ms: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE core_library_entry SET status = $3, admission_date = COALESCE($4, admission_date), updated_at_ms = $5 \
         WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(expected.code())
    .bind(to.code())
    .bind(admission_date.map(|d| d.to_string()))
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 { Err(StoreError::Conflict { constraint: "core_library_entry.status".into() }) } else { Ok(()) }
}

pub async fn append_event(conn: &mut Conn, e: &EventRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO core_library_event (id, entry_id, seq, action, from_status, to_status, reason, actor_user_id, actor_org_id, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&e.id)
    .bind(&e.entry_id)
    .bind(e.seq)
    .bind(e.action.map(|a| a.code().to_string()))
    .bind(e.from_status.map(|s| s.code().to_string()))
    .bind(e.to_status.code())
    .bind(&e.reason)
    .bind(e.actor_user_id.clone())
    .bind(&e.actor_org_id)
    .bind(e.at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn next_seq(conn: &mut Conn, entry_id: &str) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM core_library_event WHERE entry_id = $1")
        .bind(entry_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(max.unwrap_or(0) + 1)
}

pub async fn history(conn: &mut Conn, entry_id: &str, page: PageRequest) -> Result<Page<EventRecord>> {
    let total = crate::count(conn, "SELECT COUNT(*) FROM core_library_event WHERE entry_id = $1", &[entry_id]).await?;
    let rows = sqlx::query(
        "SELECT id, entry_id, seq, action, from_status, to_status, reason, actor_user_id, actor_org_id, at_ms \
         FROM core_library_event WHERE entry_id = $1 ORDER BY seq LIMIT $2 OFFSET $3",
    )
    .bind(entry_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let action: Option<String> = r.try_get("action")?;
            let from: Option<String> = r.try_get("from_status")?;
            Ok(EventRecord {
                id: r.try_get("id")?,
                entry_id: r.try_get("entry_id")?,
                seq: r.try_get("seq")?,
                action: action.map(|a| decode("core_library_event.action", a, LibraryAction::parse)).transpose()?,
                from_status: from
                    .map(|s| decode("core_library_event.from_status", s, LibraryStatus::parse))
                    .transpose()?,
                to_status: decode("core_library_event.to_status", r.try_get("to_status")?, LibraryStatus::parse)?,
                reason: r.try_get("reason")?,
                actor_user_id: r.try_get("actor_user_id")?,
                actor_org_id: r.try_get("actor_org_id")?,
                at_ms: r.try_get("at_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

pub async fn count_by_status(conn: &mut Conn) -> Result<Vec<(LibraryStatus, i64)>> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM core_library_entry GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((decode("core_library_entry.status", r.try_get("status")?, LibraryStatus::parse)?, r.try_get("n")?))
        })
        .collect()
}
