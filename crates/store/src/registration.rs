//! Registrations against double financing. The tables are described in migrations 0008 and 0010; the
//! invariant is that an invoice has at most one row in `registration_claim`, enforced by its primary
//! key, so two overlapping registrations can never both commit, whatever the timing.

use lianrong_domain::page::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, map_write};

/// The financier (bank) of the active registration that claims this invoice, if any: once a receivable
/// is financed, changing its repayment account needs that bank's consent too.
pub async fn active_financier(conn: &mut Conn, invoice_id: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT r.financier_org_id FROM registration_claim c JOIN registration r ON r.id = c.registration_id \
         WHERE c.invoice_id = $1 AND r.status = 'active' AND r.financier_org_id IS NOT NULL",
    )
    .bind(invoice_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<String>, _>(0)?,
        None => None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRow {
    pub id: String,
    pub reference: String,
    pub fingerprint: String,
    pub kind: String,
    pub creditor_org_id: String,
    pub creditor_uscc: String,
    pub debtor_uscc: String,
    pub financier_org_id: Option<String>,
    pub amount_fen: i64,
    pub due_date: Option<String>,
    /// Comma-joined invoice numbers, sorted.
    pub invoice_nos: String,
    pub status: String,
    pub term_months: i64,
    pub note: Option<String>,
    pub registered_by_org_id: String,
    pub registered_by: String,
    pub registered_at_ms: i64,
    pub released_at_ms: Option<i64>,
    pub released_by: Option<String>,
    /// Why it was released (the financier's reason, or its loan repaid).
    pub release_reason: Option<String>,
    pub log_leaf_id: Option<i64>,
    pub registry_certificate_no: Option<String>,
}

const COLUMNS: &str = "id, reference, fingerprint, kind, creditor_org_id, creditor_uscc, debtor_uscc, financier_org_id, \
    amount_fen, due_date, invoice_nos, status, term_months, note, registered_by_org_id, registered_by, registered_at_ms, \
    released_at_ms, released_by, log_leaf_id, registry_certificate_no, release_reason";

fn from_row(r: &AnyRow) -> Result<RegistrationRow> {
    Ok(RegistrationRow {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        fingerprint: r.try_get("fingerprint")?,
        kind: r.try_get("kind")?,
        creditor_org_id: r.try_get("creditor_org_id")?,
        creditor_uscc: r.try_get("creditor_uscc")?,
        debtor_uscc: r.try_get("debtor_uscc")?,
        financier_org_id: r.try_get("financier_org_id")?,
        amount_fen: r.try_get("amount_fen")?,
        due_date: r.try_get("due_date")?,
        invoice_nos: r.try_get("invoice_nos")?,
        status: r.try_get("status")?,
        term_months: r.try_get("term_months")?,
        note: r.try_get("note")?,
        registered_by_org_id: r.try_get("registered_by_org_id")?,
        registered_by: r.try_get("registered_by")?,
        registered_at_ms: r.try_get("registered_at_ms")?,
        released_at_ms: r.try_get("released_at_ms")?,
        released_by: r.try_get("released_by")?,
        release_reason: r.try_get("release_reason")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
        registry_certificate_no: r.try_get("registry_certificate_no")?,
    })
}

/// One invoice of a registration, as it stood when registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredInvoice {
    pub invoice_id: String,
    pub invoice_no: String,
    /// The claim key (creditor's credit code and invoice number).
    pub invoice_key: String,
    pub amount_fen: i64,
    pub due_date: Option<String>,
}

/// Which registrations a query may return.
#[derive(Debug, Clone)]
pub enum RegistrationScope {
    /// The operator and the regulator see every registration.
    All,
    /// An organisation sees those where it is the creditor, the debtor (by credit code) or the financier.
    Party { org_id: String, uscc: String },
}

fn scope_binds(scope: &RegistrationScope) -> (i64, String, String) {
    match scope {
        RegistrationScope::All => (1, String::new(), String::new()),
        RegistrationScope::Party { org_id, uscc } => (0, org_id.clone(), uscc.clone()),
    }
}

const SCOPE_FILTER: &str = "($1 = 1 OR creditor_org_id = $2 OR financier_org_id = $2 OR debtor_uscc = $3)";

