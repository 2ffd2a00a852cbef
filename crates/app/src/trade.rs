//! Reading canonical trade records: a record is visible to its two parties; the operator, as the lake's
//! custodian, reads all, and every such read is audited.

use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{KeyedPage, Seek};
use lianrong_store::StoreError;
use lianrong_store::trade::{self as store, TradeScope};

use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit};

/// The app's read views of trade records, their versions and lines, and their filter: plain data, decoded in
/// the store; the API and console show them.
pub use lianrong_store::trade::{LineRow, TradeFilter, TradeRow, VersionRow};

/// What trade the caller may see: the operator (the lake's custodian) all of it, everyone else the trade
/// its organisation is a party to. Used by every reader of trade-derived data.
pub(crate) async fn scope(app: &App, actor: &Actor) -> AppResult<TradeScope> {
    if actor.system || actor.org_kind == OrgKind::Operator {
        return Ok(TradeScope::All);
    }
    let mut conn = app.db.acquire().await?;
    let org = lianrong_store::org::get(&mut conn, &actor.org_id).await?;
    Ok(TradeScope::Party { uscc: org.uscc })
}

/// The custodian's reads of other organisations' records leave a trace.
async fn audit_custodian_read(app: &App, actor: &Actor, what: &str, id: &str) -> AppResult<()> {
    if actor.org_kind == OrgKind::Operator && !actor.system {
        let mut conn = app.db.acquire().await?;
        audit::ok_in(&mut conn, actor, what, "trade_record", id, "custodian read").await?;
    }
    Ok(())
}

pub async fn list(
    app: &App,
    actor: &Actor,
    filter: TradeFilter,
    seek: impl Into<Seek>,
) -> AppResult<KeyedPage<TradeRow>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let out = store::list(&mut conn, &scope, &filter, &seek.into()).await?;
    drop(conn);
    audit_custodian_read(app, actor, "trade.list", "").await?;
    Ok(out)
}

/// One record as its party reads it: the current version, the earlier ones it was a party to, and the
/// invoice lines its submitter stated.
#[derive(Debug, Clone)]
pub struct RecordDetail {
    pub row: TradeRow,
    pub versions: Vec<VersionRow>,
    pub lines: Vec<store::LineRow>,
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<RecordDetail> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let row = store::get(&mut conn, &scope, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Trade record", "贸易记录"),
        other => other.into(),
    })?;
    let mut versions = store::versions(&mut conn, id).await?;
    let lines = store::lines(&mut conn, id).await?;
    drop(conn);
    // A party reads the earlier versions it was a party to, never another statement's (records made
    // before a record's identity named both parties could have had other parties in earlier versions).
    if let TradeScope::Party { uscc } = &scope {
        versions.retain(|v| party_of_version(v, uscc));
    }
    audit_custodian_read(app, actor, "trade.get", id).await?;
    Ok(RecordDetail { row, versions, lines })
}

/// Whether `uscc` is the buyer or the seller in an earlier version's data.
fn party_of_version(v: &VersionRow, uscc: &str) -> bool {
    let data: serde_json::Value = serde_json::from_str(&v.data).unwrap_or(serde_json::Value::Null);
    data["buyer_uscc"].as_str() == Some(uscc) || data["seller_uscc"].as_str() == Some(uscc)
}

/// Count and total amount per record type of what the caller may see.
pub async fn totals(app: &App, actor: &Actor) -> AppResult<Vec<(String, i64, i64)>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::totals(&mut conn, &scope).await?)
}
