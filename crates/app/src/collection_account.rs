//! Fixed repayment accounts (回款账户确定). A receivable's creditor binds it to the account
//! its debtor must pay into; from then on the account changes only through a change request that the
//! creditor, the debtor and — once the receivable is financed — the financier (the bank of the active
//! registration) all consent to. The change applies, in the transaction of the last consent, onto the
//! account version it was proposed against, so two changes can never both apply. Payments the lake
//! receives for the receivable to any other account are flagged by four-flow verification
//! (`payment_other_account`), which is re-run for the pair whenever an account is bound or changed.
//!
//! The number is kept sealed (SM4-GCM, [`crate::secret`]) and shown masked (`**** 1234`) to every party;
//! only the creditor may reveal it, and every reveal is audited. Refusals are audited with their reason.
//! Whoever may not see the invoice is answered "not found", as if it did not exist.

use lianrong_domain::collection_account::{self as rules, ChangeStatus};
use lianrong_domain::limits::REASON_CHARS_MAX;
use lianrong_domain::org::OrgKind;
use lianrong_domain::trade::InvoiceKind;
use lianrong_store::StoreError;
use lianrong_store::collection_account::{self as store, AccountRow, ChangeRow, ConsentRow, Invoice};
use lianrong_store::{Conn, audit as audit_store};

use crate::audit;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Actor, Permission};
use crate::secret::aad;
use crate::{App, new_id, now_ms};

const OBJECT: &str = "collection_account";

/// How the caller stands to a receivable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The seller: binds the account, may reveal it.
    Creditor,
    /// The buyer, who pays into the account.
    Debtor,
    /// The bank of the active registration that finances the receivable.
    Financier,
    /// The operator as the lake's custodian: reads (masked, audited), never consents.
    Custodian,
}

impl Relation {
    pub fn code(self) -> &'static str {
        match self {
            Relation::Creditor => "creditor",
            Relation::Debtor => "debtor",
            Relation::Financier => "financier",
            Relation::Custodian => "custodian",
        }
    }
}

/// An account as it is typed: number, bank (开户行) and holder (户名).
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub account_no: String,
    pub bank_name: String,
    pub holder_name: String,
}

/// The account bound to a receivable, masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundAccount {
    pub masked: String,
    pub last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub bound_by_org_id: String,
    pub bound_by: String,
    pub bound_at_ms: i64,
    pub version: i64,
    /// The full number: only for the creditor who asked to reveal it.
    pub revealed: Option<String>,
}

/// A receivable's fixed-account standing as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub invoice_id: String,
    pub invoice_no: String,
    pub creditor_uscc: String,
    pub debtor_uscc: String,
    pub creditor_org_id: Option<String>,
    pub debtor_org_id: Option<String>,
    pub financier_org_id: Option<String>,
    pub relation: Relation,
    pub account: Option<BoundAccount>,
    /// The change awaiting consent, if any.
    pub pending_change_id: Option<String>,
}

/// A change request with its consents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub invoice_id: String,
    pub status: ChangeStatus,
    pub masked: String,
    pub last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub reason: String,
    pub proposed_by_org_id: String,
    pub proposed_by: String,
    pub proposed_at_ms: i64,
    /// The organisations whose consent it needs (for a pending change: as of now).
    pub required_org_ids: Vec<String>,
    pub consents: Vec<ConsentRow>,
    /// Required organisations that have not consented yet.
    pub awaiting_org_ids: Vec<String>,
    pub closed_by_org_id: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at_ms: Option<i64>,
    pub close_reason: Option<String>,
}

/// The invoice and its parties, with the caller's relation to it.
struct Context {
    invoice: Invoice,
    creditor_org_id: Option<String>,
    debtor_org_id: Option<String>,
    financier_org_id: Option<String>,
    relation: Relation,
}

impl Context {
    /// Whose consent a change needs now; `None` when the debtor is not on the platform to give it.
    fn required(&self) -> Option<Vec<String>> {
        Some(rules::required_consenters(
            self.creditor_org_id.as_deref()?,
            self.debtor_org_id.as_deref()?,
            self.financier_org_id.as_deref(),
        ))
    }
}

