//! Each organisation's own column meanings. Every query names the organisation, so one organisation's
//! mapping is never read or changed by another; the meaning is decoded once, here.

use lianrong_domain::trade::header::ColumnMeaning;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub org_id: String,
    /// The header's normalised text (see `header::header_key`).
    pub header_key: String,
    /// The header as the organisation last wrote it.
    pub header: String,
    pub meaning: ColumnMeaning,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

fn from_row(r: &AnyRow) -> Result<MappingRow> {
    let meaning: String = r.try_get("meaning")?;
    Ok(MappingRow {
        org_id: r.try_get("org_id")?,
        header_key: r.try_get("header_key")?,
        header: r.try_get("header")?,
        meaning: ColumnMeaning::parse(&meaning).ok_or(StoreError::Corrupt { column: "meaning", value: meaning })?,
        updated_by: r.try_get("updated_by")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

/// The organisation's mapping, by header key.
pub async fn list(conn: &mut Conn, org_id: &str) -> Result<Vec<MappingRow>> {
    let rows = sqlx::query(
        "SELECT org_id, header_key, header, meaning, updated_by, updated_at_ms FROM column_mapping
         WHERE org_id = $1 ORDER BY header_key",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count(conn: &mut Conn, org_id: &str) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM column_mapping WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?)
}

/// Sets one header's meaning, replacing the organisation's earlier meaning of the same header.
pub async fn upsert(conn: &mut Conn, row: &MappingRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO column_mapping (org_id, header_key, header, meaning, updated_by, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, header_key) DO UPDATE SET header = excluded.header, meaning = excluded.meaning,
           updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(&row.org_id)
    .bind(&row.header_key)
    .bind(&row.header)
    .bind(row.meaning.code())
    .bind(&row.updated_by)
    .bind(row.updated_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets one header's meaning (the standard's names apply again); answers whether there was one.
pub async fn delete(conn: &mut Conn, org_id: &str, header_key: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM column_mapping WHERE org_id = $1 AND header_key = $2")
        .bind(org_id)
        .bind(header_key)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
