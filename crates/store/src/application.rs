//! Financing applications, their per-bank offers and the claims on their receivables (migration 0015).
//! An offer moves between states only by a conditional update from the state it was read in, so two
//! officers acting at once cannot both decide it.

use lianrong_domain::application::{ApplicationState, Finding, OfferState, Subject};
use lianrong_domain::page::{Page, PageRequest};
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, decode, decode_json, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: String,
    pub applicant_org_id: String,
    pub subject: Subject,
    pub invoice_ids: Vec<String>,
    pub commitment_id: Option<String>,
    pub part_id: Option<String>,
    pub order_id: Option<String>,
    pub amount_fen: i64,
    pub term_days: i64,
    pub purpose: String,
    pub chain_id: Option<String>,
    pub tier: Option<i64>,
    pub state: ApplicationState,
    pub created_by: String,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "id, applicant_org_id, subject, invoice_ids, commitment_id, part_id, order_id, amount_fen, \
    term_days, purpose, chain_id, tier, state, created_by, created_at_ms";

fn application_row(r: &AnyRow) -> Result<ApplicationRow> {
    let ids: String = r.try_get("invoice_ids")?;
    Ok(ApplicationRow {
        id: r.try_get("id")?,
        applicant_org_id: r.try_get("applicant_org_id")?,
        subject: decode("application.subject", r.try_get("subject")?, Subject::parse)?,
        invoice_ids: serde_json::from_str(&ids)
            .map_err(|_| StoreError::Corrupt { column: "application.invoice_ids", value: ids.clone() })?,
        commitment_id: r.try_get("commitment_id")?,
        part_id: r.try_get("part_id")?,
        order_id: r.try_get("order_id")?,
        amount_fen: r.try_get("amount_fen")?,
        term_days: r.try_get("term_days")?,
        purpose: r.try_get("purpose")?,
        chain_id: r.try_get("chain_id")?,
        tier: r.try_get("tier")?,
        state: decode("application.state", r.try_get("state")?, ApplicationState::parse)?,
        created_by: r.try_get("created_by")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, a: &ApplicationRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO application ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )))
    .bind(a.id.clone())
    .bind(a.applicant_org_id.clone())
    .bind(a.subject.code())
    .bind(serde_json::to_string(&a.invoice_ids).unwrap_or_else(|_| "[]".into()))
    .bind(a.commitment_id.clone())
    .bind(a.part_id.clone())
    .bind(a.order_id.clone())
    .bind(a.amount_fen)
    .bind(a.term_days)
    .bind(a.purpose.clone())
    .bind(a.chain_id.clone())
    .bind(a.tier)
    .bind(a.state.code())
    .bind(a.created_by.clone())
    .bind(a.created_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<ApplicationRow> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM application WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(application_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn set_state(conn: &mut Conn, id: &str, state: ApplicationState) -> Result<()> {
    sqlx::query("UPDATE application SET state = $1 WHERE id = $2")
        .bind(state.code())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Claims each trade record (invoice or order) for this application; one already claimed by an open
/// application is a `Conflict`.
pub async fn claim(conn: &mut Conn, application_id: &str, record_ids: &[String]) -> Result<()> {
    for id in record_ids {
        sqlx::query("INSERT INTO application_claim (record_id, application_id) VALUES ($1, $2)")
            .bind(id.clone())
            .bind(application_id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(map_write)?;
    }
    Ok(())
}

/// Frees an application's claims (it was withdrawn, refused everywhere, or its loan was repaid).
pub async fn release_claims(conn: &mut Conn, application_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM application_claim WHERE application_id = $1")
        .bind(application_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The open application claiming a trade record, if any.
pub async fn claimant(conn: &mut Conn, record_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT application_id FROM application_claim WHERE record_id = $1")
        .bind(record_id.to_string())
        .fetch_optional(&mut *conn)
        .await?)
}

// ---------------------------------------------------------------------------------------------------
// Offers

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRow {
    pub id: String,
    pub application_id: String,
    pub bank_org_id: String,
    pub product_id: String,
    pub consent_id: Option<String>,
    pub state: OfferState,
    /// What the pre-check found.
    pub findings: Vec<Finding>,
    pub submitted_at_ms: i64,
    pub approved_amount_fen: Option<i64>,
    pub rate_bp: Option<i64>,
    pub reason: Option<String>,
    pub first_approver: Option<String>,
    /// The user accounts that approved: four eyes compares people by account, never by login text.
    pub first_approver_user_id: Option<String>,
    pub first_approved_at_ms: Option<i64>,
    pub second_approver: Option<String>,
    pub second_approver_user_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub service_working_days: Option<i64>,
}

/// Findings as stored JSON: each with its code, whether it blocks, and both languages' messages.
pub fn findings_json(findings: &[Finding]) -> Value {
    Value::Array(
        findings.iter().map(|f| json!({"code": f.code, "blocking": f.blocking, "zh": f.zh, "en": f.en})).collect(),
    )
}

fn findings_from_json(v: &Value) -> Option<Vec<Finding>> {
    v.as_array()?
        .iter()
        .map(|f| {
            Some(Finding {
                code: f.get("code")?.as_str()?.to_string(),
                blocking: f.get("blocking")?.as_bool()?,
                zh: f.get("zh")?.as_str()?.to_string(),
                en: f.get("en")?.as_str()?.to_string(),
            })
        })
        .collect()
}

const OFFER_COLUMNS: &str = "id, application_id, bank_org_id, product_id, consent_id, state, findings, \
    submitted_at_ms, approved_amount_fen, rate_bp, reason, first_approver, first_approved_at_ms, second_approver, \
    decided_by, decided_at_ms, service_working_days, first_approver_user_id, second_approver_user_id";

fn offer_row(r: &AnyRow) -> Result<OfferRow> {
    Ok(OfferRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        product_id: r.try_get("product_id")?,
        consent_id: r.try_get("consent_id")?,
        state: decode("application_offer.state", r.try_get("state")?, OfferState::parse)?,
        findings: decode_json("application_offer.findings", r.try_get("findings")?, findings_from_json)?,
        submitted_at_ms: r.try_get("submitted_at_ms")?,
        approved_amount_fen: r.try_get("approved_amount_fen")?,
        rate_bp: r.try_get("rate_bp")?,
        reason: r.try_get("reason")?,
        first_approver: r.try_get("first_approver")?,
        first_approved_at_ms: r.try_get("first_approved_at_ms")?,
        second_approver: r.try_get("second_approver")?,
        decided_by: r.try_get("decided_by")?,
        decided_at_ms: r.try_get("decided_at_ms")?,
        service_working_days: r.try_get("service_working_days")?,
        first_approver_user_id: r.try_get("first_approver_user_id")?,
        second_approver_user_id: r.try_get("second_approver_user_id")?,
    })
}

pub async fn insert_offer(conn: &mut Conn, o: &OfferRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO application_offer ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18, $19)"
    )))
    .bind(o.id.clone())
    .bind(o.application_id.clone())
    .bind(o.bank_org_id.clone())
    .bind(o.product_id.clone())
    .bind(o.consent_id.clone())
    .bind(o.state.code())
    .bind(findings_json(&o.findings).to_string())
    .bind(o.submitted_at_ms)
    .bind(o.approved_amount_fen)
    .bind(o.rate_bp)
    .bind(o.reason.clone())
    .bind(o.first_approver.clone())
    .bind(o.first_approved_at_ms)
    .bind(o.second_approver.clone())
    .bind(o.decided_by.clone())
    .bind(o.decided_at_ms)
    .bind(o.service_working_days)
    .bind(o.first_approver_user_id.clone())
    .bind(o.second_approver_user_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Writes an offer's decision fields, only if it is still in `from` (false: someone else acted first).
pub async fn update_offer(conn: &mut Conn, o: &OfferRow, from: OfferState) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE application_offer SET state = $1, approved_amount_fen = $2, rate_bp = $3, reason = $4, \
         first_approver = $5, first_approved_at_ms = $6, second_approver = $7, decided_by = $8, decided_at_ms = $9, \
         service_working_days = $10, first_approver_user_id = $13, second_approver_user_id = $14 \
         WHERE id = $11 AND state = $12",
    )
    .bind(o.state.code())
    .bind(o.approved_amount_fen)
    .bind(o.rate_bp)
    .bind(o.reason.clone())
    .bind(o.first_approver.clone())
    .bind(o.first_approved_at_ms)
    .bind(o.second_approver.clone())
    .bind(o.decided_by.clone())
    .bind(o.decided_at_ms)
    .bind(o.service_working_days)
    .bind(o.id.clone())
    .bind(from.code())
    .bind(o.first_approver_user_id.clone())
    .bind(o.second_approver_user_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

pub async fn offers(conn: &mut Conn, application_id: &str) -> Result<Vec<OfferRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {OFFER_COLUMNS} FROM application_offer WHERE application_id = $1 ORDER BY submitted_at_ms, id"
    )))
    .bind(application_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(offer_row).collect()
}