fn not_found() -> AppError {
    AppError::not_found("Receivable", "应收账款")
}

/// Loads the invoice and decides how the caller stands to it: a stranger gets "not found".
async fn context(conn: &mut Conn, actor: &Actor, invoice_id: &str) -> AppResult<Context> {
    let invoice = store::invoice(conn, invoice_id).await?.ok_or_else(not_found)?;
    let creditor_org_id = lianrong_store::org::find_by_uscc(conn, &invoice.seller_uscc).await?.map(|o| o.id);
    let debtor_org_id = lianrong_store::org::find_by_uscc(conn, &invoice.buyer_uscc).await?.map(|o| o.id);
    let financier_org_id = lianrong_store::registration::active_financier(conn, invoice_id).await?;
    let me = Some(actor.org_id.as_str());
    let relation = if creditor_org_id.as_deref() == me {
        Relation::Creditor
    } else if debtor_org_id.as_deref() == me {
        Relation::Debtor
    } else if financier_org_id.as_deref() == me {
        Relation::Financier
    } else if actor.system || actor.org_kind == OrgKind::Operator {
        Relation::Custodian
    } else {
        return Err(not_found());
    };
    Ok(Context { invoice, creditor_org_id, debtor_org_id, financier_org_id, relation })
}

/// A red invoice reverses another; it is not a receivable and has no account.
fn require_receivable(ctx: &Context) -> AppResult<()> {
    if ctx.invoice.invoice_kind.as_deref() == Some(InvoiceKind::Red.code()) {
        return Err(AppError::invalid(
            "invoice_id",
            "not_a_receivable",
            "A red invoice reverses another and is not a receivable; it has no repayment account",
            "红字发票用于冲销，不构成应收账款，不能绑定回款账户",
        ));
    }
    Ok(())
}

/// An account checked, with its digest keyed by the platform (what payments' payee digests compare to).
struct Checked {
    account: rules::Account,
    sm3: String,
}

impl std::ops::Deref for Checked {
    type Target = rules::Account;
    fn deref(&self) -> &rules::Account {
        &self.account
    }
}

fn validated(app: &App, a: &NewAccount) -> AppResult<Checked> {
    let account = rules::validate(&a.account_no, &a.bank_name, &a.holder_name)
        .map_err(|e| AppError::refusal(ErrorKind::Invalid, &e))?;
    let sm3 = app.secret().account_digest().of(&account.number);
    Ok(Checked { account, sm3 })
}

fn reason_text(reason: Option<&str>) -> AppResult<String> {
    Ok(lianrong_domain::text::optional("reason", reason, REASON_CHARS_MAX)?.unwrap_or_default())
}

/// Re-runs four-flow verification for the receivable's pair, so that payments to another account are
/// flagged (or no longer flagged) at once. The account change has committed by then: a failure here is
/// logged, and the next submission for the pair verifies it again.
async fn reverify(app: &App, invoice: &Invoice) {
    let pair = [(invoice.buyer_uscc.clone(), invoice.seller_uscc.clone())];
    if let Err(e) = crate::four_flow::verify_pairs(app, &pair).await {
        tracing::error!(error = %e, invoice_id = %invoice.id, "re-verification after an account change failed");
    }
}

fn bound(row: &AccountRow, revealed: Option<String>) -> BoundAccount {
    BoundAccount {
        masked: rules::masked(&row.account_last4),
        last4: row.account_last4.clone(),
        bank_name: row.bank_name.clone(),
        holder_name: row.holder_name.clone(),
        bound_by_org_id: row.bound_by_org_id.clone(),
        bound_by: row.bound_by.clone(),
        bound_at_ms: row.bound_at_ms,
        version: row.version,
        revealed,
    }
}

