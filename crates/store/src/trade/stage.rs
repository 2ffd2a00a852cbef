//! The bulk path of a submission's records. Its writer stages each batch in `trade_record_stage` in a
//! short transaction of its own, through the backend's own driver (PostgreSQL: one `COPY` per batch;
//! SQLite: one prepared single-row INSERT, reused for every row), so that a large upload never holds the
//! database's write lock (SQLite) for longer than a batch. The submission's final transaction makes the
//! staged records current at once: restatements one by one, new records by one set-based INSERT … SELECT
//! in key order. The staged rows are then deleted in small chunks, also when the submission fails.

use std::sync::LazyLock;

use sqlx::AssertSqlSafe;

use super::{
    COLUMN_COUNT, COLUMNS, EXISTING_COLUMNS, Existing, LOOKUP_BATCH_KEYS_MAX, TradeRow, existing, existing_of, from_row,
};
use crate::dialect::{copy_text, placeholder, placeholders};
use crate::{Backend, Conn, Db, Native, Result, map_write};

/// A record waiting in the stage: the version that becomes current, and the version it supersedes
/// (`None` for a new record).
#[derive(Debug, Clone)]
pub struct StagedRow {
    pub row: TradeRow,
    pub prior_version: Option<i64>,
}

/// Staged rows deleted per transaction after the submission: a short lock each, on SQLite.
const DISCARD_CHUNK_ROWS: i64 = 5_000;

/// The one statement SQLite stages each row with; built once so that the connection's statement cache
/// finds it prepared for every row of every batch.
static SQLITE_STAGE_INSERT: LazyLock<String> = LazyLock::new(|| {
    let marks = vec!["?"; COLUMN_COUNT + 1].join(", ");
    format!("INSERT INTO trade_record_stage ({COLUMNS}, prior_version) VALUES ({marks})")
});

/// Stages `rows` in one short transaction of their own (one `COPY` on PostgreSQL).
pub async fn stage(db: &Db, rows: &[StagedRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match &db.native {
        Native::Sqlite(pool) => {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            for r in rows {
                let q = sqlx::query(AssertSqlSafe(SQLITE_STAGE_INSERT.as_str()));
                bind_row!(q, r.row).bind(r.prior_version).execute(&mut *tx).await.map_err(map_write)?;
            }
            tx.commit().await?;
            Ok(())
        }
        Native::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let mut data = String::with_capacity(rows.len() * 640);
            for r in rows {
                copy_line(&mut data, r);
            }
            let statement = format!("COPY trade_record_stage ({COLUMNS}, prior_version) FROM STDIN");
            let mut copy = conn.copy_in_raw(&statement).await?;
            let sent = copy.send(data.into_bytes()).await.map(|_| ());
            if let Err(e) = sent {
                let _ = copy.abort("the stage could not be sent").await;
                return Err(map_write(e));
            }
            copy.finish().await.map_err(map_write)?;
            Ok(())
        }
    }
}

/// One row in `COPY`'s text format, in [`COLUMNS`] order then `prior_version`.
fn copy_line(out: &mut String, s: &StagedRow) {
    use Field::{Int, Text};
    let r = &s.row;
    let fields = [
        Text(Some(&r.id)),
        Text(Some(&r.record_type)),
        Text(Some(&r.natural_key)),
        Int(Some(r.version)),
        Text(Some(&r.content_sm3)),
        Text(Some(&r.doc_no)),
        Text(Some(&r.invoice_code)),
        Text(Some(&r.doc_date)),
        Text(Some(&r.month)),
        Text(Some(&r.buyer_uscc)),
        Text(r.buyer_name.as_deref()),
        Text(Some(&r.seller_uscc)),
        Text(r.seller_name.as_deref()),
        Text(Some(&r.currency)),
        Int(Some(r.total_fen)),
        Int(r.tax_fen),
        Int(r.net_fen),
        Int(r.term_days),
        Text(r.term_basis.as_deref()),
        Text(r.invoice_kind.as_deref()),
        Text(r.acceptance_status.as_deref()),
        Text(r.accepted_date.as_deref()),
        Text(r.payment_method.as_deref()),
        Text(r.payee_account_sm3.as_deref()),
        Text(r.payee_account_last4.as_deref()),
        Text(Some(&r.order_refs)),
        Text(Some(&r.delivery_refs)),
        Text(Some(&r.invoice_refs)),
        Text(r.remarks.as_deref()),
        Text(Some(&r.chain_id)),
        Text(Some(&r.submission_id)),
        Text(Some(&r.channel)),
        Text(Some(&r.file_name)),
        Int(Some(r.row_no)),
        Text(Some(&r.submitter_org_id)),
        Int(Some(r.created_at_ms)),
        Int(Some(r.updated_at_ms)),
        Text(r.invoice_status.as_deref()),
        Int(s.prior_version),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match f {
            Text(Some(t)) => copy_text(out, t),
            Int(Some(n)) => out.push_str(&n.to_string()),
            Text(None) | Int(None) => out.push_str("\\N"),
        }
    }
    out.push('\n');
}

enum Field<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

