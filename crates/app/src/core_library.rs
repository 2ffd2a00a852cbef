//! The core-enterprise library. Cores and key suppliers apply (or the operator enters them); only
//! the operator admits, suspends and reinstates; an applicant may withdraw its own entry. Every move is
//! checked by `domain::core_library::transition`, written with the expected prior status (so two
//! concurrent moves cannot both win), and kept as history.

use lianrong_domain::core_library::{self as domain, LibraryAction, LibraryStatus};
use lianrong_domain::limits::REASON_CHARS_MAX;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::text;
use lianrong_store::core_library::{self as store, LibraryScope};
use lianrong_store::{StoreError, cluster as cluster_store, org as org_store};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of the core-enterprise library, and its filter: plain data, decoded in the store; the
/// API and console show them.
pub use lianrong_store::core_library::{EntryFilter, EntryRecord, EventRecord};

fn entry_not_found() -> AppError {
    AppError::not_found("Library entry", "核心企业库条目")
}

/// Applies for admission. A core or supplier applies for itself; the operator may enter any of them.
pub async fn apply(app: &App, actor: &Actor, org_id: &str, cluster_id: &str, reason: &str) -> AppResult<EntryRecord> {
    audit::guard(app, actor, Permission::ApplyLibrary, "core_library.apply", "organisation", org_id).await?;
    let for_itself = actor.org_id == org_id;
    if !(for_itself || actor.system || policy::allows(actor, Permission::DecideLibrary)) {
        audit::refused(app, actor, "core_library.apply", "organisation", org_id, "applied for another organisation")
            .await;
        return Err(AppError::not_found("Organisation", "机构"));
    }
    let reason = text::bounded("reason", reason, REASON_CHARS_MAX)?;
    let now = now_ms();
    let mut tx = app.db.begin_write().await?;
    let org = org_store::get(&mut tx, org_id)
        .await
        .map_err(|_| AppError::not_found("Organisation", "机构").with_field("org_id"))?;
    if !matches!(org.kind, OrgKind::Core | OrgKind::Supplier) {
        return Err(AppError::invalid(
            "org_id",
            "not_an_enterprise",
            format!("Only core enterprises and key suppliers enter the library, not a {}", org.kind),
            format!("只有核心企业和重点配套企业可以入库，{}不可以", org.kind.label_zh()),
        ));
    }
    cluster_store::get(&mut tx, cluster_id.trim()).await.map_err(|_| {
        AppError::invalid(
            "cluster_id",
            "unknown_cluster",
            format!("No cluster with id '{}'", cluster_id.trim()),
            format!("不存在编号为“{}”的产业集群", cluster_id.trim()),
        )
    })?;
    let entry = EntryRecord {
        id: new_id(),
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        org_uscc: org.uscc.clone(),
        cluster_id: cluster_id.trim().to_string(),
        status: LibraryStatus::Applied,
        admission_date: None,
        reason: reason.clone(),
        applied_at_ms: now,
        updated_at_ms: now,
    };
    store::insert(&mut tx, &entry).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "already_in_library",
            format!("{} already has a library entry", org.name),
            format!("{} 已有核心企业库条目", org.name),
        ),
        other => other.into(),
    })?;
    store::append_event(
        &mut tx,
        &EventRecord {
            id: new_id(),
            entry_id: entry.id.clone(),
            seq: 1,
            action: None,
            from_status: None,
            to_status: LibraryStatus::Applied,
            reason,
            actor_user_id: actor.user_id.clone(),
            actor_org_id: actor.org_id.clone(),
            at_ms: now,
        },
    )
    .await?;
    audit::ok_in(&mut tx, actor, "core_library.apply", "core_library_entry", &entry.id, &org.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(entry)
}

pub async fn list(app: &App, actor: &Actor, filter: EntryFilter, page: PageRequest) -> AppResult<Page<EntryRecord>> {
    policy::require(actor, Permission::ReadLibrary)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &policy::library_scope(actor), &filter, page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<EntryRecord> {
    policy::require(actor, Permission::ReadLibrary)?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &policy::library_scope(actor), id, false).await.map_err(|e| match e {
        StoreError::NotFound => entry_not_found(),
        other => other.into(),
    })
}

pub async fn history(app: &App, actor: &Actor, id: &str, page: PageRequest) -> AppResult<Page<EventRecord>> {
    get(app, actor, id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::history(&mut conn, id, page).await?)
}

/// Moves an entry: admit, suspend, reinstate or withdraw.
pub async fn transition(
    app: &App,
    actor: &Actor,
    id: &str,
    action: &str,
    reason: Option<&str>,
) -> AppResult<EntryRecord> {
    let action = LibraryAction::parse(action)?;
    let permission = if action.operator_only() { Permission::DecideLibrary } else { Permission::ApplyLibrary };
    let audit_action = format!("core_library.{action}");
    audit::guard(app, actor, permission, &audit_action, "core_library_entry", id).await?;
    let reason = text::optional("reason", reason, REASON_CHARS_MAX)?;
    if action.reason_required() && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "reason_required",
            format!("A reason is required to {action} an entry"),
            format!("执行“{}”须填写原因", action.label_zh()),
        ));
    }
    let deciding = actor.system || policy::allows(actor, Permission::DecideLibrary);
    // The operator sees every entry; an applicant may only act on its own.
    let scope = if deciding { LibraryScope::All } else { LibraryScope::Own { org_id: actor.org_id.clone() } };
    let now = now_ms();
    let mut tx = app.db.begin_write().await?;
    let entry = match store::get(&mut tx, &scope, id, true).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => {
            drop(tx);
            audit::refused(app, actor, &audit_action, "core_library_entry", id, "not visible").await;
            return Err(entry_not_found());
        }
        Err(e) => return Err(e.into()),
    };
    let to = domain::transition(entry.status, action).map_err(|e| AppError::refusal(ErrorKind::Conflict, &e))?;
    let admission_date = (action == LibraryAction::Admit).then(|| app.today());
    store::update_status(&mut tx, id, entry.status, to, admission_date, now).await?;
    let seq = store::next_seq(&mut tx, id).await?;
    store::append_event(
        &mut tx,
        &EventRecord {
            id: new_id(),
            entry_id: id.to_string(),
            seq,
            action: Some(action),
            from_status: Some(entry.status),
            to_status: to,
            reason: reason.clone().unwrap_or_default(),
            actor_user_id: actor.user_id.clone(),
            actor_org_id: actor.org_id.clone(),
            at_ms: now,
        },
    )
    .await?;
    audit::ok_in(&mut tx, actor, &audit_action, "core_library_entry", id, reason.as_deref().unwrap_or("")).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(EntryRecord { status: to, admission_date: admission_date.or(entry.admission_date), updated_at_ms: now, ..entry })
}
