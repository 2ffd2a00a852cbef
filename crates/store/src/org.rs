//! Organisations and the operator's list of excepted legacy credit codes.

use lianrong_domain::org::{OrgKind, SizeClass};
use lianrong_domain::page::{Page, PageRequest};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, decode, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: String,
    pub uscc: String,
    pub uscc_verified: bool,
    pub name: String,
    pub kind: OrgKind,
    pub size_class: SizeClass,
    pub sme: bool,
    pub region_code: String,
    pub created_at_ms: i64,
}

/// Which organisations a query may return.
#[derive(Debug, Clone)]
pub enum OrgScope {
    /// The operator and the regulator see the whole directory.
    All,
    /// Everyone else sees its own organisation and the members of the chains it belongs to.
    OwnAndChainPeers { viewer_org_id: String },
}

const COLUMNS: &str = "id, uscc, uscc_verified, name, kind, size_class, sme, region_code, created_at_ms";

fn from_row(r: &AnyRow) -> Result<OrgRecord> {
    Ok(OrgRecord {
        id: r.try_get("id")?,
        uscc: r.try_get("uscc")?,
        uscc_verified: r.try_get::<i64, _>("uscc_verified")? != 0,
        name: r.try_get("name")?,
        kind: decode("organisation.kind", r.try_get("kind")?, OrgKind::parse)?,
        size_class: decode("organisation.size_class", r.try_get("size_class")?, SizeClass::parse)?,
        sme: r.try_get::<i64, _>("sme")? != 0,
        region_code: r.try_get("region_code")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, o: &OrgRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO organisation (id, uscc, uscc_verified, name, kind, size_class, sme, region_code, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&o.id)
    .bind(&o.uscc)
    .bind(i64::from(o.uscc_verified))
    .bind(&o.name)
    .bind(o.kind.code())
    .bind(o.size_class.code())
    .bind(i64::from(o.sme))
    .bind(&o.region_code)
    .bind(o.created_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<OrgRecord> {
    let sql = format!("SELECT {COLUMNS} FROM organisation WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// The organisations among these ids (unknown ids are left out), in one read.
pub async fn get_many(conn: &mut Conn, ids: &[&str]) -> Result<Vec<OrgRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql =
        format!("SELECT {COLUMNS} FROM organisation WHERE id IN {}", crate::dialect::placeholders(conn, 1, ids.len()));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.to_string());
    }
    q.fetch_all(&mut *conn).await?.iter().map(from_row).collect()
}

pub async fn find_by_uscc(conn: &mut Conn, uscc: &str) -> Result<Option<OrgRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM organisation WHERE uscc = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(uscc).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The organisations among these credit codes (codes not on the platform are left out), in chunks of a
/// few hundred per statement: what a list naming many counterparties reads once instead of once each.
pub async fn find_by_usccs(conn: &mut Conn, usccs: &[String]) -> Result<Vec<OrgRecord>> {
    let mut out = Vec::new();
    for chunk in usccs.chunks(USCCS_PER_STATEMENT) {
        let sql = format!(
            "SELECT {COLUMNS} FROM organisation WHERE uscc IN {}",
            crate::dialect::placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for u in chunk {
            q = q.bind(u.clone());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push(from_row(&row)?);
        }
    }
    Ok(out)
}

/// Credit codes bound in one statement of [`find_by_usccs`].
const USCCS_PER_STATEMENT: usize = 200;

/// Whether `viewer` may see organisation `id` under `scope`.
pub async fn visible(conn: &mut Conn, scope: &OrgScope, id: &str) -> Result<bool> {
    match scope {
        OrgScope::All => Ok(true),
        OrgScope::OwnAndChainPeers { viewer_org_id } => {
            if viewer_org_id == id {
                return Ok(true);
            }
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM chain_member m1 JOIN chain_member m2 ON m1.chain_id = m2.chain_id \
                 WHERE m1.org_id = $1 AND m2.org_id = $2",
            )
            .bind(viewer_org_id)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            Ok(n > 0)
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    /// Matches the name or the credit code, case-insensitively for Latin letters.
    pub query: Option<String>,
}

pub async fn list(conn: &mut Conn, scope: &OrgScope, filter: &OrgFilter, page: PageRequest) -> Result<Page<OrgRecord>> {
    // Every filter is always bound; an absent one binds '' and is switched off in SQL, so one statement
    // serves every combination and no text is ever spliced into SQL.
    let (scope_all, viewer) = match scope {
        OrgScope::All => (1i64, String::new()),
        OrgScope::OwnAndChainPeers { viewer_org_id } => (0i64, viewer_org_id.clone()),
    };
    let kind = filter.kind.map(|k| k.code().to_string()).unwrap_or_default();
    let like = filter.query.as_deref().map(|q| format!("%{}%", q.to_uppercase())).unwrap_or_default();
    let where_clause = "WHERE ($1 = 1 OR o.id = $2 OR o.id IN (SELECT m2.org_id FROM chain_member m1 \
         JOIN chain_member m2 ON m1.chain_id = m2.chain_id WHERE m1.org_id = $2)) \
         AND ($3 = '' OR o.kind = $3) AND ($4 = '' OR UPPER(o.name) LIKE $4 OR o.uscc LIKE $4)";
    let total: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM organisation o {where_clause}")))
            .bind(scope_all)
            .bind(&viewer)
            .bind(&kind)
            .bind(&like)
            .fetch_one(&mut *conn)
            .await?;
    let sql =
        format!("SELECT {COLUMNS} FROM organisation o {where_clause} ORDER BY o.kind, o.name, o.id LIMIT $5 OFFSET $6");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(scope_all)
        .bind(&viewer)
        .bind(&kind)
        .bind(&like)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

pub async fn count_by_kind(conn: &mut Conn) -> Result<Vec<(OrgKind, i64)>> {
    let rows = sqlx::query("SELECT kind, COUNT(*) AS n FROM organisation GROUP BY kind ORDER BY kind")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((decode("organisation.kind", r.try_get("kind")?, OrgKind::parse)?, r.try_get("n")?)))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsccException {
    pub uscc: String,
    pub note: String,
    pub created_by_user_id: String,
    pub created_at_ms: i64,
}

pub async fn insert_exception(conn: &mut Conn, e: &UsccException) -> Result<()> {
    sqlx::query("INSERT INTO uscc_exception (uscc, note, created_by_user_id, created_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(&e.uscc)
        .bind(&e.note)
        .bind(&e.created_by_user_id)
        .bind(e.created_at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

pub async fn exception_exists(conn: &mut Conn, uscc: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uscc_exception WHERE uscc = $1")
        .bind(uscc)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

pub async fn list_exceptions(conn: &mut Conn, page: PageRequest) -> Result<Page<UsccException>> {
    let total = crate::count(conn, "SELECT COUNT(*) FROM uscc_exception", &[]).await?;
    let rows = sqlx::query(
        "SELECT uscc, note, created_by_user_id, created_at_ms FROM uscc_exception ORDER BY uscc LIMIT $1 OFFSET $2",
    )
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(UsccException {
                uscc: r.try_get("uscc")?,
                note: r.try_get("note")?,
                created_by_user_id: r.try_get("created_by_user_id")?,
                created_at_ms: r.try_get("created_at_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}
