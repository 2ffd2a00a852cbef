//! API keys for machine clients. A key is `lrk_<prefix>_<secret>`; the prefix finds the row and only a
//! hash of the secret is stored.

use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::{self, Scope};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    pub created_by_user_id: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
}

const COLUMNS: &str =
    "id, org_id, name, prefix, secret_hash, scopes, created_by_user_id, created_at_ms, revoked_at_ms, last_used_at_ms";

fn from_row(r: &AnyRow) -> Result<ApiKeyRecord> {
    let scopes_text: String = r.try_get("scopes")?;
    let scopes = role::parse_list(&scopes_text, Scope::parse)
        .map_err(|_| StoreError::Corrupt { column: "api_key.scopes", value: scopes_text.clone() })?;
    Ok(ApiKeyRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        secret_hash: r.try_get("secret_hash")?,
        scopes,
        created_by_user_id: r.try_get("created_by_user_id")?,
        created_at_ms: r.try_get("created_at_ms")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
        last_used_at_ms: r.try_get("last_used_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, k: &ApiKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_key (id, org_id, name, prefix, secret_hash, scopes, created_by_user_id, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&k.id)
    .bind(&k.org_id)
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(&k.secret_hash)
    .bind(role::join_codes(&k.scopes, Scope::code))
    .bind(&k.created_by_user_id)
    .bind(k.created_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn find_by_prefix(conn: &mut Conn, prefix: &str) -> Result<Option<ApiKeyRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM api_key WHERE prefix = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(prefix).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// A key of one organisation; another organisation's key is `NotFound`, as if it did not exist.
pub async fn get_in_org(conn: &mut Conn, org_id: &str, id: &str) -> Result<ApiKeyRecord> {
    let sql = format!("SELECT {COLUMNS} FROM api_key WHERE id = $1 AND org_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(org_id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn list_in_org(conn: &mut Conn, org_id: &str, page: PageRequest) -> Result<Page<ApiKeyRecord>> {
    let total = crate::count(conn, "SELECT COUNT(*) FROM api_key WHERE org_id = $1", &[org_id]).await?;
    let sql =
        format!("SELECT {COLUMNS} FROM api_key WHERE org_id = $1 ORDER BY created_at_ms DESC, id LIMIT $2 OFFSET $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

pub async fn count_live_in_org(conn: &mut Conn, org_id: &str) -> Result<i64> {
    crate::count(conn, "SELECT COUNT(*) FROM api_key WHERE org_id = $1 AND revoked_at_ms IS NULL", &[org_id]).await
}

pub async fn revoke(conn: &mut Conn, org_id: &str, id: &str, now_ms: i64) -> Result<()> {
    let n =
        sqlx::query("UPDATE api_key SET revoked_at_ms = $3 WHERE id = $1 AND org_id = $2 AND revoked_at_ms IS NULL")
            .bind(id)
            .bind(org_id)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn mark_used(conn: &mut Conn, id: &str, now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE api_key SET last_used_at_ms = $2 WHERE id = $1")
        .bind(id)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
