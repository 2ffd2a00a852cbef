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
use lianrong_domain::submission::Channel;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, org_admin, peak_rss_mib, psql, reset_peak_rss, uscc, work_dir};

const SUPPLIERS: u32 = 200;

fn supplier_code(i: u32) -> String {
    uscc(500 + i)
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
    Ok((app, org_admin(&core.id, OrgKind::Core, &core.name)))
}

struct Figures {
    seconds: f64,
    peak_mib: f64,
    accepted: u64,
}

/// The ingest of `file` as the core's upload; the peak memory is the ingest's own.
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
    if !psql(url, create)? {
        return Err("psql could not create the bare table".into());
    }
    let copy = format!("\\copy bare_invoice FROM '{}' WITH (FORMAT csv, HEADER true)", file.display());
    let t = Instant::now();
    if !psql(url, &copy)? {
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

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-lake")?;
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
        let name = format!("lr_bench_lake_{}", std::process::id());
        let (scratch, urls) = ScratchPostgres::create(admin_url, &[name]).await?;
        let url = &urls[0];
        let result = async {
            let (app, actor) = platform(url, &dir.join("lake-postgres")).await?;
            let ours = ingest(&app, &actor, &file).await?;
            app.db.pool.close().await;
            let bare = bare_postgres(url, &file)?;
            report("PostgreSQL", args.rows, &ours, bare, "COPY");
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
