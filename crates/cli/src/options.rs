//! Choosing the database and serving.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lianrong_app::{App, AppError};
use lianrong_store::Db;

#[derive(Args, Clone)]
pub struct DbOptions {
    /// PostgreSQL (postgres://…) or SQLite (sqlite://…) URL; overrides --data-dir.
    #[arg(long, env = "LIANRONG_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder of the embedded SQLite database (`lianrong.db`), created if missing.
    #[arg(long, default_value = "./lianrong-data")]
    pub data_dir: PathBuf,
    /// The data lake: a folder, file:///abs/path, or s3://bucket/prefix?endpoint=…; defaults to
    /// `lake/` inside --data-dir.
    #[arg(long, env = "LIANRONG_LAKE_URL")]
    pub lake_url: Option<String>,
}

#[derive(Args, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Mark cookies Secure (set when served over HTTPS, directly or behind a proxy).
    #[arg(long, env = "LIANRONG_SECURE_COOKIES")]
    pub secure_cookies: bool,
    #[command(flatten)]
    pub mail: crate::mail::MailArgs,
}

impl DbOptions {
    pub fn url(&self) -> Result<String, String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        sqlite_in(&self.data_dir, "lianrong.db")
    }

    pub fn lake(&self) -> String {
        match &self.lake_url {
            Some(url) => url.clone(),
            None => self.data_dir.join("lake").display().to_string(),
        }
    }
}

pub fn sqlite_in(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data folder {}: {e}", dir.display()))?;
    Ok(Db::sqlite_url(&dir.join(file)))
}

pub fn app_error(e: AppError) -> String {
    format!("{} / {}", e.zh, e.en)
}

/// Opens the app under the environment's secret key, else a throw-away one (benchmarks on fresh databases).
pub async fn open(url: &str, lake_url: &str) -> Result<App, String> {
    App::open(url, lake_url).await.map_err(app_error)
}

/// Opens the app for a server or an administrator: the field-encryption key comes from
/// `LIANRONG_SECRET_KEY` or `LIANRONG_SECRET_KEY_FILE`, else from `<data_dir>/secret.key`, made on first start.
pub async fn open_in(url: &str, lake_url: &str, data_dir: &Path) -> Result<App, String> {
    let (key, source) = lianrong_app::secret::SecretKey::resolve(data_dir).map_err(app_error)?;
    match &source {
        lianrong_app::secret::KeySource::Created(path) => {
            tracing::warn!(path = %path.display(), key_id = key.key_id(), "created a new field-encryption key: back it up, the encrypted fields cannot be read without it");
        }
        other => tracing::info!(source = ?other, key_id = key.key_id(), "field-encryption key loaded"),
    }
    App::open_with(url, lake_url, &key).await.map_err(app_error)
}

pub async fn serve(db: DbOptions, opts: ServeOptions) -> Result<(), String> {
    let started = Instant::now();
    let app = open_in(&db.url()?, &db.lake(), &db.data_dir).await?;
    run_server(app, opts, started).await
}

