//! `lianrong bench lake`: the data lake's benchmark. One CSV of N invoice rows (1,000,000 by default)
//! goes through the whole pipeline — raw zone, parse, validate, store, Parquet — as a core's upload, on
//! SQLite and (with `--postgres-url`) on PostgreSQL. In the same run the bare engine loads the same file
//! twice: into a plain table, and into a table of trade_record's shape (a primary key, a unique key and
//! five secondary indexes over the file's columns), by `sqlite3 .import` and PostgreSQL `COPY` through
//! psql. While the upload is written another organisation keeps making small requests through the app
//! (a read of its receivables, a one-invoice submission); the bench prints their p99 and errors. It
//! prints rows per second, the ratios to the bare loads and the process's peak resident memory during
//! the ingest, by kind. Then it reads the core's trade records and receivables as a page of 50: the
//! first page, the deepest page by cursor (as following `next_cursor` reaches it) and the deepest page by
//! page number, each the median of several reads.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use lianrong_app::{Actor, App};
use lianrong_domain::Uscc;
use lianrong_domain::org::OrgKind;
use lianrong_domain::submission::Channel;

use super::args::BenchArgs;
use super::common::{
    RssPeaks, RssSampler, ScratchPostgres, org_admin, peak_rss_mib, psql, reset_peak_rss, uscc, work_dir,
};

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

/// The platform with the core that uploads and another organisation (a supplier of its own) whose small
/// requests run during the upload.
async fn platform(url: &str, lake: &Path) -> Result<(App, Actor, Actor), String> {
    let app = crate::options::open(url, &lake.display().to_string()).await?;
    let system = Actor::system("system");
    let mut made = Vec::new();
    for (code, name, kind) in
        [(core_code(), "重庆链主集团有限公司", "core"), (uscc(OTHER_ORG), "重庆旁观供应商有限公司", "supplier")]
    {
        let org = lianrong_app::org::create(
            &app,
            &system,
            lianrong_app::org::NewOrg {
                uscc: code,
                name: name.into(),
                kind: kind.into(),
                size_class: "large".into(),
                region_code: None,
            },
        )
        .await
        .map_err(crate::options::app_error)?;
        let kind = if kind == "core" { OrgKind::Core } else { OrgKind::Supplier };
        made.push(org_admin(&org.id, kind, &org.name));
    }
    let other = made.pop().ok_or("no organisation")?;
    let core = made.pop().ok_or("no organisation")?;
    Ok((app, core, other))
}

/// The credit code number of the organisation making small requests during the upload.
const OTHER_ORG: u32 = 9_000;
/// Pause between two rounds of the other organisation's small requests.
const PROBE_PAUSE_MS: u64 = 200;

struct Figures {
    seconds: f64,
    peak_mib: f64,
    peaks: RssPeaks,
    accepted: u64,
    probe: Probe,
}

/// The other organisation's small requests during the upload: latencies in milliseconds, failures.
#[derive(Default)]
struct Probe {
    latencies_ms: Vec<f64>,
    errors: u64,
    first_error: Option<String>,
}

