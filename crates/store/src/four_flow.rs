//! Four-flow verdicts, one per blue invoice, replaced pair by pair.

use lianrong_domain::page::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::trade::TradeScope;
use crate::{Conn, Result, StoreError, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRow {
    pub invoice_id: String,
    pub buyer_uscc: String,
    pub seller_uscc: String,
    pub status: String,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub credited_fen: i64,
    pub reversed_fen: i64,
    /// Comma-joined discrepancy codes.
    pub discrepancies: String,
    /// JSON of the links found (orders, deliveries, payments, credit notes, reversals).
    pub evidence: String,
    pub verified_at_ms: i64,
    pub delivered_date: Option<String>,
    pub due_date: Option<String>,
    pub outstanding_fen: i64,
}

const COLUMNS: &str = "invoice_id, buyer_uscc, seller_uscc, status, invoiced_fen, paid_fen, credited_fen, reversed_fen, \
    discrepancies, evidence, verified_at_ms, delivered_date, due_date, outstanding_fen";
const COLUMN_COUNT: usize = 14;

fn from_row(r: &AnyRow) -> Result<VerificationRow> {
    Ok(VerificationRow {
        invoice_id: r.try_get("invoice_id")?,
        buyer_uscc: r.try_get("buyer_uscc")?,
        seller_uscc: r.try_get("seller_uscc")?,
        status: r.try_get("status")?,
        invoiced_fen: r.try_get("invoiced_fen")?,
        paid_fen: r.try_get("paid_fen")?,
        credited_fen: r.try_get("credited_fen")?,
        reversed_fen: r.try_get("reversed_fen")?,
        discrepancies: r.try_get("discrepancies")?,
        evidence: r.try_get("evidence")?,
        verified_at_ms: r.try_get("verified_at_ms")?,
        delivered_date: r.try_get("delivered_date")?,
        due_date: r.try_get("due_date")?,
        outstanding_fen: r.try_get("outstanding_fen")?,
    })
}

/// The columns of a record that verification reads (a third of the record, which matters when a pair
/// holds tens of thousands of records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairRecord {
    pub id: String,
    pub record_type: String,
    pub doc_no: String,
    pub doc_date: String,
    pub total_fen: i64,
    pub order_refs: String,
    pub delivery_refs: String,
    pub invoice_refs: String,
    pub invoice_kind: Option<String>,
    pub acceptance_status: Option<String>,
    pub accepted_date: Option<String>,
    pub term_days: Option<i64>,
    pub term_basis: Option<String>,
    pub payee_account_sm3: Option<String>,
}

/// Every current record between one buyer and one seller.
pub async fn pair_records(conn: &mut Conn, buyer_uscc: &str, seller_uscc: &str) -> Result<Vec<PairRecord>> {
    let rows = sqlx::query(
        "SELECT id, record_type, doc_no, doc_date, total_fen, order_refs, delivery_refs, invoice_refs, invoice_kind, \
         acceptance_status, payee_account_sm3, accepted_date, term_days, term_basis FROM trade_record \
         WHERE buyer_uscc = $1 AND seller_uscc = $2",
    )
    .bind(buyer_uscc.to_string())
    .bind(seller_uscc.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PairRecord {
                id: r.try_get(0)?,
                record_type: r.try_get(1)?,
                doc_no: r.try_get(2)?,
                doc_date: r.try_get(3)?,
                total_fen: r.try_get(4)?,
                order_refs: r.try_get(5)?,
                delivery_refs: r.try_get(6)?,
                invoice_refs: r.try_get(7)?,
                invoice_kind: r.try_get(8)?,
                acceptance_status: r.try_get(9)?,
                payee_account_sm3: r.try_get(10)?,
                accepted_date: r.try_get(11)?,
                term_days: r.try_get(12)?,
                term_basis: r.try_get(13)?,
            })
        })
        .collect()
}

/// Every buyer–seller pair that has an invoice.
pub async fn pairs(conn: &mut Conn) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT buyer_uscc, seller_uscc FROM trade_record WHERE record_type = 'invoice' \
         ORDER BY buyer_uscc, seller_uscc",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("buyer_uscc")?, r.try_get("seller_uscc")?))).collect()
}

