//! `lianrong bench log`: appends per second to the verifiable log on SQLite (and PostgreSQL with
//! `--postgres-url`), one write transaction per append as a use case does it, against the bare engine
//! doing the same number of one-row write transactions; then batched appends; then the sequencer's
//! integration rate (a large number of pending leaves committed at once, integrated in batches); and
//! inclusion and consistency proofs per second on the grown tree. Figures for docs/BENCHMARKS.md.

use std::time::Instant;

use lianrong_app::log::{self as log_app, LeafKind};
use lianrong_app::{Actor, App, org};
use lianrong_store::Db;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, bare_one_row_transactions, err, work_dir};
use crate::options::{app_error, open};

/// Leaves per transaction in the batched measurement.
const BATCH_LEAVES: u32 = 100;
/// Proofs asked for in the proof measurements.
const PROOFS: u64 = 500;
/// Pending leaves committed at once for the integration measurement.
const INTEGRATION_LEAVES: u32 = 100_000;

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-log")?;
    println!("# lianrong bench log ({} leaves, folder {})", args.leaves, dir.display());
    let path = dir.join("log.db");
    let _ = std::fs::remove_file(&path);
    let url = Db::sqlite_url(&path);
    measure("SQLite", &url, args.leaves).await?;
    if let Some(admin_url) = &args.postgres_url {
        with_postgres(admin_url, args.leaves).await?;
    }
    Ok(())
}

/// A fresh PostgreSQL database beside `admin_url`'s, dropped afterwards.
async fn with_postgres(admin_url: &str, leaves: u32) -> Result<(), String> {
    let name = format!("lr_bench_log_{}", std::process::id());
    let (scratch, urls) = ScratchPostgres::create(admin_url, &[name]).await?;
    let result = measure("PostgreSQL", &urls[0], leaves).await;
    scratch.drop_all().await;
    result
}

async fn measure(label: &str, url: &str, leaves: u32) -> Result<(), String> {
    let lake = std::env::temp_dir().join(format!("lianrong-bench-log-lake-{}", std::process::id()));
    let app = open(url, &lake.display().to_string()).await?;
    let party = party_org(&app).await?;
    let bare_s = bare_one_row_transactions(&app.db, u64::from(leaves), r#"{"channel":"api","rows":120}"#).await?;

    let t = Instant::now();
    for n in 0..leaves {
        append_batch(&app, &party, n, 1).await?;
    }
    let one_s = t.elapsed().as_secs_f64();
    println!(
        "{label}: {leaves} appends, one write transaction each: {one_s:.2} s → {:.0} appends/s; bare engine, {leaves} one-row transactions: {bare_s:.2} s → ratio {:.1}x",
        f64::from(leaves) / one_s.max(1e-9),
        one_s / bare_s.max(1e-9)
    );

    let t = Instant::now();
    let mut n = leaves;
    while n < 2 * leaves {
        let batch = BATCH_LEAVES.min(2 * leaves - n);
        append_batch(&app, &party, n, batch).await?;
        n += batch;
    }
    let batch_s = t.elapsed().as_secs_f64();
    println!(
        "{label}: {leaves} appends in transactions of {BATCH_LEAVES}: {batch_s:.2} s → {:.0} appends/s",
        f64::from(leaves) / batch_s.max(1e-9)
    );

    log_app::integrate_all(&app).await.map_err(app_error)?;
    let system = Actor::system("system");
    let head = log_app::tree_head(&app, &system).await.map_err(app_error)?;
    let size = head.tree_size;
    let t = Instant::now();
    for i in 0..PROOFS {
        let leaf = (i * 7919) % size;
        log_app::entry(&app, &system, leaf, Some(size)).await.map_err(app_error)?;
    }
    let incl_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..PROOFS {
        let first = 1 + (i * 7919) % size;
        log_app::consistency(&app, &system, first, size).await.map_err(app_error)?;
    }
    let cons_s = t.elapsed().as_secs_f64();
    println!(
        "{label}: tree of {size} leaves: {:.0} inclusion proofs/s, {:.0} consistency proofs/s",
        PROOFS as f64 / incl_s.max(1e-9),
        PROOFS as f64 / cons_s.max(1e-9)
    );
    measure_integration(label, &app, &party, 2 * leaves).await?;
    app.db.pool.close().await;
    Ok(())
}

/// Commits [`INTEGRATION_LEAVES`] pending leaves in one transaction, then times the sequencers (the
/// app's own and this one, taking turns) until none is pending: leaves integrated per second.
async fn measure_integration(label: &str, app: &App, party: &str, from: u32) -> Result<(), String> {
    log_app::integrate_all(app).await.map_err(app_error)?;
    append_batch(app, party, from, INTEGRATION_LEAVES).await?;
    let t = Instant::now();
    log_app::integrate_all(app).await.map_err(app_error)?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "{label}: sequencer: {INTEGRATION_LEAVES} pending leaves integrated in batches of {}: {s:.2} s → {:.0} leaves/s",
        log_app::BATCH_LEAVES_MAX,
        f64::from(INTEGRATION_LEAVES) / s.max(1e-9)
    );
    Ok(())
}

async fn party_org(app: &App) -> Result<String, String> {
    let system = Actor::system("system");
    let o = org::create(
        app,
        &system,
        org::NewOrg {
            uscc: "91500000MA5U000A5N".into(),
            name: "重庆宏达汽车零部件有限公司".into(),
            kind: "core".into(),
            size_class: "large".into(),
            region_code: None,
        },
    )
    .await
    .map_err(app_error)?;
    Ok(o.id)
}

/// `count` submission leaves from number `from` in one write transaction.
async fn append_batch(app: &App, party: &str, from: u32, count: u32) -> Result<(), String> {
    let mut tx = app.db.begin_write().await.map_err(err)?;
    for n in from..from + count {
        let entry = serde_json::json!({"sm3": format!("{n:064x}"), "rows": 120, "channel": "api"});
        log_app::append(&mut tx, LeafKind::Submission, &format!("bench-{n}"), &[party], &entry, lianrong_app::now_ms())
            .await
            .map_err(app_error)?;
    }
    tx.commit().await.map_err(err)
}
