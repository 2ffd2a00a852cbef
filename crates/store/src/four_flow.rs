//! Four-flow verdicts, one per blue invoice, replaced pair by pair.

use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::keyset::{self, KeyColumn, KeyedList};
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

pub(crate) const COLUMNS: &str = "invoice_id, buyer_uscc, seller_uscc, status, invoiced_fen, paid_fen, credited_fen, reversed_fen, \
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
/// holds tens of thousands of records). Deserialised from the array the database builds for each record,
/// in this field order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
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
    pub invoice_code: String,
    pub invoice_status: Option<String>,
}

/// The record columns in `PairRecord`'s field order.
pub(crate) const RECORD_COLUMNS: &str = "id, record_type, doc_no, doc_date, total_fen, order_refs, delivery_refs, invoice_refs, \
    invoice_kind, acceptance_status, accepted_date, term_days, term_basis, payee_account_sm3, invoice_code, invoice_status";

/// The database's aggregate that folds rows into one JSON array of arrays (`[]` when there are none).
/// A pair can hold tens of thousands of records; fetched row by row each would cross the driver's
/// channel (sqlx runs SQLite on a worker thread) and be copied into a generic row, which cost most of the
/// verification time. One text value per pair crosses once.
pub(crate) fn json_rows(conn: &Conn, columns: &str) -> String {
    if crate::is_sqlite(conn) {
        format!("json_group_array(json_array({columns}))")
    } else {
        format!("COALESCE(json_agg(json_build_array({columns})), '[]'::json)::text")
    }
}

/// Every current record between one buyer and one seller, as the JSON array that `parse_pair_records`
/// reads (kept apart so a caller can parse off the async runtime while the connection does other work).
pub async fn pair_records_json(conn: &mut Conn, buyer_uscc: &str, seller_uscc: &str) -> Result<String> {
    let sql = format!(
        "SELECT {} FROM trade_record WHERE buyer_uscc = $1 AND seller_uscc = $2",
        json_rows(conn, RECORD_COLUMNS)
    );
    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(buyer_uscc.to_string())
        .bind(seller_uscc.to_string())
        .fetch_one(&mut *conn)
        .await?)
}

/// Reads what `pair_records_json` answered.
pub fn parse_pair_records(json: &str) -> Result<Vec<PairRecord>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt { column: "trade_record", value: e.to_string() })
}

/// Every current record between one buyer and one seller.
pub async fn pair_records(conn: &mut Conn, buyer_uscc: &str, seller_uscc: &str) -> Result<Vec<PairRecord>> {
    parse_pair_records(&pair_records_json(conn, buyer_uscc, seller_uscc).await?)
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

/// A stored verdict as `pair_verdicts_json` lists it, in `COLUMNS` order.
type VerdictTuple =
    (String, String, String, String, i64, i64, i64, i64, String, String, i64, Option<String>, Option<String>, i64);

/// The stored verdicts of one pair, as the JSON array that `parse_verdicts` reads.
pub async fn pair_verdicts_json(conn: &mut Conn, buyer_uscc: &str, seller_uscc: &str) -> Result<String> {
    let sql =
        format!("SELECT {} FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2", json_rows(conn, COLUMNS));
    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(buyer_uscc.to_string())
        .bind(seller_uscc.to_string())
        .fetch_one(&mut *conn)
        .await?)
}

/// Reads what `pair_verdicts_json` answered.
pub fn parse_verdicts(json: &str) -> Result<Vec<VerificationRow>> {
    let tuples: Vec<VerdictTuple> =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt { column: "verification", value: e.to_string() })?;
    Ok(tuples
        .into_iter()
        .map(|t| VerificationRow {
            invoice_id: t.0,
            buyer_uscc: t.1,
            seller_uscc: t.2,
            status: t.3,
            invoiced_fen: t.4,
            paid_fen: t.5,
            credited_fen: t.6,
            reversed_fen: t.7,
            discrepancies: t.8,
            evidence: t.9,
            verified_at_ms: t.10,
            delivered_date: t.11,
            due_date: t.12,
            outstanding_fen: t.13,
        })
        .collect())
}

