//! The "33618" cluster list as editable data.

use lianrong_domain::cluster::{self as domain, ClusterTier};
use lianrong_domain::limits::CLUSTER_NAME_CHARS_MAX;
use lianrong_domain::text;
use lianrong_store::StoreError;
use lianrong_store::cluster as store;

use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::{App, Permission, audit, now_ms};

/// The app's read views of industrial clusters: plain data, decoded in the store; the API and console show
/// them.
pub use lianrong_store::cluster::ClusterRecord;

pub(crate) async fn seed_if_empty(app: &App) -> AppResult<usize> {
    let mut tx = app.db.begin_write().await?;
    let n = store::seed_if_empty(&mut tx, now_ms()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(n)
}

/// Every authenticated caller may read the cluster list: it is public programme data.
pub async fn list(app: &App, _actor: &Actor) -> AppResult<Vec<ClusterRecord>> {
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn).await?)
}

#[derive(Debug, Clone)]
pub struct ClusterInput {
    pub id: String,
    pub tier: String,
    pub name_zh: String,
    pub name_en: String,
    pub verified: bool,
    pub position: i64,
}

fn parse(input: &ClusterInput) -> AppResult<ClusterRecord> {
    let id = domain::parse_id(&input.id).map_err(|_| {
        AppError::invalid(
            "id",
            "invalid_cluster_id",
            "id must be 1-40 characters of a-z, 0-9 and '_'",
            "编号须为1-40位小写字母、数字或下划线",
        )
    })?;
    Ok(ClusterRecord {
        id,
        tier: ClusterTier::parse(&input.tier)?,
        name_zh: text::bounded("name_zh", &input.name_zh, CLUSTER_NAME_CHARS_MAX)?,
        name_en: text::bounded("name_en", &input.name_en, CLUSTER_NAME_CHARS_MAX)?,
        verified: input.verified,
        position: input.position.clamp(0, 10_000),
        updated_at_ms: now_ms(),
    })
}

pub async fn create(app: &App, actor: &Actor, input: ClusterInput) -> AppResult<ClusterRecord> {
    audit::run(app, actor, Permission::ManageClusters, "cluster.create", "cluster", &input.id, async {
        let rec = parse(&input)?;
        let mut tx = app.db.begin_write().await?;
        store::insert(&mut tx, &rec).await.map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::conflict(
                "cluster_exists",
                format!("Cluster {} already exists", rec.id),
                format!("集群 {} 已存在", rec.id),
            )
            .with_field("id"),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "cluster.create", "cluster", &rec.id, &rec.name_zh).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(rec)
    })
    .await
}

pub async fn update(app: &App, actor: &Actor, input: ClusterInput) -> AppResult<ClusterRecord> {
    audit::run(app, actor, Permission::ManageClusters, "cluster.update", "cluster", &input.id, async {
        let rec = parse(&input)?;
        let mut tx = app.db.begin_write().await?;
        store::update(&mut tx, &rec).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("Cluster", "产业集群"),
            other => other.into(),
        })?;
        audit::ok_in(&mut tx, actor, "cluster.update", "cluster", &rec.id, &rec.name_zh).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(rec)
    })
    .await
}
