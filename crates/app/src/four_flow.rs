//! Four-flow verification as a use case: each buyer–seller pair's records are loaded and every blue
//! invoice judged by `domain::four_flow`; the verdicts replace the pair's earlier ones. It re-runs
//! incrementally: after each submission, for the pairs whose trade it changed.

use lianrong_domain::four_flow as domain;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_store::StoreError;
use lianrong_store::four_flow as store;

use crate::error::{AppError, AppResult};
use crate::four_flow_judge::judge_records;
use crate::policy::{self, Actor, Permission};
use crate::{App, now_ms};

/// The app's read views of four-flow verdicts: plain data, decoded in the store; the API and console show
/// them.
pub use lianrong_store::four_flow::VerificationRow;

/// What one pair's verification reads from the database, as the database answered it.
struct PairInput {
    buyer: String,
    seller: String,
    records: String,
    stored: String,
    fixed: domain::FixedAccounts,
}

/// Reads one pair inside the caller's write transaction.
async fn read_pair(conn: &mut lianrong_store::Conn, buyer: &str, seller: &str) -> AppResult<PairInput> {
    let records = store::pair_records_json(conn, buyer, seller).await?;
    let stored = store::pair_verdicts_json(conn, buyer, seller).await?;
    // The pair's fixed repayment accounts (`collection_account`): payments made elsewhere are flagged.
    let fixed: domain::FixedAccounts =
        lianrong_store::collection_account::fixed_accounts_of_pair(conn, buyer, seller).await?.into_iter().collect();
    Ok(PairInput { buyer: buyer.to_string(), seller: seller.to_string(), records, stored, fixed })
}

/// Judges one pair and works out which verdicts changed: pure computation, run on a blocking thread.
fn judge_pair(input: PairInput, now: i64) -> AppResult<(store::PairChanges, u64)> {
    let records = store::parse_pair_records(&input.records)?;
    drop(input.records);
    let rows = judge_records(&input.buyer, &input.seller, records, &input.fixed, now);
    let stored = store::parse_verdicts(&input.stored)?;
    Ok((store::pair_changes(&rows, stored), rows.len() as u64))
}

/// How much record data (as the database answered it, about 150 bytes a record) one write transaction
/// reads before it commits (at least one pair's): enough that commits are rare, little enough that other
/// writers wait well under SQLite's busy timeout.
const BYTES_PER_TRANSACTION: usize = 32 << 20;

/// Verifies the given pairs; answers how many invoices were judged. Each pair is read, judged and
/// written inside one write transaction, so a submission that changes the pair meanwhile is judged
/// after it, never overwritten by older verdicts. Consecutive pairs share a transaction up to
/// `BYTES_PER_TRANSACTION` of records, and the work is pipelined over the two halves of the machine:
/// while a blocking thread judges one pair, the connection reads the next, then writes the previous
/// pair's changes while the next is judged.
pub async fn verify_pairs(app: &App, pairs: &[(String, String)]) -> AppResult<u64> {
    let mut judged = 0u64;
    let mut tx: Option<lianrong_store::Tx> = None;
    let mut in_tx = 0usize;
    let mut judging: Option<tokio::task::JoinHandle<AppResult<(store::PairChanges, u64)>>> = None;
    // Where the time goes, for the log: reading, waiting for judging, writing.
    let mut spent = [std::time::Duration::ZERO; 3];
    for (buyer, seller) in pairs {
        let conn = match &mut tx {
            Some(tx) => tx,
            None => tx.insert(app.db.begin_write().await?),
        };
        let t = std::time::Instant::now();
        let input = read_pair(conn, buyer, seller).await?;
        spent[0] += t.elapsed();
        in_tx += input.records.len();
        let now = now_ms();
        let next = tokio::task::spawn_blocking(move || judge_pair(input, now));
        if let Some(previous) = judging.replace(next) {
            judged += write_judged(conn, previous, &mut spent).await?;
        }
        // The transaction ends once its pair is written; the one just read stays in it.
        if in_tx >= BYTES_PER_TRANSACTION
            && let Some(current) = judging.take()
        {
            judged += write_judged(conn, current, &mut spent).await?;
            if let Some(done) = tx.take() {
                done.commit().await.map_err(StoreError::from)?;
            }
            in_tx = 0;
        }
    }
    if let (Some(mut open), Some(last)) = (tx.take(), judging.take()) {
        judged += write_judged(&mut open, last, &mut spent).await?;
        open.commit().await.map_err(StoreError::from)?;
    }
    tracing::debug!(
        pairs = pairs.len(),
        judged,
        read_ms = spent[0].as_millis() as u64,
        waited_ms = spent[1].as_millis() as u64,
        written_ms = spent[2].as_millis() as u64,
        "four-flow verification"
    );
    Ok(judged)
}

