//! Fixed repayment accounts and the requests to change them (migration 0009). Account numbers arrive
//! here already sealed; this module never sees one in the clear.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, map_write};

/// Change requests listed per receivable (the newest first); a receivable's account changes rarely.
pub const CHANGES_LISTED_MAX: i64 = 100;

/// The invoice record a receivable stands on, with its parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub doc_no: String,
    pub buyer_uscc: String,
    pub seller_uscc: String,
    pub invoice_kind: Option<String>,
}

/// The invoice record `id`, whoever's it is (the app decides who may see it).
pub async fn invoice(conn: &mut Conn, id: &str) -> Result<Option<Invoice>> {
    let row = sqlx::query(
        "SELECT id, doc_no, buyer_uscc, seller_uscc, invoice_kind FROM trade_record \
         WHERE id = $1 AND record_type = 'invoice'",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Invoice {
            id: r.try_get(0)?,
            doc_no: r.try_get(1)?,
            buyer_uscc: r.try_get(2)?,
            seller_uscc: r.try_get(3)?,
            invoice_kind: r.try_get(4)?,
        })
    })
    .transpose()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub invoice_id: String,
    pub creditor_org_id: String,
    pub account_sealed: String,
    pub account_sm3: String,
    pub account_last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub bound_by_org_id: String,
    pub bound_by: String,
    pub bound_at_ms: i64,
    pub version: i64,
}

const ACCOUNT_COLUMNS: &str = "invoice_id, creditor_org_id, account_sealed, account_sm3, account_last4, bank_name, \
    holder_name, bound_by_org_id, bound_by, bound_at_ms, version";

fn account_of(r: &AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        invoice_id: r.try_get("invoice_id")?,
        creditor_org_id: r.try_get("creditor_org_id")?,
        account_sealed: r.try_get("account_sealed")?,
        account_sm3: r.try_get("account_sm3")?,
        account_last4: r.try_get("account_last4")?,
        bank_name: r.try_get("bank_name")?,
        holder_name: r.try_get("holder_name")?,
        bound_by_org_id: r.try_get("bound_by_org_id")?,
        bound_by: r.try_get("bound_by")?,
        bound_at_ms: r.try_get("bound_at_ms")?,
        version: r.try_get("version")?,
    })
}

