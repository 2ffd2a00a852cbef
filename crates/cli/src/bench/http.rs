//! `lianrong bench http`: the running server under load. It builds the demo world with its year of trade
//! (SQLite, and PostgreSQL with `--postgres-url`), starts `lianrong serve` on it, logs in as a demo
//! supplier and a demo bank, and drives the server with [`CONNECTIONS`] concurrent keep-alive connections
//! for `--seconds` per target: the supplier's receivables list, the bank's application queue, and the
//! same server's `/healthz` as the bare figure of the same run (the HTTP stack with no use case behind
//! it). It prints requests per second, the ratio to `/healthz`, and p50 / p99 latencies.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lianrong_domain::org::OrgKind;

use super::args::BenchArgs;
use super::common::{ScratchPostgres, Server, err, work_dir};

/// Concurrent connections, each one client sending its next request when the last one is answered.
const CONNECTIONS: usize = 64;

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let dir = work_dir(args.dir.as_deref(), "lianrong-bench-http")?;
    let seconds = args.seconds.clamp(1, 600);
    println!("# lianrong bench http ({CONNECTIONS} connections, {seconds} s per target, folder {})", dir.display());
    let demo = crate::options::build_demo(args.seed, &dir, false, true, None).await?;
    let logins = pick_logins(&demo.world)?;
    demo.app.db.pool.close().await;
    let url = lianrong_store::Db::sqlite_url(&dir.join("demo.db"));
    measure("SQLite", &url, &dir, &logins, seconds).await?;
    if let Some(admin_url) = &args.postgres_url {
        with_postgres(admin_url, args.seed, seconds).await?;
    }
    Ok(())
}

/// The same on a fresh PostgreSQL database beside `admin_url`'s, dropped afterwards.
async fn with_postgres(admin_url: &str, seed: u64, seconds: u64) -> Result<(), String> {
    let name = format!("lr_bench_http_{}", std::process::id());
    let (scratch, urls) = ScratchPostgres::create(admin_url, std::slice::from_ref(&name)).await?;
    let data_dir = std::env::temp_dir().join(format!("{name}-data"));
    let result = async {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let lake = data_dir.join("lake").display().to_string();
        let app = crate::options::open_in(&urls[0], &lake, &data_dir).await?;
        let world = lianrong_app::demo::build(&app, seed, &|_, _| {}).await.map_err(crate::options::app_error)?;
        lianrong_app::demo::trade::load(&app, seed, &|_, _| {}, &lianrong_mail::mime::attachments)
            .await
            .map_err(crate::options::app_error)?;
        lianrong_app::demo::credit::load(&app).await.map_err(crate::options::app_error)?;
        lianrong_app::demo::commitment::load(&app).await.map_err(crate::options::app_error)?;
        let logins = pick_logins(&world)?;
        app.db.pool.close().await;
        measure("PostgreSQL", &urls[0], &data_dir, &logins, seconds).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&data_dir);
    scratch.drop_all().await;
    result
}

/// A supplier's and a bank's demo logins.
fn pick_logins(world: &lianrong_app::demo::DemoWorld) -> Result<(String, String), String> {
    let first = |kind: OrgKind| {
        world
            .logins
            .iter()
            .find(|l| l.kind == kind)
            .map(|l| l.login.clone())
            .ok_or_else(|| format!("no {kind:?} login"))
    };
    Ok((first(OrgKind::Supplier)?, first(OrgKind::Bank)?))
}

async fn measure(
    label: &str,
    url: &str,
    data_dir: &Path,
    logins: &(String, String),
    seconds: u64,
) -> Result<(), String> {
    let server = Server::start(url, data_dir)?;
    let base = format!("http://{}", server.addr);
    let supplier = session(&base, &logins.0).await?;
    let bank = session(&base, &logins.1).await?;
    let duration = Duration::from_secs(seconds);
    let bare = drive(&supplier, &format!("{base}/healthz"), duration).await?;
    println!("{label}: {}", bare.line("/healthz (bare)", None));
    let targets = [
        (&supplier, "/api/v1/receivables?page_size=20", "supplier's receivables"),
        (&bank, "/api/v1/applications?page_size=20", "bank's application queue"),
    ];
    for (client, path, what) in targets {
        let figures = drive(client, &format!("{base}{path}"), duration).await?;
        println!("{label}: {}", figures.line(&format!("{what} ({path})"), Some(&bare)));
    }
    drop(server);
    Ok(())
}

/// A client logged in as `login` (the demo password), keeping its session cookie, with room for every
/// connection in its pool.
async fn session(base: &str, login: &str) -> Result<reqwest::Client, String> {
    let client =
        reqwest::Client::builder().cookie_store(true).pool_max_idle_per_host(CONNECTIONS).build().map_err(err)?;
    let body = serde_json::json!({"login": login, "password": lianrong_app::demo::DEMO_PASSWORD});
    let r = client.post(format!("{base}/api/v1/session")).json(&body).send().await.map_err(err)?;
    if !r.status().is_success() {
        return Err(format!("login {login}: HTTP {}", r.status()));
    }
    Ok(client)
}

struct Figures {
    requests: u64,
    errors: u64,
    seconds: f64,
    /// Latencies in microseconds, sorted.
    latencies_us: Vec<u64>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let at = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[at] as f64 / 1000.0
    }

    fn line(&self, what: &str, bare: Option<&Figures>) -> String {
        let ratio = bare.map(|b| format!(" → ratio {:.2} to /healthz", self.per_second() / b.per_second().max(1e-9)));
        format!(
            "{what}: {:.0} requests/s{}, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            self.per_second(),
            ratio.unwrap_or_default(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.errors
        )
    }
}

/// [`CONNECTIONS`] clients asking for `url` one request after another for `duration`.
async fn drive(client: &reqwest::Client, url: &str, duration: Duration) -> Result<Figures, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let (client, url, stop) = (client.clone(), url.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut figures = Figures { requests: 0, errors: 0, seconds: 0.0, latencies_us: Vec::new() };
    for task in tasks {
        let (latencies, errors) = task.await.map_err(err)?;
        figures.errors += errors;
        figures.latencies_us.extend(latencies);
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.requests = figures.latencies_us.len() as u64;
    figures.latencies_us.sort_unstable();
    Ok(figures)
}
