//! `lianrong bench commitment`: digital payment commitments under concurrent load. A core
//! issues one commitment to each of N tier-1 suppliers (16 by default) on its line at a bank; each
//! tier-1 supplier is one client that, alone on its own commitment, passes 1–100 fen at a time to its
//! own tier-2 supplier against a large verified invoice (and splits now and then), one operation after
//! another; the N clients run at once for a fixed time (or count). Operations go through
//! `lianrong_app::commitment::operate` — the use case the API handler calls, without HTTP — with an
//! `Actor` per holder. Afterwards every ledger is checked (live parts sum to the face, invariants hold,
//! every fen transferred is paid against trade and every operation is a log leaf).
//!
//! The bare engine in the same run: on PostgreSQL, `pgbench` (TPC-B-like default script, scale = N, N
//! clients, prepared statements, the same duration) against a scratch database on the same server; on
//! SQLite, pgbench's TPC-B-like transaction (same tables and scale, three updates, a select, an insert)
//! by N clients through sqlx on a fresh file opened with the platform's own settings.

use std::process::Command;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use lianrong_app::commitment::{self, NewCommitment, Operation};
use lianrong_app::{Actor, App};
use lianrong_domain::org::OrgKind;
use lianrong_store::Db;
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, err, org_admin, uscc, work_dir};
use crate::options::app_error;

/// Face of each commitment: ¥500,000.00, enough for millions of 1–100 fen transfers.
const FACE_FEN: i64 = 50_000_000;
/// The payable behind each commitment and the tier-2 invoice each client pays against: ¥1,000,000.00.
const INVOICE_YUAN: &str = "1000000.00";
/// One operation in this many is a split (100 fen off the held part), the others transfers.
const SPLIT_EVERY: u64 = 20;
/// Fen a split takes off.
const SPLIT_FEN: i64 = 100;
/// Days from issue to maturity (within the six-month principle and the payables' term).
const MATURITY_DAYS: i64 = 90;
/// TPC-B's accounts per unit of scale (as pgbench).
const ACCOUNTS_PER_SCALE: i64 = 100_000;

fn days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// How long (or how many operations) each client runs.
#[derive(Clone, Copy)]
enum Stop {
    After(Duration),
    Count(u64),
}

/// One client: a tier-1 supplier holding its commitment, and the supplier it pays.
struct Client {
    n: usize,
    actor: Actor,
    commitment_id: String,
    to_org_id: String,
    invoice_id: String,
}

async fn org(app: &App, n: u32, kind: &str, name: String) -> Result<Actor, String> {
    let size = if kind == "supplier" { "small" } else { "large" };
    let o = lianrong_app::org::create(
        app,
        &Actor::system("system"),
        lianrong_app::org::NewOrg {
            uscc: uscc(n),
            name,
            kind: kind.into(),
            size_class: size.into(),
            region_code: None,
        },
    )
    .await
    .map_err(app_error)?;
    let kind = match kind {
        "core" => OrgKind::Core,
        "bank" => OrgKind::Bank,
        _ => OrgKind::Supplier,
    };
    Ok(org_admin(&o.id, kind, &o.name))
}

/// `seller` shares an order, an accepted delivery and an invoice to `buyer` (365 days' term), which
/// the four-flow check verifies on arrival; answers the invoice's record id.
async fn verified_invoice(
    app: &App,
    seller: &Actor,
    buyer_n: u32,
    seller_n: u32,
    serial: u32,
) -> Result<String, String> {
    let today = app.today();
    let (ordered, delivered, invoiced) = (days(today, -50), days(today, -45), days(today, -40));
    let no = format!("{:02}500{serial:015}", invoiced.year() % 100);
    let (b, s) = (uscc(buyer_n), uscc(seller_n));
    let records = json!([
        {"record_type": "order", "order_no": format!("PO-{no}"), "order_date": ordered.to_string(), "buyer_uscc": b, "seller_uscc": s, "total_amount": INVOICE_YUAN, "term_days": "365"},
        {"record_type": "delivery", "delivery_no": format!("DN-{no}"), "delivery_date": delivered.to_string(), "order_refs": format!("PO-{no}"), "buyer_uscc": b, "seller_uscc": s, "total_amount": INVOICE_YUAN, "acceptance_status": "accepted", "accepted_date": delivered.to_string()},
        {"record_type": "invoice", "invoice_no": no, "issue_date": invoiced.to_string(), "buyer_uscc": b, "seller_uscc": s, "total_amount": INVOICE_YUAN, "order_refs": format!("PO-{no}"), "delivery_refs": format!("DN-{no}")},
    ]);
    let raw = records.to_string().into_bytes();
    let records: Vec<serde_json::Map<String, Value>> =
        records.as_array().into_iter().flatten().filter_map(|r| r.as_object().cloned()).collect();
    let report =
        lianrong_app::submission::submit_records(app, seller, raw, "bench", records).await.map_err(app_error)?;
    if report.accepted != 3 {
        return Err(format!(
            "invoice {no}: {} of 3 records accepted: {:?}",
            report.accepted,
            report.row_errors.first()
        ));
    }
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT t.id, v.status FROM trade_record t LEFT JOIN verification v ON v.invoice_id = t.id \
         WHERE t.record_type = 'invoice' AND t.doc_no = $1",
    )
    .bind(no.clone())
    .fetch_optional(&app.db.pool)
    .await
    .map_err(err)?;
    match row {
        Some((id, Some(status))) if status == "verified" => Ok(id),
        other => Err(format!("invoice {no} is not verified: {other:?}")),
    }
}

