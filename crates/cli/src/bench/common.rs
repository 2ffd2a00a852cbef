//! What the benchmarks share: the working folder, scratch PostgreSQL databases, the process's memory,
//! the bare engine's one-row write transactions, psql, a `lianrong serve` child, and the actor and codes
//! of generated worlds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use lianrong_app::Actor;
use lianrong_domain::Uscc;
use lianrong_domain::org::OrgKind;
use lianrong_domain::role::Role;
use lianrong_store::Db;
use sqlx::AssertSqlSafe;

pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The working folder, created: `dir` if given, else `<prefix>-<pid>` under the system temp folder.
pub fn work_dir(dir: Option<&Path>, prefix: &str) -> Result<PathBuf, String> {
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("{prefix}-{}", std::process::id())));
    std::fs::create_dir_all(&dir).map_err(err)?;
    Ok(dir)
}

/// Fresh PostgreSQL databases beside the admin URL's, for one benchmark; `drop_all` removes them.
pub struct ScratchPostgres {
    admin: sqlx::AnyConnection,
    names: Vec<String>,
}

impl ScratchPostgres {
    /// Creates one database per name on `admin_url`'s server; answers them with each one's URL.
    pub async fn create(admin_url: &str, names: &[String]) -> Result<(Self, Vec<String>), String> {
        use sqlx::Connection;
        let (prefix, _) = admin_url.rsplit_once('/').ok_or("the PostgreSQL URL must end with /database")?;
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyConnection::connect(admin_url).await.map_err(err)?;
        let mut scratch = Self { admin, names: Vec::new() };
        for name in names {
            let created =
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut scratch.admin).await;
            if let Err(e) = created {
                scratch.drop_all().await;
                return Err(err(e));
            }
            scratch.names.push(name.clone());
        }
        Ok((scratch, names.iter().map(|name| format!("{prefix}/{name}")).collect()))
    }

    /// Drops every database created (forcing out any connection left), ignoring failures.
    pub async fn drop_all(mut self) {
        for name in &self.names {
            let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut self.admin)
                .await;
        }
    }
}

/// Peak resident memory of this process since the last reset, in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// Resets the peak-RSS counter (Linux: writing 5 to clear_refs), so what follows is measured alone.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Resident memory of process `pid` now, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// `rows` one-row write transactions into a new table `bench_bare` of `db`, with nothing but the
/// engine; answers the seconds they took (the table's creation not counted).
pub async fn bare_one_row_transactions(db: &Db, rows: u64, data: &str) -> Result<f64, String> {
    sqlx::query("CREATE TABLE bench_bare (id TEXT PRIMARY KEY, data TEXT NOT NULL, at_ms BIGINT NOT NULL)")
        .execute(&db.pool)
        .await
        .map_err(err)?;
    let t = Instant::now();
    for i in 0..rows {
        let mut tx = db.begin_write().await.map_err(err)?;
        sqlx::query("INSERT INTO bench_bare (id, data, at_ms) VALUES ($1, $2, $3)")
            .bind(format!("{i:08}"))
            .bind(data)
            .bind(i as i64)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Runs one quiet `psql -c` command on `url`; answers whether it succeeded.
pub fn psql(url: &str, command: &str) -> Result<bool, String> {
    let status = Command::new("psql").args([url, "-q", "-c", command]).status().map_err(|e| format!("psql: {e}"))?;
    Ok(status.success())
}

/// An organisation administrator of `org_id`, acting as no user or key (login `bench`).
pub fn org_admin(org_id: &str, kind: OrgKind, name: &str) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        org_kind: kind,
        org_name: name.to_string(),
        user_id: None,
        login: Some("bench".into()),
        display_name: None,
        api_key_id: None,
        roles: vec![Role::OrgAdmin],
        scopes: None,
        system: false,
    }
}

/// The USCC `91500112MA` + `n` on seven digits + its check character: one per generated organisation.
pub fn uscc(n: u32) -> String {
    Uscc::with_check_char(&format!("91500112MA{n:07}")).map(|u| u.to_string()).unwrap_or_default()
}

/// A `lianrong serve` child of this binary, killed when the benchmark ends, however it ends.
pub struct Server {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
}

/// How long a started server has to answer /readyz.
const SERVER_READY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Server {
    /// Starts `lianrong serve` on the database and data folder (where the field-encryption key is) and
    /// returns once /readyz answers 200.
    pub fn start(url: &str, data_dir: &Path) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(err)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").map_err(err)?.local_addr().map_err(err)?.port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().map_err(err)?;
        let child = Command::new(exe)
            .args(["serve", "--database-url", url, "--listen", &addr.to_string(), "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let server = Server { child, addr };
        let deadline = Instant::now() + SERVER_READY_WAIT;
        while http_status(addr, "/readyz") != Some(200) {
            if Instant::now() > deadline {
                return Err("the server did not become ready within 30 s".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain HTTP/1.0 GET, or `None` when the server does not answer.
pub fn http_status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.split_whitespace().nth(1)?.parse().ok()
}

/// Peaks of the process's resident memory by kind, in KiB, from `/proc/self/status`: `VmRSS` is what
/// an operator's monitoring sees; `RssAnon` is private memory (heap, stacks), `RssFile` file pages
/// mapped into the process (the binary, any memory-mapped database file), `RssShmem` shared memory.
#[derive(Debug, Default, Clone, Copy)]
pub struct RssPeaks {
    pub rss_kib: u64,
    pub anon_kib: u64,
    pub file_kib: u64,
    pub shmem_kib: u64,
}

impl RssPeaks {
    fn now() -> Option<RssPeaks> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        Some(RssPeaks {
            rss_kib: field("VmRSS:"),
            anon_kib: field("RssAnon:"),
            file_kib: field("RssFile:"),
            shmem_kib: field("RssShmem:"),
        })
    }

    fn max(self, o: RssPeaks) -> RssPeaks {
        RssPeaks {
            rss_kib: self.rss_kib.max(o.rss_kib),
            anon_kib: self.anon_kib.max(o.anon_kib),
            file_kib: self.file_kib.max(o.file_kib),
            shmem_kib: self.shmem_kib.max(o.shmem_kib),
        }
    }

    /// `VmRSS … (anon …, file …, shmem …)` in MiB, for a report line.
    pub fn describe(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        format!(
            "sampled peaks: RSS {:.0} MiB = anon {:.0} + file {:.0} + shmem {:.0} MiB",
            mib(self.rss_kib),
            mib(self.anon_kib),
            mib(self.file_kib),
            mib(self.shmem_kib)
        )
    }
}

/// Samples the process's memory every 50 ms on its own thread until stopped, keeping each kind's peak
/// (the kernel keeps only the total's high-water mark, `VmHWM`).
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<RssPeaks>,
}

impl RssSampler {
    pub fn start() -> RssSampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peaks = RssPeaks::default();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(now) = RssPeaks::now() {
                    peaks = peaks.max(now);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            peaks
        });
        RssSampler { stop, thread }
    }

    pub fn stop(self) -> RssPeaks {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
