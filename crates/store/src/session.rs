//! Console sessions. Only a hash of the session token is stored, so a leaked table opens no session.

use sqlx::Row;

use crate::{Conn, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub expires_at_ms: i64,
}

pub async fn insert(conn: &mut Conn, s: &SessionRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO session (token_hash, user_id, csrf_token, created_at_ms, last_seen_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.token_hash)
    .bind(&s.user_id)
    .bind(&s.csrf_token)
    .bind(s.created_at_ms)
    .bind(s.last_seen_at_ms)
    .bind(s.expires_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, token_hash: &str) -> Result<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT token_hash, user_id, csrf_token, created_at_ms, last_seen_at_ms, expires_at_ms FROM session WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(SessionRecord {
            token_hash: r.try_get("token_hash")?,
            user_id: r.try_get("user_id")?,
            csrf_token: r.try_get("csrf_token")?,
            created_at_ms: r.try_get("created_at_ms")?,
            last_seen_at_ms: r.try_get("last_seen_at_ms")?,
            expires_at_ms: r.try_get("expires_at_ms")?,
        })
    })
    .transpose()
}

pub async fn touch(conn: &mut Conn, token_hash: &str, now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE session SET last_seen_at_ms = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM session WHERE token_hash = $1").bind(token_hash).execute(&mut *conn).await?;
    Ok(())
}

pub async fn delete_for_user(conn: &mut Conn, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM session WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Conn, now_ms: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM session WHERE expires_at_ms < $1")
        .bind(now_ms)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
