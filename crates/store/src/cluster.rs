//! The editable "33618" cluster list, seeded from `domain::cluster::SEED` on first start-up.

use lianrong_domain::cluster::{ClusterTier, SEED};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, decode, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    pub id: String,
    pub tier: ClusterTier,
    pub name_zh: String,
    pub name_en: String,
    pub verified: bool,
    pub position: i64,
    pub updated_at_ms: i64,
}

fn from_row(r: &AnyRow) -> Result<ClusterRecord> {
    Ok(ClusterRecord {
        id: r.try_get("id")?,
        tier: decode("cluster.tier", r.try_get("tier")?, ClusterTier::parse)?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        verified: r.try_get::<i64, _>("verified")? != 0,
        position: r.try_get("position")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

/// Inserts the seed list when the table is empty; an operator's later edits are never overwritten.
pub async fn seed_if_empty(conn: &mut Conn, now_ms: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cluster").fetch_one(&mut *conn).await?;
    if n > 0 {
        return Ok(0);
    }
    for (i, s) in SEED.iter().enumerate() {
        insert(
            conn,
            &ClusterRecord {
                id: s.id.to_string(),
                tier: s.tier,
                name_zh: s.name_zh.to_string(),
                name_en: s.name_en.to_string(),
                verified: s.verified,
                position: i as i64 + 1,
                updated_at_ms: now_ms,
            },
        )
        .await?;
    }
    Ok(SEED.len())
}

pub async fn insert(conn: &mut Conn, c: &ClusterRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO cluster (id, tier, name_zh, name_en, verified, position, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(c.tier.code())
    .bind(&c.name_zh)
    .bind(&c.name_en)
    .bind(i64::from(c.verified))
    .bind(c.position)
    .bind(c.updated_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn update(conn: &mut Conn, c: &ClusterRecord) -> Result<()> {
    let n = sqlx::query(
        "UPDATE cluster SET tier = $2, name_zh = $3, name_en = $4, verified = $5, position = $6, updated_at_ms = $7 WHERE id = $1",
    )
    .bind(&c.id)
    .bind(c.tier.code())
    .bind(&c.name_zh)
    .bind(&c.name_en)
    .bind(i64::from(c.verified))
    .bind(c.position)
    .bind(c.updated_at_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<ClusterRecord> {
    let row =
        sqlx::query("SELECT id, tier, name_zh, name_en, verified, position, updated_at_ms FROM cluster WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// The whole list (at most a few dozen rows), in display order.
pub async fn list(conn: &mut Conn) -> Result<Vec<ClusterRecord>> {
    let rows = sqlx::query(
        "SELECT id, tier, name_zh, name_en, verified, position, updated_at_ms FROM cluster ORDER BY position, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}
