//! The figures on each kind of organisation's home page.

use lianrong_domain::core_library::LibraryStatus;
use lianrong_domain::org::OrgKind;
use lianrong_store::{chain as chain_store, core_library as library_store, org as org_store, user as user_store};

use crate::App;
use crate::error::AppResult;
use crate::policy::Actor;

/// The app's read views of financing by chain and tier: plain data, decoded in the store; the API and console
/// show them.
pub use lianrong_store::commitment::ChainTierFigures;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformStats {
    pub orgs_by_kind: Vec<(OrgKind, i64)>,
    pub chains: i64,
    pub pilot_chains: i64,
    pub library_by_status: Vec<(LibraryStatus, i64)>,
    pub users: i64,
}

impl PlatformStats {
    pub fn orgs(&self, kind: OrgKind) -> i64 {
        self.orgs_by_kind.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
    }

    pub fn library(&self, status: LibraryStatus) -> i64 {
        self.library_by_status.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n)
    }
}

/// Programme-wide counts: only the operator and the regulator see them; `None` for everyone else.
pub async fn platform(app: &App, actor: &Actor) -> AppResult<Option<PlatformStats>> {
    if !(actor.sees_everything() || actor.system) {
        return Ok(None);
    }
    let mut conn = app.db.acquire().await?;
    let (chains, pilot_chains) = chain_store::count(&mut conn).await?;
    Ok(Some(PlatformStats {
        orgs_by_kind: org_store::count_by_kind(&mut conn).await?,
        chains,
        pilot_chains,
        library_by_status: library_store::count_by_status(&mut conn).await?,
        users: user_store::count(&mut conn).await?,
    }))
}

/// Financing by chain and supplier tier (commitments received, held and discounted): the programme
/// office's view, so only the operator and the regulator see it.
pub async fn financing_by_chain_tier(app: &App, actor: &Actor) -> AppResult<Vec<ChainTierFigures>> {
    if !(actor.sees_everything() || actor.system) {
        return Err(crate::error::AppError::forbidden(
            "Financing by chain and tier is the programme office's view",
            "按产业链和层级的融资统计仅向运营机构和监管部门开放",
        ));
    }
    let mut conn = app.db.acquire().await?;
    Ok(lianrong_store::commitment::figures_by_chain_tier(&mut conn).await?)
}