pub async fn offer(conn: &mut Conn, id: &str) -> Result<OfferRow> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {OFFER_COLUMNS} FROM application_offer WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(offer_row).transpose()?.ok_or(StoreError::NotFound)
}

/// Closes the other open offers of an application once one is disbursed.
pub async fn close_other_offers(conn: &mut Conn, application_id: &str, keep_offer_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE application_offer SET state = 'closed' WHERE application_id = $1 AND id <> $2 \
         AND state IN ('pending_review', 'awaiting_second', 'approved')",
    )
    .bind(application_id.to_string())
    .bind(keep_offer_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An application as one party sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationScope {
    All,
    /// The applicant sees its applications; a bank those with an offer to it.
    Party {
        org_id: String,
    },
}

fn scope_binds(scope: &ApplicationScope) -> (i64, String) {
    match scope {
        ApplicationScope::All => (1, String::new()),
        ApplicationScope::Party { org_id } => (0, org_id.clone()),
    }
}

const VISIBLE: &str = "($1 = 1 OR a.applicant_org_id = $2 OR EXISTS (SELECT 1 FROM application_offer o \
    WHERE o.application_id = a.id AND o.bank_org_id = $2))";

fn prefixed() -> String {
    COLUMNS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

pub async fn get_scoped(conn: &mut Conn, scope: &ApplicationScope, id: &str) -> Result<ApplicationRow> {
    let (all, org) = scope_binds(scope);
    let row =
        sqlx::query(AssertSqlSafe(format!("SELECT {} FROM application a WHERE {VISIBLE} AND a.id = $3", prefixed())))
            .bind(all)
            .bind(org)
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(application_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn list(conn: &mut Conn, scope: &ApplicationScope, page: PageRequest) -> Result<Page<ApplicationRow>> {
    let (all, org) = scope_binds(scope);
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM application a WHERE {VISIBLE}")))
        .bind(all)
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM application a WHERE {VISIBLE} ORDER BY a.created_at_ms DESC, a.id LIMIT $3 OFFSET $4",
        prefixed()
    )))
    .bind(all)
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(application_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Decided offers of one bank (or every bank): (bank org id, working days to decide).
pub async fn service_times(conn: &mut Conn, bank_org_id: Option<&str>) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT bank_org_id, service_working_days FROM application_offer WHERE service_working_days IS NOT NULL \
         AND ($1 = '' OR bank_org_id = $1) ORDER BY bank_org_id",
    )
    .bind(bank_org_id.unwrap_or("").to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

// ---------------------------------------------------------------------------------------------------
// Home pages: a bank's queue, an applicant's applications with banks, the claims on a page of invoices

/// Waiting offers a queue shows at most, the oldest first: a home page lists and draws what to do next
/// (twenty rows still read at a glance), and the count of all that wait comes with it.
pub const QUEUE_SHOWN_MAX: i64 = 20;

/// An offer waiting for its bank's decision, with what its application asks and who asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub offer_id: String,
    pub application_id: String,
    pub bank_org_id: String,
    pub state: OfferState,
    pub submitted_at_ms: i64,
    pub applicant_org_id: String,
    pub applicant_name: String,
    pub subject: Subject,
    pub amount_fen: i64,
}

/// Offers waiting for a decision (review, or the second approver) at one bank, or at every bank when
/// `bank_org_id` is `None`: at most [`QUEUE_SHOWN_MAX`] of them, the longest waiting first, and how many
/// wait in all.
pub async fn queue(conn: &mut Conn, bank_org_id: Option<&str>) -> Result<(Vec<QueueRow>, i64)> {
    const WAITING: &str = "o.state IN ('pending_review', 'awaiting_second') AND ($1 = '' OR o.bank_org_id = $1)";
    let bank = bank_org_id.unwrap_or("").to_string();
    let total: i64 =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM application_offer o WHERE {WAITING}")))
            .bind(bank.clone())
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT o.id AS offer_id, o.application_id, o.bank_org_id, o.state, o.submitted_at_ms, a.applicant_org_id, \
         g.name AS applicant_name, a.subject, a.amount_fen FROM application_offer o \
         JOIN application a ON a.id = o.application_id JOIN organisation g ON g.id = a.applicant_org_id \
         WHERE {WAITING} ORDER BY o.submitted_at_ms, o.id LIMIT $2"
    )))
    .bind(bank)
    .bind(QUEUE_SHOWN_MAX)
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(queue_row).collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