async fn state(conn: &mut Conn, ctx: Context, revealed: Option<String>) -> AppResult<AccountState> {
    let account = store::get(conn, &ctx.invoice.id, false).await?;
    let pending = store::list_changes(conn, &ctx.invoice.id)
        .await?
        .into_iter()
        .find(|c| c.status == ChangeStatus::Pending.code())
        .map(|c| c.id);
    Ok(AccountState {
        invoice_id: ctx.invoice.id,
        invoice_no: ctx.invoice.doc_no,
        creditor_uscc: ctx.invoice.seller_uscc,
        debtor_uscc: ctx.invoice.buyer_uscc,
        creditor_org_id: ctx.creditor_org_id,
        debtor_org_id: ctx.debtor_org_id,
        financier_org_id: ctx.financier_org_id,
        relation: ctx.relation,
        account: account.as_ref().map(|a| bound(a, revealed)),
        pending_change_id: pending,
    })
}

/// The receivable's account, masked; `reveal` (the creditor only, audited) adds the full number.
pub async fn get(app: &App, actor: &Actor, invoice_id: &str, reveal: bool) -> AppResult<AccountState> {
    crate::policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    let ctx = context(&mut conn, actor, invoice_id).await?;
    let mut revealed = None;
    if reveal {
        if ctx.relation != Relation::Creditor {
            drop(conn);
            let e = AppError::forbidden(
                "Only the creditor may reveal the full account number; the other parties see its last four digits",
                "仅债权人可查看完整回款账号，其他各方仅可见末四位",
            );
            audit::refused(app, actor, "collection_account.reveal", OBJECT, invoice_id, &e.en).await;
            return Err(e);
        }
        if let Some(row) = store::get(&mut conn, invoice_id, false).await? {
            let number = app.secret().open_text(&row.account_sealed, &aad(OBJECT, "account_sealed", invoice_id))?;
            revealed = Some(number.to_string());
            audit_store::insert(
                &mut conn,
                &audit::record(actor, "collection_account.reveal", OBJECT, invoice_id, "ok", "full number shown"),
            )
            .await?;
        }
    }
    if ctx.relation == Relation::Custodian && !actor.system {
        audit_store::insert(
            &mut conn,
            &audit::record(actor, "collection_account.get", OBJECT, invoice_id, "ok", "custodian read"),
        )
        .await?;
    }
    state(&mut conn, ctx, revealed).await
}

