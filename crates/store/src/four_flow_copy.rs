//! PostgreSQL's bulk write of verdicts: `COPY` into a temporary staging table, then one set-based
//! upsert that leaves unchanged verdicts alone. Binding or parsing a million rows through statements
//! cost most of a full verification run; `COPY` streams them in the server's own text format.

use crate::four_flow::{COLUMNS, VerdictBatch, VerificationRow, Written, on_conflict};
use crate::{Result, map_write};

/// Appends one field in `COPY`'s text format.
fn field(out: &mut String, value: &str) {
    crate::dialect::copy_text(out, value);
}

fn opt_field(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => field(out, v),
        None => out.push_str("\\N"),
    }
}

/// One verdict as a line of `COPY` text, in `COLUMNS` order.
fn line(out: &mut String, r: &VerificationRow) {
    use std::fmt::Write;
    field(out, &r.invoice_id);
    out.push('\t');
    field(out, &r.buyer_uscc);
    out.push('\t');
    field(out, &r.seller_uscc);
    out.push('\t');
    field(out, &r.status);
    // Writing integers into a String cannot fail.
    let _ = write!(out, "\t{}\t{}\t{}\t{}\t", r.invoiced_fen, r.paid_fen, r.credited_fen, r.reversed_fen);
    field(out, &r.discrepancies);
    out.push('\t');
    field(out, &r.evidence);
    let _ = write!(out, "\t{}\t", r.verified_at_ms);
    opt_field(out, r.delivered_date.as_deref());
    out.push('\t');
    opt_field(out, r.due_date.as_deref());
    let _ = writeln!(out, "\t{}", r.outstanding_fen);
}

/// How much `COPY` text is sent at a time.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Writes one batch (rows already in key order) in one transaction on a native connection.
pub(crate) async fn upsert_by_copy(pool: &sqlx::PgPool, batch: &VerdictBatch) -> Result<Written> {
    let mut tx = pool.begin().await?;
    // Temporary, so it is this connection's alone and never logged; emptied by each commit.
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS verification_staging (LIKE verification INCLUDING DEFAULTS) \
         ON COMMIT DELETE ROWS",
    )
    .execute(&mut *tx)
    .await?;
    let mut copy = tx.copy_in_raw(&format!("COPY verification_staging ({COLUMNS}) FROM STDIN")).await?;
    let mut text = String::with_capacity(COPY_CHUNK_BYTES + 4096);
    for r in &batch.rows {
        line(&mut text, r);
        if text.len() >= COPY_CHUNK_BYTES {
            copy.send(text.as_bytes()).await?;
            text.clear();
        }
    }
    if !text.is_empty() {
        copy.send(text.as_bytes()).await?;
    }
    copy.finish().await?;
    let sql = format!(
        "INSERT INTO verification ({COLUMNS}) SELECT {COLUMNS} FROM verification_staging ORDER BY invoice_id {}",
        on_conflict()
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.map_err(map_write)?;
    let deleted = delete_gone_pg(&mut tx, &batch.pairs).await?;
    tx.commit().await?;
    Ok(Written { upserted: done.rows_affected(), deleted })
}

/// Deletes the stored verdicts of the batch's pairs that the fresh ones no longer include (see
/// `four_flow_pass::delete_gone`).
async fn delete_gone_pg(conn: &mut sqlx::PgConnection, pairs: &[(String, String, Vec<String>)]) -> Result<u64> {
    let mut deleted = 0;
    for (buyer, seller, fresh) in pairs {
        let stored: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2")
                .bind(buyer)
                .bind(seller)
                .fetch_one(&mut *conn)
                .await?;
        if stored as usize == fresh.len() {
            continue;
        }
        let done = sqlx::query(
            "DELETE FROM verification WHERE buyer_uscc = $1 AND seller_uscc = $2 AND invoice_id <> ALL($3)",
        )
        .bind(buyer)
        .bind(seller)
        .bind(fresh)
        .execute(&mut *conn)
        .await?;
        deleted += done.rows_affected();
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_the_format_reserves() {
        let mut out = String::new();
        field(&mut out, "a\\b\tc\nd\re\"");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re\"");
        let mut out = String::new();
        opt_field(&mut out, None);
        assert_eq!(out, "\\N");
    }
}