fn queue_row(r: &AnyRow) -> Result<QueueRow> {
    Ok(QueueRow {
        offer_id: r.try_get("offer_id")?,
        application_id: r.try_get("application_id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        state: decode("application_offer.state", r.try_get("state")?, OfferState::parse)?,
        submitted_at_ms: r.try_get("submitted_at_ms")?,
        applicant_org_id: r.try_get("applicant_org_id")?,
        applicant_name: r.try_get("applicant_name")?,
        subject: decode("application.subject", r.try_get("subject")?, Subject::parse)?,
        amount_fen: r.try_get("amount_fen")?,
    })
}

/// One applicant's applications that a bank still has to decide or pay out (an offer pending review,
/// awaiting its second approver, or approved): how many, and the fen they ask for.
pub async fn with_banks(conn: &mut Conn, applicant_org_id: &str) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(a.amount_fen), 0) AS BIGINT) AS asked FROM application a \
         WHERE a.applicant_org_id = $1 AND EXISTS (SELECT 1 FROM application_offer o WHERE o.application_id = a.id \
         AND o.state IN ('pending_review', 'awaiting_second', 'approved'))",
    )
    .bind(applicant_org_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("asked")?))
}

/// Which of these trade records an open application claims.
pub async fn claimed(conn: &mut Conn, record_ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    // Bounded IN lists keep each statement small on both databases.
    for chunk in record_ids.chunks(200) {
        let sql = format!(
            "SELECT record_id FROM application_claim WHERE record_id IN {}",
            crate::dialect::placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