/// The world: a core, its bank and line, and per client a tier-1 supplier holding a commitment issued
/// against its confirmed payable, and a tier-2 supplier with a verified invoice to it.
async fn world(app: &App, clients: usize) -> Result<Vec<Client>, String> {
    let core = org(app, 1, "core", "基准链主集团有限公司".into()).await?;
    let bank = org(app, 2, "bank", "基准银行股份有限公司".into()).await?;
    let today = app.today();
    let line = lianrong_app::credit_line::grant(
        app,
        &bank,
        &lianrong_app::credit_line::NewLine {
            borrower_org_id: core.org_id.clone(),
            kind: "core_supply_chain".into(),
            limit_fen: FACE_FEN * clients as i64,
            valid_from: days(today, -1).to_string(),
            valid_until: days(today, 730).to_string(),
        },
    )
    .await
    .map_err(app_error)?;
    let mut out = Vec::with_capacity(clients);
    for k in 0..clients {
        let (n1, n2) = (100 + k as u32, 1000 + k as u32);
        let t1 = org(app, n1, "supplier", format!("基准一级供应商{k}有限公司")).await?;
        let t2 = org(app, n2, "supplier", format!("基准二级供应商{k}有限公司")).await?;
        let payable = verified_invoice(app, &t1, 1, n1, 2 * k as u32 + 1).await?;
        let invoice_id = verified_invoice(app, &t2, n1, n2, 2 * k as u32 + 2).await?;
        let input = lianrong_app::confirmation::PayableInput { invoice_id: payable.clone(), signature_hex: None };
        lianrong_app::confirmation::confirm_payables(app, &core, &[input]).await.map_err(app_error)?;
        let issued = commitment::issue(
            app,
            &core,
            &NewCommitment {
                holder_org_id: t1.org_id.clone(),
                invoice_ids: vec![payable],
                face_fen: FACE_FEN,
                maturity_date: days(today, MATURITY_DAYS).to_string(),
                credit_line_id: line.id.clone(),
            },
        )
        .await
        .map_err(app_error)?;
        out.push(Client { n: k, actor: t1, commitment_id: issued.commitment.id, to_org_id: t2.org_id, invoice_id });
    }
    Ok(out)
}

/// What one client did.
#[derive(Default)]
struct Tally {
    transfers: u64,
    splits: u64,
    transferred_fen: i64,
    errors: u64,
    first_error: Option<String>,
    latencies: Vec<Duration>,
}