impl Probe {
    fn note<T>(&mut self, started: Instant, result: Result<T, String>) {
        self.latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if let Err(e) = result {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
    }

    fn describe(&self) -> String {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted.get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied();
        format!(
            "another organisation's small requests during the ingest: {} (reads of its receivables and one-invoice submissions), p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (goal p99 ≤ 1000), {} errors{}",
            sorted.len(),
            at(0.5).unwrap_or(0.0),
            at(0.99).unwrap_or(0.0),
            sorted.last().copied().unwrap_or(0.0),
            self.errors,
            self.first_error.as_ref().map(|e| format!(" (first: {e})")).unwrap_or_default()
        )
    }
}

/// One invoice from the other organisation to the core, dated today: a small write through the app that
/// touches none of the upload's partitions.
async fn small_submission(app: &App, other: &Actor, serial: u64) -> Result<(), String> {
    let record = serde_json::json!({
        "record_type": "invoice", "invoice_no": format!("26900{serial:015}"), "issue_date": app.today().to_string(),
        "seller_uscc": uscc(OTHER_ORG), "buyer_uscc": core_code(), "total_amount": "1130.00",
    });
    let raw = serde_json::to_vec(&[&record]).map_err(|e| e.to_string())?;
    let records = record.as_object().cloned().into_iter().collect();
    let report = lianrong_app::submission::submit_records(app, other, raw, "probe", records)
        .await
        .map_err(crate::options::app_error)?;
    if report.accepted != 1 {
        return Err(format!("probe invoice not accepted: {:?}", report.row_errors.first()));
    }
    Ok(())
}

/// Repeats the other organisation's small requests until `done` is set.
async fn probe(app: &App, other: &Actor, done: &std::sync::atomic::AtomicBool) -> Probe {
    let mut probe = Probe::default();
    let mut serial = 0;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        let t = Instant::now();
        let read = lianrong_app::receivable::list(
            app,
            other,
            lianrong_app::receivable::Side::Creditor,
            lianrong_domain::page::PageRequest { page: 1, page_size: 20 },
        )
        .await
        .map_err(crate::options::app_error);
        probe.note(t, read);
        serial += 1;
        let t = Instant::now();
        let written = small_submission(app, other, serial).await;
        probe.note(t, written);
        tokio::time::sleep(std::time::Duration::from_millis(PROBE_PAUSE_MS)).await;
    }
    probe
}

/// The ingest of `file` as the core's upload while the other organisation makes its small requests; the
/// peak memory is the ingest's own.
async fn ingest(app: &App, actor: &Actor, other: &Actor, file: &Path) -> Result<Figures, String> {
    reset_peak_rss();
    let sampler = RssSampler::start();
    let done = std::sync::atomic::AtomicBool::new(false);
    let t = Instant::now();
    let upload = async {
        let report = lianrong_app::submission::submit_path(app, actor, Channel::Upload, "invoices.csv", file).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (report, t.elapsed().as_secs_f64())
    };
    let ((report, seconds), probe) = tokio::join!(upload, probe(app, other, &done));
    let report = report.map_err(crate::options::app_error)?;
    let peaks = sampler.stop();
    if report.rejected > 0 {
        return Err(format!("{} rows rejected: {:?}", report.rejected, report.row_errors.first()));
    }
    Ok(Figures { seconds, peak_mib: peak_rss_mib(), peaks, accepted: report.accepted, probe })
}

/// The bare tables: the file's twelve columns as text, plain or with keys and indexes of trade_record's
/// shape — a primary key (its id), a unique key (its natural key: seller, buyer, number) and six
/// secondary indexes standing for its buyer, seller, date, partition, submission and document indexes.
const BARE_COLUMNS: &str = "invoice_no TEXT, issue_date TEXT, seller_uscc TEXT, seller_name TEXT, buyer_uscc TEXT, buyer_name TEXT, net TEXT, tax TEXT, total TEXT, order_refs TEXT, term_days TEXT, remarks TEXT";

fn bare_ddl(table: &str, keyed: bool) -> String {
    if !keyed {
        return format!("CREATE TABLE {table} ({BARE_COLUMNS});");
    }
    format!(
        "CREATE TABLE {table} ({BARE_COLUMNS}, PRIMARY KEY (invoice_no), UNIQUE (seller_uscc, buyer_uscc, invoice_no));\n\
         CREATE INDEX {table}_buyer ON {table}(buyer_uscc, issue_date, invoice_no, seller_uscc);\n\
         CREATE INDEX {table}_seller ON {table}(seller_uscc, issue_date, invoice_no);\n\
         CREATE INDEX {table}_date ON {table}(issue_date, invoice_no);\n\
         CREATE INDEX {table}_partition ON {table}(buyer_name, issue_date, invoice_no);\n\
         CREATE INDEX {table}_submission ON {table}(remarks);\n\
         CREATE INDEX {table}_document ON {table}(buyer_uscc, seller_uscc, order_refs, invoice_no);"
    )
}

/// `sqlite3 .import` with the settings of the platform's own connections (WAL, `synchronous=NORMAL`, a
/// 32 MiB page cache): the shell's default 2 MiB cache makes an indexed load several times slower.
fn bare_sqlite(dir: &Path, file: &Path, keyed: bool) -> Result<f64, String> {
    let db = dir.join("bare-import.db");
    let _ = std::fs::remove_file(&db);
    let script = format!(
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nPRAGMA cache_size=-32768;\n{}\n.import --csv --skip 1 {} invoice\n",
        bare_ddl("invoice", keyed),
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
    let seconds = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&db);
    Ok(seconds)
}

