//! The curated zone: canonical records published as Parquet with Hive-style partitions
//! (`record=invoice/chain=…/month=2026-11/`), so DuckDB, Spark or Trino read them without our code.
//! Each partition is one file holding the current version of every record in it, rewritten from the
//! database whenever a submission touches it; the partition's `dirty` mark is set in the submission's
//! transaction, so a crash between commit and publication is repaired by the next run.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lianrong_store::StoreError;
use lianrong_store::trade::{self as store, TradeRow};

use crate::error::AppResult;
use crate::submission::lake_error;
use crate::{App, now_ms};

/// Partitions republished per call; more wait for the next call (each is bounded by one chain-month).
const PARTITIONS_PER_RUN_MAX: i64 = 1_000;
/// Rows per Parquet record batch.
const BATCH_ROWS: usize = 65_536;

/// The Parquet schema of trade records. The partition columns (record, chain, month) live in the path.
pub fn schema() -> SchemaRef {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let i = |name: &str, nullable: bool| Field::new(name, DataType::Int64, nullable);
    let d = |name: &str, nullable: bool| Field::new(name, DataType::Date32, nullable);
    Arc::new(Schema::new(vec![
        s("id", false),
        i("version", false),
        s("doc_no", false),
        s("invoice_code", false),
        d("doc_date", false),
        s("buyer_uscc", false),
        s("buyer_name", true),
        s("seller_uscc", false),
        s("seller_name", true),
        s("currency", false),
        i("total_fen", false),
        i("tax_fen", true),
        i("net_fen", true),
        i("term_days", true),
        s("term_basis", true),
        s("invoice_kind", true),
        s("acceptance_status", true),
        d("accepted_date", true),
        s("payment_method", true),
        s("payee_account_last4", true),
        s("order_refs", false),
        s("delivery_refs", false),
        s("invoice_refs", false),
        s("submission_id", false),
        s("channel", false),
        s("file_name", false),
        i("row_no", false),
        s("content_sm3", false),
        Field::new("updated_at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
    ]))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn epoch_days(date: &str) -> Option<i32> {
    let d = jiff::civil::Date::strptime("%Y-%m-%d", date).ok()?;
    let days = d.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
    Some(days)
}

/// Builds one record batch from stored rows.
pub fn batch(rows: &[TradeRow]) -> RecordBatch {
    let n = rows.len();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(29);
    let strings = |f: &dyn Fn(&TradeRow) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(n, n * 16);
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let ints = |f: &dyn Fn(&TradeRow) -> Option<i64>| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(n);
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let dates = |f: &dyn Fn(&TradeRow) -> Option<&str>| -> ArrayRef {
        let mut b = Date32Builder::with_capacity(n);
        for r in rows {
            b.append_option(f(r).and_then(epoch_days));
        }
        Arc::new(b.finish())
    };
    cols.push(strings(&|r| Some(&r.id)));
    cols.push(ints(&|r| Some(r.version)));
    cols.push(strings(&|r| Some(&r.doc_no)));
    cols.push(strings(&|r| Some(&r.invoice_code)));
    cols.push(dates(&|r| Some(&r.doc_date)));
    cols.push(strings(&|r| Some(&r.buyer_uscc)));
    cols.push(strings(&|r| r.buyer_name.as_deref()));
    cols.push(strings(&|r| Some(&r.seller_uscc)));
    cols.push(strings(&|r| r.seller_name.as_deref()));
    cols.push(strings(&|r| Some(&r.currency)));
    cols.push(ints(&|r| Some(r.total_fen)));
    cols.push(ints(&|r| r.tax_fen));
    cols.push(ints(&|r| r.net_fen));
    cols.push(ints(&|r| r.term_days));
    cols.push(strings(&|r| r.term_basis.as_deref()));
    cols.push(strings(&|r| r.invoice_kind.as_deref()));
    cols.push(strings(&|r| r.acceptance_status.as_deref()));
    cols.push(dates(&|r| r.accepted_date.as_deref()));
    cols.push(strings(&|r| r.payment_method.as_deref()));
    cols.push(strings(&|r| r.payee_account_last4.as_deref()));
    cols.push(strings(&|r| Some(&r.order_refs)));
    cols.push(strings(&|r| Some(&r.delivery_refs)));
    cols.push(strings(&|r| Some(&r.invoice_refs)));
    cols.push(strings(&|r| Some(&r.submission_id)));
    cols.push(strings(&|r| Some(&r.channel)));
    cols.push(strings(&|r| Some(&r.file_name)));
    cols.push(ints(&|r| Some(r.row_no)));
    cols.push(strings(&|r| Some(&r.content_sm3)));
    let mut ts = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    for r in rows {
        ts.append_value(r.updated_at_ms);
    }
    cols.push(Arc::new(ts.finish()));
    // The schema and the columns are built side by side above; a mismatch is a programming error that
    // every test run would show at once.
    RecordBatch::try_new(schema(), cols).expect("curated columns match the curated schema")
}

/// Rewrites every partition marked dirty; answers how many were published.
pub async fn publish_dirty(app: &App) -> AppResult<usize> {
    let mut conn = app.db.pool.acquire().await.map_err(StoreError::from)?;
    let dirty = store::dirty_partitions(&mut conn, PARTITIONS_PER_RUN_MAX).await?;
    drop(conn);
    let mut published = 0;
    for p in dirty {
        // The rows are read and the mark cleared in one write transaction, so a submission that touches
        // the partition meanwhile marks it again after we read, not before.
        let mut tx = app.db.begin_write().await?;
        let (sender, receiver) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let lake = app.lake.clone();
        let key = (p.record_type.clone(), p.chain_id.clone(), p.month.clone());
        let partition = lianrong_lake::PartitionKey::new(&key.0, &key.1, &key.2).map_err(lake_error)?;
        // The writer pulls batches from a blocking channel, so it runs on a blocking thread driving its
        // own future, while this task reads the partition from the database in chunks.
        let handle = tokio::runtime::Handle::current();
        let writer = tokio::task::spawn_blocking(move || {
            handle.block_on(lake.curated().write_partition(&partition, schema(), receiver))
        });
        let mut after = String::new();
        let mut n: i64 = 0;
        loop {
            let rows = store::partition_rows(&mut tx, &p.record_type, &p.chain_id, &p.month, &after, BATCH_ROWS as i64)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            n += rows.len() as i64;
            if sender.send(batch(&rows)).is_err() {
                break;
            }
        }
        drop(sender);
        writer
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "curated writer thread failed");
                crate::AppError::internal()
            })?
            .map_err(lake_error)?;
        store::mark_published(&mut tx, &p.record_type, &p.chain_id, &p.month, n, now_ms()).await?;
        tx.commit().await.map_err(StoreError::from)?;
        published += 1;
    }
    Ok(published)
}