/// One client's loop: transfer 1–100 fen of the part it holds (the change is its next part), every
/// `SPLIT_EVERY`th operation split 100 fen off instead.
async fn run_client(app: App, c: Client, stop: Stop, start: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut part = format!("{}/0", c.commitment_id);
    let mut held = FACE_FEN;
    let mut n: u64 = 0;
    loop {
        let done = match stop {
            Stop::After(d) => start.elapsed() >= d,
            Stop::Count(k) => n >= k,
        };
        if done {
            break;
        }
        let id = format!("c{}-{n}", c.n);
        let split = n % SPLIT_EVERY == SPLIT_EVERY - 1;
        let amount = 1 + ((n * 37 + c.n as u64 * 11) % 100) as i64;
        let op = if split {
            Operation::Split { part_id: part.clone(), amounts_fen: vec![SPLIT_FEN, held - SPLIT_FEN] }
        } else {
            Operation::Transfer {
                part_id: part.clone(),
                to_org_id: c.to_org_id.clone(),
                amount_fen: amount,
                invoice_ids: vec![c.invoice_id.clone()],
            }
        };
        let t = Instant::now();
        let result = commitment::operate(&app, &c.actor, &c.commitment_id, &id, &op).await;
        tally.latencies.push(t.elapsed());
        match result {
            Ok(_) => {
                part = format!("{id}/1");
                if split {
                    held -= SPLIT_FEN;
                    tally.splits += 1;
                } else {
                    held -= amount;
                    tally.transfers += 1;
                    tally.transferred_fen += amount;
                }
            }
            Err(e) => {
                tally.errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some(format!("{id}: {} {}", e.code, e.en));
                }
            }
        }
        n += 1;
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

/// Opens every connection the pool allows before timing, as pgbench reports tps without its
/// connection time.
async fn warm(db: &Db) -> Result<(), String> {
    let mut held = Vec::new();
    for _ in 0..db.pool.options().get_max_connections() {
        held.push(db.pool.acquire().await.map_err(err)?);
    }
    Ok(())
}

/// Builds the world, runs the clients, checks the ledgers; answers operations per second.
async fn measure(label: &str, url: &str, lake: &std::path::Path, clients: usize, stop: Stop) -> Result<f64, String> {
    let app = crate::options::open(url, &lake.display().to_string()).await?;
    let t = Instant::now();
    let world = world(&app, clients).await?;
    println!(
        "{label}: world built in {:.1} s: 1 core, 1 bank with a line, {clients} tier-1 suppliers each holding a commitment of {} fen, {clients} tier-2 suppliers each with a verified invoice of {INVOICE_YUAN} yuan to its buyer",
        t.elapsed().as_secs_f64(),
        FACE_FEN
    );
    lianrong_app::log::integrate_all(&app).await.map_err(app_error)?;
    let leaves_before = tree_size(&app).await?;
    warm(&app.db).await?;
    let start = Instant::now();
    let tasks: Vec<_> = world.into_iter().map(|c| tokio::spawn(run_client(app.clone(), c, stop, start))).collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.map_err(err)?;
        all.transfers += t.transfers;
        all.splits += t.splits;
        all.transferred_fen += t.transferred_fen;
        all.errors += t.errors;
        all.first_error = all.first_error.or(t.first_error);
        all.latencies.extend(t.latencies);
    }
    let seconds = start.elapsed().as_secs_f64();
    all.latencies.sort();
    let ops = all.transfers + all.splits;
    let ops_per_s = ops as f64 / seconds;
    println!(
        "{label}: {ops} operations ({} transfers, {} splits) by {clients} clients in {seconds:.2} s = {ops_per_s:.0} operations/s ({:.0} transfers/s); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {}{}",
        all.transfers,
        all.splits,
        all.transfers as f64 / seconds,
        percentile(&all.latencies, 0.50),
        percentile(&all.latencies, 0.99),
        percentile(&all.latencies, 1.0),
        all.errors,
        all.first_error.map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
    check_ledgers(&app, label, ops, all.transferred_fen, leaves_before).await?;
    app.db.pool.close().await;
    Ok(ops_per_s)
}

async fn tree_size(app: &App) -> Result<i64, String> {
    sqlx::query_scalar("SELECT tree_size FROM log_state WHERE id = 1").fetch_one(&app.db.pool).await.map_err(err)
}

/// Every commitment balances (live parts = face, the ledger's invariants over all its parts), the
/// transfers recorded are the operations that succeeded, the fen transferred is what the basis records
/// and what the tier-2 suppliers hold, and every operation is one log leaf.
async fn check_ledgers(
    app: &App,
    label: &str,
    ops: u64,
    transferred_fen: i64,
    leaves_before: i64,
) -> Result<(), String> {
    // The sequencer integrated leaves during the run; what the last operations wrote may still wait.
    lianrong_app::log::integrate_all(app).await.map_err(app_error)?;
    let system = Actor::system("system");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM commitment ORDER BY id").fetch_all(&app.db.pool).await.map_err(err)?;
    let mut parts = 0;
    let mut problems = Vec::new();
    for id in &ids {
        let view = commitment::get(app, &system, id).await.map_err(app_error)?;
        parts += view.parts.len();
        if view.live_fen != view.commitment.face_fen {
            problems.push(format!("{id}: live {} ≠ face {}", view.live_fen, view.commitment.face_fen));
        }
        if let Some(broken) = view.invariant_broken {
            problems.push(format!("{id}: {broken}"));
        }
    }
    let scalar = |sql: &'static str| async move {
        sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(&app.db.pool).await.map(|n| n.unwrap_or(0)).map_err(err)
    };
    let recorded = scalar("SELECT COUNT(*) FROM commitment_transfer").await?;
    let basis = scalar("SELECT CAST(SUM(amount_fen) AS BIGINT) FROM commitment_basis").await?;
    let received = scalar(
        "SELECT CAST(SUM(p.amount_fen) AS BIGINT) FROM commitment_part p JOIN commitment c ON c.id = p.commitment_id \
         WHERE p.state = 'held' AND p.holder_org_id <> c.first_holder_org_id",
    )
    .await?;
    let leaves = tree_size(app).await? - leaves_before;
    if recorded != ops as i64 {
        problems.push(format!("{recorded} transfers recorded, {ops} operations succeeded"));
    }
    if basis != transferred_fen || received != transferred_fen {
        problems.push(format!("{transferred_fen} fen transferred, basis records {basis}, tier 2 holds {received}"));
    }
    if leaves != ops as i64 {
        problems.push(format!("{leaves} log leaves appended for {ops} operations"));
    }
    if problems.is_empty() {
        println!(
            "{label}: ledger check passed: {} commitments, {parts} parts, live parts = face on each and the ledger's invariants hold; {recorded} transfers recorded = operations; {transferred_fen} fen transferred = basis used = held by tier 2; {leaves} log leaves appended",
            ids.len()
        );
        Ok(())
    } else {
        Err(format!("{label}: ledger check FAILED: {}", problems.join("; ")))
    }
}

