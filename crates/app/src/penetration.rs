//! How deep a core enterprise's credit reaches (信用穿透): its suppliers' tiers derived from the
//! lake's invoices, with the suppliers and volume per tier. A core sees its own chain by tier and names
//! only its direct (tier-1) suppliers, whom it trades with; the operator and the regulator see every
//! supplier. Anyone else is answered not found.

use lianrong_domain::penetration::{self as domain, Edge};
use lianrong_store::StoreError;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierSummary {
    pub tier: u32,
    pub suppliers: usize,
    pub volume_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    pub uscc: String,
    /// The registered name, when the supplier is on the platform.
    pub name: Option<String>,
    pub tier: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Penetration {
    pub core_org_id: String,
    pub core_uscc: String,
    pub depth: u32,
    pub tiers: Vec<TierSummary>,
    pub suppliers: Vec<Supplier>,
}

pub async fn for_core(app: &App, actor: &Actor, core_org_id: &str) -> AppResult<Penetration> {
    policy::require(actor, Permission::ReadTrade)?;
    let sees_all = actor.system || actor.sees_everything();
    if !sees_all && actor.org_id != core_org_id {
        crate::audit::refused(app, actor, "penetration.read", "organisation", core_org_id, "not its own chain").await;
        return Err(AppError::not_found("Organisation", "机构"));
    }
    let mut conn = app.db.acquire().await?;
    let core = lianrong_store::org::get(&mut conn, core_org_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Organisation", "机构"),
        other => other.into(),
    })?;
    let edges: Vec<Edge> = lianrong_store::trade::invoice_edges(&mut conn)
        .await?
        .into_iter()
        .map(|(buyer, seller, volume_fen, invoices)| Edge { buyer, seller, volume_fen, invoices })
        .collect();
    let tiers = domain::tiers(&core.uscc, &edges);
    let summary: Vec<TierSummary> = domain::per_tier(&core.uscc, &edges, &tiers)
        .into_iter()
        .map(|(tier, suppliers, volume_fen)| TierSummary { tier, suppliers, volume_fen })
        .collect();
    let mut suppliers = Vec::new();
    for (uscc, tier) in &tiers {
        if sees_all || *tier == 1 {
            let name = lianrong_store::org::find_by_uscc(&mut conn, uscc).await?.map(|o| o.name);
            suppliers.push(Supplier { uscc: uscc.clone(), name, tier: *tier });
        }
    }
    suppliers.sort_by(|a, b| (a.tier, &a.uscc).cmp(&(b.tier, &b.uscc)));
    Ok(Penetration {
        core_org_id: core.id,
        core_uscc: core.uscc,
        depth: tiers.values().copied().max().unwrap_or(0),
        tiers: summary,
        suppliers,
    })
}