fn bare_postgres(url: &str, file: &Path, keyed: bool) -> Result<f64, String> {
    let create = format!("DROP TABLE IF EXISTS bare_invoice; {}", bare_ddl("bare_invoice", keyed));
    if !psql(url, &create)? {
        return Err("psql could not create the bare table".into());
    }
    let copy = format!("\\copy bare_invoice FROM '{}' WITH (FORMAT csv, HEADER true)", file.display());
    let t = Instant::now();
    if !psql(url, &copy)? {
        return Err("psql \\copy failed".into());
    }
    let seconds = t.elapsed().as_secs_f64();
    psql(url, "DROP TABLE bare_invoice")?;
    Ok(seconds)
}

/// The bare engine's two loads of the file: plain, then into trade_record's shape.
struct Bare {
    plain_s: f64,
    keyed_s: f64,
}

fn report(label: &str, rows: u64, ours: &Figures, bare: &Bare, bare_name: &str) {
    let ours_rate = rows as f64 / ours.seconds;
    let plain_rate = rows as f64 / bare.plain_s;
    let keyed_rate = rows as f64 / bare.keyed_s;
    println!(
        "{label}: {} rows through the pipeline in {:.2} s = {:.0} rows/s; bare {bare_name} into trade_record's shape {:.2} s = {:.0} rows/s: speed ratio {:.2} (goal ≥ 0.5); into a plain table {:.2} s = {:.0} rows/s: ratio {:.2}",
        ours.accepted,
        ours.seconds,
        ours_rate,
        bare.keyed_s,
        keyed_rate,
        ours_rate / keyed_rate,
        bare.plain_s,
        plain_rate,
        ours_rate / plain_rate,
    );
    println!("{label}: peak RSS during ingest {:.0} MiB (VmHWM; goal ≤ 300); {}", ours.peak_mib, ours.peaks.describe());
    println!("{label}: {}", ours.probe.describe());
}

/// Reads of one list at three depths, in milliseconds.
struct Depth {
    list: &'static str,
    total: i64,
    last_page: u32,
    first_ms: f64,
    deepest_by_cursor_ms: f64,
    deepest_by_number_ms: f64,
}

/// The lists read at depth after the upload.
struct Depths(Vec<Depth>);

impl Depths {
    fn report(&self, label: &str) {
        for d in &self.0 {
            println!(
                "{label}: {} ({} items, pages of {DEPTH_PAGE_SIZE}): first page {:.1} ms; page {} by cursor {:.1} ms = {:.2} × the first (goal ≤ 1); the same page by number {:.1} ms",
                d.list,
                d.total,
                d.first_ms,
                d.last_page,
                d.deepest_by_cursor_ms,
                d.deepest_by_cursor_ms / d.first_ms.max(0.001),
                d.deepest_by_number_ms,
            );
        }
    }
}

const DEPTH_PAGE_SIZE: u32 = 50;
/// Reads per figure; the median is reported.
const DEPTH_READS: usize = 7;

/// The median time of `DEPTH_READS` runs of `read`, in milliseconds.
async fn median_ms<F, Fut, T>(mut read: F) -> Result<f64, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, lianrong_app::AppError>>,
{
    let mut ms = Vec::with_capacity(DEPTH_READS);
    for _ in 0..DEPTH_READS {
        let t = Instant::now();
        read().await.map_err(crate::options::app_error)?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[ms.len() / 2])
}

