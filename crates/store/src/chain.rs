//! Industry chains and their members.

use lianrong_domain::chain::MemberRole;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, decode, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRecord {
    pub id: String,
    pub name: String,
    pub cluster_id: String,
    pub pilot: bool,
    pub created_at_ms: i64,
    /// Filled by list queries: how many members the chain has.
    pub member_count: i64,
}

/// Which chains a query may return.
#[derive(Debug, Clone)]
pub enum ChainScope {
    All,
    MemberOf { org_id: String },
}

fn scope_binds(scope: &ChainScope) -> (i64, String) {
    match scope {
        ChainScope::All => (1, String::new()),
        ChainScope::MemberOf { org_id } => (0, org_id.clone()),
    }
}

fn from_row(r: &AnyRow) -> Result<ChainRecord> {
    Ok(ChainRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        cluster_id: r.try_get("cluster_id")?,
        pilot: r.try_get::<i64, _>("pilot")? != 0,
        created_at_ms: r.try_get("created_at_ms")?,
        member_count: r.try_get("member_count")?,
    })
}

const SELECT: &str = "SELECT c.id, c.name, c.cluster_id, c.pilot, c.created_at_ms, \
     (SELECT COUNT(*) FROM chain_member m WHERE m.chain_id = c.id) AS member_count FROM chain c \
     WHERE ($1 = 1 OR c.id IN (SELECT chain_id FROM chain_member WHERE org_id = $2))";

pub async fn insert(conn: &mut Conn, c: &ChainRecord) -> Result<()> {
    sqlx::query("INSERT INTO chain (id, name, cluster_id, pilot, created_at_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.cluster_id)
        .bind(i64::from(c.pilot))
        .bind(c.created_at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

pub async fn set_pilot(conn: &mut Conn, id: &str, pilot: bool) -> Result<()> {
    let n = sqlx::query("UPDATE chain SET pilot = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(pilot))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A chain if the scope may see it; otherwise `NotFound`, so its existence is not revealed.
pub async fn get(conn: &mut Conn, scope: &ChainScope, id: &str) -> Result<ChainRecord> {
    let (all, org) = scope_binds(scope);
    let sql = format!("{SELECT} AND c.id = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(all).bind(org).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn list(conn: &mut Conn, scope: &ChainScope, page: PageRequest) -> Result<Page<ChainRecord>> {
    let (all, org) = scope_binds(scope);
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM chain c WHERE ($1 = 1 OR c.id IN (SELECT chain_id FROM chain_member WHERE org_id = $2))",
    )
    .bind(all)
    .bind(&org)
    .fetch_one(&mut *conn)
    .await?;
    let sql = format!("{SELECT} ORDER BY c.pilot DESC, c.name, c.id LIMIT $3 OFFSET $4");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(all)
        .bind(&org)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub chain_id: String,
    pub org_id: String,
    pub org_name: String,
    pub org_uscc: String,
    pub org_kind: OrgKind,
    pub role: MemberRole,
    /// Declared supplier tier (1 = supplies the core directly); `None` for cores and banks.
    pub tier: Option<i64>,
    pub joined_at_ms: i64,
}

pub async fn insert_member(
    conn: &mut Conn,
    chain_id: &str,
    org_id: &str,
    role: MemberRole,
    tier: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO chain_member (chain_id, org_id, role, tier, joined_at_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(chain_id)
        .bind(org_id)
        .bind(role.code())
        .bind(tier)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

pub async fn delete_member(conn: &mut Conn, chain_id: &str, org_id: &str) -> Result<()> {
    let n = sqlx::query("DELETE FROM chain_member WHERE chain_id = $1 AND org_id = $2")
        .bind(chain_id)
        .bind(org_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn list_members(
    conn: &mut Conn,
    chain_id: &str,
    role: Option<MemberRole>,
    page: PageRequest,
) -> Result<Page<MemberRecord>> {
    let role_code = role.map(|r| r.code()).unwrap_or("");
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM chain_member WHERE chain_id = $1 AND ($2 = '' OR role = $2)")
            .bind(chain_id)
            .bind(role_code)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query(
        "SELECT m.chain_id, m.org_id, o.name, o.uscc, o.kind, m.role, m.tier, m.joined_at_ms FROM chain_member m \
         JOIN organisation o ON o.id = m.org_id WHERE m.chain_id = $1 AND ($2 = '' OR m.role = $2) \
         ORDER BY CASE m.role WHEN 'core' THEN 0 WHEN 'bank' THEN 1 WHEN 'service_institution' THEN 2 ELSE 3 END, m.tier, o.name, o.id \
         LIMIT $3 OFFSET $4",
    )
    .bind(chain_id)
    .bind(role_code)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(MemberRecord {
                chain_id: r.try_get("chain_id")?,
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("name")?,
                org_uscc: r.try_get("uscc")?,
                org_kind: decode("organisation.kind", r.try_get("kind")?, OrgKind::parse)?,
                role: decode("chain_member.role", r.try_get("role")?, MemberRole::parse)?,
                tier: r.try_get("tier")?,
                joined_at_ms: r.try_get("joined_at_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

pub async fn count(conn: &mut Conn) -> Result<(i64, i64)> {
    let chains = crate::count(conn, "SELECT COUNT(*) FROM chain", &[]).await?;
    let pilots = crate::count(conn, "SELECT COUNT(*) FROM chain WHERE pilot = 1", &[]).await?;
    Ok((chains, pilots))
}

/// A chain with one organisation's declared role and tier in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub chain: ChainRecord,
    pub role: MemberRole,
    pub tier: Option<i64>,
}

/// An organisation belongs to a handful of chains; this bounds the answer all the same.
pub const MEMBERSHIPS_MAX: i64 = 200;

/// The chains `org_id` belongs to, as far as `scope` may see them, with its role and tier in each.
pub async fn memberships(conn: &mut Conn, scope: &ChainScope, org_id: &str) -> Result<Vec<MembershipRecord>> {
    let (all, viewer) = scope_binds(scope);
    let sql = format!(
        "SELECT * FROM ({SELECT}) c JOIN (SELECT chain_id, role, tier FROM chain_member WHERE org_id = $3) own \
         ON own.chain_id = c.id ORDER BY c.pilot DESC, c.name, c.id LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(all)
        .bind(viewer)
        .bind(org_id)
        .bind(MEMBERSHIPS_MAX)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(MembershipRecord {
                chain: from_row(r)?,
                role: decode("chain_member.role", r.try_get("role")?, MemberRole::parse)?,
                tier: r.try_get("tier")?,
            })
        })
        .collect()
}

/// Every (credit code, chain id) pair of chain membership, ordered by chain creation, for assigning trade
/// records to chains during ingest (a few thousand rows per city).
pub async fn chains_by_uscc(conn: &mut Conn) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT o.uscc, m.chain_id FROM chain_member m JOIN organisation o ON o.id = m.org_id \
         JOIN chain c ON c.id = m.chain_id ORDER BY c.created_at_ms, c.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            use sqlx::Row;
            Ok((r.try_get("uscc")?, r.try_get("chain_id")?))
        })
        .collect()
}
