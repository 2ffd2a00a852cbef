//! Digital payment commitments (数字债权凭证). A core issues a commitment to its
//! tier-1 supplier against confirmed payables, backed by its line at a bank; holders split parts to the
//! fen, pass them to their own suppliers against verified trade, or discount them at a bank; at maturity
//! the core's payment settles every holder exactly.
//!
//! The rules are `domain::commitment`'s ledger. Each operation loads a view of the parts it touches,
//! lets the ledger decide, then writes the difference with conditional updates from the states it read,
//! so a part is spent once however many requests race for it. The transfer id is the caller's
//! idempotency key: a retried request is answered with its first result. Every operation is a leaf of
//! the verifiable log, committed with it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use lianrong_domain::commitment::{
    self as rules, Applied, CommitmentState, IssueError, Ledger, LedgerError, MaturityCheck, Part, PartState, Request,
    Transfer, TransferKind, TransferState,
};
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::log::LeafKind;
use lianrong_domain::org::{OrgKind, SizeClass};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_store::commitment::{self as store, CommitmentScope, DiscountApproval};
use lianrong_store::{Conn, StoreError};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of commitments, and the role a list is seen from: plain data, decoded in the store;
/// the API and console show them.
pub use lianrong_store::commitment::{CommitmentRow, Holding, Role, TransferRow, request_json};

pub(crate) const OBJECT: &str = "commitment";
/// Confirmed payables one commitment may rest on.
pub const BACKING_INVOICES_MAX: usize = 200;
/// Invoices one transfer may name as the trade it pays.
pub const BASIS_INVOICES_MAX: usize = 50;
/// A transfer id: the caller's idempotency key.
pub const TRANSFER_ID_CHARS_MAX: usize = 64;
/// A settlement's payment reference (the bank's transaction number).
pub const PAYMENT_REFERENCE_CHARS_MAX: usize = 64;
/// Parts listed in one holder's view.
pub const HOLDINGS_MAX: i64 = 500;

fn not_found() -> AppError {
    AppError::not_found("Commitment", "债权凭证")
}

fn parse_date(field: &str, text: &str) -> AppResult<Date> {
    Date::strptime("%Y-%m-%d", text.trim())
        .map_err(|_| AppError::invalid(field, "date_invalid", "A date is written YYYY-MM-DD", "日期格式须为YYYY-MM-DD"))
}

fn scope(actor: &Actor) -> CommitmentScope {
    if actor.sees_everything() || actor.system {
        CommitmentScope::All
    } else {
        CommitmentScope::Party { org_id: actor.org_id.clone() }
    }
}

/// The ledger's refusals, answered as a conflict with the parts' state, a lack of right, a missing part, a
/// bad request or — for a settlement asked of a partial view — the platform's own error.
pub(crate) fn ledger_error(e: LedgerError) -> AppError {
    let kind = match e {
        LedgerError::IdReused(_)
        | LedgerError::NotHeld { .. }
        | LedgerError::NotPending(_)
        | LedgerError::Matured
        | LedgerError::NotMatured
        | LedgerError::PendingOutstanding(_)
        | LedgerError::AlreadySettled => ErrorKind::Conflict,
        LedgerError::NotHolder(_) | LedgerError::NotTheBank | LedgerError::NotTheIssuer => ErrorKind::Forbidden,
        LedgerError::PartNotFound(_) => ErrorKind::NotFound,
        LedgerError::PartialView => ErrorKind::Internal,
        LedgerError::AmountNotPositive
        | LedgerError::AmountsDoNotAddUp { .. }
        | LedgerError::AmountExceeds { .. }
        | LedgerError::OutputCount
        | LedgerError::SelfTransfer => ErrorKind::Invalid,
    };
    AppError::refusal(kind, &e)
}

/// An issue's terms are the caller's to correct: every refusal is a bad request.
fn issue_error(e: IssueError) -> AppError {
    AppError::refusal(ErrorKind::Invalid, &e)
}

/// A stored transfer as the ledger knows it (for posting or voiding a pending discount).
fn transfer_of(row: &TransferRow) -> AppResult<Transfer> {
    Ok(Transfer {
        id: row.id.clone(),
        kind: row.kind,
        state: row.state,
        actor: row.actor_org_id.clone(),
        request: row.request.clone(),
        input: row.input_part_id.clone(),
        outputs: row.outputs.clone(),
        payouts: Vec::new(),
    })
}

fn check_transfer_id(id: &str) -> AppResult<()> {
    let ok = !id.is_empty()
        && id.chars().count() <= TRANSFER_ID_CHARS_MAX
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "transfer_id",
            "transfer_id_invalid",
            format!("A transfer id is 1 to {TRANSFER_ID_CHARS_MAX} letters, digits, '-', '_' or '.'"),
            format!("操作编号须为1至{TRANSFER_ID_CHARS_MAX}位字母、数字或 - _ ."),
        ))
    }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/// A commitment as one caller may see it: a holder sees its own parts, where they came from and where
/// it passed them; the issuer, the bank, the operator and the regulator see the whole tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentView {
    pub commitment: CommitmentRow,
    pub parts: Vec<Part>,
    pub transfers: Vec<TransferRow>,
    /// The confirmed payables it rests on: (invoice id, outstanding when issued).
    pub backing: Vec<(String, i64)>,
    /// Fen in held or pending parts (the whole commitment, not only the visible parts).
    pub live_fen: i64,
    /// What the caller holds now, and what it has pending at banks.
    pub held_by_caller_fen: i64,
    pub pending_by_caller_fen: i64,
    /// The ledger's invariants over every part: `None` when they hold, else the first one broken.
    pub invariant_broken: Option<String>,
    /// The names of the organisations this view names (issuer, bank, holders, counterparties): parties
    /// to a commitment know each other.
    pub names: BTreeMap<String, String>,
}

fn sees_whole_tree(actor: &Actor, c: &CommitmentRow) -> bool {
    actor.sees_everything() || actor.system || actor.org_id == c.issuer_org_id || actor.org_id == c.bank_org_id
}

