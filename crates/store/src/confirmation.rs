//! Debtor confirmation requests and the organisations' SM2 signing keys (migration 0007). Every read
//! names the organisation asking, as creditor or debtor, unless the caller is the operator or regulator
//! (`ConfirmationScope::All`).

use jiff::civil::Date;
use lianrong_domain::confirmation::{ConfirmationKind, ConfirmationStatus, ConfirmationSubject, KeyHolder};
use lianrong_domain::page::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, decode, decode_opt_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgKeyRecord {
    pub org_id: String,
    /// SEC1 uncompressed point, hex.
    pub public_key_hex: String,
    pub held_by: KeyHolder,
    /// The private key sealed under the platform's field key; `None` when the organisation holds it.
    pub private_key_sealed: Option<String>,
    pub created_at_ms: i64,
    pub created_by: String,
}

pub async fn org_key(conn: &mut Conn, org_id: &str) -> Result<Option<OrgKeyRecord>> {
    let row = sqlx::query(
        "SELECT org_id, public_key_hex, held_by, private_key_sealed, created_at_ms, created_by FROM org_key \
         WHERE org_id = $1",
    )
    .bind(org_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(OrgKeyRecord {
            org_id: r.try_get("org_id")?,
            public_key_hex: r.try_get("public_key_hex")?,
            held_by: decode("org_key.held_by", r.try_get("held_by")?, KeyHolder::parse)?,
            private_key_sealed: r.try_get("private_key_sealed")?,
            created_at_ms: r.try_get("created_at_ms")?,
            created_by: r.try_get("created_by")?,
        })
    })
    .transpose()
}

