//! Industry chains: created by the operator, tied to a cluster, with members and their declared roles.

use lianrong_domain::chain::MemberRole;
use lianrong_domain::limits::CHAIN_NAME_CHARS_MAX;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::text;
use lianrong_store::chain::{self as store, MembershipRecord};
use lianrong_store::{StoreError, cluster as cluster_store, org as org_store};

use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of chains and their members: plain data, decoded in the store; the API and console
/// show them.
pub use lianrong_store::chain::{ChainRecord, MemberRecord};

fn chain_not_found() -> AppError {
    AppError::not_found("Chain", "产业链")
}

pub async fn create(app: &App, actor: &Actor, name: &str, cluster_id: &str, pilot: bool) -> AppResult<ChainRecord> {
    audit::run(app, actor, Permission::ManageChains, "chain.create", "chain", name.trim(), async {
        let name = text::bounded("name", name, CHAIN_NAME_CHARS_MAX)?;
        let mut tx = app.db.begin_write().await?;
        cluster_store::get(&mut tx, cluster_id.trim()).await.map_err(|_| {
            AppError::invalid(
                "cluster_id",
                "unknown_cluster",
                format!("No cluster with id '{}'", cluster_id.trim()),
                format!("不存在编号为“{}”的产业集群", cluster_id.trim()),
            )
        })?;
        let rec = ChainRecord {
            id: new_id(),
            name,
            cluster_id: cluster_id.trim().to_string(),
            pilot,
            created_at_ms: now_ms(),
            member_count: 0,
        };
        store::insert(&mut tx, &rec).await.map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::conflict(
                "chain_exists",
                format!("A chain named {} already exists", rec.name),
                format!("名为“{}”的产业链已存在", rec.name),
            )
            .with_field("name"),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "chain.create", "chain", &rec.id, &rec.name).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(rec)
    })
    .await
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<ChainRecord>> {
    policy::require(actor, Permission::ReadChains)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &policy::chain_scope(actor), page).await?)
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<ChainRecord> {
    policy::require(actor, Permission::ReadChains)?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &policy::chain_scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => chain_not_found(),
        other => other.into(),
    })
}

pub async fn set_pilot(app: &App, actor: &Actor, id: &str, pilot: bool) -> AppResult<ChainRecord> {
    audit::run(app, actor, Permission::ManageChains, "chain.set_pilot", "chain", id, async {
        let mut tx = app.db.begin_write().await?;
        store::set_pilot(&mut tx, id, pilot).await.map_err(|e| match e {
            StoreError::NotFound => chain_not_found(),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "chain.set_pilot", "chain", id, &format!("pilot={pilot}")).await?;
        let rec = store::get(&mut tx, &lianrong_store::chain::ChainScope::All, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(rec)
    })
    .await
}

pub async fn members(
    app: &App,
    actor: &Actor,
    chain_id: &str,
    role: Option<MemberRole>,
    page: PageRequest,
) -> AppResult<Page<MemberRecord>> {
    get(app, actor, chain_id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list_members(&mut conn, chain_id, role, page).await?)
}

/// Declared supplier tiers run from 1 (supplies the core directly) to this.
pub const TIER_MAX: i64 = 9;

pub async fn add_member(
    app: &App,
    actor: &Actor,
    chain_id: &str,
    org_id: &str,
    role: &str,
    tier: Option<i64>,
) -> AppResult<MemberRecord> {
    audit::run(app, actor, Permission::ManageChains, "chain.add_member", "chain", chain_id, async {
        let role = MemberRole::parse(role)?;
        let mut tx = app.db.begin_write().await?;
        store::get(&mut tx, &lianrong_store::chain::ChainScope::All, chain_id).await.map_err(|_| chain_not_found())?;
        let org = org_store::get(&mut tx, org_id.trim())
            .await
            .map_err(|_| AppError::not_found("Organisation", "机构").with_field("org_id"))?;
        if !org.kind.can_hold_member_role(role) {
            return Err(AppError::invalid(
                "role",
                "role_not_allowed",
                format!("An organisation of kind {} cannot join a chain as {role}", org.kind),
                format!("{}类机构不能以“{}”身份加入产业链", org.kind.label_zh(), role.label_zh()),
            ));
        }
        let tier = match (role, tier) {
            (MemberRole::Supplier, Some(t)) if (1..=TIER_MAX).contains(&t) => Some(t),
            (MemberRole::Supplier, None) => None,
            (MemberRole::Supplier, Some(t)) => {
                return Err(AppError::invalid(
                    "tier",
                    "invalid_tier",
                    format!("tier must be 1-{TIER_MAX}, got {t}"),
                    format!("层级须为1-{TIER_MAX}，收到{t}"),
                ));
            }
            (_, Some(_)) => {
                return Err(AppError::invalid(
                    "tier",
                    "tier_not_applicable",
                    "only suppliers declare a tier",
                    "只有供应商需要填写层级",
                ));
            }
            (_, None) => None,
        };
        let now = now_ms();
        store::insert_member(&mut tx, chain_id, &org.id, role, tier, now).await.map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::conflict(
                "already_member",
                format!("{} is already a member of this chain", org.name),
                format!("{} 已是该产业链成员", org.name),
            ),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "chain.add_member", "chain", chain_id, &format!("{} as {role}", org.id)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(MemberRecord {
            chain_id: chain_id.to_string(),
            org_id: org.id,
            org_name: org.name,
            org_uscc: org.uscc,
            org_kind: org.kind,
            role,
            tier,
            joined_at_ms: now,
        })
    })
    .await
}

pub async fn remove_member(app: &App, actor: &Actor, chain_id: &str, org_id: &str) -> AppResult<()> {
    audit::run(app, actor, Permission::ManageChains, "chain.remove_member", "chain", chain_id, async {
        let mut tx = app.db.begin_write().await?;
        store::delete_member(&mut tx, chain_id, org_id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("Chain member", "产业链成员"),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "chain.remove_member", "chain", chain_id, org_id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    })
    .await
}

/// The chains `org_id` belongs to, with its declared role and tier, limited to chains the actor sees.
pub async fn memberships(app: &App, actor: &Actor, org_id: &str) -> AppResult<Vec<MembershipRecord>> {
    policy::require(actor, Permission::ReadChains)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::memberships(&mut conn, &policy::chain_scope(actor), org_id).await?)
}