/// Takes the next reference number of `year`. On PostgreSQL the year's row stays locked until the
/// caller's transaction ends, which serialises registrations (and so their claims) across processes.
pub async fn next_number(conn: &mut Conn, year: i64) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO registration_sequence (year, last_no) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last_no = registration_sequence.last_no + 1 RETURNING last_no",
    )
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Whether a write was refused because an invoice is already claimed.
pub fn is_claim_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { constraint } if constraint.contains("registration_claim"))
}

/// Inserts a registration, its invoices and its claims. An invoice claimed by another registration makes
/// the claim's insert fail with `Conflict` (see [`is_claim_conflict`]); the caller rolls back.
pub async fn insert(conn: &mut Conn, r: &RegistrationRow, invoices: &[RegisteredInvoice]) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO registration ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22)"
    )))
    .bind(r.id.clone())
    .bind(r.reference.clone())
    .bind(r.fingerprint.clone())
    .bind(r.kind.clone())
    .bind(r.creditor_org_id.clone())
    .bind(r.creditor_uscc.clone())
    .bind(r.debtor_uscc.clone())
    .bind(r.financier_org_id.clone())
    .bind(r.amount_fen)
    .bind(r.due_date.clone())
    .bind(r.invoice_nos.clone())
    .bind(r.status.clone())
    .bind(r.term_months)
    .bind(r.note.clone())
    .bind(r.registered_by_org_id.clone())
    .bind(r.registered_by.clone())
    .bind(r.registered_at_ms)
    .bind(r.released_at_ms)
    .bind(r.released_by.clone())
    .bind(r.log_leaf_id)
    .bind(r.registry_certificate_no.clone())
    .bind(r.release_reason.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    for i in invoices {
        sqlx::query(
            "INSERT INTO registration_invoice (registration_id, invoice_id, invoice_no, amount_fen, due_date) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.id.clone())
        .bind(i.invoice_id.clone())
        .bind(i.invoice_no.clone())
        .bind(i.amount_fen)
        .bind(i.due_date.clone())
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    }
    for i in invoices {
        sqlx::query("INSERT INTO registration_claim (invoice_key, invoice_id, registration_id) VALUES ($1, $2, $3)")
            .bind(i.invoice_key.clone())
            .bind(i.invoice_id.clone())
            .bind(r.id.clone())
            .execute(&mut *conn)
            .await
            .map_err(|e| match map_write(e) {
                // SQLite names no constraint, only the column ("UNIQUE constraint failed: registration_claim.invoice_key").
                StoreError::Conflict { constraint } if constraint.contains("invoice_key") => {
                    StoreError::Conflict { constraint: "registration_claim_pkey".into() }
                }
                other => other,
            })?;
    }
    Ok(())
}

pub async fn set_log_leaf_id(conn: &mut Conn, id: &str, log_leaf_id: u64) -> Result<()> {
    sqlx::query("UPDATE registration SET log_leaf_id = $1 WHERE id = $2")
        .bind(i64::try_from(log_leaf_id).unwrap_or(i64::MAX))
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The active registration claiming any of these invoice keys (the first registration a new, overlapping
/// one collides with).
pub async fn claimant(conn: &mut Conn, invoice_keys: &[String]) -> Result<Option<RegistrationRow>> {
    for key in invoice_keys {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM registration r JOIN registration_claim c ON c.registration_id = r.id \
             WHERE c.invoice_key = $1 AND r.status = 'active'",
            prefixed("r")
        )))
        .bind(key.clone())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            return Ok(Some(from_row(&r)?));
        }
    }
    Ok(None)
}

