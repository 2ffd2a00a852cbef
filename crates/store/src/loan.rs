//! Loans and repayments (migration 0016). Repayments update the loan by adding to what was repaid, and
//! the CHECK keeps repaid principal within the principal; a payment reference counts once per loan.

use jiff::civil::Date;
use lianrong_domain::loan::LoanState;
use lianrong_domain::page::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, decode, decode_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanRow {
    pub id: String,
    pub offer_id: String,
    pub application_id: String,
    pub bank_org_id: String,
    pub borrower_org_id: String,
    pub product_id: String,
    pub principal_fen: i64,
    pub rate_bp: i64,
    pub fee_fen: i64,
    pub upfront_interest_fen: i64,
    pub advance_fen: i64,
    pub value_date: Date,
    pub maturity_date: Date,
    pub registration_id: Option<String>,
    pub credit_line_id: Option<String>,
    pub commitment_id: Option<String>,
    pub discount_transfer_id: Option<String>,
    pub repaid_principal_fen: i64,
    pub repaid_interest_fen: i64,
    pub state: LoanState,
    pub disbursed_by: String,
    pub disbursed_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub log_leaf_id: Option<i64>,
}

const COLUMNS: &str = "id, offer_id, application_id, bank_org_id, borrower_org_id, product_id, principal_fen, rate_bp, \
    fee_fen, upfront_interest_fen, advance_fen, value_date, maturity_date, registration_id, credit_line_id, \
    commitment_id, discount_transfer_id, repaid_principal_fen, repaid_interest_fen, state, disbursed_by, \
    disbursed_at_ms, closed_at_ms, log_leaf_id";

fn loan_row(r: &AnyRow) -> Result<LoanRow> {
    Ok(LoanRow {
        id: r.try_get("id")?,
        offer_id: r.try_get("offer_id")?,
        application_id: r.try_get("application_id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        borrower_org_id: r.try_get("borrower_org_id")?,
        product_id: r.try_get("product_id")?,
        principal_fen: r.try_get("principal_fen")?,
        rate_bp: r.try_get("rate_bp")?,
        fee_fen: r.try_get("fee_fen")?,
        upfront_interest_fen: r.try_get("upfront_interest_fen")?,
        advance_fen: r.try_get("advance_fen")?,
        value_date: decode_date("loan.value_date", r.try_get("value_date")?)?,
        maturity_date: decode_date("loan.maturity_date", r.try_get("maturity_date")?)?,
        registration_id: r.try_get("registration_id")?,
        credit_line_id: r.try_get("credit_line_id")?,
        commitment_id: r.try_get("commitment_id")?,
        discount_transfer_id: r.try_get("discount_transfer_id")?,
        repaid_principal_fen: r.try_get("repaid_principal_fen")?,
        repaid_interest_fen: r.try_get("repaid_interest_fen")?,
        state: decode("loan.state", r.try_get("state")?, LoanState::parse)?,
        disbursed_by: r.try_get("disbursed_by")?,
        disbursed_at_ms: r.try_get("disbursed_at_ms")?,
        closed_at_ms: r.try_get("closed_at_ms")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
    })
}

/// Records a loan; a second one on the same offer is a `Conflict` (a retried disbursement).
pub async fn insert(conn: &mut Conn, l: &LoanRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO loan ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24)"
    )))
    .bind(l.id.clone())
    .bind(l.offer_id.clone())
    .bind(l.application_id.clone())
    .bind(l.bank_org_id.clone())
    .bind(l.borrower_org_id.clone())
    .bind(l.product_id.clone())
    .bind(l.principal_fen)
    .bind(l.rate_bp)
    .bind(l.fee_fen)
    .bind(l.upfront_interest_fen)
    .bind(l.advance_fen)
    .bind(l.value_date.to_string())
    .bind(l.maturity_date.to_string())
    .bind(l.registration_id.clone())
    .bind(l.credit_line_id.clone())
    .bind(l.commitment_id.clone())
    .bind(l.discount_transfer_id.clone())
    .bind(l.repaid_principal_fen)
    .bind(l.repaid_interest_fen)
    .bind(l.state.code())
    .bind(l.disbursed_by.clone())
    .bind(l.disbursed_at_ms)
    .bind(l.closed_at_ms)
    .bind(l.log_leaf_id)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn set_log_leaf_id(conn: &mut Conn, id: &str, log_leaf_id: u64) -> Result<()> {
    sqlx::query("UPDATE loan SET log_leaf_id = $1 WHERE id = $2")
        .bind(log_leaf_id as i64)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<LoanRow> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM loan WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(loan_row).transpose()?.ok_or(StoreError::NotFound)
}

/// A loan locked until the transaction ends (`FOR UPDATE` on PostgreSQL; SQLite's write transaction
/// already runs alone), so two repayments recorded at once are applied one after the other, each on the
/// interest the other left.
pub async fn get_for_update(conn: &mut Conn, id: &str) -> Result<LoanRow> {
    let lock = crate::for_update(conn);
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM loan WHERE id = $1{lock}")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(loan_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn by_offer(conn: &mut Conn, offer_id: &str) -> Result<Option<LoanRow>> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM loan WHERE offer_id = $1")))
        .bind(offer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(loan_row).transpose()
}