/// pgbench's TPC-B-like run on a scratch database of the same server; answers its tps.
fn pgbench(url: &str, clients: usize, seconds: u64) -> Result<f64, String> {
    let missing = |e: std::io::Error| {
        format!("pgbench: {e} (it comes with Debian's postgresql package, which scripts/test installs)")
    };
    let init = Command::new("pgbench").args(["-i", "-q", "-s", &clients.to_string(), url]).output().map_err(missing)?;
    if !init.status.success() {
        return Err(format!("pgbench -i failed: {}", String::from_utf8_lossy(&init.stderr)));
    }
    let run = Command::new("pgbench")
        .args(["-c", &clients.to_string(), "-j", "2", "-T", &seconds.to_string(), "-M", "prepared", url])
        .output()
        .map_err(missing)?;
    let out = String::from_utf8_lossy(&run.stdout);
    if !run.status.success() {
        return Err(format!("pgbench failed: {out}{}", String::from_utf8_lossy(&run.stderr)));
    }
    let tps = out
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output: {out}"))?;
    let latency = out.lines().find(|l| l.starts_with("latency average")).unwrap_or("").trim();
    println!(
        "PostgreSQL: pgbench TPC-B-like (scale {clients}, {clients} clients, 2 threads, prepared, {seconds} s): {tps:.0} tps; {latency}"
    );
    Ok(tps)
}

/// A tiny deterministic generator for the bare TPC-B-like run (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as i64
    }
}

