//! `lianrong bench four-flow`: verify N invoices (1,000,000 by default) against their orders,
//! deliveries and payments, on SQLite and (with `--postgres-url`) PostgreSQL. The trade is generated in
//! the database by SQL (one order, one accepted delivery and one invoice per trade, a payment for half of
//! them, 1 % of invoices disagreeing with their delivery), spread over 200 supplier pairs; then
//! `app::four_flow::verify_all` links and judges every invoice and stores the verdicts. The bare engine
//! reads the same rows in the same run (`sqlite3`, PostgreSQL `COPY … TO`).

use std::process::Command;
use std::time::Instant;

use lianrong_app::App;
use sqlx::AssertSqlSafe;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, psql, work_dir};

const PAIRS: u64 = 200;

/// Inserts the generated trade with one statement per record type.
async fn generate(app: &App, n: u64) -> Result<(), String> {
    let base = "INSERT INTO trade_record (id, record_type, natural_key, version, content_sm3, doc_no, invoice_code, \
        doc_date, month, buyer_uscc, seller_uscc, currency, total_fen, order_refs, delivery_refs, invoice_refs, \
        invoice_kind, acceptance_status, chain_id, submission_id, channel, file_name, row_no, submitter_org_id, \
        created_at_ms, updated_at_ms) WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < $1) ";
    let cols = |t: &str,
                prefix: &str,
                date: &str,
                total: &str,
                order: &str,
                delivery: &str,
                invoice: &str,
                kind: &str,
                acc: &str,
                filter: &str| {
        format!(
            "{base} SELECT '{prefix}' || n, '{t}', '{t}|' || n, 1, 'x', '{prefix}' || n, '', {date}, substr({date}, 1, 7), \
             'BUYER', 'S' || (n % {PAIRS}), 'CNY', {total}, {order}, {delivery}, {invoice}, {kind}, {acc}, 'bench', 'bench', \
             'api', 'bench', n, 'bench', 0, 0 FROM s {filter}"
        )
    };
    let amount = "(100000 + (n % 5000) * 100)";
    let statements = [
        cols("order", "PO", "'2026-03-' || (10 + n % 18)", amount, "''", "''", "''", "NULL", "NULL", ""),
        cols(
            "delivery",
            "DN",
            "'2026-04-' || (10 + n % 18)",
            amount,
            "'PO' || n",
            "''",
            "''",
            "NULL",
            "'accepted'",
            "",
        ),
        cols(
            "invoice",
            "INV",
            "'2026-05-' || (10 + n % 18)",
            &format!("CASE WHEN n % 100 = 0 THEN {amount} + 100 ELSE {amount} END"),
            "'PO' || n",
            "''",
            "''",
            "'blue'",
            "NULL",
            "",
        ),
        cols(
            "payment",
            "PAY",
            "'2026-07-' || (10 + n % 18)",
            amount,
            "''",
            "''",
            "'INV' || n",
            "NULL",
            "NULL",
            "WHERE n % 2 = 0",
        ),
    ];
    for sql in statements {
        sqlx::query(AssertSqlSafe(sql)).bind(n as i64 - 1).execute(&app.db.pool).await.map_err(|e| e.to_string())?;
    }
    // A database that has lived a while has statistics (PostgreSQL's autovacuum gathers them; SQLite's
    // are gathered by ANALYZE). Without them, straight after a bulk load, either engine may read a pair
    // through the buyer index — every record, since the generated trade has one buyer — instead of the
    // seller's.
    sqlx::query("ANALYZE").execute(&app.db.pool).await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn measure(
    label: &str,
    url: &str,
    lake: &std::path::Path,
    n: u64,
    bare: impl Fn() -> Result<f64, String>,
) -> Result<(), String> {
    let app = crate::options::open(url, &lake.display().to_string()).await?;
    let t = Instant::now();
    generate(&app, n).await?;
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trade_record")
        .fetch_one(&app.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    println!("{label}: generated {records} records in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let judged = lianrong_app::four_flow::verify_all(&app).await.map_err(crate::options::app_error)?;
    let s = t.elapsed().as_secs_f64();
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM verification GROUP BY status ORDER BY status")
            .fetch_all(&app.db.pool)
            .await
            .map_err(|e| e.to_string())?;
    let rerun = Instant::now();
    lianrong_app::four_flow::verify_all(&app).await.map_err(crate::options::app_error)?;
    let rerun_s = rerun.elapsed().as_secs_f64();
    println!("{label}: the same run again over current verdicts (nothing changes) {rerun_s:.2} s");
    small_submission(label, &app).await?;
    app.db.pool.close().await;
    let bare_s = bare()?;
    println!(
        "{label}: verified {judged} invoices ({records} records) in {s:.2} s = {:.0} invoices/s, {:.0} records/s; bare read of the same rows {bare_s:.2} s (verification takes {:.1}× the bare read); verdicts {by_status:?}",
        judged as f64 / s,
        records as f64 / s,
        s / bare_s
    );
    Ok(())
}

/// Records of the small submission timed after the full run.
const SMALL_SUBMISSION_RECORDS: i64 = 100;

/// A small submission into one pair (a payment for each of 100 of its invoices that had none, inserted
/// as the lake would), then that pair's verification as a submission runs it, timed.
async fn small_submission(label: &str, app: &App) -> Result<(), String> {
    let sql = format!(
        "INSERT INTO trade_record (id, record_type, natural_key, version, content_sm3, doc_no, invoice_code, \
         doc_date, month, buyer_uscc, seller_uscc, currency, total_fen, order_refs, delivery_refs, invoice_refs, \
         chain_id, submission_id, channel, file_name, row_no, submitter_org_id, created_at_ms, updated_at_ms) \
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $1) \
         SELECT 'PAYX' || n, 'payment', 'paymentx|' || n, 1, 'x', 'PAYX' || n, '', '2026-08-01', '2026-08', 'BUYER', \
         'S1', 'CNY', 1000, '', '', 'INV' || ((2 * n - 1) * {PAIRS} + 1), 'bench', 'bench', 'api', 'bench', n, \
         'bench', 0, 0 FROM s"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(SMALL_SUBMISSION_RECORDS)
        .execute(&app.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let stamp: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(verified_at_ms), 0) FROM verification")
        .fetch_one(&app.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let records: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM trade_record WHERE buyer_uscc = 'BUYER' AND seller_uscc = 'S1'")
            .fetch_one(&app.db.pool)
            .await
            .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let pair = [("BUYER".to_string(), "S1".to_string())];
    let judged = lianrong_app::four_flow::verify_pairs(app, &pair).await.map_err(crate::options::app_error)?;
    let s = t.elapsed().as_secs_f64();
    let changed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verification WHERE verified_at_ms > $1")
        .bind(stamp)
        .fetch_one(&app.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{label}: a submission of {SMALL_SUBMISSION_RECORDS} payments into a pair of {records} records: its verification judged {judged} invoices, rewrote {changed} verdicts, in {:.0} ms",
        s * 1000.0
    );
    Ok(())
}

const BARE_QUERY: &str = "SELECT id, record_type, doc_no, doc_date, total_fen, order_refs, delivery_refs, invoice_refs, \
    invoice_kind, acceptance_status, payee_account_sm3 FROM trade_record";

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-ff")?;
    let n = args.rows;
    let db_path = dir.join("bench-four-flow.db");
    let _ = std::fs::remove_file(&db_path);
    let sqlite_url = crate::options::sqlite_in(&dir, "bench-four-flow.db")?;
    measure("SQLite", &sqlite_url, &dir.join("lake-sqlite"), n, || {
        let t = Instant::now();
        let out = Command::new("sqlite3")
            .arg(&db_path)
            .arg(BARE_QUERY)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("sqlite3: {e}"))?;
        if !out.success() {
            return Err("sqlite3 failed".into());
        }
        Ok(t.elapsed().as_secs_f64())
    })
    .await?;
    if let Some(admin_url) = &args.postgres_url {
        let name = format!("lr_bench_ff_{}", std::process::id());
        let (scratch, urls) = ScratchPostgres::create(admin_url, &[name]).await?;
        let url = &urls[0];
        let result = measure("PostgreSQL", url, &dir.join("lake-postgres"), n, || {
            let t = Instant::now();
            let copy = format!("\\copy ({BARE_QUERY}) TO '/dev/null'");
            if !psql(url, &copy)? {
                return Err("psql failed".into());
            }
            Ok(t.elapsed().as_secs_f64())
        })
        .await;
        scratch.drop_all().await;
        result?;
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
