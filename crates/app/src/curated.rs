//! The curated zone: canonical records published as Parquet with Hive-style partitions
//! (`record=invoice/chain=…/month=2026-11/`), so DuckDB, Spark or Trino read them without our code.
//! Each partition is one file holding the current version of every record in it. A submission that only
//! adds records appends them from its spool (no read-back from the database); one that changes existing
//! records, or finds the file behind, has the partition rewritten from the database. Every submission
//! counts its change of the partition in its own transaction, so a crash between commit and publication
//! leaves the partition visibly stale and the next run repairs it.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lianrong_store::StoreError;
use lianrong_store::trade::{self as store, TradeRow};

use crate::error::AppResult;
use crate::error::lake_error;
use crate::{App, now_ms};

/// Partitions republished per call; more wait for the next call (each is bounded by one chain-month).
const PARTITIONS_PER_RUN_MAX: i64 = 1_000;
/// Rows per Parquet record batch.
const BATCH_ROWS: usize = 8_192;

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
        s("invoice_status", true),
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
    cols.push(strings(&|r| r.invoice_status.as_deref()));
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

/// A partition's key as (record type, chain, month).
pub type Key = (String, String, String);

/// The new records of one submission, spooled to local files per partition while the submission is
/// written, so that after its commit they are appended to the curated zone without reading them back
/// from the database (JSON lines of [`TradeRow`]; bounded memory whatever the submission's size).
pub struct Spool {
    dir: std::path::PathBuf,
    files: std::collections::HashMap<Key, SpoolFile>,
    /// Every partition the submission changed, spooled or not.
    pub touched: std::collections::HashSet<Key>,
    /// Every buyer–seller pair whose trade the submission changed (for four-flow verification).
    pub pairs: std::collections::HashSet<(String, String)>,
}

struct SpoolFile {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    rows: i64,
    /// Set when the submission also changed existing records here: the partition is then rewritten.
    superseded: bool,
    change: i64,
}

/// Partitions spooled at once; past this, further partitions are simply rewritten from the database.
const SPOOLED_PARTITIONS_MAX: usize = 512;

impl Spool {
    pub fn new(submission_id: &str) -> Spool {
        Spool {
            dir: std::env::temp_dir().join(format!("lianrong-spool-{submission_id}")),
            files: Default::default(),
            touched: Default::default(),
            pairs: Default::default(),
        }
    }

    fn file(&mut self, key: &Key) -> Option<&mut SpoolFile> {
        if !self.files.contains_key(key) {
            if self.files.len() >= SPOOLED_PARTITIONS_MAX || std::fs::create_dir_all(&self.dir).is_err() {
                return None;
            }
            let path = self.dir.join(format!("{}.jsonl", self.files.len()));
            let out = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&path).ok()?);
            self.files.insert(key.clone(), SpoolFile { path, out, rows: 0, superseded: false, change: 0 });
        }
        self.files.get_mut(key)
    }

    /// Keeps a new record for the curated zone. A failure to spool only means the partition will be
    /// rewritten from the database instead.
    pub fn add(&mut self, key: &Key, row: &TradeRow) {
        use std::io::Write;
        if let Some(f) = self.file(key) {
            let ok = serde_json::to_writer(&mut f.out, row).is_ok() && f.out.write_all(b"\n").is_ok();
            if ok {
                f.rows += 1;
            } else {
                f.superseded = true;
            }
        }
    }

    /// Marks a partition in which the submission changed existing records.
    pub fn superseded(&mut self, key: &Key) {
        if let Some(f) = self.file(key) {
            f.superseded = true;
        }
    }

    /// Records the partition's change number from the submission's transaction.
    pub fn set_change(&mut self, key: &Key, change: i64) {
        if let Some(f) = self.files.get_mut(key) {
            f.change = change;
        }
    }

    pub fn keys(&self) -> Vec<Key> {
        self.files.keys().cloned().collect()
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads a spool file back as record batches of at most [`BATCH_ROWS`] rows.
fn spooled_batches(path: std::path::PathBuf) -> impl Iterator<Item = RecordBatch> {
    use std::io::BufRead;
    let lines = std::fs::File::open(path).map(|f| std::io::BufReader::new(f).lines());
    let mut lines = lines.ok();
    std::iter::from_fn(move || {
        let lines = lines.as_mut()?;
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        for line in lines.by_ref() {
            let row: TradeRow = serde_json::from_str(&line.ok()?).ok()?;
            rows.push(row);
            if rows.len() == BATCH_ROWS {
                break;
            }
        }
        (!rows.is_empty()).then(|| batch(&rows))
    })
}

/// Runs the Parquet writer of one partition on a blocking thread, fed batches through a bounded channel.
fn spawn_writer(
    app: &App,
    key: &Key,
) -> AppResult<(std::sync::mpsc::SyncSender<RecordBatch>, tokio::task::JoinHandle<lianrong_lake::LakeResult<()>>)> {
    let partition = lianrong_lake::PartitionKey::new(&key.0, &key.1, &key.2).map_err(lake_error)?;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
    let lake = app.lake.clone();
    let handle = tokio::runtime::Handle::current();
    // The writer pulls batches from a blocking channel, so it runs on a blocking thread driving its own
    // future while the caller produces batches.
    let writer = tokio::task::spawn_blocking(move || {
        handle.block_on(lake.curated().write_partition(&partition, schema(), receiver)).map(|_| ())
    });
    Ok((sender, writer))
}

async fn join_writer(writer: tokio::task::JoinHandle<lianrong_lake::LakeResult<()>>) -> AppResult<()> {
    writer
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "curated writer thread failed");
            crate::AppError::internal()
        })?
        .map_err(lake_error)
}