/// The key of the item just before the last page of a list, as following every `next_cursor` would
/// reach it: `sql` orders the list and takes the item at `$2` (its offset) for the party `$1`.
async fn key_before(app: &App, sql: &str, uscc: &str, offset: i64) -> Result<Vec<String>, String> {
    let row: (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(uscc.to_string())
        .bind(offset)
        .fetch_one(&app.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(vec![row.0, row.1])
}

/// The core's trade records and receivables read at the first page, and at the last page both ways.
async fn pages(app: &App, core: &Actor) -> Result<Depths, String> {
    use lianrong_app::receivable::Side;
    let trade = |seek| lianrong_app::trade::list(app, core, Default::default(), seek);
    let owed = |seek| lianrong_app::receivable::list(app, core, Side::Debtor, seek);
    let trade_key = "SELECT doc_date, id FROM trade_record WHERE buyer_uscc = $1 OR seller_uscc = $1 \
                     ORDER BY doc_date DESC, id DESC LIMIT 1 OFFSET $2";
    let owed_key = "SELECT COALESCE(due_date, '9999-12-31'), invoice_id FROM verification WHERE buyer_uscc = $1 \
                    AND outstanding_fen > 0 AND status <> 'inconsistent' \
                    ORDER BY COALESCE(due_date, '9999-12-31'), invoice_id LIMIT 1 OFFSET $2";
    let mut out = Vec::new();
    out.extend(depth(app, "the core's trade records", trade_key, trade).await?);
    out.extend(depth(app, "the core's receivables (owed by it)", owed_key, owed).await?);
    Ok(Depths(out))
}

/// One list read at its first page, and at its last page by cursor and by number; `None` when it has a
/// single page. `key_sql` finds the key of the item before the last page (as in [`key_before`]).
async fn depth<T, F, Fut>(app: &App, list: &'static str, key_sql: &str, read: F) -> Result<Option<Depth>, String>
where
    F: Fn(lianrong_domain::page::Seek) -> Fut,
    Fut: std::future::Future<Output = Result<lianrong_domain::page::KeyedPage<T>, lianrong_app::AppError>>,
{
    use lianrong_domain::page::{Cursor, PageRequest, Seek};
    let first = PageRequest { page: 1, page_size: DEPTH_PAGE_SIZE };
    let total = read(first.into()).await.map_err(crate::options::app_error)?.page.total;
    let last_page = u32::try_from((total.max(1) - 1) / i64::from(DEPTH_PAGE_SIZE) + 1).unwrap_or(u32::MAX);
    if last_page < 2 {
        return Ok(None);
    }
    let offset = i64::from(last_page - 1) * i64::from(DEPTH_PAGE_SIZE) - 1;
    let cursor = Cursor { key: key_before(app, key_sql, &core_code(), offset).await?, page: last_page, total };
    let by_number = PageRequest { page: last_page, page_size: DEPTH_PAGE_SIZE };
    Ok(Some(Depth {
        list,
        total,
        last_page,
        first_ms: median_ms(|| read(first.into())).await?,
        deepest_by_cursor_ms: median_ms(|| read(Seek::after(first, cursor.clone()))).await?,
        deepest_by_number_ms: median_ms(|| read(by_number.into())).await?,
    }))
}

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-lake")?;
    let file = dir.join("invoices.csv");
    let t = Instant::now();
    let bytes = generate(&file, args.rows).map_err(|e| e.to_string())?;
    println!("generated {} rows, {:.1} MiB in {:.1} s", args.rows, bytes as f64 / 1048576.0, t.elapsed().as_secs_f64());

    let sqlite_url = crate::options::sqlite_in(&dir, "bench-lake.db")?;
    let (app, actor, other) = platform(&sqlite_url, &dir.join("lake-sqlite")).await?;
    let ours = ingest(&app, &actor, &other, &file).await?;
    let depth = pages(&app, &actor).await?;
    app.db.pool.close().await;
    let bare = Bare { plain_s: bare_sqlite(&dir, &file, false)?, keyed_s: bare_sqlite(&dir, &file, true)? };
    report("SQLite", args.rows, &ours, &bare, "sqlite3 .import");
    depth.report("SQLite");

    if let Some(admin_url) = &args.postgres_url {
        let name = format!("lr_bench_lake_{}", std::process::id());
        let (scratch, urls) = ScratchPostgres::create(admin_url, &[name]).await?;
        let url = &urls[0];
        let result = async {
            let (app, actor, other) = platform(url, &dir.join("lake-postgres")).await?;
            let ours = ingest(&app, &actor, &other, &file).await?;
            let depth = pages(&app, &actor).await?;
            app.db.pool.close().await;
            let bare = Bare { plain_s: bare_postgres(url, &file, false)?, keyed_s: bare_postgres(url, &file, true)? };
            report("PostgreSQL", args.rows, &ours, &bare, "COPY");
            depth.report("PostgreSQL");
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