/// The account bound to a receivable; `locked` takes the row lock on PostgreSQL (inside a write transaction).
pub async fn get(conn: &mut Conn, invoice_id: &str, locked: bool) -> Result<Option<AccountRow>> {
    let lock = crate::dialect::lock_if(conn, locked);
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM collection_account WHERE invoice_id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(invoice_id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(account_of).transpose()
}

/// Binds the first account; `Conflict` when the receivable already has one.
pub async fn insert(conn: &mut Conn, a: &AccountRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO collection_account (invoice_id, creditor_org_id, account_sealed, account_sm3, account_last4, \
         bank_name, holder_name, bound_by_org_id, bound_by, bound_at_ms, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.invoice_id.clone())
    .bind(a.creditor_org_id.clone())
    .bind(a.account_sealed.clone())
    .bind(a.account_sm3.clone())
    .bind(a.account_last4.clone())
    .bind(a.bank_name.clone())
    .bind(a.holder_name.clone())
    .bind(a.bound_by_org_id.clone())
    .bind(a.bound_by.clone())
    .bind(a.bound_at_ms)
    .bind(a.version)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Replaces the account with `a` (whose `version` is the new one) only if the stored version is still
/// `a.version - 1`; answers whether it did.
pub async fn replace(conn: &mut Conn, a: &AccountRow) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE collection_account SET account_sealed = $1, account_sm3 = $2, account_last4 = $3, bank_name = $4, \
         holder_name = $5, bound_by_org_id = $6, bound_by = $7, bound_at_ms = $8, version = $9 \
         WHERE invoice_id = $10 AND version = $11",
    )
    .bind(a.account_sealed.clone())
    .bind(a.account_sm3.clone())
    .bind(a.account_last4.clone())
    .bind(a.bank_name.clone())
    .bind(a.holder_name.clone())
    .bind(a.bound_by_org_id.clone())
    .bind(a.bound_by.clone())
    .bind(a.bound_at_ms)
    .bind(a.version)
    .bind(a.invoice_id.clone())
    .bind(a.version - 1)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// The fixed accounts of one buyer–seller pair's invoices: (invoice record id, account digest), for
/// four-flow verification. Driven from the seller's fixed accounts (index `collection_account_creditor`),
/// so a pair with tens of thousands of records and no fixed account costs one index probe, instead of a
/// second pass over the records that verification has just read.
pub async fn fixed_accounts_of_pair(
    conn: &mut Conn,
    buyer_uscc: &str,
    seller_uscc: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        // Driven from the creditor's (few) fixed accounts, never from the pair's (many) trade records.
        "SELECT c.invoice_id, c.account_sm3 FROM organisation o \
         JOIN collection_account c ON c.creditor_org_id = o.id JOIN trade_record t ON t.id = c.invoice_id \
         WHERE o.uscc = $2 AND t.buyer_uscc = $1 AND t.record_type = 'invoice'",
    )
    .bind(buyer_uscc.to_string())
    .bind(seller_uscc.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub id: String,
    pub invoice_id: String,
    pub base_version: i64,
    pub account_sealed: String,
    pub account_sm3: String,
    pub account_last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub reason: String,
    pub proposed_by_org_id: String,
    pub proposed_by: String,
    pub proposed_at_ms: i64,
    pub status: String,
    /// Sorted organisation ids, comma-joined as stored.
    pub required_org_ids: String,
    pub closed_by_org_id: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at_ms: Option<i64>,
    pub close_reason: Option<String>,
}

const CHANGE_COLUMNS: &str = "id, invoice_id, base_version, account_sealed, account_sm3, account_last4, bank_name, \
    holder_name, reason, proposed_by_org_id, proposed_by, proposed_at_ms, status, required_org_ids, \
    closed_by_org_id, closed_by, closed_at_ms, close_reason";

fn change_of(r: &AnyRow) -> Result<ChangeRow> {
    Ok(ChangeRow {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        base_version: r.try_get("base_version")?,
        account_sealed: r.try_get("account_sealed")?,
        account_sm3: r.try_get("account_sm3")?,
        account_last4: r.try_get("account_last4")?,
        bank_name: r.try_get("bank_name")?,
        holder_name: r.try_get("holder_name")?,
        reason: r.try_get("reason")?,
        proposed_by_org_id: r.try_get("proposed_by_org_id")?,
        proposed_by: r.try_get("proposed_by")?,
        proposed_at_ms: r.try_get("proposed_at_ms")?,
        status: r.try_get("status")?,
        required_org_ids: r.try_get("required_org_ids")?,
        closed_by_org_id: r.try_get("closed_by_org_id")?,
        closed_by: r.try_get("closed_by")?,
        closed_at_ms: r.try_get("closed_at_ms")?,
        close_reason: r.try_get("close_reason")?,
    })
}

/// Records a new pending change; `Conflict` when the receivable already has a pending one.
pub async fn insert_change(conn: &mut Conn, c: &ChangeRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO collection_account_change (id, invoice_id, base_version, account_sealed, account_sm3, \
         account_last4, bank_name, holder_name, reason, proposed_by_org_id, proposed_by, proposed_at_ms, status, \
         required_org_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(c.id.clone())
    .bind(c.invoice_id.clone())
    .bind(c.base_version)
    .bind(c.account_sealed.clone())
    .bind(c.account_sm3.clone())
    .bind(c.account_last4.clone())
    .bind(c.bank_name.clone())
    .bind(c.holder_name.clone())
    .bind(c.reason.clone())
    .bind(c.proposed_by_org_id.clone())
    .bind(c.proposed_by.clone())
    .bind(c.proposed_at_ms)
    .bind(c.status.clone())
    .bind(c.required_org_ids.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// One change of one receivable; `locked` as for [`get`].
pub async fn get_change(conn: &mut Conn, invoice_id: &str, change_id: &str, locked: bool) -> Result<ChangeRow> {
    let lock = crate::dialect::lock_if(conn, locked);
    let sql = format!("SELECT {CHANGE_COLUMNS} FROM collection_account_change WHERE id = $1 AND invoice_id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(change_id.to_string())
        .bind(invoice_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(change_of).transpose()?.ok_or(StoreError::NotFound)
}

/// A receivable's changes, newest first.
pub async fn list_changes(conn: &mut Conn, invoice_id: &str) -> Result<Vec<ChangeRow>> {
    let sql = format!(
        "SELECT {CHANGE_COLUMNS} FROM collection_account_change WHERE invoice_id = $1 \
         ORDER BY proposed_at_ms DESC, id DESC LIMIT {CHANGES_LISTED_MAX}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(invoice_id.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(change_of).collect()
}

/// Closes a pending change as `status`; answers whether it was still pending.
pub async fn close_change(
    conn: &mut Conn,
    change_id: &str,
    status: &str,
    by_org_id: &str,
    by: &str,
    at_ms: i64,
    reason: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE collection_account_change SET status = $1, closed_by_org_id = $2, closed_by = $3, closed_at_ms = $4, \
         close_reason = $5 WHERE id = $6 AND status = 'pending'",
    )
    .bind(status.to_string())
    .bind(by_org_id.to_string())
    .bind(by.to_string())
    .bind(at_ms)
    .bind(reason.map(str::to_string))
    .bind(change_id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub change_id: String,
    pub org_id: String,
    pub consented_by: String,
    pub consented_at_ms: i64,
}

/// Records one organisation's consent; `Conflict` when it already consented.
pub async fn insert_consent(conn: &mut Conn, c: &ConsentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO collection_account_consent (change_id, org_id, consented_by, consented_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(c.change_id.clone())
    .bind(c.org_id.clone())
    .bind(c.consented_by.clone())
    .bind(c.consented_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// The consents given to a change, in the order given.
pub async fn consents(conn: &mut Conn, change_id: &str) -> Result<Vec<ConsentRow>> {
    let rows = sqlx::query(
        "SELECT change_id, org_id, consented_by, consented_at_ms FROM collection_account_consent \
         WHERE change_id = $1 ORDER BY consented_at_ms, org_id",
    )
    .bind(change_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ConsentRow {
                change_id: r.try_get(0)?,
                org_id: r.try_get(1)?,
                consented_by: r.try_get(2)?,
                consented_at_ms: r.try_get(3)?,
            })
        })
        .collect()
}