/// Replaces the verdicts of one pair.
pub async fn replace_pair(
    conn: &mut Conn,
    buyer_uscc: &str,
    seller_uscc: &str,
    rows: &[VerificationRow],
) -> Result<()> {
    sqlx::query("DELETE FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2")
        .bind(buyer_uscc.to_string())
        .bind(seller_uscc.to_string())
        .execute(&mut *conn)
        .await?;
    for chunk in rows.chunks(500) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| crate::trade::placeholders(conn, i * COLUMN_COUNT + 1, COLUMN_COUNT)).collect();
        let sql = format!("INSERT INTO verification ({COLUMNS}) VALUES {}", values.join(", "));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.invoice_id.clone())
                .bind(r.buyer_uscc.clone())
                .bind(r.seller_uscc.clone())
                .bind(r.status.clone())
                .bind(r.invoiced_fen)
                .bind(r.paid_fen)
                .bind(r.credited_fen)
                .bind(r.reversed_fen)
                .bind(r.discrepancies.clone())
                .bind(r.evidence.clone())
                .bind(r.verified_at_ms)
                .bind(r.delivered_date.clone())
                .bind(r.due_date.clone())
                .bind(r.outstanding_fen);
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

fn scope_binds(scope: &TradeScope) -> (i64, String) {
    match scope {
        TradeScope::All => (1, String::new()),
        TradeScope::Party { uscc } => (0, uscc.clone()),
    }
}

pub async fn get(conn: &mut Conn, scope: &TradeScope, invoice_id: &str) -> Result<VerificationRow> {
    let (all, uscc) = scope_binds(scope);
    let r = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM verification WHERE invoice_id = $3 AND ($1 = 1 OR buyer_uscc = $2 OR seller_uscc = $2)"
    )))
    .bind(all)
    .bind(uscc)
    .bind(invoice_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

pub async fn list(
    conn: &mut Conn,
    scope: &TradeScope,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<VerificationRow>> {
    let (all, uscc) = scope_binds(scope);
    let status = status.unwrap_or("").to_string();
    let filter = "($1 = 1 OR buyer_uscc = $2 OR seller_uscc = $2) AND ($3 = '' OR status = $3)";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM verification WHERE {filter}")))
        .bind(all)
        .bind(uscc.clone())
        .bind(status.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM verification WHERE {filter} ORDER BY invoice_id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(all)
    .bind(uscc)
    .bind(status)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Which receivables a list shows: those owed to the caller (as seller), owed by it (as buyer), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Creditor,
    Debtor,
    Both,
}

/// Verdicts with money still owed, for one organisation's side (the operator's scope sees all).
pub async fn receivables(
    conn: &mut Conn,
    scope: &TradeScope,
    side: Side,
    page: PageRequest,
) -> Result<Page<VerificationRow>> {
    let (all, uscc) = scope_binds(scope);
    let (as_seller, as_buyer) = match side {
        Side::Creditor => (1, 0),
        Side::Debtor => (0, 1),
        Side::Both => (1, 1),
    };
    let filter = "outstanding_fen > 0 AND status <> 'inconsistent' AND \
        ($1 = 1 OR ($3 = 1 AND seller_uscc = $2) OR ($4 = 1 AND buyer_uscc = $2))";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM verification WHERE {filter}")))
        .bind(all)
        .bind(uscc.clone())
        .bind(as_seller)
        .bind(as_buyer)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM verification WHERE {filter} ORDER BY due_date, invoice_id LIMIT $5 OFFSET $6"
    )))
    .bind(all)
    .bind(uscc)
    .bind(as_seller)
    .bind(as_buyer)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Outstanding totals per counterparty and ageing bucket for one side of one organisation's receivables.
/// `bounds` are the dates (YYYY-MM-DD) that end each bucket: today, today−30, −60, −90, −180.
pub async fn receivable_totals(
    conn: &mut Conn,
    uscc: &str,
    creditor: bool,
    bounds: [&str; 5],
) -> Result<Vec<(String, String, i64, i64)>> {
    let (me, other) = if creditor { ("seller_uscc", "buyer_uscc") } else { ("buyer_uscc", "seller_uscc") };
    let sql = format!(
        "SELECT {other} AS counterparty, CASE WHEN due_date IS NULL THEN 'unknown' WHEN due_date >= $2 THEN 'not_due' \
         WHEN due_date >= $3 THEN '1_30' WHEN due_date >= $4 THEN '31_60' WHEN due_date >= $5 THEN '61_90' \
         WHEN due_date >= $6 THEN '91_180' ELSE 'over_180' END AS bucket, COUNT(*) AS n, \
         CAST(SUM(outstanding_fen) AS BIGINT) AS owed FROM verification \
         WHERE {me} = $1 AND outstanding_fen > 0 AND status <> 'inconsistent' GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(uscc.to_string());
    for b in bounds {
        q = q.bind(b.to_string());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("counterparty")?, r.try_get("bucket")?, r.try_get("n")?, r.try_get("owed")?)))
        .collect()
}
