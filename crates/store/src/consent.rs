//! Data authorisations and the reads made through them (migration 0014). A read locks its consent row
//! for share on PostgreSQL (SQLite's write transaction already serialises), so a revocation that commits
//! first is always seen: revocation is immediate.

use jiff::civil::Date;
use lianrong_domain::consent::{Category, ConsentState};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::{join_codes, parse_list};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::dialect::for_share as share_lock;
use crate::{Conn, Result, StoreError, decode, decode_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: String,
    pub owner_org_id: String,
    pub bank_org_id: String,
    /// Sorted, without duplicates.
    pub categories: Vec<Category>,
    pub purpose: String,
    pub application_id: Option<String>,
    /// `YYYY-MM-DD`, the last day the consent is in force.
    pub valid_until: Date,
    /// As stored: granted or revoked (expired is derived from `valid_until` by the app).
    pub stored_state: ConsentState,
    pub granted_by: String,
    pub granted_at_ms: i64,
    pub revoked_by: Option<String>,
    pub revoked_at_ms: Option<i64>,
}

impl ConsentRow {
    pub fn covers(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }
}

const COLUMNS: &str = "id, owner_org_id, bank_org_id, categories, purpose, application_id, valid_until, state, \
    granted_by, granted_at_ms, revoked_by, revoked_at_ms";

fn from_row(r: &AnyRow) -> Result<ConsentRow> {
    let categories: String = r.try_get("categories")?;
    Ok(ConsentRow {
        id: r.try_get("id")?,
        owner_org_id: r.try_get("owner_org_id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        categories: parse_list(&categories, Category::parse)
            .map_err(|_| StoreError::Corrupt { column: "consent.categories", value: categories.clone() })?,
        purpose: r.try_get("purpose")?,
        application_id: r.try_get("application_id")?,
        valid_until: decode_date("consent.valid_until", r.try_get("valid_until")?)?,
        stored_state: decode("consent.state", r.try_get("state")?, ConsentState::parse)?,
        granted_by: r.try_get("granted_by")?,
        granted_at_ms: r.try_get("granted_at_ms")?,
        revoked_by: r.try_get("revoked_by")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, c: &ConsentRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO consent ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(c.id.clone())
    .bind(c.owner_org_id.clone())
    .bind(c.bank_org_id.clone())
    .bind(join_codes(&c.categories, Category::code))
    .bind(c.purpose.clone())
    .bind(c.application_id.clone())
    .bind(c.valid_until.to_string())
    .bind(c.stored_state.code())
    .bind(c.granted_by.clone())
    .bind(c.granted_at_ms)
    .bind(c.revoked_by.clone())
    .bind(c.revoked_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Revokes a granted consent; answers false when it was already revoked.
pub async fn revoke(conn: &mut Conn, id: &str, by: &str, at_ms: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE consent SET state = 'revoked', revoked_by = $2, revoked_at_ms = $3 WHERE id = $1 AND state = 'granted'",
    )
    .bind(id.to_string())
    .bind(by.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// Who sees which consents: the owner and the bank their own; the operator and the regulator all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentScope {
    All,
    Party { org_id: String },
}

fn scope_binds(scope: &ConsentScope) -> (i64, String) {
    match scope {
        ConsentScope::All => (1, String::new()),
        ConsentScope::Party { org_id } => (0, org_id.clone()),
    }
}

pub async fn get(conn: &mut Conn, scope: &ConsentScope, id: &str) -> Result<ConsentRow> {
    let (all, org) = scope_binds(scope);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM consent WHERE id = $1 AND ($2 = 1 OR owner_org_id = $3 OR bank_org_id = $3)"
    )))
    .bind(id.to_string())
    .bind(all)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// The consent as its bank reads through it, locked against a concurrent revocation until the caller's
/// transaction ends; `NotFound` unless `bank_org_id` is its bank.
pub async fn get_for_bank(conn: &mut Conn, id: &str, bank_org_id: &str) -> Result<ConsentRow> {
    let lock = share_lock(conn);
    let row =
        sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM consent WHERE id = $1 AND bank_org_id = $2{lock}")))
            .bind(id.to_string())
            .bind(bank_org_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// A consent from `owner_org_id` to `bank_org_id` covering `category` and in force on `today`
/// (`YYYY-MM-DD`), the one running longest; locked like [`get_for_bank`].
pub async fn live_for(
    conn: &mut Conn,
    owner_org_id: &str,
    bank_org_id: &str,
    category: Category,
    today: &str,
) -> Result<Option<ConsentRow>> {
    let lock = share_lock(conn);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM consent WHERE owner_org_id = $1 AND bank_org_id = $2 AND state = 'granted' \
         AND valid_until >= $3 AND (',' || categories || ',') LIKE $4 ORDER BY valid_until DESC, id LIMIT 1{lock}"
    )))
    .bind(owner_org_id.to_string())
    .bind(bank_org_id.to_string())
    .bind(today.to_string())
    .bind(format!("%,{},%", category.code()))
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Conn, scope: &ConsentScope, page: PageRequest) -> Result<Page<ConsentRow>> {
    let (all, org) = scope_binds(scope);
    let filter = "($1 = 1 OR owner_org_id = $2 OR bank_org_id = $2)";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM consent WHERE {filter}")))
        .bind(all)
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM consent WHERE {filter} ORDER BY granted_at_ms DESC, id LIMIT $3 OFFSET $4"
    )))
    .bind(all)
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// One read through a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRow {
    pub id: String,
    pub consent_id: String,
    pub category: Category,
    pub reader_org_id: String,
    pub reader_user_id: Option<String>,
    /// The login (or API key id) that read.
    pub reader: String,
    /// How many items the read answered.
    pub items: i64,
    pub at_ms: i64,
}

pub async fn insert_read(conn: &mut Conn, r: &ReadRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO consent_read (id, consent_id, category, reader_org_id, reader_user_id, reader, items, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.id.clone())
    .bind(r.consent_id.clone())
    .bind(r.category.code())
    .bind(r.reader_org_id.clone())
    .bind(r.reader_user_id.clone())
    .bind(r.reader.clone())
    .bind(r.items)
    .bind(r.at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// The reads made through a consent, newest first.
pub async fn reads(conn: &mut Conn, consent_id: &str, page: PageRequest) -> Result<Page<ReadRow>> {
    let total = crate::count(conn, "SELECT COUNT(*) FROM consent_read WHERE consent_id = $1", &[consent_id]).await?;
    let rows = sqlx::query(
        "SELECT id, consent_id, category, reader_org_id, reader_user_id, reader, items, at_ms FROM consent_read \
         WHERE consent_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(consent_id.to_string())
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(ReadRow {
                id: r.try_get("id")?,
                consent_id: r.try_get("consent_id")?,
                category: decode("consent_read.category", r.try_get("category")?, Category::parse)?,
                reader_org_id: r.try_get("reader_org_id")?,
                reader_user_id: r.try_get("reader_user_id")?,
                reader: r.try_get("reader")?,
                items: r.try_get("items")?,
                at_ms: r.try_get("at_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}
