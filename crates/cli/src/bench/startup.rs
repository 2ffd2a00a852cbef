//! `lianrong bench startup`: the foundation's benchmark. It measures, in one run on this machine,
//! (1) building the demo world through the real use cases, against the bare engine doing the same number
//! of one-row transactions; (2) how long `lianrong serve` takes to answer /readyz on an existing
//! database, against opening the same database and running `SELECT 1` with no platform around it; and
//! (3) the resident memory of the idle server. Figures go to docs/BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use lianrong_store::Db;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, Server, bare_one_row_transactions, err, http_status, rss_kib, work_dir};

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench")?;
    println!("# lianrong bench startup (seed {}, {} rounds, folder {})", args.seed, args.rounds, dir.display());

    let t = Instant::now();
    let world = crate::options::build_demo(args.seed, &dir, false, false, None).await?.world;
    let demo_s = t.elapsed().as_secs_f64();
    let steps = world.logins.len() + world.cores + world.suppliers + world.banks + 2;
    let bare_s = bare_sqlite_inserts(&dir, steps).await?;
    println!(
        "demo world build: {demo_s:.2} s ({} orgs, {} users, {} chains)",
        world.cores + world.suppliers + world.banks + 2,
        world.logins.len(),
        world.chains
    );
    println!("bare SQLite, {steps} one-row transactions: {bare_s:.3} s  → ratio {:.1}x", demo_s / bare_s.max(1e-9));

    let sqlite_url = Db::sqlite_url(&dir.join("demo.db"));
    report_serve("SQLite", &sqlite_url, &dir, args.rounds, bare_open(&sqlite_url).await?)?;
    if let Some(admin_url) = &args.postgres_url {
        bench_postgres(admin_url, args.seed, args.rounds).await?;
    }
    Ok(())
}

/// The same measurements on a fresh PostgreSQL database beside `admin_url`'s.
async fn bench_postgres(admin_url: &str, seed: u64, rounds: u32) -> Result<(), String> {
    let name = format!("lr_bench_{}", std::process::id());
    let (scratch, urls) = ScratchPostgres::create(admin_url, std::slice::from_ref(&name)).await?;
    let url = &urls[0];
    let result = async {
        let t = Instant::now();
        let lake = std::env::temp_dir().join(format!("{name}-lake"));
        // The server started below reads the demo's sealed fields with the key kept in this folder.
        let data_dir = std::env::temp_dir().join(format!("{name}-data"));
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let app = crate::options::open_in(url, &lake.display().to_string(), &data_dir).await?;
        let world = lianrong_app::demo::build(&app, seed, &|_, _| {}).await.map_err(crate::options::app_error)?;
        println!("demo world build on PostgreSQL: {:.2} s ({} suppliers)", t.elapsed().as_secs_f64(), world.suppliers);
        app.db.pool.close().await;
        let report = report_serve("PostgreSQL", url, &data_dir, rounds, bare_open(url).await?);
        let _ = std::fs::remove_dir_all(&data_dir);
        report
    }
    .await;
    scratch.drop_all().await;
    result
}

/// The same number of one-row write transactions as the demo world, with nothing but the engine, on a
/// fresh SQLite file.
async fn bare_sqlite_inserts(dir: &Path, rows: usize) -> Result<f64, String> {
    let path = dir.join("bare.db");
    let _ = std::fs::remove_file(&path);
    let db = Db::connect(&Db::sqlite_url(&path)).await.map_err(err)?;
    bare_one_row_transactions(&db, rows as u64, "重庆宏达汽车零部件有限公司").await
}

/// Opening a pool on the database and answering `SELECT 1`, without migrations or a server.
async fn bare_open(url: &str) -> Result<f64, String> {
    let t = Instant::now();
    let db = Db::connect(url).await.map_err(err)?;
    db.ping().await.map_err(err)?;
    let s = t.elapsed().as_secs_f64();
    db.pool.close().await;
    Ok(s)
}

/// Starts `lianrong serve` on the database and data folder (where the field-encryption key is) and
/// measures the time until /readyz answers 200, then idles and reads RSS.
fn serve_once(url: &str, data_dir: &Path) -> Result<(f64, u64), String> {
    let t = Instant::now();
    let server = Server::start(url, data_dir)?;
    let ready_s = t.elapsed().as_secs_f64();
    // Touch the console and API once, as a first visitor would, then let it idle.
    let _ = http_status(server.addr, "/login");
    let _ = http_status(server.addr, "/api/v1/openapi.json");
    std::thread::sleep(Duration::from_secs(3));
    let rss = rss_kib(server.pid()).unwrap_or(0);
    Ok((ready_s, rss))
}

fn report_serve(label: &str, url: &str, data_dir: &Path, rounds: u32, bare_s: f64) -> Result<(), String> {
    let mut ready = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..rounds.max(1) {
        let (r, m) = serve_once(url, data_dir)?;
        ready.push(r);
        rss.push(m);
    }
    ready.sort_by(|a, b| a.total_cmp(b));
    let median = ready[ready.len() / 2];
    let rss_max = rss.iter().copied().max().unwrap_or(0);
    println!(
        "serve on {label}: ready in median {:.0} ms (min {:.0}, max {:.0}) over {} rounds; bare open + SELECT 1: {:.1} ms → ratio {:.0}x; idle RSS max {:.1} MiB",
        median * 1e3,
        ready[0] * 1e3,
        ready[ready.len() - 1] * 1e3,
        ready.len(),
        bare_s * 1e3,
        median / bare_s.max(1e-9),
        rss_max as f64 / 1024.0
    );
    Ok(())
}