/// Binds the receivable's first account (the creditor only). Once bound, the account changes only through
/// [`propose`]: binding again is refused.
pub async fn bind(app: &App, actor: &Actor, invoice_id: &str, new: &NewAccount) -> AppResult<AccountState> {
    let action = "collection_account.bind";
    let invoice = audit::run(app, actor, Permission::ManageCollectionAccount, action, OBJECT, invoice_id, async {
        let mut tx = app.db.begin_write().await?;
        let ctx = context(&mut tx, actor, invoice_id).await?;
        require_receivable(&ctx)?;
        if ctx.relation != Relation::Creditor {
            return Err(AppError::forbidden(
                "Only the receivable's creditor (the seller) binds its repayment account",
                "仅应收账款的债权人（销方）可以绑定回款账户",
            ));
        }
        if store::get(&mut tx, invoice_id, true).await?.is_some() {
            return Err(already_bound());
        }
        let account = validated(app, new)?;
        let now = now_ms();
        let row = AccountRow {
            invoice_id: invoice_id.to_string(),
            creditor_org_id: actor.org_id.clone(),
            account_sealed: app.secret().seal(account.number.as_bytes(), &aad(OBJECT, "account_sealed", invoice_id))?,
            account_sm3: account.sm3.clone(),
            account_last4: account.last4.clone(),
            bank_name: account.bank_name.clone(),
            holder_name: account.holder_name.clone(),
            bound_by_org_id: actor.org_id.clone(),
            bound_by: actor.trail_name(),
            bound_at_ms: now,
            version: 1,
        };
        store::insert(&mut tx, &row).await.map_err(|e| match e {
            StoreError::Conflict { .. } => already_bound(),
            other => other.into(),
        })?;
        let detail = format!("bound {} at {}", rules::masked(&account.last4), account.bank_name);
        log_account(&mut tx, &ctx, &row, std::slice::from_ref(&actor.org_id), None).await?;
        audit_store::insert(&mut tx, &audit::record(actor, action, OBJECT, invoice_id, "ok", &detail)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(ctx.invoice)
    })
    .await?;
    reverify(app, &invoice).await;
    get(app, actor, invoice_id, false).await
}

fn already_bound() -> AppError {
    AppError::conflict(
        "collection_account_bound",
        "The receivable already has a fixed repayment account; propose a change, which the debtor (and the financing bank, once financed) must consent to",
        "该应收账款已绑定回款账户；如需变更，请提出变更申请，经债务人（已融资的还需融资银行）同意后生效",
    )
}

fn change_of(row: ChangeRow, consents: Vec<ConsentRow>, current_required: Option<Vec<String>>) -> AppResult<Change> {
    let status = ChangeStatus::parse(&row.status).map_err(|_| {
        AppError::from(StoreError::Corrupt { column: "collection_account_change.status", value: row.status.clone() })
    })?;
    let stored: Vec<String> = row.required_org_ids.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let required = match (status, current_required) {
        (ChangeStatus::Pending, Some(now)) => now,
        _ => stored,
    };
    let given: Vec<&str> = consents.iter().map(|c| c.org_id.as_str()).collect();
    let awaiting = if status == ChangeStatus::Pending {
        required.iter().filter(|r| !given.contains(&r.as_str())).cloned().collect()
    } else {
        Vec::new()
    };
    Ok(Change {
        masked: rules::masked(&row.account_last4),
        id: row.id,
        invoice_id: row.invoice_id,
        status,
        last4: row.account_last4,
        bank_name: row.bank_name,
        holder_name: row.holder_name,
        reason: row.reason,
        proposed_by_org_id: row.proposed_by_org_id,
        proposed_by: row.proposed_by,
        proposed_at_ms: row.proposed_at_ms,
        required_org_ids: required,
        consents,
        awaiting_org_ids: awaiting,
        closed_by_org_id: row.closed_by_org_id,
        closed_by: row.closed_by,
        closed_at_ms: row.closed_at_ms,
        close_reason: row.close_reason,
    })
}

async fn load_change(conn: &mut Conn, ctx: &Context, change_id: &str) -> AppResult<Change> {
    let row = store::get_change(conn, &ctx.invoice.id, change_id, false).await.map_err(change_not_found)?;
    let consents = store::consents(conn, change_id).await?;
    change_of(row, consents, ctx.required())
}

fn change_not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("Account change request", "回款账户变更申请"),
        other => other.into(),
    }
}

