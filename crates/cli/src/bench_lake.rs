//! `lianrong bench lake`: the data lake's benchmark. One CSV of N invoice rows (1,000,000 by default)
//! goes through the whole pipeline — raw zone, parse, validate, store, Parquet — as a core's upload, on
//! SQLite and (with `--postgres-url`) on PostgreSQL; in the same run the bare engine loads the same file
//! into a plain table (`sqlite3 .import`, PostgreSQL `COPY` through psql). It prints rows per second, the
//! ratio to the bare load and the process's peak resident memory during the ingest.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use lianrong_app::{Actor, App};
use lianrong_domain::Uscc;
use lianrong_domain::org::OrgKind;
use lianrong_domain::role::Role;
use lianrong_domain::submission::Channel;

use crate::bench::BenchArgs;

const SUPPLIERS: u32 = 200;

fn supplier_code(i: u32) -> String {
    Uscc::with_check_char(&format!("91500112MA{:07}", 500 + i)).map(|u| u.to_string()).unwrap_or_default()
}

fn core_code() -> String {
    Uscc::with_check_char("91500000MA0000001").map(|u| u.to_string()).unwrap_or_default()
}

/// Writes the invoice file: a fully digital e-invoice per row, twelve months of 2026, 200 suppliers.
fn generate(path: &Path, rows: u64) -> std::io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "发票号码,开票日期,销方统一社会信用代码,销方名称,购方统一社会信用代码,购方名称,金额,税额,价税合计,关联订单号,账期天数,备注"
    )?;
    let core = core_code();
    let sellers: Vec<String> = (0..SUPPLIERS).map(supplier_code).collect();
    for i in 0..rows {
        let month = i % 10 + 1;
        let day = i % 28 + 1;
        let net = 1_000 + (i * 7919) % 900_000;
        let tax = net * 13 / 100;
        writeln!(
            w,
            "26500{:015},2026-{month:02}-{day:02},{},供应商{},{core},重庆链主集团,{}.{:02},{}.{:02},{}.{:02},PO-{},60,",
            i,
            sellers[(i % SUPPLIERS as u64) as usize],
            i % SUPPLIERS as u64,
            net / 100,
            net % 100,
            tax / 100,
            tax % 100,
            (net + tax) / 100,
            (net + tax) % 100,
            i / 3,
        )?;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Peak resident memory of this process since the last reset, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// Resets the peak-RSS counter (Linux: writing 5 to clear_refs), so the ingest's own peak is measured.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn platform(url: &str, lake: &Path) -> Result<(App, Actor), String> {
    let app = crate::options::open(url, &lake.display().to_string()).await?;
    let system = Actor::system("system");
    let core = lianrong_app::org::create(
        &app,
        &system,
        lianrong_app::org::NewOrg {
            uscc: core_code(),
            name: "重庆链主集团有限公司".into(),
            kind: "core".into(),
            size_class: "large".into(),
            region_code: None,
        },
    )
    .await
    .map_err(crate::options::app_error)?;
    let actor = Actor {
        org_id: core.id.clone(),
        org_kind: OrgKind::Core,
        org_name: core.name.clone(),
        user_id: None,
        login: Some("bench".into()),
        display_name: None,
        api_key_id: None,
        roles: vec![Role::OrgAdmin],
        scopes: None,
        system: false,
    };
    Ok((app, actor))
}

struct Figures {
    seconds: f64,
    peak_mib: f64,
    accepted: u64,
}

async fn ingest(app: &App, actor: &Actor, file: &Path) -> Result<Figures, String> {
    reset_peak_rss();
    let t = Instant::now();
    let report = lianrong_app::submission::submit_path(app, actor, Channel::Upload, "invoices.csv", file)
        .await
        .map_err(crate::options::app_error)?;
    let seconds = t.elapsed().as_secs_f64();
    if report.rejected > 0 {
        return Err(format!("{} rows rejected: {:?}", report.rejected, report.row_errors.first()));
    }
    Ok(Figures { seconds, peak_mib: peak_rss_mib(), accepted: report.accepted })
}

