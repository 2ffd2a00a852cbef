//! The audit trail: who did or tried what, on which object, with what outcome. Refused attempts are
//! written in their own transaction so that they survive the rollback of the refused change.

use lianrong_domain::page::{Page, PageRequest};
use sqlx::Row;

use crate::{Conn, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub at_ms: i64,
    pub actor_org_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_api_key_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// `ok`, `refused` or `failed`.
    pub outcome: String,
    pub detail: String,
}

pub async fn insert(conn: &mut Conn, a: &AuditRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_event (id, at_ms, actor_org_id, actor_user_id, actor_api_key_id, action, object_type, object_id, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(a.at_ms)
    .bind(a.actor_org_id.clone())
    .bind(a.actor_user_id.clone())
    .bind(a.actor_api_key_id.clone())
    .bind(&a.action)
    .bind(&a.object_type)
    .bind(&a.object_id)
    .bind(&a.outcome)
    .bind(&a.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Audit events of one organisation's actors, or all when `org_id` is `None`.
pub async fn list(conn: &mut Conn, org_id: Option<&str>, page: PageRequest) -> Result<Page<AuditRecord>> {
    let org = org_id.unwrap_or("");
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE ($1 = '' OR actor_org_id = $1)")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT id, at_ms, actor_org_id, actor_user_id, actor_api_key_id, action, object_type, object_id, outcome, detail \
         FROM audit_event WHERE ($1 = '' OR actor_org_id = $1) ORDER BY at_ms DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.try_get("id")?,
                at_ms: r.try_get("at_ms")?,
                actor_org_id: r.try_get("actor_org_id")?,
                actor_user_id: r.try_get("actor_user_id")?,
                actor_api_key_id: r.try_get("actor_api_key_id")?,
                action: r.try_get("action")?,
                object_type: r.try_get("object_type")?,
                object_id: r.try_get("object_id")?,
                outcome: r.try_get("outcome")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}