/// A receivable's change requests, newest first, for any of its parties.
pub async fn list_changes(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<Vec<Change>> {
    crate::policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    let ctx = context(&mut conn, actor, invoice_id).await?;
    let rows = store::list_changes(&mut conn, invoice_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let consents = store::consents(&mut conn, &row.id).await?;
        out.push(change_of(row, consents, ctx.required())?);
    }
    Ok(out)
}

/// Proposes a new account (the creditor, the debtor or the financier). The proposer's organisation
/// consents by proposing; the change applies once every other required organisation has consented.
pub async fn propose(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
    new: &NewAccount,
    reason: Option<&str>,
) -> AppResult<Change> {
    let action = "collection_account.propose";
    let (change_id, applied) =
        audit::run(app, actor, Permission::ManageCollectionAccount, action, OBJECT, invoice_id, async {
            let mut tx = app.db.begin_write().await?;
            let ctx = context(&mut tx, actor, invoice_id).await?;
            require_receivable(&ctx)?;
            if ctx.relation == Relation::Custodian {
                return Err(AppError::forbidden(
                    "Only the receivable's creditor, debtor or financing bank may propose a new repayment account",
                    "仅应收账款的债权人、债务人或融资银行可以提出回款账户变更",
                ));
            }
            let Some(current) = store::get(&mut tx, invoice_id, true).await? else {
                return Err(AppError::conflict(
                    "collection_account_not_bound",
                    "The receivable has no fixed repayment account yet: its creditor binds the first one",
                    "该应收账款尚未绑定回款账户：首个回款账户由债权人绑定",
                ));
            };
            let Some(required) = ctx.required() else {
                return Err(AppError::conflict(
                    "debtor_not_on_platform",
                    "The debtor is not on the platform, so it cannot consent to a change of the repayment account",
                    "债务人尚未入驻平台，无法同意回款账户变更",
                ));
            };
            let account = validated(app, new)?;
            if account.sm3 == current.account_sm3 {
                return Err(AppError::invalid(
                    "account_no",
                    "account_unchanged",
                    "account_no: this is already the receivable's repayment account",
                    "account_no：该账号已是本应收账款的回款账户",
                ));
            }
            let reason = reason_text(reason)?;
            let pending = store::list_changes(&mut tx, invoice_id).await?;
            if pending.iter().any(|c| c.status == ChangeStatus::Pending.code()) {
                return Err(change_pending());
            }
            let now = now_ms();
            let id = new_id();
            let row = ChangeRow {
                id: id.clone(),
                invoice_id: invoice_id.to_string(),
                base_version: current.version,
                account_sealed: app
                    .secret()
                    .seal(account.number.as_bytes(), &aad("collection_account_change", "account_sealed", &id))?,
                account_sm3: account.sm3.clone(),
                account_last4: account.last4.clone(),
                bank_name: account.bank_name.clone(),
                holder_name: account.holder_name.clone(),
                reason,
                proposed_by_org_id: actor.org_id.clone(),
                proposed_by: actor.trail_name(),
                proposed_at_ms: now,
                status: ChangeStatus::Pending.code().to_string(),
                required_org_ids: required.join(","),
                closed_by_org_id: None,
                closed_by: None,
                closed_at_ms: None,
                close_reason: None,
            };
            store::insert_change(&mut tx, &row).await.map_err(|e| match e {
                StoreError::Conflict { .. } => change_pending(),
                other => other.into(),
            })?;
            let consent = ConsentRow {
                change_id: id.clone(),
                org_id: actor.org_id.clone(),
                consented_by: actor.trail_name(),
                consented_at_ms: now,
            };
            store::insert_consent(&mut tx, &consent).await?;
            let detail = format!(
                "change {id} proposed: {} at {}; consent needed from {}",
                rules::masked(&account.last4),
                account.bank_name,
                required.join(",")
            );
            audit_store::insert(&mut tx, &audit::record(actor, action, OBJECT, invoice_id, "ok", &detail)).await?;
            let applied = apply_if_complete(app, &mut tx, actor, &ctx, &id).await?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok((id, applied.then_some(ctx.invoice)))
        })
        .await?;
    if let Some(invoice) = applied {
        reverify(app, &invoice).await;
    }
    let mut conn = app.db.acquire().await?;
    let ctx = context(&mut conn, actor, invoice_id).await?;
    load_change(&mut conn, &ctx, &change_id).await
}

fn change_pending() -> AppError {
    AppError::conflict(
        "change_pending",
        "A change of this receivable's repayment account is already awaiting consent; withdraw or decide it first",
        "该应收账款已有待同意的回款账户变更申请；请先撤回或处理该申请",
    )
}

fn change_closed(status: &str) -> AppError {
    AppError::conflict(
        "change_closed",
        format!("The change request is no longer awaiting consent (it is {status})"),
        format!(
            "该变更申请已不在待同意状态（当前：{}）",
            ChangeStatus::parse(status).map(|s| s.label_zh()).unwrap_or(status)
        ),
    )
}

/// Applies the change when every organisation required *now* has consented: the set is computed again
/// here, inside the transaction, so a registration made after the proposal adds its bank. The account is
/// replaced only if it is still the version the change was proposed against. Answers whether it applied.
async fn apply_if_complete(app: &App, tx: &mut Conn, actor: &Actor, ctx: &Context, change_id: &str) -> AppResult<bool> {
    let Some(required) = ctx.required() else { return Ok(false) };
    let consents = store::consents(tx, change_id).await?;
    let given: Vec<String> = consents.into_iter().map(|c| c.org_id).collect();
    if !rules::all_consented(&required, &given) {
        return Ok(false);
    }
    let invoice_id = ctx.invoice.id.as_str();
    let change = store::get_change(tx, invoice_id, change_id, true).await.map_err(change_not_found)?;
    let current = store::get(tx, invoice_id, true).await?.ok_or_else(not_found)?;
    if current.version != change.base_version {
        return Err(stale());
    }
    // Re-sealed for the account row: a sealed value opens only in the place it was sealed for.
    let number =
        app.secret().open(&change.account_sealed, &aad("collection_account_change", "account_sealed", change_id))?;
    let now = now_ms();
    let row = AccountRow {
        account_sealed: app.secret().seal(&number, &aad(OBJECT, "account_sealed", invoice_id))?,
        account_sm3: change.account_sm3.clone(),
        account_last4: change.account_last4.clone(),
        bank_name: change.bank_name.clone(),
        holder_name: change.holder_name.clone(),
        bound_by_org_id: change.proposed_by_org_id.clone(),
        bound_by: change.proposed_by.clone(),
        bound_at_ms: now,
        version: current.version + 1,
        ..current
    };
    if !store::replace(tx, &row).await? {
        return Err(stale());
    }
    if !store::close_change(tx, change_id, ChangeStatus::Applied.code(), &actor.org_id, &actor.trail_name(), now, None)
        .await?
    {
        return Err(stale());
    }
    log_account(tx, ctx, &row, &given, Some(change_id)).await?;
    let detail = format!(
        "change {change_id} applied: {} at {} (version {}), consented by {}",
        rules::masked(&change.account_last4),
        change.bank_name,
        row.version,
        given.join(",")
    );
    audit_store::insert(tx, &audit::record(actor, "collection_account.apply", OBJECT, invoice_id, "ok", &detail))
        .await?;
    Ok(true)
}

/// Which account was fixed for a receivable, when, and with whose consent, as a leaf of the verifiable
/// log in the caller's transaction: a bank financing the receivable can prove it offline. The leaf names
/// the account by its SM3 digest and last four digits, never the number.
async fn log_account(
    tx: &mut Conn,
    ctx: &Context,
    row: &AccountRow,
    consented_by: &[String],
    change_id: Option<&str>,
) -> AppResult<()> {
    let entry = serde_json::json!({
        "invoice_id": row.invoice_id,
        "version": row.version,
        "account_sm3": row.account_sm3,
        "account_last4": row.account_last4,
        "bank_name": row.bank_name,
        "consented_by": consented_by,
        "change_id": change_id,
    });
    let parties: Vec<&str> = [&ctx.creditor_org_id, &ctx.debtor_org_id, &ctx.financier_org_id]
        .into_iter()
        .filter_map(|o| o.as_deref())
        .collect();
    crate::log::append(tx, crate::log::LeafKind::CollectionAccount, &row.invoice_id, &parties, &entry, row.bound_at_ms)
        .await?;
    Ok(())
}

fn stale() -> AppError {
    AppError::conflict(
        "change_stale",
        "The repayment account changed after this request was made; make a new request",
        "回款账户在本申请提出后已发生变化；请重新提出变更申请",
    )
}

/// Consents to a pending change on behalf of the caller's organisation, which must be one whose consent
/// it needs. The last consent applies it.
pub async fn consent(app: &App, actor: &Actor, invoice_id: &str, change_id: &str) -> AppResult<Change> {
    let action = "collection_account.consent";
    let applied = audit::run(app, actor, Permission::ManageCollectionAccount, action, OBJECT, invoice_id, async {
        let mut tx = app.db.begin_write().await?;
        let ctx = context(&mut tx, actor, invoice_id).await?;
        let change = store::get_change(&mut tx, invoice_id, change_id, true).await.map_err(change_not_found)?;
        if change.status != ChangeStatus::Pending.code() {
            return Err(change_closed(&change.status));
        }
        let required = ctx.required().unwrap_or_default();
        if !required.contains(&actor.org_id) {
            return Err(not_required());
        }
        let given = store::consents(&mut tx, change_id).await?;
        if given.iter().any(|c| c.org_id == actor.org_id) {
            return Err(already_consented());
        }
        let row = ConsentRow {
            change_id: change_id.to_string(),
            org_id: actor.org_id.clone(),
            consented_by: actor.trail_name(),
            consented_at_ms: now_ms(),
        };
        store::insert_consent(&mut tx, &row).await.map_err(|e| match e {
            StoreError::Conflict { .. } => already_consented(),
            other => other.into(),
        })?;
        let detail = format!("consented to change {change_id} as {}", ctx.relation.code());
        audit_store::insert(&mut tx, &audit::record(actor, action, OBJECT, invoice_id, "ok", &detail)).await?;
        let applied = apply_if_complete(app, &mut tx, actor, &ctx, change_id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(applied.then_some(ctx.invoice))
    })
    .await?;
    if let Some(invoice) = applied {
        reverify(app, &invoice).await;
    }
    let mut conn = app.db.acquire().await?;
    let ctx = context(&mut conn, actor, invoice_id).await?;
    load_change(&mut conn, &ctx, change_id).await
}

fn not_required() -> AppError {
    AppError::new(
        crate::ErrorKind::Forbidden,
        "consent_not_required",
        "Your organisation's consent is not among those this change needs (the creditor, the debtor and the financing bank)",
        "本变更无需贵机构同意（需同意方为债权人、债务人及融资银行）",
    )
}

fn already_consented() -> AppError {
    AppError::conflict(
        "already_consented",
        "Your organisation has already consented to this change",
        "贵机构已同意过该变更申请",
    )
}

/// Withdraws a pending change (its proposer's organisation only).
pub async fn withdraw(app: &App, actor: &Actor, invoice_id: &str, change_id: &str) -> AppResult<Change> {
    close(app, actor, invoice_id, change_id, ChangeStatus::Withdrawn, None).await
}

/// Declines a pending change on behalf of a required organisation other than the proposer's (which
/// withdraws instead): the change is refused and the account stays as it is.
pub async fn decline(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
    change_id: &str,
    reason: Option<&str>,
) -> AppResult<Change> {
    close(app, actor, invoice_id, change_id, ChangeStatus::Refused, reason).await
}

async fn close(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
    change_id: &str,
    to: ChangeStatus,
    reason: Option<&str>,
) -> AppResult<Change> {
    let action =
        if to == ChangeStatus::Withdrawn { "collection_account.withdraw" } else { "collection_account.decline" };
    audit::run(app, actor, Permission::ManageCollectionAccount, action, OBJECT, invoice_id, async {
        let mut tx = app.db.begin_write().await?;
        let ctx = context(&mut tx, actor, invoice_id).await?;
        let change = store::get_change(&mut tx, invoice_id, change_id, true).await.map_err(change_not_found)?;
        if change.status != ChangeStatus::Pending.code() {
            return Err(change_closed(&change.status));
        }
        let proposer = change.proposed_by_org_id == actor.org_id;
        if to == ChangeStatus::Withdrawn && !proposer {
            return Err(AppError::forbidden(
                "Only the organisation that proposed the change may withdraw it; the other parties may decline it",
                "仅提出变更的机构可以撤回申请；其他各方可以拒绝",
            ));
        }
        if to == ChangeStatus::Refused {
            if proposer {
                return Err(AppError::invalid(
                    "change_id",
                    "proposer_declines",
                    "Your organisation proposed this change: withdraw it instead of declining",
                    "该变更由贵机构提出：请撤回，而非拒绝",
                ));
            }
            if !ctx.required().unwrap_or_default().contains(&actor.org_id) {
                return Err(not_required());
            }
        }
        let reason = reason_text(reason)?;
        let reason = (!reason.is_empty()).then_some(reason);
        if !store::close_change(
            &mut tx,
            change_id,
            to.code(),
            &actor.org_id,
            &actor.trail_name(),
            now_ms(),
            reason.as_deref(),
        )
        .await?
        {
            return Err(change_closed("closed"));
        }
        let detail = format!("change {change_id} {}", to.code());
        audit_store::insert(&mut tx, &audit::record(actor, action, OBJECT, invoice_id, "ok", &detail)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        load_change(&mut *app.db.acquire().await?, &ctx, change_id).await
    })
    .await
}