/// Loans of a bank or a borrower (`org_id`), or every loan (`None`).
pub async fn list(conn: &mut Conn, org_id: Option<&str>, page: PageRequest) -> Result<Page<LoanRow>> {
    let org = org_id.unwrap_or("").to_string();
    let filter = "($1 = '' OR bank_org_id = $1 OR borrower_org_id = $1)";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM loan WHERE {filter}")))
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM loan WHERE {filter} ORDER BY disbursed_at_ms DESC, id LIMIT $2 OFFSET $3"
    )))
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(loan_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Every outstanding loan (for the overdue figures).
pub async fn outstanding(conn: &mut Conn) -> Result<Vec<LoanRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM loan WHERE state = 'outstanding'")))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(loan_row).collect()
}

/// Adds a repayment's interest and principal to the loan, only while it is outstanding and the
/// principal stays within bounds; answers whether it applied.
pub async fn apply_repayment(conn: &mut Conn, id: &str, interest_fen: i64, principal_fen: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE loan SET repaid_interest_fen = repaid_interest_fen + $1, repaid_principal_fen = repaid_principal_fen + $2 \
         WHERE id = $3 AND state = 'outstanding' AND repaid_principal_fen + $2 <= principal_fen",
    )
    .bind(interest_fen)
    .bind(principal_fen)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

pub async fn close(conn: &mut Conn, id: &str, at_ms: i64) -> Result<()> {
    sqlx::query("UPDATE loan SET state = 'repaid', closed_at_ms = $1 WHERE id = $2 AND state = 'outstanding'")
        .bind(at_ms)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepaymentRow {
    pub id: String,
    pub loan_id: String,
    pub amount_fen: i64,
    pub interest_fen: i64,
    pub principal_fen: i64,
    pub excess_fen: i64,
    pub paid_on: Date,
    pub payment_reference: String,
    pub by_login: String,
    pub at_ms: i64,
}

/// Records a repayment; the same payment reference on the same loan again is a `Conflict` (a retry).
pub async fn insert_repayment(conn: &mut Conn, r: &RepaymentRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO repayment (id, loan_id, amount_fen, interest_fen, principal_fen, excess_fen, paid_on, \
         payment_reference, by_login, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.id.clone())
    .bind(r.loan_id.clone())
    .bind(r.amount_fen)
    .bind(r.interest_fen)
    .bind(r.principal_fen)
    .bind(r.excess_fen)
    .bind(r.paid_on.to_string())
    .bind(r.payment_reference.clone())
    .bind(r.by_login.clone())
    .bind(r.at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

fn repayment_row(r: &AnyRow) -> Result<RepaymentRow> {
    Ok(RepaymentRow {
        id: r.try_get("id")?,
        loan_id: r.try_get("loan_id")?,
        amount_fen: r.try_get("amount_fen")?,
        interest_fen: r.try_get("interest_fen")?,
        principal_fen: r.try_get("principal_fen")?,
        excess_fen: r.try_get("excess_fen")?,
        paid_on: decode_date("repayment.paid_on", r.try_get("paid_on")?)?,
        payment_reference: r.try_get("payment_reference")?,
        by_login: r.try_get("by_login")?,
        at_ms: r.try_get("at_ms")?,
    })
}

pub async fn repayments(conn: &mut Conn, loan_id: &str) -> Result<Vec<RepaymentRow>> {
    let rows = sqlx::query(
        "SELECT id, loan_id, amount_fen, interest_fen, principal_fen, excess_fen, paid_on, payment_reference, by_login, \
         at_ms FROM repayment WHERE loan_id = $1 ORDER BY at_ms, id",
    )
    .bind(loan_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(repayment_row).collect()
}

/// The sum of repayments' principal and interest recorded for a loan (must equal the loan's totals).
pub async fn repayment_totals(conn: &mut Conn, loan_id: &str) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(principal_fen), 0) AS BIGINT), CAST(COALESCE(SUM(interest_fen), 0) AS BIGINT) \
         FROM repayment WHERE loan_id = $1",
    )
    .bind(loan_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Loans grouped by the chain and tier the borrower applied under: (chain id, tier, loans, disbursed,
/// outstanding, overdue loans, overdue fen), with "overdue" meaning unpaid principal past maturity on
/// `today` (`YYYY-MM-DD` compares as text).
pub async fn figures_by_chain_tier(
    conn: &mut Conn,
    today: &str,
) -> Result<Vec<(Option<String>, Option<i64>, i64, i64, i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT a.chain_id, a.tier, COUNT(*) AS loans, CAST(SUM(l.principal_fen) AS BIGINT) AS disbursed, \
           CAST(SUM(CASE WHEN l.state = 'outstanding' THEN l.principal_fen - l.repaid_principal_fen ELSE 0 END) \
             AS BIGINT) AS outstanding, \
           CAST(SUM(CASE WHEN l.state = 'outstanding' AND l.maturity_date < $1 THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
           CAST(SUM(CASE WHEN l.state = 'outstanding' AND l.maturity_date < $1 \
             THEN l.principal_fen - l.repaid_principal_fen ELSE 0 END) AS BIGINT) AS overdue_fen \
         FROM loan l JOIN application a ON a.id = l.application_id GROUP BY a.chain_id, a.tier \
         ORDER BY a.chain_id, a.tier",
    )
    .bind(today.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("chain_id")?,
                r.try_get("tier")?,
                r.try_get("loans")?,
                r.try_get("disbursed")?,
                r.try_get("outstanding")?,
                r.try_get("overdue")?,
                r.try_get("overdue_fen")?,
            ))
        })
        .collect()
}