async fn run_server(app: App, opts: ServeOptions, started: Instant) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e} (is another server running there?)", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, backend = ?app.db.backend, ready_ms = started.elapsed().as_millis() as u64, "serving");
    println!("Lianrong 链融 serving on http://{addr}  (console /, API /api/v1, docs /api/docs; Ctrl-C stops)");
    let mail = crate::mail::start(&app, &opts.mail).await?;
    let config = lianrong_web::WebConfig {
        secure_cookies: opts.secure_cookies,
        mail_domain: opts.mail.mail_domain.clone(),
        upload_answer_wait_ms: None,
    };
    let served = lianrong_web::serve(listener, app, config, shutdown_signal()).await.map_err(|e| e.to_string());
    if let Some(mail) = mail {
        mail.stop().await;
    }
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Removes the demo database, its WAL files and its lake, so every demo starts from the same world.
fn fresh_demo_file(dir: &Path) -> Result<String, String> {
    let lake = dir.join("demo-lake");
    if lake.exists() {
        std::fs::remove_dir_all(&lake)
            .map_err(|e| format!("cannot remove the old demo lake {}: {e}", lake.display()))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = dir.join(format!("demo.db{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p)
                .map_err(|e| format!("cannot remove the old demo database {}: {e}", p.display()))?;
        }
    }
    sqlite_in(dir, "demo.db")
}

/// The demo world and, when asked, its year of trade.
pub struct Demo {
    pub app: App,
    pub world: lianrong_app::demo::DemoWorld,
    pub trade: Option<lianrong_app::demo::trade::TradeSummary>,
    pub credit: Option<lianrong_app::demo::credit::CreditSummary>,
    pub commitments: Option<lianrong_app::demo::commitment::CommitmentSummary>,
}

/// Builds the demo world on `business_date` (pinned for the life of the process), or on today's date
/// by the wall clock, which the served demo then follows.
pub async fn build_demo(
    seed: u64,
    data_dir: &Path,
    show_progress: bool,
    with_trade: bool,
    business_date: Option<jiff::civil::Date>,
) -> Result<Demo, String> {
    let url = fresh_demo_file(data_dir)?;
    let mut app = open_in(&url, &data_dir.join("demo-lake").display().to_string(), data_dir).await?;
    if let Some(date) = business_date {
        app = app.with_business_date(date);
    }
    let bar = if show_progress { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "构建演示数据 building demo world {bar:40.cyan/blue} {pos}/{len} {elapsed_precise}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let world = lianrong_app::demo::build(&app, seed, &progress).await.map_err(app_error)?;
    bar.finish();
    if !with_trade {
        return Ok(Demo { app, world, trade: None, credit: None, commitments: None });
    }
    let bar = if show_progress { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "加载一年贸易数据 loading a year of trade through the three channels {bar:30.green/blue} {pos}/{len} {elapsed_precise}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let trade = lianrong_app::demo::trade::load(&app, seed, &progress, &lianrong_mail::mime::attachments)
        .await
        .map_err(app_error)?;
    bar.finish();
    let credit = lianrong_app::demo::credit::load(&app).await.map_err(app_error)?;
    let commitments = lianrong_app::demo::commitment::load(&app).await.map_err(app_error)?;
    // The world is shown complete: every leaf its operations wrote has its place in the tree.
    lianrong_app::log::integrate_all(&app).await.map_err(app_error)?;
    Ok(Demo { app, world, trade: Some(trade), credit: Some(credit), commitments: Some(commitments) })
}

pub async fn demo(
    seed: u64,
    data_dir: &Path,
    opts: ServeOptions,
    no_serve: bool,
    business_date: Option<jiff::civil::Date>,
) -> Result<(), String> {
    let started = Instant::now();
    let Demo { app, world, trade, credit, commitments } = build_demo(seed, data_dir, true, true, business_date).await?;
    println!(
        "\n演示数据已就绪 demo world ready in {:.1} s: {} chains, {} core enterprises, {} suppliers, {} banks (seed {seed})",
        started.elapsed().as_secs_f64(),
        world.chains,
        world.cores,
        world.suppliers,
        world.banks
    );
    match app.pinned_business_date() {
        Some(date) => println!("  业务日期 business date: {date}（固定 pinned by --business-date）"),
        None => println!("  业务日期 business date: {}（今天，随系统时钟 today, by the wall clock）", app.today()),
    }
    if let Some(t) = trade {
        let channels: Vec<String> = t.by_channel.iter().map(|(c, n)| format!("{} {n}", c.label_zh())).collect();
        println!(
            "  一年贸易数据 a year of trade: {} submissions ({}), {} rows accepted, {} rows refused with reasons (see 数据报送)",
            t.submissions,
            channels.join(" / "),
            t.accepted,
            t.rejected
        );
    }
    if let Some(c) = credit {
        println!(
            "  确权 confirmation: {} asked by suppliers ({} signed by the cores, {} rejected, {} pending), {} payables confirmed by upload; {} registered against double financing",
            c.requested, c.confirmed, c.rejected, c.pending, c.payables_confirmed, c.registered
        );
    }
    if let Some(c) = commitments {
        println!(
            "  融资 financing: {} bank products published; 债权凭证 commitments: {} issued ({} in all), {} splits and transfers down the chain, {} discount application waiting for its bank",
            c.products,
            c.issued,
            lianrong_domain::Money::from_fen(c.face_fen).display_yuan(),
            c.transfers,
            c.discounts_pending
        );
    }
    println!("\n  Console: http://{}/   API docs: http://{}/api/docs", opts.listen, opts.listen);
    println!("  Password for every demo login / 所有演示账号密码: {}\n", lianrong_app::demo::DEMO_PASSWORD);
    println!("  {:<22} {:<16} {:<16} organisation", "login", "kind", "role");
    let mut seen = std::collections::BTreeSet::new();
    for l in &world.logins {
        // One line per kind and role keeps the list short; the other logins follow the same pattern.
        if seen.insert((l.kind, l.role)) {
            println!("  {:<22} {:<16} {:<16} {}", l.login, l.kind.code(), l.role.code(), l.org_name);
        }
    }
    println!(
        "  … {} logins in all: bank2.officer, core12.admin, core21.finance, sup2.t3 … (`lianrong admin` adds more)\n",
        world.logins.len()
    );
    if no_serve {
        return Ok(());
    }
    run_server(app, opts, Instant::now()).await
}