/// The records held under these natural keys: committed ones, and those this submission staged
/// (which stand for what it will have written). One short read; on PostgreSQL each statement is
/// planned for its own keys, because a plan cached while a table was small scans it once it has grown.
pub async fn lookup(db: &Db, submission_id: &str, keys: &[&str]) -> Result<(Vec<Existing>, Vec<Existing>)> {
    let mut tx = db.begin_read().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut *tx).await?;
    }
    let committed = existing(&mut tx, keys).await?;
    let mut staged = Vec::new();
    for chunk in keys.chunks(LOOKUP_BATCH_KEYS_MAX) {
        let sql = format!(
            "SELECT {EXISTING_COLUMNS} FROM trade_record_stage WHERE submission_id = {} AND natural_key IN {}",
            placeholder(&tx, 1),
            placeholders(&tx, 2, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(submission_id.to_string());
        for k in chunk {
            q = q.bind(k.to_string());
        }
        for r in q.fetch_all(&mut *tx).await? {
            staged.push(existing_of(&r)?);
        }
    }
    tx.commit().await?;
    Ok((committed, staged))
}

/// The submission's staged restatements after natural key `after_key`, in key order, at most `limit`.
pub async fn staged_restatements(
    conn: &mut Conn,
    submission_id: &str,
    after_key: &str,
    limit: i64,
) -> Result<Vec<TradeRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM trade_record_stage WHERE submission_id = $1 AND prior_version IS NOT NULL \
         AND natural_key > $2 ORDER BY natural_key LIMIT $3"
    )))
    .bind(submission_id.to_string())
    .bind(after_key.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Makes the submission's staged new records current, in key order (the unique index grows at its
/// end where keys allow); a natural key another submission wrote meanwhile is a conflict.
pub async fn merge_new(conn: &mut Conn, submission_id: &str) -> Result<u64> {
    let done = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO trade_record ({COLUMNS}) SELECT {COLUMNS} FROM trade_record_stage \
         WHERE submission_id = $1 AND prior_version IS NULL ORDER BY natural_key"
    )))
    .bind(submission_id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected())
}

/// Deletes what the submission staged. On SQLite by [`DISCARD_CHUNK_ROWS`] per transaction, each a short
/// hold of the write lock; PostgreSQL locks only the rows it deletes, so one statement does.
pub async fn discard_stage(db: &Db, submission_id: &str) -> Result<()> {
    if db.backend == Backend::Postgres {
        sqlx::query("DELETE FROM trade_record_stage WHERE submission_id = $1")
            .bind(submission_id.to_string())
            .execute(&db.pool)
            .await?;
        return Ok(());
    }
    loop {
        let done = sqlx::query(
            "DELETE FROM trade_record_stage WHERE rowid IN \
             (SELECT rowid FROM trade_record_stage WHERE submission_id = $1 LIMIT $2)",
        )
        .bind(submission_id.to_string())
        .bind(DISCARD_CHUNK_ROWS)
        .execute(&db.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{StagedRow, copy_line};
    use crate::trade::TradeRow;

    fn row() -> TradeRow {
        TradeRow {
            id: "id".into(),
            record_type: "invoice".into(),
            natural_key: "k".into(),
            version: 2,
            content_sm3: "c".into(),
            doc_no: "n".into(),
            invoice_code: String::new(),
            doc_date: "2026-12-01".into(),
            month: "2026-12".into(),
            buyer_uscc: "b".into(),
            buyer_name: None,
            seller_uscc: "s".into(),
            seller_name: Some("甲\\乙".into()),
            currency: "CNY".into(),
            total_fen: 113,
            tax_fen: None,
            net_fen: Some(100),
            term_days: None,
            term_basis: None,
            invoice_kind: None,
            invoice_status: None,
            acceptance_status: None,
            accepted_date: None,
            payment_method: None,
            payee_account_sm3: None,
            payee_account_last4: None,
            order_refs: String::new(),
            delivery_refs: String::new(),
            invoice_refs: String::new(),
            remarks: Some("a\tb\nc\rd".into()),
            chain_id: "none".into(),
            submission_id: "sub".into(),
            channel: "upload".into(),
            file_name: "f.csv".into(),
            row_no: 7,
            submitter_org_id: "org".into(),
            created_at_ms: 1,
            updated_at_ms: 2,
        }
    }

    #[test]
    fn a_copy_line_has_every_column_in_order_with_nulls_and_escapes() {
        let mut out = String::new();
        copy_line(&mut out, &StagedRow { row: row(), prior_version: Some(1) });
        let line = out.strip_suffix('\n').expect("one line");
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), super::COLUMN_COUNT + 1, "{line}");
        let names: Vec<&str> = super::COLUMNS.split(',').map(str::trim).collect();
        let at = |name: &str| fields[names.iter().position(|n| *n == name).expect(name)];
        assert_eq!((at("id"), at("version"), at("total_fen"), at("tax_fen")), ("id", "2", "113", "\\N"));
        assert_eq!(at("seller_name"), "甲\\\\乙");
        assert_eq!(at("remarks"), "a\\tb\\nc\\rd");
        assert_eq!((at("row_no"), at("updated_at_ms"), at("invoice_status")), ("7", "2", "\\N"));
        assert_eq!(fields[super::COLUMN_COUNT], "1", "prior_version last");
    }
}