/// pgbench's TPC-B-like transaction on SQLite by `clients` clients through sqlx, on a fresh file
/// opened with the platform's settings (WAL, synchronous=NORMAL, `BEGIN IMMEDIATE`): answers tps.
async fn bare_sqlite_tpcb(dir: &std::path::Path, clients: usize, stop: Stop) -> Result<f64, String> {
    let path = dir.join("bare-tpcb.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let db = Db::connect(&Db::sqlite_url(&path)).await.map_err(err)?;
    let scale = clients as i64;
    let series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $1)";
    for sql in [
        "CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER NOT NULL, filler TEXT)".to_string(),
        "CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER NOT NULL, filler TEXT)"
            .into(),
        "CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER NOT NULL, filler TEXT)"
            .into(),
        "CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TEXT, filler TEXT)"
            .into(),
    ] {
        sqlx::query(AssertSqlSafe(sql)).execute(&db.pool).await.map_err(err)?;
    }
    for (sql, rows) in [
        (format!("INSERT INTO pgbench_branches (bid, bbalance) {series} SELECT n, 0 FROM s"), scale),
        (
            format!("INSERT INTO pgbench_tellers (tid, bid, tbalance) {series} SELECT n, (n - 1) / 10 + 1, 0 FROM s"),
            scale * 10,
        ),
        (
            format!(
                "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) {series} SELECT n, (n - 1) / {ACCOUNTS_PER_SCALE} + 1, 0, printf('%84s', '') FROM s"
            ),
            scale * ACCOUNTS_PER_SCALE,
        ),
    ] {
        sqlx::query(AssertSqlSafe(sql)).bind(rows).execute(&db.pool).await.map_err(err)?;
    }
    warm(&db).await?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|k| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1));
                let mut n: u64 = 0;
                loop {
                    let done = match stop {
                        Stop::After(d) => start.elapsed() >= d,
                        Stop::Count(k) => n >= k,
                    };
                    if done {
                        return Ok::<u64, String>(n);
                    }
                    let aid = 1 + rng.below(scale * ACCOUNTS_PER_SCALE);
                    let bid = 1 + rng.below(scale);
                    let tid = 1 + rng.below(scale * 10);
                    let delta = rng.below(10_001) - 5_000;
                    let mut tx = db.begin_write().await.map_err(err)?;
                    sqlx::query("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2")
                        .bind(delta)
                        .bind(aid)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    let _: i64 = sqlx::query_scalar("SELECT abalance FROM pgbench_accounts WHERE aid = $1")
                        .bind(aid)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?;
                    sqlx::query("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2")
                        .bind(delta)
                        .bind(tid)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    sqlx::query("UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2")
                        .bind(delta)
                        .bind(bid)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    sqlx::query(
                        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
                    )
                    .bind(tid)
                    .bind(bid)
                    .bind(aid)
                    .bind(delta)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    tx.commit().await.map_err(err)?;
                    n += 1;
                }
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(err)??;
    }
    let seconds = start.elapsed().as_secs_f64();
    db.pool.close().await;
    let tps = total as f64 / seconds;
    println!(
        "SQLite: bare engine, pgbench's TPC-B-like transaction through sqlx (scale {scale}, {clients} clients, same settings): {total} transactions in {seconds:.2} s = {tps:.0} tps"
    );
    Ok(tps)
}

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let clients = args.clients.clamp(1, 64) as usize;
    let stop = match args.ops {
        Some(n) => Stop::Count(n),
        None => Stop::After(Duration::from_secs(args.seconds.max(1))),
    };
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-cm")?;
    let how = match stop {
        Stop::After(d) => format!("{} s", d.as_secs()),
        Stop::Count(n) => format!("{n} operations per client"),
    };
    println!(
        "# lianrong bench commitment ({clients} clients, {how}; operations through lianrong_app::commitment::operate, no HTTP; folder {})",
        dir.display()
    );

    let path = dir.join("bench-commitment.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let ours = measure("SQLite", &Db::sqlite_url(&path), &dir.join("lake-sqlite"), clients, stop).await?;
    let bare = bare_sqlite_tpcb(&dir, clients, stop).await?;
    println!("SQLite: ratio ours/bare TPC-B-like {:.2}", ours / bare.max(1e-9));

    if let Some(admin_url) = &args.postgres_url {
        let pid = std::process::id();
        let names = [format!("lr_bench_cm_{pid}"), format!("lr_bench_pgbench_{pid}")];
        let (scratch, urls) = ScratchPostgres::create(admin_url, &names).await?;
        let (ours_url, bare_url) = (&urls[0], &urls[1]);
        let result = async {
            let ours = measure("PostgreSQL", ours_url, &dir.join("lake-postgres"), clients, stop).await?;
            let seconds = match stop {
                Stop::After(d) => d.as_secs(),
                // pgbench runs for a time; with a count, a 20 s run.
                Stop::Count(_) => 20,
            };
            let tps = pgbench(bare_url, clients, seconds)?;
            println!("PostgreSQL: ratio ours/pgbench {:.2} (goal ≥ 0.5)", ours / tps.max(1e-9));
            Ok::<(), String>(())
        }
        .await;
        scratch.drop_all().await;
        result?;
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