async fn write_judged(
    conn: &mut lianrong_store::Conn,
    judging: tokio::task::JoinHandle<AppResult<(store::PairChanges, u64)>>,
    spent: &mut [std::time::Duration; 3],
) -> AppResult<u64> {
    let t = std::time::Instant::now();
    let (changes, judged) = judging.await.map_err(|e| {
        tracing::error!(error = %e, "four-flow verification thread failed");
        AppError::internal()
    })??;
    spent[1] += t.elapsed();
    let t = std::time::Instant::now();
    store::write_changes(conn, &changes).await?;
    spent[2] += t.elapsed();
    Ok(judged)
}

/// How long before a full run began a submission may have finished and still be committing: its pairs
/// are verified again after the run, in case the run read them before the commit.
const COMMIT_LAG_MS: i64 = 60_000;

/// Verifies every pair in the lake (the operator's full re-run, and the benchmark) in one pass over the
/// trade; answers how many invoices were judged. The pass reads a snapshot and writes outside the
/// submissions' write transactions, so a pair a submission (or a fixed account) changed meanwhile may
/// have been given verdicts older than that change's own: those pairs are verified again after it, pair
/// by pair, which reads the latest trade under the write lock.
///
/// On SQLite the full run stays pair by pair for now: measured on 2026-12-07 (docs/BENCHMARKS.md) the
/// one pass was slower there than the pair path, while on PostgreSQL it was 1.6 times faster.
pub async fn verify_all(app: &App) -> AppResult<u64> {
    if app.db.backend == lianrong_store::Backend::Sqlite {
        return verify_all_pair_by_pair(app).await;
    }
    let started_ms = now_ms();
    let judged = crate::four_flow_pass::run(app).await?;
    let mut conn = app.db.acquire().await?;
    let changed = lianrong_store::four_flow_pass::pairs_changed_since(&mut conn, started_ms - COMMIT_LAG_MS).await?;
    drop(conn);
    if !changed.is_empty() {
        verify_pairs(app, &changed).await?;
    }
    Ok(judged)
}

/// The one pass of [`verify_all`] alone, without verifying again the pairs changed meanwhile: what the
/// tests compare with the pair-by-pair run.
pub async fn verify_all_in_one_pass(app: &App) -> AppResult<u64> {
    crate::four_flow_pass::run(app).await
}

/// Verifies every pair in the lake pair by pair, as a submission's verification does: the reference the
/// one-pass run is tested against.
pub async fn verify_all_pair_by_pair(app: &App) -> AppResult<u64> {
    let mut conn = app.db.acquire().await?;
    let pairs = store::pairs(&mut conn).await?;
    drop(conn);
    verify_pairs(app, &pairs).await
}

/// One invoice's verdict, for its two parties (and the operator).
pub async fn get(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<VerificationRow> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &scope, invoice_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Verification", "核验结果"),
        other => other.into(),
    })
}

pub async fn list(
    app: &App,
    actor: &Actor,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<VerificationRow>> {
    policy::require(actor, Permission::ReadTrade)?;
    if let Some(s) = status {
        lianrong_domain::four_flow::VerificationStatus::parse(s)?;
    }
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &scope, status, page).await?)
}
