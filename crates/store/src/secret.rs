//! The field-encryption key's check value (migration 0009): one row binding the database to its key.

use crate::{Conn, Result, map_write};

/// The sealed check value, once the database has one.
pub async fn key_check(conn: &mut Conn) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT sealed FROM secret_key_check WHERE id = 1").fetch_optional(&mut *conn).await?)
}

/// Stores the check value unless another server stored one first.
pub async fn insert_key_check_if_absent(conn: &mut Conn, sealed: &str, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO secret_key_check (id, sealed, created_at_ms) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(sealed.to_string())
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}