/// Keeps the first key written for an organisation (two servers generating at once agree on one).
pub async fn insert_org_key_if_absent(conn: &mut Conn, k: &OrgKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_key (org_id, public_key_hex, held_by, private_key_sealed, created_at_ms, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(k.org_id.clone())
    .bind(k.public_key_hex.clone())
    .bind(k.held_by.code())
    .bind(k.private_key_sealed.clone())
    .bind(k.created_at_ms)
    .bind(k.created_by.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Replaces an organisation's key (it supplied its own, or went back to a platform-held one).
pub async fn replace_org_key(conn: &mut Conn, k: &OrgKeyRecord) -> Result<()> {
    sqlx::query("DELETE FROM org_key WHERE org_id = $1").bind(k.org_id.clone()).execute(&mut *conn).await?;
    insert_org_key_if_absent(conn, k).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationRecord {
    pub id: String,
    pub invoice_id: String,
    pub invoice_no: String,
    pub creditor_org_id: String,
    pub debtor_org_id: String,
    pub batch_id: String,
    pub kind: ConfirmationKind,
    pub subject: ConfirmationSubject,
    pub status: ConfirmationStatus,
    pub amount_fen: i64,
    pub due_date: Option<Date>,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub reason: Option<String>,
    /// The canonical JSON the debtor signed.
    pub statement: Option<String>,
    pub signature_hex: Option<String>,
    pub public_key_hex: Option<String>,
    pub log_leaf_id: Option<i64>,
    /// The record's content digest and invoice code when confirmation was asked (absent on requests
    /// made before confirmations named content).
    pub content_sm3: Option<String>,
    pub invoice_code: Option<String>,
}

const COLUMNS: &str = "id, invoice_id, invoice_no, creditor_org_id, debtor_org_id, batch_id, kind, subject, status, \
    amount_fen, \
    due_date, requested_by, requested_at_ms, decided_by, decided_at_ms, reason, statement, signature_hex, \
    public_key_hex, log_leaf_id, content_sm3, invoice_code";

fn from_row(r: &AnyRow) -> Result<ConfirmationRecord> {
    Ok(ConfirmationRecord {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        invoice_no: r.try_get("invoice_no")?,
        creditor_org_id: r.try_get("creditor_org_id")?,
        debtor_org_id: r.try_get("debtor_org_id")?,
        batch_id: r.try_get("batch_id")?,
        kind: decode("confirmation.kind", r.try_get("kind")?, ConfirmationKind::parse)?,
        subject: decode("confirmation.subject", r.try_get("subject")?, ConfirmationSubject::parse)?,
        status: decode("confirmation.status", r.try_get("status")?, ConfirmationStatus::parse)?,
        amount_fen: r.try_get("amount_fen")?,
        due_date: decode_opt_date("confirmation.due_date", r.try_get("due_date")?)?,
        requested_by: r.try_get("requested_by")?,
        requested_at_ms: r.try_get("requested_at_ms")?,
        decided_by: r.try_get("decided_by")?,
        decided_at_ms: r.try_get("decided_at_ms")?,
        reason: r.try_get("reason")?,
        statement: r.try_get("statement")?,
        signature_hex: r.try_get("signature_hex")?,
        public_key_hex: r.try_get("public_key_hex")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
        content_sm3: r.try_get("content_sm3")?,
        invoice_code: r.try_get("invoice_code")?,
    })
}

/// Inserts a request; a receivable already requested or confirmed is refused by the `confirmation_live`
/// unique index (`StoreError::Conflict`).
pub async fn insert(conn: &mut Conn, c: &ConfirmationRecord) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO confirmation ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22)"
    )))
    .bind(c.id.clone())
    .bind(c.invoice_id.clone())
    .bind(c.invoice_no.clone())
    .bind(c.creditor_org_id.clone())
    .bind(c.debtor_org_id.clone())
    .bind(c.batch_id.clone())
    .bind(c.kind.code())
    .bind(c.subject.code())
    .bind(c.status.code())
    .bind(c.amount_fen)
    .bind(c.due_date.map(|d| d.to_string()))
    .bind(c.requested_by.clone())
    .bind(c.requested_at_ms)
    .bind(c.decided_by.clone())
    .bind(c.decided_at_ms)
    .bind(c.reason.clone())
    .bind(c.statement.clone())
    .bind(c.signature_hex.clone())
    .bind(c.public_key_hex.clone())
    .bind(c.log_leaf_id)
    .bind(c.content_sm3.clone())
    .bind(c.invoice_code.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// A new version of a trade record supersedes the live confirmations of it (requested or confirmed):
/// what the debtor signed no longer describes the record, so the creditor asks again. Answers how many.
pub async fn supersede_for_record(conn: &mut Conn, record_id: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE confirmation SET status = 'superseded', reason = COALESCE(reason, $2) \
         WHERE invoice_id = $1 AND status IN ('requested', 'confirmed')",
    )
    .bind(record_id.to_string())
    .bind(SUPERSEDED_REASON)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected())
}

/// The reason recorded on a superseded confirmation.
pub const SUPERSEDED_REASON: &str = "单据已更新为新版本，须重新确权 the record changed; ask again";

/// The decision on a request, written only while it is still `requested` (so a request is decided once,
/// whatever the interleaving); answers whether this call decided it.
pub async fn decide(conn: &mut Conn, c: &ConfirmationRecord) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE confirmation SET status = $1, decided_by = $2, decided_at_ms = $3, reason = $4, statement = $5, \
         signature_hex = $6, public_key_hex = $7, log_leaf_id = $8 WHERE id = $9 AND status = 'requested'",
    )
    .bind(c.status.code())
    .bind(c.decided_by.clone())
    .bind(c.decided_at_ms)
    .bind(c.reason.clone())
    .bind(c.statement.clone())
    .bind(c.signature_hex.clone())
    .bind(c.public_key_hex.clone())
    .bind(c.log_leaf_id)
    .bind(c.id.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// Who may read confirmation requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmationScope {
    All,
    /// The requests where this organisation is the creditor or the debtor.
    Party {
        org_id: String,
    },
}

fn scope_binds(scope: &ConfirmationScope) -> (i64, String) {
    match scope {
        ConfirmationScope::All => (1, String::new()),
        ConfirmationScope::Party { org_id } => (0, org_id.clone()),
    }
}