/// The parts a holder may see: its own and those offered to it (a discount's part, for its bank), their
/// ancestors, and the parts made from parts it spent.
fn visible_parts(org_id: &str, parts: &[Part], offered: &[String]) -> BTreeSet<String> {
    let by_id: BTreeMap<&str, &Part> = parts.iter().map(|p| (p.id.as_str(), p)).collect();
    let mine: BTreeSet<&str> = parts.iter().filter(|p| p.holder == org_id).map(|p| p.id.as_str()).collect();
    let mut out: BTreeSet<String> = BTreeSet::new();
    for id in mine.iter().copied().chain(offered.iter().map(String::as_str)) {
        let mut at = by_id.get(id).copied();
        while let Some(p) = at {
            if !out.insert(p.id.clone()) {
                break;
            }
            at = p.parent.as_deref().and_then(|parent| by_id.get(parent).copied());
        }
    }
    for p in parts {
        if p.parent.as_deref().is_some_and(|parent| mine.contains(parent)) {
            out.insert(p.id.clone());
        }
    }
    out
}

async fn view_of(conn: &mut Conn, actor: &Actor, c: CommitmentRow) -> AppResult<CommitmentView> {
    let all_parts = store::parts(conn, &c.id).await?;
    let all_transfers = store::transfers(conn, &c.id).await?;
    let maturity = c.maturity_date;
    let ledger = Ledger::rebuild(&c.id, &c.issuer_org_id, c.face_fen, maturity, all_parts.clone(), Vec::new());
    let invariant_broken = ledger.check().err();
    let live_fen = ledger.live_fen();
    let mine = |state: PartState| -> i64 {
        all_parts.iter().filter(|p| p.holder == actor.org_id && p.state == state).map(|p| p.amount_fen).sum()
    };
    let (held_by_caller_fen, pending_by_caller_fen) = (mine(PartState::Held), mine(PartState::Pending));
    let (parts, transfers) = if sees_whole_tree(actor, &c) {
        (all_parts, all_transfers)
    } else {
        let offered: Vec<String> = all_transfers
            .iter()
            .filter(|t| t.counterparty_org_id.as_deref() == Some(actor.org_id.as_str()))
            .filter_map(|t| t.input_part_id.clone())
            .collect();
        let visible = visible_parts(&actor.org_id, &all_parts, &offered);
        let parts: Vec<Part> = all_parts.into_iter().filter(|p| visible.contains(&p.id)).collect();
        let transfers = all_transfers
            .into_iter()
            .filter(|t| {
                t.actor_org_id == actor.org_id
                    || t.counterparty_org_id.as_deref() == Some(actor.org_id.as_str())
                    || t.input_part_id.as_ref().is_some_and(|p| visible.contains(p))
            })
            .collect();
        (parts, transfers)
    };
    let backing = store::backing(conn, &c.id).await?;
    let mut ids: BTreeSet<String> =
        [&c.issuer_org_id, &c.first_holder_org_id, &c.bank_org_id].into_iter().cloned().collect();
    ids.extend(parts.iter().map(|p| p.holder.clone()));
    ids.extend(transfers.iter().map(|t| t.actor_org_id.clone()));
    ids.extend(transfers.iter().filter_map(|t| t.counterparty_org_id.clone()));
    let names = names_of(conn, ids).await?;
    Ok(CommitmentView {
        commitment: c,
        parts,
        transfers,
        backing,
        live_fen,
        held_by_caller_fen,
        pending_by_caller_fen,
        invariant_broken,
        names,
    })
}