fn prefixed(alias: &str) -> String {
    COLUMNS.split(", ").map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// One registration, whoever's it is (the app decides who may see it).
pub async fn get(conn: &mut Conn, id: &str) -> Result<RegistrationRow> {
    let r = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM registration WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// One registration if the scope sees it.
pub async fn get_scoped(conn: &mut Conn, scope: &RegistrationScope, id: &str) -> Result<RegistrationRow> {
    let (all, org, uscc) = scope_binds(scope);
    let r = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM registration WHERE {SCOPE_FILTER} AND id = $4")))
        .bind(all)
        .bind(org)
        .bind(uscc)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// Registrations the scope sees, newest first; `status` filters when not empty.
pub async fn list(
    conn: &mut Conn,
    scope: &RegistrationScope,
    status: &str,
    page: PageRequest,
) -> Result<Page<RegistrationRow>> {
    let (all, org, uscc) = scope_binds(scope);
    let filter = format!("{SCOPE_FILTER} AND ($4 = '' OR status = $4)");
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM registration WHERE {filter}")))
        .bind(all)
        .bind(org.clone())
        .bind(uscc.clone())
        .bind(status.to_string())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registration WHERE {filter} ORDER BY registered_at_ms DESC, id DESC LIMIT $5 OFFSET $6"
    )))
    .bind(all)
    .bind(org)
    .bind(uscc)
    .bind(status.to_string())
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// The invoices of a registration, by invoice number.
pub async fn invoices(conn: &mut Conn, registration_id: &str) -> Result<Vec<RegisteredInvoice>> {
    let rows = sqlx::query(
        "SELECT i.invoice_id, i.invoice_no, i.amount_fen, i.due_date, r.creditor_uscc FROM registration_invoice i \
         JOIN registration r ON r.id = i.registration_id WHERE i.registration_id = $1 ORDER BY i.invoice_no",
    )
    .bind(registration_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let no: String = r.try_get("invoice_no")?;
            let creditor: String = r.try_get("creditor_uscc")?;
            Ok(RegisteredInvoice {
                invoice_id: r.try_get("invoice_id")?,
                invoice_key: lianrong_domain::registration::invoice_key(&creditor, &no),
                invoice_no: no,
                amount_fen: r.try_get("amount_fen")?,
                due_date: r.try_get("due_date")?,
            })
        })
        .collect()
}

/// Releases an active registration: its claims go, so its invoices may be registered again; the
/// registration stays as history. Answers false when it was not active (released meanwhile).
pub async fn release(conn: &mut Conn, id: &str, released_by: &str, reason: &str, at_ms: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE registration SET status = 'released', released_at_ms = $1, released_by = $2, release_reason = $4 \
         WHERE id = $3 AND status = 'active'",
    )
    .bind(at_ms)
    .bind(released_by.to_string())
    .bind(id.to_string())
    .bind(reason.to_string())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM registration_claim WHERE registration_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// The active registration that claims an invoice, if any.