/// What to write for one pair: the verdicts that are new or changed, and the invoices that no longer
/// have one. Built off the connection (`pair_changes`) and written by `write_changes`.
#[derive(Debug, Default)]
pub struct PairChanges {
    /// JSON arrays of verdict rows in `COLUMNS` order, at most `ROWS_PER_STATEMENT` each.
    upserts: Vec<String>,
    deletes: Vec<String>,
    pub upserted: usize,
}

impl PairChanges {
    pub fn deleted(&self) -> usize {
        self.deletes.len()
    }
}

/// Verdict rows per upsert statement: each statement carries its rows as one JSON text, so its size is
/// bounded by memory rather than by the number of placeholders.
const ROWS_PER_STATEMENT: usize = 5_000;

/// Whether a stored verdict says the same as a fresh one (the time it was written aside).
fn same_verdict(a: &VerificationRow, b: &VerificationRow) -> bool {
    a.invoice_id == b.invoice_id
        && a.buyer_uscc == b.buyer_uscc
        && a.seller_uscc == b.seller_uscc
        && a.status == b.status
        && a.invoiced_fen == b.invoiced_fen
        && a.paid_fen == b.paid_fen
        && a.credited_fen == b.credited_fen
        && a.reversed_fen == b.reversed_fen
        && a.discrepancies == b.discrepancies
        && a.evidence == b.evidence
        && a.delivered_date == b.delivered_date
        && a.due_date == b.due_date
        && a.outstanding_fen == b.outstanding_fen
}

/// Compares a pair's fresh verdicts with its stored ones: only verdicts that changed are written (a
/// re-run after a submission that touched a few invoices of a large pair writes those few), and
/// `verified_at_ms` is the time the verdict last changed.
pub fn pair_changes(fresh: &[VerificationRow], stored: Vec<VerificationRow>) -> PairChanges {
    let mut stored: std::collections::HashMap<String, VerificationRow> =
        stored.into_iter().map(|r| (r.invoice_id.clone(), r)).collect();
    let mut changes = PairChanges::default();
    let mut batch: Vec<&VerificationRow> = Vec::new();
    let flush = |batch: &mut Vec<&VerificationRow>, changes: &mut PairChanges| {
        if batch.is_empty() {
            return;
        }
        changes.upserts.push(rows_json(batch.iter().copied()));
        changes.upserted += batch.len();
        batch.clear();
    };
    let mut changed: Vec<&VerificationRow> =
        fresh.iter().filter(|r| !matches!(stored.remove(&r.invoice_id), Some(old) if same_verdict(&old, r))).collect();
    // In key order, consecutive inserts land on neighbouring pages of the primary key's index.
    changed.sort_by(|a, b| a.invoice_id.cmp(&b.invoice_id));
    for r in changed {
        batch.push(r);
        if batch.len() == ROWS_PER_STATEMENT {
            flush(&mut batch, &mut changes);
        }
    }
    flush(&mut batch, &mut changes);
    let mut gone: Vec<String> = stored.into_keys().collect();
    gone.sort();
    changes.deletes = gone;
    changes
}

/// Verdict rows as the JSON array of arrays (in `COLUMNS` order) that the upserts read.
pub(crate) fn rows_json<'a>(rows: impl IntoIterator<Item = &'a VerificationRow>) -> String {
    let tuples: Vec<_> = rows
        .into_iter()
        .map(|r| {
            (
                &r.invoice_id,
                &r.buyer_uscc,
                &r.seller_uscc,
                &r.status,
                r.invoiced_fen,
                r.paid_fen,
                r.credited_fen,
                r.reversed_fen,
                &r.discrepancies,
                &r.evidence,
                r.verified_at_ms,
                &r.delivered_date,
                &r.due_date,
                r.outstanding_fen,
            )
        })
        .collect();
    // Serialising plain strings and integers cannot fail.
    serde_json::to_string(&tuples).unwrap_or_default()
}

