//! Four-flow verification of the whole lake in one pass: the trade is read as one stream ordered by pair
//! (a pair is complete when the key changes), and the verdicts are written in bulk, the database itself
//! keeping every stored verdict that did not change. The pair-by-pair path (`four_flow`) stays the one
//! a submission takes.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use crate::four_flow::{COLUMNS, RECORD_COLUMNS, VerificationRow, json_rows, on_conflict};
pub use crate::four_flow::{VerdictBatch, Written};
use crate::{Conn, Db, Native, Result, StoreError, map_write};

/// One pair's records as the database answered them (a JSON array that `four_flow::parse_pair_records`
/// reads), so that the reader only moves text and the parsing runs where the judging does.
#[derive(Debug)]
pub struct PairText {
    pub buyer_uscc: String,
    pub seller_uscc: String,
    pub records: String,
}

/// Streams every pair's records in pair order into `sink`; stops early, without error, when the
/// receiver is gone. Runs inside the caller's read transaction. One statement reads the whole table, so the engine reads it sequentially and
/// groups it once, instead of one scattered read per pair.
pub async fn read_all_pairs(conn: &mut Conn, sink: &tokio::sync::mpsc::Sender<PairText>) -> Result<()> {
    // `NOT INDEXED` makes SQLite scan the table in its stored order and sort the rows by pair, instead of
    // walking the pair index and fetching each record from wherever it lies (one page per record).
    let table = if crate::is_sqlite(conn) {
        "trade_record NOT INDEXED"
    } else {
        // PostgreSQL sorts the table by pair in memory rather than in files, within the caller's
        // (read) transaction only.
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *conn).await?;
        "trade_record"
    };
    let sql = format!(
        "SELECT buyer_uscc, seller_uscc, {} AS records FROM {table} GROUP BY buyer_uscc, seller_uscc \
         ORDER BY buyer_uscc, seller_uscc",
        json_rows(conn, RECORD_COLUMNS)
    );
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(row) = std::future::poll_fn(|cx| futures_core::Stream::poll_next(rows.as_mut(), cx)).await {
        let row = row?;
        let pair = PairText { buyer_uscc: row.try_get(0)?, seller_uscc: row.try_get(1)?, records: row.try_get(2)? };
        if sink.send(pair).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The fixed repayment accounts of every pair, read once for the whole pass (they are few: one per
/// receivable whose creditor bound one), as `collection_account::fixed_accounts_of_pair` answers them
/// pair by pair.
pub async fn all_fixed_accounts(conn: &mut Conn) -> Result<HashMap<(String, String), Vec<(String, String)>>> {
    let rows = sqlx::query(
        "SELECT t.buyer_uscc, o.uscc, c.invoice_id, c.account_sm3 FROM collection_account c \
         JOIN organisation o ON o.id = c.creditor_org_id JOIN trade_record t ON t.id = c.invoice_id \
         WHERE t.record_type = 'invoice'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_pair: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
    for r in &rows {
        by_pair.entry((r.try_get(0)?, r.try_get(1)?)).or_default().push((r.try_get(2)?, r.try_get(3)?));
    }
    Ok(by_pair)
}

/// The pairs whose trade or fixed accounts changed since `since_ms` (a submission finished, or is still
/// running, or an account was bound): a pass that read before such a change may have written older
/// verdicts over the ones the change's own verification wrote, so these pairs are verified again.
pub async fn pairs_changed_since(conn: &mut Conn, since_ms: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT t.buyer_uscc, t.seller_uscc FROM submission s JOIN trade_record t ON t.submission_id = s.id \
         WHERE (s.finished_at_ms IS NULL OR s.finished_at_ms >= $1) AND t.record_type = 'invoice' \
         UNION SELECT t.buyer_uscc, t.seller_uscc FROM collection_account c JOIN trade_record t ON t.id = c.invoice_id \
         WHERE c.bound_at_ms >= $1 ORDER BY 1, 2",
    )
    .bind(since_ms)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Writes one batch in one write transaction: the fresh verdicts upserted in key order (unchanged ones
/// left alone by the database), then the pair's verdicts that are no longer fresh deleted.
pub async fn write_batch(db: &Db, batch: &mut VerdictBatch) -> Result<Written> {
    // In key order, consecutive inserts land on neighbouring pages of the primary key's index.
    batch.rows.sort_by(|a, b| a.invoice_id.cmp(&b.invoice_id));
    let upserted = match &db.native {
        Native::Postgres(pool) => crate::four_flow_copy::upsert_by_copy(pool, batch).await?,
        Native::Sqlite(_) => {
            let mut tx = db.begin_write().await?;
            let n = upsert_by_json(&mut tx, &batch.rows).await?;
            let deleted = delete_gone(&mut tx, &batch.pairs).await?;
            tx.commit().await?;
            return Ok(Written { upserted: n, deleted });
        }
    };
    Ok(upserted)
}

/// Verdict rows per upsert statement on the portable path: each statement carries its rows as one JSON
/// text, so its size is bounded by memory rather than by the number of placeholders.
const ROWS_PER_STATEMENT: usize = 5_000;

/// Upserts through one JSON parameter per statement (SQLite: binding fourteen values per row was most
/// of the cost of writing).
async fn upsert_by_json(conn: &mut Conn, rows: &[VerificationRow]) -> Result<u64> {
    let sqlite = crate::is_sqlite(conn);
    let each = if sqlite { "json_each($1)" } else { "json_array_elements($1::json) AS e" };
    let ints = [4, 5, 6, 7, 10, 13];
    let select: Vec<String> = (0..COLUMNS.split(", ").count())
        .map(|i| match (sqlite, ints.contains(&i)) {
            (true, _) => format!("value->>{i}"),
            (false, true) => format!("(e->>{i})::bigint"),
            (false, false) => format!("e->>{i}"),
        })
        .collect();
    let sql = format!(
        "INSERT INTO verification ({COLUMNS}) SELECT {} FROM {each} WHERE true {}",
        select.join(", "),
        on_conflict()
    );
    let mut n = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let json = crate::four_flow::rows_json(chunk);
        let done = sqlx::query(AssertSqlSafe(sql.clone())).bind(json).execute(&mut *conn).await.map_err(map_write)?;
        n += done.rows_affected();
    }
    Ok(n)
}

/// Deletes the stored verdicts of the batch's pairs that the fresh ones no longer include. A pair whose
/// stored count equals its fresh count (after the upsert, which stored every fresh one) has none, which
/// one index count tells without comparing ids.
async fn delete_gone(conn: &mut Conn, pairs: &[(String, String, Vec<String>)]) -> Result<u64> {
    let sqlite = crate::is_sqlite(conn);
    let ids = if sqlite { "SELECT value FROM json_each($3)" } else { "SELECT json_array_elements_text($3::json)" };
    let mut deleted = 0;
    for (buyer, seller, fresh) in pairs {
        let stored: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2")
                .bind(buyer.clone())
                .bind(seller.clone())
                .fetch_one(&mut *conn)
                .await?;
        if stored as usize == fresh.len() {
            continue;
        }
        let json = serde_json::to_string(fresh)
            .map_err(|e| StoreError::Corrupt { column: "verification", value: e.to_string() })?;
        let sql = format!(
            "DELETE FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2 AND invoice_id NOT IN ({ids})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(buyer.clone())
            .bind(seller.clone())
            .bind(json)
            .execute(&mut *conn)
            .await?;
        deleted += done.rows_affected();
    }
    Ok(deleted)
}