pub async fn find_by_invoice(conn: &mut Conn, invoice_id: &str) -> Result<Option<RegistrationRow>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM registration r JOIN registration_claim c ON c.registration_id = r.id \
         WHERE c.invoice_id = $1 AND r.status = 'active'",
        prefixed("r")
    )))
    .bind(invoice_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records the national registry's certificate number (登记证明编号).
pub async fn set_certificate(conn: &mut Conn, id: &str, certificate_no: &str) -> Result<()> {
    sqlx::query("UPDATE registration SET registry_certificate_no = $1 WHERE id = $2")
        .bind(certificate_no.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

/// The facts of an invoice that registration needs: its number, parties and what is still owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub invoice_id: String,
    pub invoice_no: String,
    pub seller_uscc: String,
    pub buyer_uscc: String,
    pub status: String,
    pub outstanding_fen: i64,
    pub invoiced_fen: i64,
    pub due_date: Option<String>,
}

const FACTS: &str = "SELECT v.invoice_id, t.doc_no, v.seller_uscc, v.buyer_uscc, v.status, v.outstanding_fen, \
    v.invoiced_fen, v.due_date FROM verification v JOIN trade_record t ON t.id = v.invoice_id";

fn facts_row(r: &AnyRow) -> Result<InvoiceFacts> {
    Ok(InvoiceFacts {
        invoice_id: r.try_get(0)?,
        invoice_no: r.try_get(1)?,
        seller_uscc: r.try_get(2)?,
        buyer_uscc: r.try_get(3)?,
        status: r.try_get(4)?,
        outstanding_fen: r.try_get(5)?,
        invoiced_fen: r.try_get(6)?,
        due_date: r.try_get(7)?,
    })
}

/// An invoice's four-flow facts by its record id (`None` when it has no verdict: not a blue invoice).
pub async fn invoice_facts(conn: &mut Conn, invoice_id: &str) -> Result<Option<InvoiceFacts>> {
    let row = sqlx::query(AssertSqlSafe(format!("{FACTS} WHERE v.invoice_id = $1")))
        .bind(invoice_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(facts_row).transpose()
}

/// An invoice's four-flow facts by its parties and number (how an external platform names it).
pub async fn invoice_facts_by_number(
    conn: &mut Conn,
    seller_uscc: &str,
    buyer_uscc: &str,
    invoice_no: &str,
) -> Result<Option<InvoiceFacts>> {
    let row =
        sqlx::query(AssertSqlSafe(format!("{FACTS} WHERE v.seller_uscc = $1 AND v.buyer_uscc = $2 AND t.doc_no = $3")))
            .bind(seller_uscc.to_string())
            .bind(buyer_uscc.to_string())
            .bind(invoice_no.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(facts_row).transpose()
}

// ---------------------------------------------------------------------------------------------------
// Confirmations reported by external platforms

/// One receivable's result on an external platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalConfirmation {
    pub id: String,
    pub invoice_id: String,
    /// `crcrfsp` (中征应收账款融资服务平台).
    pub source: String,
    pub platform_reference: String,
    pub confirmed: bool,
    pub confirmed_date: String,
    pub amount_fen: Option<i64>,
    pub import_id: String,
    pub row_no: i64,
    pub imported_at_ms: i64,
    pub imported_by_org_id: String,
    /// The row as it stood in the file (cells joined by tabs).
    pub raw_row: String,
}

/// One import of a confirmation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationImport {
    pub id: String,
    pub source: String,
    pub org_id: String,
    pub file_name: String,
    pub file_sm3: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// JSON array of the refused rows: row number, field, code, messages and the raw row.
    pub issues_json: String,
    pub imported_by: String,
    pub imported_at_ms: i64,
}

pub async fn insert_import(conn: &mut Conn, i: &ConfirmationImport) -> Result<()> {
    sqlx::query(
        "INSERT INTO external_confirmation_import (id, source, org_id, file_name, file_sm3, rows_total, accepted, \
         rejected, issues_json, imported_by, imported_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(i.id.clone())
    .bind(i.source.clone())
    .bind(i.org_id.clone())
    .bind(i.file_name.clone())
    .bind(i.file_sm3.clone())
    .bind(i.rows_total)
    .bind(i.accepted)
    .bind(i.rejected)
    .bind(i.issues_json.clone())
    .bind(i.imported_by.clone())
    .bind(i.imported_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn insert_external_confirmation(conn: &mut Conn, c: &ExternalConfirmation) -> Result<()> {
    sqlx::query(
        "INSERT INTO external_confirmation (id, invoice_id, source, platform_reference, confirmed, confirmed_date, \
         amount_fen, import_id, row_no, imported_at_ms, imported_by_org_id, raw_row) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(c.id.clone())
    .bind(c.invoice_id.clone())
    .bind(c.source.clone())
    .bind(c.platform_reference.clone())
    .bind(i64::from(c.confirmed))
    .bind(c.confirmed_date.clone())
    .bind(c.amount_fen)
    .bind(c.import_id.clone())
    .bind(c.row_no)
    .bind(c.imported_at_ms)
    .bind(c.imported_by_org_id.clone())
    .bind(c.raw_row.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

const EXTERNAL_COLUMNS: &str = "id, invoice_id, source, platform_reference, confirmed, confirmed_date, amount_fen, \
    import_id, row_no, imported_at_ms, imported_by_org_id, raw_row";

fn external_row(r: &AnyRow) -> Result<ExternalConfirmation> {
    Ok(ExternalConfirmation {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        source: r.try_get("source")?,
        platform_reference: r.try_get("platform_reference")?,
        confirmed: r.try_get::<i64, _>("confirmed")? != 0,
        confirmed_date: r.try_get("confirmed_date")?,
        amount_fen: r.try_get("amount_fen")?,
        import_id: r.try_get("import_id")?,
        row_no: r.try_get("row_no")?,
        imported_at_ms: r.try_get("imported_at_ms")?,
        imported_by_org_id: r.try_get("imported_by_org_id")?,
        raw_row: r.try_get("raw_row")?,
    })
}

/// The current (latest imported) external result for an invoice, so the receivables view can show
/// "confirmed on 中征平台". The caller has already decided the reader may see the invoice.
pub async fn external_confirmation(conn: &mut Conn, invoice_id: &str) -> Result<Option<ExternalConfirmation>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {EXTERNAL_COLUMNS} FROM external_confirmation WHERE invoice_id = $1 \
         ORDER BY imported_at_ms DESC, id DESC LIMIT 1"
    )))
    .bind(invoice_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(external_row).transpose()
}

/// The current result of each of several invoices (a page of receivables); invoices without a result
/// are absent from the answer.
/// Sets aside the results imported for a record that has just changed: they describe the record as it
/// was (kept, with when they were set aside).
pub async fn set_aside_external_confirmations(conn: &mut Conn, record_id: &str, at_ms: i64) -> Result<()> {
    sqlx::query(
        "UPDATE external_confirmation SET superseded_at_ms = $2 WHERE invoice_id = $1 AND superseded_at_ms IS NULL",
    )
    .bind(record_id.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Results set aside because the record changed after them are left out.
pub async fn external_confirmations(conn: &mut Conn, invoice_ids: &[String]) -> Result<Vec<ExternalConfirmation>> {
    let mut out = Vec::new();
    for id in invoice_ids {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EXTERNAL_COLUMNS} FROM external_confirmation WHERE invoice_id = $1 AND superseded_at_ms IS NULL \
             ORDER BY imported_at_ms DESC, id DESC LIMIT 1"
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(c) = row.as_ref().map(external_row).transpose()? {
            out.push(c);
        }
    }
    Ok(out)
}

/// The confirmation imports of an organisation (all for `None`), newest first.
pub async fn list_imports(
    conn: &mut Conn,
    org_id: Option<&str>,
    page: PageRequest,
) -> Result<Page<ConfirmationImport>> {
    let org = org_id.unwrap_or("").to_string();
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM external_confirmation_import WHERE ($1 = '' OR org_id = $1)")
            .bind(org.clone())
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query(
        "SELECT id, source, org_id, file_name, file_sm3, rows_total, accepted, rejected, issues_json, imported_by, \
         imported_at_ms FROM external_confirmation_import WHERE ($1 = '' OR org_id = $1) \
         ORDER BY imported_at_ms DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(ConfirmationImport {
                id: r.try_get("id")?,
                source: r.try_get("source")?,
                org_id: r.try_get("org_id")?,
                file_name: r.try_get("file_name")?,
                file_sm3: r.try_get("file_sm3")?,
                rows_total: r.try_get("rows_total")?,
                accepted: r.try_get("accepted")?,
                rejected: r.try_get("rejected")?,
                issues_json: r.try_get("issues_json")?,
                imported_by: r.try_get("imported_by")?,
                imported_at_ms: r.try_get("imported_at_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// A creditor's invoices with money still owed, each with the reference of the active registration
/// claiming it (if any), by debtor and due date: what the console offers to register.
pub async fn registrable_invoices(
    conn: &mut Conn,
    seller_uscc: &str,
    limit: i64,
) -> Result<Vec<(InvoiceFacts, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT v.invoice_id, t.doc_no, v.seller_uscc, v.buyer_uscc, v.status, v.outstanding_fen, v.invoiced_fen, \
         v.due_date, r.reference FROM verification v JOIN trade_record t ON t.id = v.invoice_id \
         LEFT JOIN registration_claim c ON c.invoice_id = v.invoice_id \
         LEFT JOIN registration r ON r.id = c.registration_id \
         WHERE v.seller_uscc = $1 AND v.outstanding_fen > 0 AND v.status <> 'inconsistent' \
         ORDER BY v.buyer_uscc, v.due_date, t.doc_no LIMIT $2",
    )
    .bind(seller_uscc.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((facts_row(r)?, r.try_get::<Option<String>, _>(8)?))).collect()
}

/// The references of the active registrations claiming these invoices, as (invoice id, reference).
pub async fn active_references(conn: &mut Conn, invoice_ids: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    // Bounded IN lists keep each statement small on both databases.
    for chunk in invoice_ids.chunks(200) {
        let marks = crate::dialect::placeholders(conn, 1, chunk.len());
        let sql = format!(
            "SELECT c.invoice_id, r.reference FROM registration_claim c JOIN registration r ON r.id = c.registration_id \
             WHERE r.status = 'active' AND c.invoice_id IN {marks}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push((r.try_get(0)?, r.try_get(1)?));
        }
    }
    Ok(out)
}