/// The verdicts of consecutive pairs, written together.
#[derive(Debug, Default)]
pub struct VerdictBatch {
    /// Each pair with the ids of its fresh verdicts: a stored verdict of the pair outside them is gone.
    pub pairs: Vec<(String, String, Vec<String>)>,
    pub rows: Vec<VerificationRow>,
}

/// What writing a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub upserted: u64,
    pub deleted: u64,
}

/// The upsert's tail: a stored verdict is rewritten only when it says something else (the time it was
/// written aside), so `verified_at_ms` stays the time the verdict last changed, as on the pair path.
pub(crate) fn on_conflict() -> String {
    let update: Vec<String> =
        COLUMNS.split(", ").filter(|c| *c != "invoice_id").map(|c| format!("{c} = excluded.{c}")).collect();
    let changed: Vec<String> = COLUMNS
        .split(", ")
        .filter(|c| !matches!(*c, "invoice_id" | "verified_at_ms"))
        .map(|c| format!("verification.{c} IS DISTINCT FROM excluded.{c}"))
        .collect();
    format!("ON CONFLICT (invoice_id) DO UPDATE SET {} WHERE {}", update.join(", "), changed.join(" OR "))
}

/// Writes one pair's changes (from `pair_changes`) inside the caller's transaction.
pub async fn write_changes(conn: &mut Conn, changes: &PairChanges) -> Result<()> {
    for chunk in changes.deletes.chunks(500) {
        let sql = format!(
            "DELETE FROM verification WHERE invoice_id IN {}",
            crate::dialect::placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        q.execute(&mut *conn).await?;
    }
    // Each statement reads its rows from one JSON parameter: binding fourteen values per row was most
    // of the cost of writing. `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join
    // constraint.
    let sqlite = crate::is_sqlite(conn);
    let each = if sqlite { "json_each($1)" } else { "json_array_elements($1::json) AS e" };
    let ints = [4, 5, 6, 7, 10, 13];
    let select: Vec<String> = (0..COLUMN_COUNT)
        .map(|i| match (sqlite, ints.contains(&i)) {
            (true, _) => format!("value->>{i}"),
            (false, true) => format!("(e->>{i})::bigint"),
            (false, false) => format!("e->>{i}"),
        })
        .collect();
    let update: Vec<String> =
        COLUMNS.split(", ").filter(|c| *c != "invoice_id").map(|c| format!("{c} = excluded.{c}")).collect();
    let sql = format!(
        "INSERT INTO verification ({COLUMNS}) SELECT {} FROM {each} WHERE true \
         ON CONFLICT (invoice_id) DO UPDATE SET {}",
        select.join(", "),
        update.join(", ")
    );
    for json in &changes.upserts {
        sqlx::query(AssertSqlSafe(sql.clone())).bind(json.clone()).execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

/// Replaces the verdicts of one pair, writing only those that changed.
pub async fn replace_pair(
    conn: &mut Conn,
    buyer_uscc: &str,
    seller_uscc: &str,
    rows: &[VerificationRow],
) -> Result<()> {
    let stored = parse_verdicts(&pair_verdicts_json(conn, buyer_uscc, seller_uscc).await?)?;
    write_changes(conn, &pair_changes(rows, stored)).await
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

/// Verdicts with money still owed, for one organisation's side (the operator's scope sees all), the
/// earliest due date first and those without one last, paged by key through the partial indexes on
/// what is owed.
pub async fn receivables(
    conn: &mut Conn,
    scope: &TradeScope,
    side: Side,
    seek: &Seek,
) -> Result<KeyedPage<VerificationRow>> {
    let (arms, binds) = match scope {
        TradeScope::All => (vec!["1 = 1"], vec![]),
        TradeScope::Party { uscc } => {
            let arms = match side {
                Side::Creditor => vec!["seller_uscc = $1"],
                Side::Debtor => vec!["buyer_uscc = $1"],
                Side::Both => vec!["seller_uscc = $1", "buyer_uscc = $1 AND seller_uscc <> $1"],
            };
            (arms, vec![uscc.clone()])
        }
    };
    let list = KeyedList {
        from: "verification",
        columns: COLUMNS,
        key: &[KeyColumn::Text(OWED_DUE_KEY), KeyColumn::Text("invoice_id")],
        descending: false,
        arms,
        filter: OWED_WHERE,
        binds,
    };
    keyset::fetch(conn, &list, seek, from_row).await
}

/// What makes a verdict a receivable; the partial indexes on what is owed carry the same condition,
/// written the same way, so that both databases use them.
const OWED_WHERE: &str = "outstanding_fen > 0 AND status <> 'inconsistent'";
/// The due date as receivables sort by it: unknown due dates after every known one on both databases.
const OWED_DUE_KEY: &str = "COALESCE(due_date, '9999-12-31')";

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

/// One buyer's invoices from one seller with one verdict: (buyer credit code, status, invoices,
/// invoiced fen, paid fen, outstanding fen).
pub type SellerTotalRow = (String, String, i64, i64, i64, i64);

/// A seller's invoiced trade per buyer and four-flow verdict: the derived figures a data consent's
/// trade-totals category covers (no document is shown).
pub async fn seller_totals(conn: &mut Conn, seller_uscc: &str) -> Result<Vec<SellerTotalRow>> {
    let rows = sqlx::query(
        "SELECT buyer_uscc, status, COUNT(*) AS n, CAST(SUM(invoiced_fen) AS BIGINT) AS invoiced, \
         CAST(SUM(paid_fen) AS BIGINT) AS paid, CAST(SUM(outstanding_fen) AS BIGINT) AS owed \
         FROM verification WHERE seller_uscc = $1 GROUP BY buyer_uscc, status ORDER BY buyer_uscc, status",
    )
    .bind(seller_uscc.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("buyer_uscc")?,
                r.try_get("status")?,
                r.try_get("n")?,
                r.try_get("invoiced")?,
                r.try_get("paid")?,
                r.try_get("owed")?,
            ))
        })
        .collect()
}

/// One organisation's outstanding receivables (creditor) or payables (debtor) by when they fall due:
/// already overdue (due before `today`), and due from `today` to `horizon` included. Each as (invoices,
/// outstanding fen). Dates are `YYYY-MM-DD` text, which orders as the dates do.
pub async fn due_totals(
    conn: &mut Conn,
    uscc: &str,
    creditor: bool,
    today: &str,
    horizon: &str,
) -> Result<((i64, i64), (i64, i64))> {
    let me = if creditor { "seller_uscc" } else { "buyer_uscc" };
    let sql = format!(
        "SELECT COUNT(CASE WHEN due_date < $2 THEN 1 END) AS overdue_n, \
         CAST(COALESCE(SUM(CASE WHEN due_date < $2 THEN outstanding_fen ELSE 0 END), 0) AS BIGINT) AS overdue_fen, \
         COUNT(CASE WHEN due_date >= $2 AND due_date <= $3 THEN 1 END) AS soon_n, \
         CAST(COALESCE(SUM(CASE WHEN due_date >= $2 AND due_date <= $3 THEN outstanding_fen ELSE 0 END), 0) AS BIGINT) \
         AS soon_fen FROM verification WHERE {me} = $1 AND outstanding_fen > 0 AND status <> 'inconsistent'"
    );
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(uscc.to_string())
        .bind(today.to_string())
        .bind(horizon.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(((r.try_get("overdue_n")?, r.try_get("overdue_fen")?), (r.try_get("soon_n")?, r.try_get("soon_fen")?)))
}