async fn names_of(conn: &mut Conn, ids: BTreeSet<String>) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for id in ids {
        match lianrong_store::org::get(conn, &id).await {
            Ok(o) => {
                out.insert(id, o.name);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The organisation that issued an invoice the caller is a party to (its seller): the holder a core
/// issues to, or the supplier a holder pays. `None` when the seller is not on the platform.
pub async fn seller_of(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<Option<(String, String)>> {
    let r = crate::receivable::get(app, actor, invoice_id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(lianrong_store::org::find_by_uscc(&mut conn, &r.verdict.seller_uscc).await?.map(|o| (o.id, o.name)))
}

/// Which of `invoice_ids` (the caller's payables) already back a commitment, so that a form offers
/// only the others.
pub async fn backed_invoices(app: &App, invoice_ids: &[String]) -> AppResult<BTreeSet<String>> {
    let mut conn = app.db.acquire().await?;
    Ok(store::backing_of(&mut conn, invoice_ids).await?.into_iter().map(|(i, _)| i).collect())
}

/// A holding with the issuer's name; a pending discount with its holder's name (the caller is a party
/// to both).
pub async fn holdings_named(app: &App, actor: &Actor) -> AppResult<Vec<(Holding, String)>> {
    let held = holdings(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let names = names_of(&mut conn, held.iter().map(|h| h.commitment.issuer_org_id.clone()).collect()).await?;
    Ok(held
        .into_iter()
        .map(|h| {
            let name =
                names.get(&h.commitment.issuer_org_id).cloned().unwrap_or_else(|| h.commitment.issuer_org_id.clone());
            (h, name)
        })
        .collect())
}

/// The names of the issuers, first holders and banks of commitments the caller was allowed to list.
pub async fn row_names(app: &App, rows: &[CommitmentRow]) -> AppResult<BTreeMap<String, String>> {
    let ids: BTreeSet<String> = rows
        .iter()
        .flat_map(|c| [c.issuer_org_id.clone(), c.first_holder_org_id.clone(), c.bank_org_id.clone()])
        .collect();
    let mut conn = app.db.acquire().await?;
    names_of(&mut conn, ids).await
}

pub async fn pending_discounts_named(app: &App, actor: &Actor) -> AppResult<Vec<(TransferRow, String)>> {
    let pending = pending_discounts(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let names = names_of(&mut conn, pending.iter().map(|t| t.actor_org_id.clone()).collect()).await?;
    Ok(pending
        .into_iter()
        .map(|t| {
            let name = names.get(&t.actor_org_id).cloned().unwrap_or_else(|| t.actor_org_id.clone());
            (t, name)
        })
        .collect())
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<CommitmentView> {
    policy::require(actor, Permission::ReadCommitments)?;
    let mut conn = app.db.acquire().await?;
    let c = store::get_scoped(&mut conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    view_of(&mut conn, actor, c).await
}

pub fn parse_role(role: Option<&str>) -> AppResult<Role> {
    match role.unwrap_or("") {
        "" | "any" => Ok(Role::Any),
        "issued" => Ok(Role::Issued),
        "held" => Ok(Role::Held),
        "backed" => Ok(Role::Backed),
        other => Err(AppError::invalid(
            "role",
            "role_unknown",
            format!("role must be any, issued, held or backed, not '{}'", other.chars().take(20).collect::<String>()),
            "role 须为 any（全部）、issued（我开立的）、held（我持有过的）或 backed（我行承兑的）",
        )),
    }
}

pub async fn list(app: &App, actor: &Actor, role: Role, page: PageRequest) -> AppResult<Page<CommitmentRow>> {
    policy::require(actor, Permission::ReadCommitments)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &scope(actor), role, page).await?)
}

/// What the caller holds now, across commitments.
pub async fn holdings(app: &App, actor: &Actor) -> AppResult<Vec<Holding>> {
    policy::require(actor, Permission::ReadCommitments)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::holdings(&mut conn, &actor.org_id, HOLDINGS_MAX).await?)
}

/// A part's lineage: the part, its parent, … back to the issued part — every fen traces to the issue.
pub async fn lineage(app: &App, actor: &Actor, id: &str, part_id: &str) -> AppResult<Vec<Part>> {
    let view = get(app, actor, id).await?;
    let by_id: BTreeMap<&str, &Part> = view.parts.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut at = by_id.get(part_id).copied().ok_or_else(|| AppError {
        field: Some("part_id".into()),
        ..AppError::not_found("Commitment part", "凭证份额")
    })?;
    let mut out = vec![at.clone()];
    while let Some(parent) = at.parent.as_deref().and_then(|p| by_id.get(p).copied()) {
        if out.len() > view.parts.len() {
            break;
        }
        out.push(parent.clone());
        at = parent;
    }
    Ok(out)
}

/// Discounts waiting for the caller's bank to post or void.
pub async fn pending_discounts(app: &App, actor: &Actor) -> AppResult<Vec<TransferRow>> {
    policy::require(actor, Permission::ReadCommitments)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::pending_for_bank(&mut conn, &actor.org_id, HOLDINGS_MAX).await?)
}

// ---------------------------------------------------------------------------------------------------
// Issue

/// An issue as asked by the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommitment {
    pub holder_org_id: String,
    pub invoice_ids: Vec<String>,
    pub face_fen: i64,
    pub maturity_date: String,
    pub credit_line_id: String,
}

/// The core issues a commitment to its supplier against confirmed payables it owes that supplier,
/// occupying its supply-chain line at the bank; the first part is the supplier's.
pub async fn issue(app: &App, actor: &Actor, new: &NewCommitment) -> AppResult<CommitmentView> {
    const ACTION: &str = "commitment.issue";
    audit::run(
        app,
        actor,
        Permission::IssueCommitment,
        ACTION,
        OBJECT,
        &new.holder_org_id,
        issue_checked(app, actor, new),
    )
    .await
}

async fn issue_checked(app: &App, actor: &Actor, new: &NewCommitment) -> AppResult<CommitmentView> {
    let maturity = parse_date("maturity_date", &new.maturity_date)?;
    let invoice_ids = backing_ids(&new.invoice_ids)?;
    let line = issuing_line(app, actor, &new.credit_line_id).await?;
    let (issuer, holder) = issue_parties(app, actor, &new.holder_org_id).await?;
    let (backing, latest_due) = backing_payables(app, actor, &invoice_ids, &issuer.uscc, &holder.uscc).await?;
    let backing_fen: i64 = backing.iter().map(|(_, f)| f).sum();
    let issued = app.today();
    let large_core_pays_sme = issuer.size_class == SizeClass::Large && holder.sme;
    let check = rules::check_issue(new.face_fen, backing_fen, issued, maturity, latest_due, large_core_pays_sme)
        .map_err(issue_error)?;
    let row = CommitmentRow {
        id: new_id(),
        issuer_org_id: issuer.id.clone(),
        first_holder_org_id: holder.id.clone(),
        bank_org_id: line.bank_org_id.clone(),
        credit_line_id: line.id.clone(),
        face_fen: new.face_fen,
        settled_fen: 0,
        issue_date: issued,
        maturity_date: maturity,
        latest_due_date: latest_due,
        beyond_principle_days: match check {
            MaturityCheck::Within => None,
            MaturityCheck::BeyondPrinciple { days } => Some(days),
        },
        state: CommitmentState::Outstanding,
        issued_by: actor.trail_name(),
        issued_at_ms: now_ms(),
        log_leaf_id: None,
        settlement_reference: None,
        settled_at_ms: None,
    };
    write_issue(app, actor, &row, &invoice_ids, &backing, maturity).await?;
    get(app, actor, &row.id).await
}

/// The payables a commitment rests on, each once, within the limit.
fn backing_ids(ids: &[String]) -> AppResult<Vec<String>> {
    let mut invoice_ids = ids.to_vec();
    invoice_ids.sort();
    invoice_ids.dedup();
    if invoice_ids.is_empty() || invoice_ids.len() > BACKING_INVOICES_MAX {
        return Err(AppError::invalid(
            "invoice_ids",
            "backing_count",
            format!("Name 1 to {BACKING_INVOICES_MAX} confirmed payables the commitment rests on"),
            format!("须列明1至{BACKING_INVOICES_MAX}笔已确权的应付账款作为开立依据"),
        ));
    }
    Ok(invoice_ids)
}

/// The core's own supply-chain line at a bank. It is looked up first: a line that is not the caller's
/// own is not found, whatever else is asked.
async fn issuing_line(app: &App, actor: &Actor, line_id: &str) -> AppResult<crate::credit_line::LineRow> {
    let line = crate::credit_line::get(app, actor, line_id)
        .await
        .map_err(|e| AppError { field: Some("credit_line_id".into()), ..e })?;
    if line.borrower_org_id != actor.org_id || line.kind != lianrong_domain::credit_line::LineKind::CoreSupplyChain {
        return Err(AppError::invalid(
            "credit_line_id",
            "not_supply_chain_line",
            "A commitment is backed by the core's own supply-chain line at a bank",
            "债权凭证须以本企业在银行的供应链专项授信额度为支持",
        ));
    }
    Ok(line)
}

/// The issuing core and the supplier it issues to.
async fn issue_parties(
    app: &App,
    actor: &Actor,
    holder_org_id: &str,
) -> AppResult<(lianrong_store::org::OrgRecord, lianrong_store::org::OrgRecord)> {
    let mut conn = app.db.acquire().await?;
    let issuer = lianrong_store::org::get(&mut conn, &actor.org_id).await?;
    match lianrong_store::org::get(&mut conn, holder_org_id).await {
        Ok(h) if h.id != issuer.id && h.kind == OrgKind::Supplier => Ok((issuer, h)),
        Ok(_) | Err(StoreError::NotFound) => Err(AppError::invalid(
            "holder_org_id",
            "holder_not_supplier",
            "A commitment is issued to a supplier of the core",
            "债权凭证须开立给核心企业的供应商",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Each payable owed by the issuer to the holder, confirmed and still outstanding, with the fen it may
/// back (up to what the core confirmed of it, never more); and the latest due date among them.
async fn backing_payables(
    app: &App,
    actor: &Actor,
    invoice_ids: &[String],
    issuer_uscc: &str,
    holder_uscc: &str,
) -> AppResult<(Vec<(String, i64)>, Option<Date>)> {
    let mut backing: Vec<(String, i64)> = Vec::new();
    let mut latest_due: Option<Date> = None;
    for (n, invoice_id) in invoice_ids.iter().enumerate() {
        let r = crate::receivable::get(app, actor, invoice_id)
            .await
            .map_err(|e| AppError { field: Some(format!("invoice_ids[{n}]")), ..e })?;
        let v = &r.verdict;
        let problem = if v.buyer_uscc != issuer_uscc || v.seller_uscc != holder_uscc {
            Some((
                "not_payable_to_holder",
                "is not owed by the core to that supplier",
                "不是本企业欠该供应商的应付账款",
            ))
        } else if !r.confirmed() {
            Some(("not_confirmed", "is not confirmed by the core", "尚未确权"))
        } else if v.outstanding_fen <= 0 {
            Some(("nothing_outstanding", "has nothing outstanding", "已无未付余额"))
        } else {
            None
        };
        if let Some((code, en, zh)) = problem {
            return Err(AppError::invalid(
                &format!("invoice_ids[{n}]"),
                code,
                format!("Invoice {invoice_id} {en}"),
                format!("发票 {invoice_id} {zh}"),
            ));
        }
        if let Some(due) =
            v.due_date.as_deref().map(|d| crate::clock::stored_date("verification.due_date", d)).transpose()?
        {
            latest_due = Some(latest_due.map_or(due, |l: Date| l.max(due)));
        }
        backing.push((invoice_id.clone(), r.financeable_fen()));
    }
    Ok((backing, latest_due))
}

/// Writes an issue in one transaction: the payables locked and checked unregistered, the commitment, its
/// backing and first part, the line occupied, the log leaf and the audit record.
async fn write_issue(
    app: &App,
    actor: &Actor,
    row: &CommitmentRow,
    invoice_ids: &[String],
    backing: &[(String, i64)],
    maturity: Date,
) -> AppResult<()> {
    let now = row.issued_at_ms;
    let ledger = Ledger::issue(&row.id, &row.issuer_org_id, &row.first_holder_org_id, row.face_fen, maturity);
    let mut tx = app.db.begin_write().await?;
    // A payable already registered with a financier is financed: it cannot back a commitment too. The
    // payables are locked first, as registration locks them, so the two cannot both take one invoice.
    store::lock_invoices(&mut tx, invoice_ids).await?;
    if let Some((invoice_id, reference)) =
        lianrong_store::registration::active_references(&mut tx, invoice_ids).await?.into_iter().next()
    {
        return Err(AppError::conflict(
            "already_registered",
            format!("Invoice {invoice_id} is registered as financed ({reference}); it cannot back a commitment"),
            format!("发票 {invoice_id} 已登记融资（{reference}），不能再作为债权凭证的开立依据"),
        )
        .with_reference(&reference));
    }
    store::insert(&mut tx, row).await?;
    if let Err(e) = store::insert_backing(&mut tx, &row.id, backing).await {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(backing_conflict(app, invoice_ids, e).await);
    }
    for p in ledger.parts.values() {
        store::insert_part(&mut tx, &row.id, p, now).await?;
    }
    let reference = format!("commitment:{}", row.id);
    crate::credit_line::occupy_in(
        &mut tx,
        &row.credit_line_id,
        row.face_fen,
        &reference,
        &actor.trail_name(),
        app.today(),
    )
    .await?;
    let entry = json!({
        "action": "issue",
        "commitment_id": row.id,
        "issuer_org_id": row.issuer_org_id,
        "holder_org_id": row.first_holder_org_id,
        "bank_org_id": row.bank_org_id,
        "face_fen": row.face_fen,
        "issue_date": row.issue_date.to_string(),
        "maturity_date": row.maturity_date.to_string(),
        "backing": backing.iter().map(|(i, f)| json!({"invoice_id": i, "outstanding_fen": f})).collect::<Vec<_>>(),
    });
    let parties = [row.issuer_org_id.as_str(), row.first_holder_org_id.as_str(), row.bank_org_id.as_str()];
    let leaf = crate::log::append(&mut tx, LeafKind::Commitment, &row.id, &parties, &entry, now).await?;
    store::set_log_leaf_id(&mut tx, &row.id, leaf).await?;
    let detail = format!("{} fen to {}, matures {}", row.face_fen, row.first_holder_org_id, row.maturity_date);
    audit::ok_in(&mut tx, actor, "commitment.issue", OBJECT, &row.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The answer when a payable turned out to back another commitment already: which ones.
async fn backing_conflict(app: &App, invoice_ids: &[String], e: StoreError) -> AppError {
    let StoreError::Conflict { .. } = e else { return e.into() };
    let used = async {
        let mut conn = app.db.acquire().await?;
        store::backing_of(&mut conn, invoice_ids).await
    }
    .await;
    match used {
        Ok(used) => {
            let which = used.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>().join(", ");
            AppError::conflict(
                "payable_already_backs",
                format!("Invoice(s) {which} already back another commitment"),
                format!("发票 {which} 已作为其他债权凭证的开立依据"),
            )
        }
        Err(e) => e.into(),
    }
}

// ---------------------------------------------------------------------------------------------------
// Operations by the holder

/// What a holder asks of one of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Split {
        part_id: String,
        amounts_fen: Vec<i64>,
    },
    /// Pass `amount_fen` to a supplier, paying the verified trade named by `invoice_ids` (invoices from
    /// that supplier to the holder).
    Transfer {
        part_id: String,
        to_org_id: String,
        amount_fen: i64,
        invoice_ids: Vec<String>,
    },
    Discount {
        part_id: String,
        bank_org_id: String,
        amount_fen: i64,
    },
}

/// An operation's answer: the transfer, and whether it was recorded by an earlier attempt with this id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub transfer: TransferRow,
    pub repeated: bool,
}

/// The holder splits, transfers or discounts one of its parts as transfer `transfer_id`.
pub async fn operate(
    app: &App,
    actor: &Actor,
    commitment_id: &str,
    transfer_id: &str,
    op: &Operation,
) -> AppResult<Outcome> {
    let action = match op {
        Operation::Split { .. } => "commitment.split",
        Operation::Transfer { .. } => "commitment.transfer",
        Operation::Discount { .. } => "commitment.discount",
    };
    audit::run(app, actor, Permission::OperateCommitment, action, OBJECT, commitment_id, async {
        // A concurrent first attempt with the same id can make ours collide on the transfer's key; the
        // second pass then answers with what it recorded.
        let result = operate_checked(app, actor, commitment_id, transfer_id, op).await;
        if matches!(&result, Err(e) if e.code == "transfer_id_race") {
            return operate_checked(app, actor, commitment_id, transfer_id, op).await;
        }
        result
    })
    .await
}

/// The commitment, if the caller may see it; otherwise not found.
pub(crate) async fn visible_commitment(conn: &mut Conn, actor: &Actor, id: &str) -> AppResult<CommitmentRow> {
    store::get_scoped(conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })
}

/// Answers a transfer id that is already recorded: the same request gets its first answer, another
/// request is refused.
pub(crate) fn answer_existing(existing: TransferRow, actor: &Actor, request: &Request) -> AppResult<Outcome> {
    let same_request = existing.request == *request;
    if same_request && existing.actor_org_id == actor.org_id {
        Ok(Outcome { transfer: existing, repeated: true })
    } else {
        Err(ledger_error(LedgerError::IdReused(existing.id)))
    }
}

async fn operate_checked(
    app: &App,
    actor: &Actor,
    commitment_id: &str,
    transfer_id: &str,
    op: &Operation,
) -> AppResult<Outcome> {
    let mut tx = app.db.begin_write().await?;
    let outcome = operate_in(&mut tx, app.today(), actor, commitment_id, transfer_id, op).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(outcome)
}

/// What a holder's operation asks, as the ledger reads it: the request, its counterparty and the trade
/// basis named.
fn request_of(op: &Operation) -> (Request, Option<String>, Vec<String>) {
    match op {
        Operation::Split { part_id, amounts_fen } => {
            (Request::Split { part_id: part_id.clone(), amounts_fen: amounts_fen.clone() }, None, Vec::new())
        }
        Operation::Transfer { part_id, to_org_id, amount_fen, invoice_ids } => (
            Request::Transfer { part_id: part_id.clone(), to: to_org_id.clone(), amount_fen: *amount_fen },
            Some(to_org_id.clone()),
            invoice_ids.clone(),
        ),
        Operation::Discount { part_id, bank_org_id, amount_fen } => (
            Request::Discount { part_id: part_id.clone(), bank: bank_org_id.clone(), amount_fen: *amount_fen },
            Some(bank_org_id.clone()),
            Vec::new(),
        ),
    }
}

/// Applies one holder's operation inside the caller's write transaction (an application holds its
/// discount in the same transaction as its claims, consents and offers).
pub(crate) async fn operate_in(
    tx: &mut Conn,
    today: Date,
    actor: &Actor,
    commitment_id: &str,
    transfer_id: &str,
    op: &Operation,
) -> AppResult<Outcome> {
    check_transfer_id(transfer_id)?;
    let (request, counterparty, invoice_ids) = request_of(op);
    let now = now_ms();
    let c = visible_commitment(tx, actor, commitment_id).await?;
    if let Some(existing) = store::transfer(tx, &c.id, transfer_id).await? {
        return answer_existing(existing, actor, &request);
    }
    if c.state == CommitmentState::Settled {
        return Err(ledger_error(LedgerError::AlreadySettled));
    }
    // The recipient and the holder are read once, together: a transfer checks the recipient's kind and
    // matches both credit codes against the invoices it names.
    let parties = match op {
        Operation::Transfer { to_org_id, .. } => Some(transfer_parties(tx, to_org_id, &actor.org_id).await?),
        Operation::Discount { bank_org_id, .. } => {
            check_counterparty(tx, bank_org_id, OrgKind::Bank, "bank_org_id").await?;
            None
        }
        Operation::Split { .. } => None,
    };
    let part_id = match &request {
        Request::Split { part_id, .. } | Request::Transfer { part_id, .. } | Request::Discount { part_id, .. } => {
            part_id.clone()
        }
        _ => String::new(),
    };
    let parts: Vec<Part> = store::part(tx, &c.id, &part_id).await?.into_iter().collect();
    let maturity = c.maturity_date;
    let mut ledger = Ledger::view(&c.id, &c.issuer_org_id, maturity, parts, Vec::new());
    let before = ledger.clone();
    let applied = ledger.apply(transfer_id, &actor.org_id, request.clone(), today).map_err(ledger_error)?;
    let Applied::New(transfer) = applied else {
        return Err(AppError::internal());
    };
    // The ledger agreed; a transfer must also pay verified trade between the two.
    let allocations = match (op, &parties) {
        (Operation::Transfer { amount_fen, .. }, Some((to, holder))) => {
            Some(allocate_basis(tx, &to.uscc, &holder.uscc, &invoice_ids, *amount_fen).await?)
        }
        _ => None,
    };
    write_difference(tx, &before, &ledger, now).await?;
    let mut row = transfer_row(&c.id, &transfer, actor, counterparty, now);
    let mut parties: Vec<&str> = vec![c.issuer_org_id.as_str(), actor.org_id.as_str()];
    if let Some(cp) = row.counterparty_org_id.as_deref() {
        parties.push(cp);
    }
    let basis: Vec<Value> =
        allocations.iter().flatten().map(|(i, f)| json!({"invoice_id": i, "amount_fen": f})).collect();
    // The leaf is written first (appends take no lock) so that the transfer row carries its id from the
    // start: one statement fewer than writing the row and then its leaf id.
    let leaf = transfer_leaf(tx, &c, &row, &ledger, &parties, json!({ "basis": basis }), now).await?;
    row.log_leaf_id = Some(i64::try_from(leaf).map_err(|_| AppError::internal())?);
    insert_transfer_row(tx, &row).await?;
    assert_outputs_conserve(tx, &before, &transfer).await?;
    if let Some(allocations) = &allocations {
        store::insert_basis(tx, &c.id, transfer_id, allocations).await?;
    }
    let detail = format!("{} {} on {}", row.kind.code(), row.id, part_id);
    audit::ok_in(tx, actor, "commitment.operate", OBJECT, &c.id, &detail).await?;
    Ok(Outcome { transfer: row, repeated: false })
}

/// The trade a part pays: the invoices of the transfer that passed it to its holder (walking up through
/// splits), or the payables backing the commitment for the first holder's parts. An application for the
/// part may claim these and no others.
pub(crate) async fn trade_basis_of_part(
    conn: &mut Conn,
    commitment_id: &str,
    part_id: &str,
) -> AppResult<BTreeSet<String>> {
    let mut next = Some(part_id.to_string());
    // A part's ancestry is at most as deep as the transfers made on the commitment; bound the walk anyway.
    for _ in 0..PART_ANCESTRY_MAX {
        let Some(id) = next.take() else { break };
        let Some(part) = store::part(conn, commitment_id, &id).await? else { break };
        if let Some(transfer) = &part.made_by {
            let basis = store::basis(conn, commitment_id, transfer).await?;
            if !basis.is_empty() {
                return Ok(basis.into_iter().map(|(invoice, _)| invoice).collect());
            }
        }
        match part.parent {
            Some(parent) => next = Some(parent),
            None => return Ok(store::backing(conn, commitment_id).await?.into_iter().map(|(i, _)| i).collect()),
        }
    }
    Ok(BTreeSet::new())
}

/// How far up its lineage a part's trade basis is looked for.
const PART_ANCESTRY_MAX: usize = 10_000;

/// The recipient of a transfer (which must be a supplier) and the holder making it, in one read.
async fn transfer_parties(
    conn: &mut Conn,
    to_org_id: &str,
    holder_org_id: &str,
) -> AppResult<(lianrong_store::org::OrgRecord, lianrong_store::org::OrgRecord)> {
    let orgs = lianrong_store::org::get_many(conn, &[to_org_id, holder_org_id]).await?;
    let holder = orgs.iter().find(|o| o.id == holder_org_id).cloned().ok_or_else(AppError::internal)?;
    // A transfer to oneself finds one organisation for both; the ledger refuses it as such.
    match orgs.into_iter().find(|o| o.id == to_org_id && o.kind == OrgKind::Supplier) {
        Some(to) => Ok((to, holder)),
        None => Err(not_a_counterparty(OrgKind::Supplier, "to_org_id")),
    }
}

async fn check_counterparty(conn: &mut Conn, org_id: &str, kind: OrgKind, field: &str) -> AppResult<()> {
    let fits = match lianrong_store::org::get(conn, org_id).await {
        Ok(o) => o.kind == kind,
        Err(StoreError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    if fits {
        return Ok(());
    }
    Err(not_a_counterparty(kind, field))
}

fn not_a_counterparty(kind: OrgKind, field: &str) -> AppError {
    match kind {
        OrgKind::Bank => AppError::invalid(field, "not_a_bank", "A part is discounted at a bank", "须在银行贴现"),
        _ => AppError::invalid(field, "not_a_supplier", "A part passes to a supplier", "凭证份额只能转让给供应商"),
    }
}

/// Allocates `amount_fen` over the named invoices — verified trade from the recipient (`to_uscc`) to the
/// holder (`holder_uscc`), each used no more than it is owed across all transfers — in the order given.
async fn allocate_basis(
    conn: &mut Conn,
    to_uscc: &str,
    holder_uscc: &str,
    invoice_ids: &[String],
    amount_fen: i64,
) -> AppResult<Vec<(String, i64)>> {
    if invoice_ids.is_empty() || invoice_ids.len() > BASIS_INVOICES_MAX {
        return Err(AppError::invalid(
            "invoice_ids",
            "no_verified_trade",
            format!(
                "A transfer names 1 to {BASIS_INVOICES_MAX} verified invoices from the recipient to you: a part passes only \
                 against real trade"
            ),
            format!("转让须列明1至{BASIS_INVOICES_MAX}张受让方开给您、经四流核验的发票：债权凭证只能依真实贸易转让"),
        ));
    }
    // One read of every named invoice's facts and used fen (locked on PostgreSQL until commit).
    let mut room: BTreeMap<String, (lianrong_store::registration::InvoiceFacts, i64)> =
        store::basis_room(conn, invoice_ids)
            .await?
            .into_iter()
            .map(|(f, used)| (f.invoice_id.clone(), (f, used)))
            .collect();
    let mut left = amount_fen.max(0);
    let mut out = Vec::new();
    for (n, invoice_id) in invoice_ids.iter().enumerate() {
        let field = format!("invoice_ids[{n}]");
        let found = room.get_mut(invoice_id).filter(|(f, _)| f.seller_uscc == to_uscc && f.buyer_uscc == holder_uscc);
        let Some((f, used_fen)) = found else {
            return Err(AppError::invalid(
                &field,
                "no_verified_trade",
                format!("Invoice {invoice_id} is not one the recipient issued to you"),
                format!("发票 {invoice_id} 不是受让方开给您的发票"),
            ));
        };
        if f.status != VerificationStatus::Verified.code() {
            return Err(AppError::invalid(
                &field,
                "trade_not_verified",
                format!("Invoice {} is not four-flow verified ({})", f.invoice_no, f.status),
                format!("发票 {} 未通过四流核验", f.invoice_no),
            ));
        }
        let take = (f.invoiced_fen - *used_fen).min(left);
        // An invoice named twice offers only what its first mention left.
        *used_fen += take.max(0);
        if take > 0 {
            out.push((invoice_id.clone(), take));
            left -= take;
        }
    }
    if left > 0 {
        return Err(AppError::invalid(
            "amount_fen",
            "exceeds_verified_trade",
            format!(
                "The named invoices leave {} fen of verified trade to pay; {amount_fen} fen asked",
                amount_fen - left
            ),
            format!("所列发票尚可对应的真实贸易仅{}分，申请转让{amount_fen}分", amount_fen - left),
        ));
    }
    Ok(out)
}

/// Writes what the ledger changed: each touched part moves from the state it was read in (or the
/// request is refused because another one spent it first), and each new part is inserted.
pub(crate) async fn write_difference(conn: &mut Conn, before: &Ledger, after: &Ledger, now: i64) -> AppResult<()> {
    let mut made: Vec<&Part> = Vec::new();
    for (id, part) in &after.parts {
        match before.parts.get(id) {
            Some(old) if old != part => {
                let moved =
                    store::update_part(conn, &after.commitment_id, id, old.state, part.state, part.spent_by.as_deref())
                        .await?;
                if !moved {
                    let now_state = store::part(conn, &after.commitment_id, id).await?.map(|p| p.state);
                    return Err(ledger_error(LedgerError::NotHeld {
                        part: id.clone(),
                        state: now_state.unwrap_or(PartState::Spent).code(),
                    }));
                }
            }
            Some(_) => {}
            None => made.push(part),
        }
    }
    store::insert_parts(conn, &after.commitment_id, &made, now).await?;
    Ok(())
}

pub(crate) fn transfer_row(
    commitment_id: &str,
    t: &Transfer,
    actor: &Actor,
    counterparty: Option<String>,
    now: i64,
) -> TransferRow {
    TransferRow {
        commitment_id: commitment_id.to_string(),
        id: t.id.clone(),
        kind: t.kind,
        state: t.state,
        actor_org_id: actor.org_id.clone(),
        by_login: actor.trail_name(),
        request: t.request.clone(),
        input_part_id: t.input.clone(),
        outputs: t.outputs.clone(),
        payouts: t.payouts.clone(),
        counterparty_org_id: counterparty,
        at_ms: now,
        log_leaf_id: None,
    }
}

pub(crate) async fn insert_transfer_row(conn: &mut Conn, row: &TransferRow) -> AppResult<()> {
    store::insert_transfer(conn, row).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "transfer_id_race",
            "Another request with this transfer id was recorded at the same moment",
            "同一操作编号的另一请求刚刚已记录",
        ),
        other => other.into(),
    })
}

/// The parts a posted transfer made must hold exactly what the part it spent held.
async fn assert_outputs_conserve(conn: &mut Conn, before: &Ledger, t: &Transfer) -> AppResult<()> {
    if t.state != TransferState::Posted || t.outputs.is_empty() {
        return Ok(());
    }
    let Some(input) = t.input.as_deref().and_then(|i| before.parts.get(i)) else {
        return Ok(());
    };
    // Outputs are named by the transfer that made them (a posted discount by the discount's id). The
    // parts inserted are exactly the ledger's outputs (`write_difference` adds no others), so summing
    // the outputs that this maker made is summing every part it made.
    let maker = t.outputs.first().and_then(|o| o.rsplit_once('/')).map(|(m, _)| m).unwrap_or(&t.id);
    let made = store::made_fen(conn, &before.commitment_id, maker, &t.outputs).await?;
    if made != input.amount_fen {
        tracing::error!(
            commitment = before.commitment_id,
            transfer = t.id,
            made,
            input = input.amount_fen,
            "fen not conserved"
        );
        return Err(AppError::new(
            ErrorKind::Internal,
            "ledger_out_of_balance",
            "The parts made do not add up to the part spent; nothing was changed",
            "拆转后的份额合计与原份额不符，操作未生效",
        ));
    }
    Ok(())
}

/// Appends the operation's leaf and records its id on the transfer already written.
pub(crate) async fn log_transfer(
    conn: &mut Conn,
    c: &CommitmentRow,
    row: &TransferRow,
    ledger: &Ledger,
    parties: &[&str],
    extra: Value,
    now: i64,
) -> AppResult<u64> {
    let leaf = transfer_leaf(conn, c, row, ledger, parties, extra, now).await?;
    store::set_transfer_log_leaf_id(conn, &c.id, &row.id, leaf).await?;
    Ok(leaf)
}

/// Appends the operation's leaf; returns its id.
async fn transfer_leaf(
    conn: &mut Conn,
    c: &CommitmentRow,
    row: &TransferRow,
    ledger: &Ledger,
    parties: &[&str],
    extra: Value,
    now: i64,
) -> AppResult<u64> {
    let made: Vec<Value> = row
        .outputs
        .iter()
        .filter_map(|o| ledger.parts.get(o))
        .map(|p| json!({"part_id": p.id, "holder_org_id": p.holder, "amount_fen": p.amount_fen}))
        .collect();
    let mut entry = json!({
        "action": row.kind.code(),
        "commitment_id": c.id,
        "transfer_id": row.id,
        "state": row.state.code(),
        "actor_org_id": row.actor_org_id,
        "request": store::request_json(&row.request),
        "input_part_id": row.input_part_id,
        "outputs": made,
        "payouts": json!(row.payouts),
    });
    if let (Some(e), Some(x)) = (entry.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    let mut unique: Vec<&str> = Vec::new();
    for p in parties {
        if !unique.contains(p) {
            unique.push(p);
        }
    }
    let subject = format!("{}#{}", c.id, row.id);
    crate::log::append(conn, LeafKind::Commitment, &subject, &unique, &entry, now).await
}

// ---------------------------------------------------------------------------------------------------
// The bank's decision on a discount

/// The bank posts (it paid the holder) or voids (it declined) a pending discount. Idempotent: the
/// decision's id derives from the discount's, so deciding twice the same way is answered.
/// What a bank's decision on a pending discount came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountDecision {
    /// Posted or voided (or answered as before, for a repeated decision).
    Done(Outcome),
    /// Above the four-eyes threshold, the first approval is recorded and the discount stays pending
    /// until a different approver posts it.
    AwaitingSecondApprover(TransferRow),
}

pub async fn decide_discount(
    app: &App,
    actor: &Actor,
    commitment_id: &str,
    discount_id: &str,
    post: bool,
) -> AppResult<DiscountDecision> {
    const ACTION: &str = "commitment.decide_discount";
    let now = now_ms();
    audit::run(app, actor, Permission::OperateCommitment, ACTION, OBJECT, commitment_id, async {
        let mut tx = app.db.begin_write().await?;
        if post && let Some(pending) = four_eyes_on_post(&mut tx, actor, commitment_id, discount_id, now).await? {
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(DiscountDecision::AwaitingSecondApprover(pending));
        }
        let outcome = decide_discount_in(&mut tx, actor, commitment_id, discount_id, post, app.today(), now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(DiscountDecision::Done(outcome))
    })
    .await
}

/// Posting a discount is the bank's approval to pay: only a person approves (never a key), and above
/// the four-eyes threshold two different approvers must. Answers the pending discount when this was the
/// first approval (recorded), `None` when the post may go ahead.
async fn four_eyes_on_post(
    conn: &mut Conn,
    actor: &Actor,
    commitment_id: &str,
    discount_id: &str,
    now: i64,
) -> AppResult<Option<TransferRow>> {
    let Some(user_id) = actor.user_id.clone() else {
        return Err(AppError::new(
            crate::error::ErrorKind::Forbidden,
            "keys_cannot_approve",
            "Posting a discount approves a payment: a person must do it, not an API key",
            "贴现记账即批准付款，须由具体人员操作，API密钥不能执行",
        ));
    };
    let c = visible_commitment(conn, actor, commitment_id).await?;
    let Some(pending) = store::transfer(conn, &c.id, discount_id).await?.filter(|t| {
        t.kind == TransferKind::Discount
            && t.state == TransferState::Pending
            && t.counterparty_org_id.as_deref() == Some(actor.org_id.as_str())
    }) else {
        // Not a discount pending at this bank: the decision itself says why.
        return Ok(None);
    };
    let Request::Discount { amount_fen: amount, .. } = pending.request else {
        return Err(AppError::internal());
    };
    if !lianrong_domain::application::needs_second_approver(amount) {
        return Ok(None);
    }
    let approvals = store::discount_approvals(conn, &c.id, discount_id).await?;
    if let Some(first) = approvals.iter().find(|a| a.user_id != user_id) {
        crate::user::second_approver_checked(conn, actor, Some(&first.user_id), pending.at_ms).await?;
        return Ok(None);
    }
    if approvals.is_empty() {
        let approval = DiscountApproval { user_id, approver: actor.trail_name(), at_ms: now };
        store::insert_discount_approval(conn, &c.id, discount_id, &approval).await?;
        let detail = format!("first approval of discount {discount_id} ({amount} fen); a second approver must post it");
        audit::ok_in(conn, actor, "commitment.approve_discount", OBJECT, &c.id, &detail).await?;
    }
    Ok(Some(pending))
}

/// [`decide_discount`] inside the caller's write transaction (disbursement posts the discount in the
/// same step as it records the loan).
pub async fn decide_discount_in(
    conn: &mut Conn,
    actor: &Actor,
    commitment_id: &str,
    discount_id: &str,
    post: bool,
    today: Date,
    now: i64,
) -> AppResult<Outcome> {
    let c = visible_commitment(conn, actor, commitment_id).await?;
    let decision_id = format!("{discount_id}:{}", if post { "post" } else { "void" });
    let request = if post {
        Request::Post { transfer_id: discount_id.to_string() }
    } else {
        Request::Void { transfer_id: discount_id.to_string() }
    };
    if let Some(existing) = store::transfer(conn, &c.id, &decision_id).await? {
        return answer_existing(existing, actor, &request);
    }
    let pending = store::transfer(conn, &c.id, discount_id)
        .await?
        .filter(|t| t.kind == TransferKind::Discount)
        .ok_or_else(|| ledger_error(LedgerError::NotPending(discount_id.to_string())))?;
    let pending_transfer = transfer_of(&pending)?;
    let parts: Vec<Part> = match &pending.input_part_id {
        Some(p) => store::part(conn, &c.id, p).await?.into_iter().collect(),
        None => Vec::new(),
    };
    let maturity = c.maturity_date;
    let mut ledger = Ledger::view(&c.id, &c.issuer_org_id, maturity, parts, vec![pending_transfer]);
    let before = ledger.clone();
    let applied = ledger.apply(&decision_id, &actor.org_id, request, today).map_err(ledger_error)?;
    let Applied::New(transfer) = applied else {
        return Err(AppError::internal());
    };
    let to = if post { TransferState::Posted } else { TransferState::Voided };
    if !store::resolve_transfer(conn, &c.id, discount_id, to).await? {
        return Err(ledger_error(LedgerError::NotPending(discount_id.to_string())));
    }
    write_difference(conn, &before, &ledger, now).await?;
    let mut row = transfer_row(&c.id, &transfer, actor, Some(pending.actor_org_id.clone()), now);
    insert_transfer_row(conn, &row).await?;
    assert_outputs_conserve(conn, &before, &transfer).await?;
    let parties = [c.issuer_org_id.as_str(), actor.org_id.as_str(), pending.actor_org_id.as_str()];
    row.log_leaf_id =
        Some(log_transfer(conn, &c, &row, &ledger, &parties, json!({"discount_id": discount_id}), now).await? as i64);
    let detail = format!("{} discount {discount_id}", if post { "posted" } else { "voided" });
    audit::ok_in(conn, actor, "commitment.decide_discount", OBJECT, &c.id, &detail).await?;
    Ok(Outcome { transfer: row, repeated: false })
}

/// What each holder was paid at settlement, summed by holder.
pub fn payouts_by_holder(row: &TransferRow) -> BTreeMap<String, i64> {
    row.payouts.iter().fold(BTreeMap::new(), |mut m, (_, holder, fen)| {
        *m.entry(holder.clone()).or_insert(0) += fen;
        m
    })
}
