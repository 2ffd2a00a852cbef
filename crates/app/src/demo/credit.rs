//! The demo world's credit: in the first chain, tier-1 suppliers have asked their cores to confirm
//! some receivables over the past fortnight; the cores confirmed most (signed), rejected some with a
//! reason, left some pending, and uploaded a few payables themselves. The demo login of the chain's
//! first tier-1 supplier (`sup1.t1`) has one signed and one pending, and keeps the rest un-asked, so
//! a visitor can ask for confirmation and watch the core sign. Each supplier's first signed receivable
//! is registered against double financing with one of the chain's banks.

use lianrong_domain::chain::MemberRole;
use lianrong_domain::confirmation::Decision;
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::role::Role;
use lianrong_store::chain::{self as chain_store, ChainScope};
use lianrong_store::four_flow::Side;

use crate::confirmation::{self, DecisionInput, PayableInput};
use crate::error::AppResult;
use crate::policy::Actor;
use crate::{App, now_ms, receivable};

/// Tier-1 suppliers of the first chain whose receivables the demo takes through confirmation.
const SUPPLIERS_MAX: usize = 6;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditSummary {
    pub requested: usize,
    pub confirmed: usize,
    pub rejected: usize,
    pub pending: usize,
    /// Payables the cores confirmed unasked.
    pub payables_confirmed: usize,
    /// Receivables registered against double financing.
    pub registered: usize,
}

fn actor(org_id: &str, kind: OrgKind, name: &str) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        org_kind: kind,
        org_name: name.to_string(),
        user_id: None,
        login: Some("demo.finance".into()),
        display_name: Some("演示财务".into()),
        api_key_id: None,
        roles: vec![Role::FinanceStaff],
        scopes: None,
        system: false,
    }
}

/// Receivables a supplier may still ask about, newest due date first.
async fn open_receivables(app: &App, supplier: &Actor) -> AppResult<Vec<receivable::Receivable>> {
    let page = receivable::list(app, supplier, Side::Creditor, PageRequest::all_small()).await?.page;
    let mut open: Vec<receivable::Receivable> = page
        .items
        .into_iter()
        .filter(|r| {
            r.confirmation.is_none()
                && r.verdict.outstanding_fen > 0
                && r.verdict.status != VerificationStatus::Inconsistent.code()
        })
        .collect();
    open.sort_by(|a, b| {
        b.verdict.due_date.cmp(&a.verdict.due_date).then(a.verdict.invoice_id.cmp(&b.verdict.invoice_id))
    });
    Ok(open)
}

pub async fn load(app: &App) -> AppResult<CreditSummary> {
    let mut summary = CreditSummary::default();
    let mut conn = app.db.acquire().await?;
    let mut chains = chain_store::list(&mut conn, &ChainScope::All, PageRequest::all_small()).await?.items;
    chains.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
    let Some(first) = chains.first() else { return Ok(summary) };
    let members = chain_store::list_members(&mut conn, &first.id, None, PageRequest::all_small()).await?.items;
    drop(conn);
    // In the order they were made (ids are time-ordered), so the first is the one with the demo login.
    let mut tier1: Vec<_> = members.iter().filter(|m| m.role == MemberRole::Supplier && m.tier == Some(1)).collect();
    tier1.sort_by(|a, b| a.org_id.cmp(&b.org_id));
    tier1.truncate(SUPPLIERS_MAX);
    let now = now_ms();
    for (k, m) in tier1.iter().enumerate() {
        let supplier = actor(&m.org_id, OrgKind::Supplier, &m.org_name);
        let open = open_receivables(app, &supplier).await?;
        let Some(core_uscc) = open.first().map(|r| r.verdict.buyer_uscc.clone()) else { continue };
        let mut conn = app.db.acquire().await?;
        let Some(core) = lianrong_store::org::find_by_uscc(&mut conn, &core_uscc).await? else { continue };
        drop(conn);
        let core_actor = actor(&core.id, OrgKind::Core, &core.name);
        let mine: Vec<String> =
            open.iter().filter(|r| r.verdict.buyer_uscc == core_uscc).map(|r| r.verdict.invoice_id.clone()).collect();
        if k % 3 == 2 {
            // This core uploaded two payables itself: confirmed unasked.
            let inputs: Vec<PayableInput> =
                mine.iter().take(2).map(|id| PayableInput { invoice_id: id.clone(), signature_hex: None }).collect();
            summary.payables_confirmed += confirmation::confirm_payables(app, &core_actor, &inputs).await?.len();
            continue;
        }
        // The demo login's supplier has asked about two (one signed, one pending) and keeps at least one
        // to ask about itself; the others asked about four (two signed, one rejected, one pending).
        let ask = if k == 0 { 2.min(mine.len().saturating_sub(1)) } else { 4 };
        let asked = confirmation::request(app, &supplier, &mine[..ask.min(mine.len())]).await?;
        summary.requested += asked.len();
        let mut conn = app.db.acquire().await?;
        for (i, c) in asked.iter().enumerate() {
            // Asked between one and twelve days ago, at different hours.
            let back = DAY_MS * (1 + ((k * 5 + i * 3) % 12) as i64) + (k as i64 * 7 + i as i64) * 3_600_000;
            lianrong_store::confirmation::backdate_request_for_demo(&mut conn, &c.id, now - back).await?;
        }
        drop(conn);
        let decisions: Vec<DecisionInput> = asked
            .iter()
            .enumerate()
            .filter(|(i, _)| *i + 1 < asked.len())
            .map(|(i, c)| DecisionInput {
                confirmation_id: c.id.clone(),
                decision: if i == 1 && k > 0 { Decision::Reject } else { Decision::Confirm },
                reason: (i == 1 && k > 0).then(|| "发票金额与我司对账单不一致，请核对后重新申请".to_string()),
                signature_hex: None,
            })
            .collect();
        // A supplier with few open receivables may have asked about one only, which stays pending.
        let decided =
            if decisions.is_empty() { Vec::new() } else { confirmation::decide(app, &core_actor, &decisions).await? };
        for d in &decided {
            match d.status {
                lianrong_domain::confirmation::ConfirmationStatus::Rejected => summary.rejected += 1,
                _ => summary.confirmed += 1,
            }
        }
        // The first signed receivable is registered for financing with one of the chain's banks, so a
        // second registration of it can be tried (and is refused with this one's reference).
        if let Some(signed) =
            decided.iter().find(|d| d.status == lianrong_domain::confirmation::ConfirmationStatus::Confirmed)
        {
            let bank = members.iter().find(|m| m.role == MemberRole::Bank).map(|m| m.org_id.clone());
            let input = crate::registration::NewRegistration {
                invoice_ids: vec![signed.invoice_id.clone()],
                financier_org_id: bank,
                note: Some("保理融资登记（演示）".into()),
                ..Default::default()
            };
            crate::registration::register(app, &supplier, input).await?;
            summary.registered += 1;
        }
        summary.pending += asked.len() - decisions.len();
    }
    Ok(summary)
}
