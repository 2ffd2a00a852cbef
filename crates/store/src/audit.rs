//! The audit trail: who did or tried what, on which object, with what outcome. Refused attempts are
//! written in their own transaction so that they survive the rollback of the refused change.

use lianrong_domain::page::{KeyedPage, Seek};
use sqlx::Row;

use crate::keyset::{self, KeyColumn, KeyedList};
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

/// Audit events of one organisation's actors, or all when `org_id` is `None`, newest first, paged by key.
pub async fn list(conn: &mut Conn, org_id: Option<&str>, seek: &Seek) -> Result<KeyedPage<AuditRecord>> {
    let (arms, binds) = match org_id {
        None => (vec!["1 = 1"], vec![]),
        Some(org) => (vec!["actor_org_id = $1"], vec![org.to_string()]),
    };
    let list = KeyedList {
        from: "audit_event",
        columns: "id, at_ms, actor_org_id, actor_user_id, actor_api_key_id, action, object_type, object_id, outcome, detail",
        key: &[KeyColumn::Int("at_ms"), KeyColumn::Text("id")],
        descending: true,
        arms,
        filter: "1 = 1",
        binds,
    };
    keyset::fetch(conn, &list, seek, |r| {
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
    .await
}