fn bare_sqlite(dir: &Path, file: &Path) -> Result<f64, String> {
    let db = dir.join("bare-import.db");
    let _ = std::fs::remove_file(&db);
    let script = format!(
        "PRAGMA journal_mode=WAL;\nCREATE TABLE invoice (invoice_no TEXT, issue_date TEXT, seller_uscc TEXT, seller_name TEXT, buyer_uscc TEXT, buyer_name TEXT, net TEXT, tax TEXT, total TEXT, order_refs TEXT, term_days TEXT, remarks TEXT);\n.import --csv --skip 1 {} invoice\n",
        file.display()
    );
    let t = Instant::now();
    let out = Command::new("sqlite3")
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            if let Some(stdin) = c.stdin.as_mut() {
                stdin.write_all(script.as_bytes())?;
            }
            c.wait_with_output()
        })
        .map_err(|e| format!("sqlite3 is needed for the bare baseline: {e}"))?;
    if !out.status.success() {
        return Err("sqlite3 .import failed".into());
    }
    Ok(t.elapsed().as_secs_f64())
}

fn bare_postgres(url: &str, file: &Path) -> Result<f64, String> {
    let create = "DROP TABLE IF EXISTS bare_invoice; CREATE TABLE bare_invoice (invoice_no TEXT, issue_date TEXT, seller_uscc TEXT, seller_name TEXT, buyer_uscc TEXT, buyer_name TEXT, net TEXT, tax TEXT, total TEXT, order_refs TEXT, term_days TEXT, remarks TEXT);";
    let status = Command::new("psql").args([url, "-q", "-c", create]).status().map_err(|e| format!("psql: {e}"))?;
    if !status.success() {
        return Err("psql could not create the bare table".into());
    }
    let copy = format!("\\copy bare_invoice FROM '{}' WITH (FORMAT csv, HEADER true)", file.display());
    let t = Instant::now();
    let status = Command::new("psql").args([url, "-q", "-c", &copy]).status().map_err(|e| format!("psql: {e}"))?;
    if !status.success() {
        return Err("psql \\copy failed".into());
    }
    Ok(t.elapsed().as_secs_f64())
}

fn report(label: &str, rows: u64, ours: &Figures, bare_s: f64, bare_name: &str) {
    let ours_rate = rows as f64 / ours.seconds;
    let bare_rate = rows as f64 / bare_s;
    println!(
        "{label}: {} rows through the pipeline in {:.2} s = {:.0} rows/s; bare {bare_name} {:.2} s = {:.0} rows/s; speed ratio {:.2} (goal ≥ 0.5); peak RSS during ingest {:.0} MiB (goal < 300)",
        ours.accepted,
        ours.seconds,
        ours_rate,
        bare_s,
        bare_rate,
        ours_rate / bare_rate,
        ours.peak_mib
    );
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("lianrong-bench-lake-{}", std::process::id())));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("invoices.csv");
    let t = Instant::now();
    let bytes = generate(&file, args.rows).map_err(|e| e.to_string())?;
    println!("generated {} rows, {:.1} MiB in {:.1} s", args.rows, bytes as f64 / 1048576.0, t.elapsed().as_secs_f64());

    let sqlite_url = crate::options::sqlite_in(&dir, "bench-lake.db")?;
    let (app, actor) = platform(&sqlite_url, &dir.join("lake-sqlite")).await?;
    let ours = ingest(&app, &actor, &file).await?;
    app.db.pool.close().await;
    let bare = bare_sqlite(&dir, &file)?;
    report("SQLite", args.rows, &ours, bare, "sqlite3 .import");

    if let Some(admin_url) = &args.postgres_url {
        use sqlx::Connection;
        let name = format!("lr_bench_lake_{}", std::process::id());
        let (prefix, _) = admin_url.rsplit_once('/').ok_or("the PostgreSQL URL must end with /database")?;
        let url = format!("{prefix}/{name}");
        sqlx::any::install_default_drivers();
        let mut admin = sqlx::AnyConnection::connect(admin_url).await.map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
        let result = async {
            let (app, actor) = platform(&url, &dir.join("lake-postgres")).await?;
            let ours = ingest(&app, &actor, &file).await?;
            app.db.pool.close().await;
            let bare = bare_postgres(&url, &file)?;
            report("PostgreSQL", args.rows, &ours, bare, "COPY");
            Ok::<(), String>(())
        }
        .await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
        result?;
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
