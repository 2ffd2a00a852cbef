//! Stored answers to state-changing API requests, keyed by the caller's organisation and its
//! `Idempotency-Key`, so that a retried request is answered, not repeated.

use sqlx::Row;

use crate::{Conn, Result, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_digest: String,
    pub status: i64,
    pub body: String,
}

pub async fn find(conn: &mut Conn, org_id: &str, key: &str) -> Result<Option<StoredResponse>> {
    let row = sqlx::query("SELECT request_digest, status, body FROM idempotency WHERE org_id = $1 AND idem_key = $2")
        .bind(org_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(StoredResponse {
            request_digest: r.try_get("request_digest")?,
            status: r.try_get("status")?,
            body: r.try_get("body")?,
        })
    })
    .transpose()
}

pub async fn insert(conn: &mut Conn, org_id: &str, key: &str, resp: &StoredResponse, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO idempotency (org_id, idem_key, request_digest, status, body, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(key)
    .bind(&resp.request_digest)
    .bind(resp.status)
    .bind(&resp.body)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}
