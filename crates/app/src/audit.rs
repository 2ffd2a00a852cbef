//! The audit trail as the app writes and reads it.

use lianrong_domain::page::{KeyedPage, Seek};
use lianrong_store::audit as store;

use crate::error::AppResult;
use crate::policy::{self, Actor, Permission};
use crate::{App, new_id, now_ms};

/// The app's read views of the audit trail: plain data, decoded in the store; the API and console show them.
pub use lianrong_store::audit::AuditRecord;

/// Builds the record for an action by `actor`.
pub(crate) fn record(
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    outcome: &str,
    detail: &str,
) -> AuditRecord {
    AuditRecord {
        id: new_id(),
        at_ms: now_ms(),
        actor_org_id: Some(actor.org_id.clone()),
        actor_user_id: actor.user_id.clone(),
        actor_api_key_id: actor.api_key_id.clone(),
        action: action.to_string(),
        object_type: object_type.to_string(),
        object_id: object_id.to_string(),
        outcome: outcome.to_string(),
        detail: detail.chars().take(1000).collect(),
    }
}

/// Records a refused attempt in its own transaction, so it outlives the refused change. A failure to
/// audit is logged but does not hide the refusal from the caller.
pub(crate) async fn refused(app: &App, actor: &Actor, action: &str, object_type: &str, object_id: &str, detail: &str) {
    let rec = record(actor, action, object_type, object_id, "refused", detail);
    let result = async {
        let mut conn = app.db.acquire().await?;
        store::insert(&mut conn, &rec).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action, "could not write the audit record of a refusal");
    }
    tracing::warn!(org = %actor.org_id, user = ?actor.user_id, action, object_type, object_id, detail, "refused");
}

/// Runs `check`; when it refuses, audits the refusal and passes the error on.
pub(crate) async fn guard(
    app: &App,
    actor: &Actor,
    p: Permission,
    action: &str,
    object_type: &str,
    object_id: &str,
) -> AppResult<()> {
    if let Err(e) = policy::require(actor, p) {
        refused(app, actor, action, object_type, object_id, &e.en).await;
        return Err(e);
    }
    Ok(())
}

/// The skeleton of every state-changing use case: the permission guard, then `body` (which opens its one
/// write transaction, writes, adds its own audit record with [`ok_in`] and commits); a refusal at either
/// step is audited in its own transaction, so it outlives the rolled-back change, and passed on unchanged.
pub(crate) async fn run<T>(
    app: &App,
    actor: &Actor,
    permission: Permission,
    action: &str,
    object_type: &str,
    object_id: &str,
    body: impl Future<Output = AppResult<T>>,
) -> AppResult<T> {
    guard(app, actor, permission, action, object_type, object_id).await?;
    refusing(app, actor, action, object_type, object_id, body).await
}

/// Runs `body`; when it refuses, audits the refusal with its code and English message (which never carry
/// a secret such as an account number) and passes the error on. For use cases whose permission depends on
/// what they find, so that [`run`]'s up-front guard does not fit.
pub(crate) async fn refusing<T>(
    app: &App,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    body: impl Future<Output = AppResult<T>>,
) -> AppResult<T> {
    let result = body.await;
    if let Err(e) = &result {
        refused(app, actor, action, object_type, object_id, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}

/// Adds the audit record of a change that succeeds, inside the change's own transaction.
pub(crate) async fn ok_in(
    conn: &mut lianrong_store::Conn,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> AppResult<()> {
    store::insert(conn, &record(actor, action, object_type, object_id, "ok", detail)).await?;
    Ok(())
}

pub async fn list(app: &App, actor: &Actor, seek: impl Into<Seek>) -> AppResult<KeyedPage<AuditRecord>> {
    policy::require(actor, Permission::ReadAudit)?;
    let org = if actor.sees_everything() { None } else { Some(actor.org_id.as_str()) };
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, org, &seek.into()).await?)
}