/// Appends a submission's new records to the partitions whose files were current just before it; the
/// others are left stale for [`publish_stale`]. Answers how many partitions were published.
pub async fn publish_spooled(app: &App, spool: &mut Spool) -> AppResult<usize> {
    let mut published = 0;
    let keys = spool.keys();
    for key in keys {
        let Some(f) = spool.files.get_mut(&key) else { continue };
        if f.superseded || f.change == 0 {
            continue;
        }
        use std::io::Write;
        if f.out.flush().is_err() {
            continue;
        }
        let (rows, change, path) = (f.rows, f.change, f.path.clone());
        let mut tx = app.db.begin_write().await?;
        let state = store::partition_for_update(&mut tx, &key.0, &key.1, &key.2).await?;
        if state.published_changes != change - 1 {
            // Another submission changed the partition in between; a rewrite from the database follows.
            continue;
        }
        let existing = if state.rows_total > 0 {
            let partition = lianrong_lake::PartitionKey::new(&key.0, &key.1, &key.2).map_err(lake_error)?;
            app.lake.curated().read_partition(&partition).await.map_err(lake_error)?
        } else {
            Vec::new()
        };
        let (sender, writer) = spawn_writer(app, &key)?;
        let feed = tokio::task::spawn_blocking(move || {
            for b in existing.into_iter().chain(spooled_batches(path)) {
                if sender.send(b).is_err() {
                    break;
                }
            }
        });
        let _ = feed.await;
        join_writer(writer).await?;
        store::mark_published(&mut tx, &state, change, state.rows_total + rows, now_ms()).await?;
        tx.commit().await.map_err(StoreError::from)?;
        published += 1;
    }
    Ok(published)
}

/// Rewrites from the database every partition whose file is behind; answers how many were published.
pub async fn publish_stale(app: &App) -> AppResult<usize> {
    let mut conn = app.db.acquire().await?;
    let stale = store::stale_partitions(&mut conn, PARTITIONS_PER_RUN_MAX).await?;
    drop(conn);
    let mut published = 0;
    for p in stale {
        // The state is locked and the rows read in one write transaction, so the file written matches
        // exactly the change number recorded.
        let mut tx = app.db.begin_write().await?;
        let state = store::partition_for_update(&mut tx, &p.record_type, &p.chain_id, &p.month).await?;
        if !state.stale() {
            continue;
        }
        let key = (p.record_type.clone(), p.chain_id.clone(), p.month.clone());
        let (sender, writer) = spawn_writer(app, &key)?;
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
        join_writer(writer).await?;
        store::mark_published(&mut tx, &state, state.changes, n, now_ms()).await?;
        tx.commit().await.map_err(StoreError::from)?;
        published += 1;
    }
    Ok(published)
}
