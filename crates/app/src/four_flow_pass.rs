//! Four-flow verification of the whole lake in one pass (the operator's full re-run, and the benchmark):
//! one statement streams the trade ordered by pair; a blocking thread judges each pair as it arrives
//! while the connection reads the next; the verdicts are written in bulk batches, each in one write
//! transaction, the database leaving unchanged verdicts alone. Reading pair by pair cost one scattered
//! page read per record, and comparing verdicts in Rust meant reading every stored one back.

use std::collections::HashMap;

use lianrong_domain::four_flow as domain;
use lianrong_store::four_flow::parse_pair_records;
use lianrong_store::four_flow_pass::{self as pass, PairText, VerdictBatch};
use tokio::sync::mpsc;

use crate::error::{AppError, AppResult};
use crate::four_flow_judge::judge_records;
use crate::{App, now_ms};

/// Verdicts written per transaction: enough that commits are rare, few enough that other writers wait
/// well under SQLite's busy timeout (a batch is written in about a second).
const VERDICTS_PER_BATCH: usize = 50_000;

/// Pairs read ahead of the judging, and batches judged ahead of the writing: a little slack keeps both
/// halves of the machine busy without holding the whole lake in memory.
const PAIRS_AHEAD: usize = 4;
const BATCHES_AHEAD: usize = 2;

type FixedByPair = HashMap<(String, String), Vec<(String, String)>>;

/// Verifies every pair; answers how many invoices were judged.
pub(crate) async fn run(app: &App) -> AppResult<u64> {
    // One read transaction: the fixed accounts and the trade come from the same snapshot.
    let mut conn = app.db.begin_read().await?;
    let fixed = pass::all_fixed_accounts(&mut conn).await?;
    let (pairs_tx, pairs_rx) = mpsc::channel::<PairText>(PAIRS_AHEAD);
    let (batches_tx, mut batches_rx) = mpsc::channel::<AppResult<VerdictBatch>>(BATCHES_AHEAD);
    let reader = tokio::spawn(async move {
        pass::read_all_pairs(&mut conn, &pairs_tx).await?;
        conn.commit().await.map_err(lianrong_store::StoreError::from)
    });
    let now = now_ms();
    let judge = tokio::task::spawn_blocking(move || judge_stream(pairs_rx, &batches_tx, &fixed, now));
    let (mut judged, mut written) = (0u64, pass::Written::default());
    let started = std::time::Instant::now();
    let mut writing = std::time::Duration::ZERO;
    while let Some(batch) = batches_rx.recv().await {
        let mut batch = batch?;
        judged += batch.rows.len() as u64;
        let t = std::time::Instant::now();
        let w = pass::write_batch(&app.db, &mut batch).await?;
        writing += t.elapsed();
        written.upserted += w.upserted;
        written.deleted += w.deleted;
    }
    // Dropping the receiver above (on an error) stops the judge and then the reader.
    reader.await.map_err(thread_failed)??;
    judge.await.map_err(thread_failed)?;
    tracing::debug!(
        judged,
        upserted = written.upserted,
        deleted = written.deleted,
        total_ms = started.elapsed().as_millis() as u64,
        written_ms = writing.as_millis() as u64,
        "four-flow verification in one pass"
    );
    Ok(judged)
}

fn thread_failed(e: tokio::task::JoinError) -> AppError {
    tracing::error!(error = %e, "four-flow verification task failed");
    AppError::internal()
}

/// The judging half: pairs in, batches of verdicts out (with each pair's fresh ids, so the writer can
/// delete the verdicts a pair no longer has). Stops when the reader is done or the writer is gone.
fn judge_stream(
    mut pairs: mpsc::Receiver<PairText>,
    batches: &mpsc::Sender<AppResult<VerdictBatch>>,
    fixed: &FixedByPair,
    now: i64,
) {
    let mut batch = VerdictBatch::default();
    let none = domain::FixedAccounts::new();
    while let Some(pair) = pairs.blocking_recv() {
        let records = match parse_pair_records(&pair.records) {
            Ok(r) => r,
            Err(e) => {
                let _ = batches.blocking_send(Err(e.into()));
                return;
            }
        };
        drop(pair.records);
        let key = (pair.buyer_uscc, pair.seller_uscc);
        let accounts: domain::FixedAccounts = match fixed.get(&key) {
            Some(list) => list.iter().cloned().collect(),
            None => none.clone(),
        };
        let rows = judge_records(&key.0, &key.1, records, &accounts, now);
        batch.pairs.push((key.0, key.1, rows.iter().map(|r| r.invoice_id.clone()).collect()));
        batch.rows.extend(rows);
        if batch.rows.len() >= VERDICTS_PER_BATCH && batches.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
            return;
        }
    }
    if !batch.pairs.is_empty() {
        let _ = batches.blocking_send(Ok(batch));
    }
}