pub async fn get(conn: &mut Conn, scope: &ConfirmationScope, id: &str) -> Result<ConfirmationRecord> {
    let (all, org) = scope_binds(scope);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM confirmation WHERE id = $1 AND ($2 = 1 OR creditor_org_id = $3 OR debtor_org_id = $3)"
    )))
    .bind(id.to_string())
    .bind(all)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// Which side of the requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Requests the organisation sent (it is the creditor).
    Sent,
    /// Requests the organisation received (it is the debtor).
    Received,
    Both,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfirmationFilter {
    pub status: Option<ConfirmationStatus>,
    pub batch_id: Option<String>,
}

pub async fn list(
    conn: &mut Conn,
    scope: &ConfirmationScope,
    role: Role,
    filter: &ConfirmationFilter,
    page: PageRequest,
) -> Result<Page<ConfirmationRecord>> {
    let (all, org) = scope_binds(scope);
    let side = match role {
        Role::Sent => "creditor_org_id = $2",
        Role::Received => "debtor_org_id = $2",
        Role::Both => "(creditor_org_id = $2 OR debtor_org_id = $2)",
    };
    let filter_sql = format!("($1 = 1 OR {side}) AND ($3 = '' OR status = $3) AND ($4 = '' OR batch_id = $4)");
    let status = filter.status.map(|s| s.code().to_string()).unwrap_or_default();
    let batch = filter.batch_id.clone().unwrap_or_default();
    let total: i64 = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM confirmation WHERE {filter_sql}")))
        .bind(all)
        .bind(org.clone())
        .bind(status.clone())
        .bind(batch.clone())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM confirmation WHERE {filter_sql} ORDER BY requested_at_ms DESC, id LIMIT $5 OFFSET $6"
    )))
    .bind(all)
    .bind(org)
    .bind(status)
    .bind(batch)
    .bind(i64::from(page.page_size))
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Every request about these invoices, oldest first (a receivable asked again after a rejection has
/// several).
pub async fn for_invoices(conn: &mut Conn, invoice_ids: &[String]) -> Result<Vec<ConfirmationRecord>> {
    let mut out = Vec::new();
    // Bounded IN lists keep each statement small on both databases.
    for chunk in invoice_ids.chunks(200) {
        let marks = crate::dialect::placeholders(conn, 1, chunk.len());
        let sql =
            format!("SELECT {COLUMNS} FROM confirmation WHERE invoice_id IN {marks} ORDER BY requested_at_ms, id");
        let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(from_row(&r)?);
        }
    }
    Ok(out)
}

/// The waits (decided − requested, in ms) of decided requests, for the time-to-confirm figures (a
/// debtor's unasked payables upload has no wait and is left out); with `debtor_org_id` only that
/// debtor's.
pub async fn decided_waits(conn: &mut Conn, debtor_org_id: Option<&str>) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT decided_at_ms - requested_at_ms FROM confirmation WHERE decided_at_ms IS NOT NULL \
         AND kind = 'request' AND status IN ('confirmed', 'rejected') AND ($1 = '' OR debtor_org_id = $1)",
    )
    .bind(debtor_org_id.unwrap_or("").to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

/// Requests still awaiting a decision, and the oldest one's request time; with `debtor_org_id` only
/// that debtor's.
pub async fn pending(conn: &mut Conn, debtor_org_id: Option<&str>) -> Result<(i64, Option<i64>)> {
    let row = sqlx::query(
        "SELECT COUNT(*), MIN(requested_at_ms) FROM confirmation WHERE status = 'requested' \
         AND ($1 = '' OR debtor_org_id = $1)",
    )
    .bind(debtor_org_id.unwrap_or("").to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Moves a request's time back, so the demo world's time-to-confirm figures look like a working week
/// rather than the milliseconds it takes to build them. Only the demo builder calls it, before the
/// request is decided (the decision's log leaf records the moved time).
pub async fn backdate_request_for_demo(conn: &mut Conn, id: &str, requested_at_ms: i64) -> Result<()> {
    sqlx::query("UPDATE confirmation SET requested_at_ms = $1 WHERE id = $2 AND status = 'requested'")
        .bind(requested_at_ms)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
