//! End to end in Debian's headless Chromium (`chromium`, `chromium-driver`): the operator logs in to the
//! console and admits, from the library list, the core enterprise the demo world leaves waiting.
//! A missing chromedriver fails the test with what to install; it never skips silently.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use lianrong_app::{Actor, core_library};
use lianrong_domain::core_library::LibraryStatus;
use lianrong_domain::page::PageRequest;
use lianrong_store::core_library::EntryFilter;
use serde_json::json;

use crate::common;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The demo world's second electronics core, left in `applied` so the operator has something to decide.
const WAITING_CORE: &str = "嘉陵微电子集团有限公司";
/// How long chromedriver may take to listen, and a page to show an element.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// chromedriver and the Chromium it starts, in their own process group, ended together on drop (also
/// when the test fails), with the throw-away browser profile removed.
struct ChromeDriver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: run the README's test command, `scripts/test`, which installs Debian's \
             chromium and chromium-driver (or `apt-get install -y chromium chromium-driver`)"
        );
        let port = free_port();
        let profile = std::env::temp_dir().join(format!("lianrong-chromium-{}", uuid::Uuid::now_v7().simple()));
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let driver = ChromeDriver { child, port, profile };
        driver.wait_until_listening();
        driver
    }

    fn wait_until_listening(&self) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "chromedriver did not listen on port {} within {STARTUP_TIMEOUT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and every Chromium process it started. The `--` matters: without
        // it procps' kill may read the negative group id as an option.
        let group = format!("-{}", self.child.id());
        let _ = (self.child.id() > 1).then(|| {
            Command::new("kill").args(["-s", "KILL", "--", &group]).stdout(Stdio::null()).stderr(Stdio::null()).status()
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

async fn connect(driver: &ChromeDriver) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", driver.profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!("a JSON object literal") };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"))
}

trait Context<T> {
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

async fn log_in(c: &Client, base: &str) -> Result<(), String> {
    c.goto(&format!("{base}/login")).await.context("open /login")?;
    c.find(Locator::Id("login")).await.context("login field")?.send_keys("operator").await.context("type login")?;
    let password = c.find(Locator::Id("password")).await.context("password field")?;
    password.send_keys(lianrong_app::demo::DEMO_PASSWORD).await.context("type password")?;
    c.find(Locator::Id("login-submit")).await.context("login button")?.click().await.context("click login")?;
    // The operator's home page offers the pending applications.
    c.wait()
        .at_most(PAGE_TIMEOUT)
        .for_element(Locator::Id("pending-applications"))
        .await
        .context("home page after login")?;
    Ok(())
}

/// The id of the library entry whose row names `org_name`, with that row's text.
async fn find_row(c: &Client, org_name: &str) -> Result<(String, String), String> {
    let rows = c.find_all(Locator::Css("#library-table tbody tr[id^='entry-']")).await.context("library rows")?;
    for row in rows {
        let text = row.text().await.context("row text")?;
        if text.contains(org_name) {
            let id = row.attr("id").await.context("row id")?.unwrap_or_default();
            return Ok((id.trim_start_matches("entry-").to_string(), text));
        }
    }
    Err(format!("no row of the library table names {org_name}"))
}

/// Logs in, admits the waiting core from the list and returns its entry id once the page shows it admitted.
async fn admit_in_browser(c: &Client, base: &str) -> Result<String, String> {
    log_in(c, base).await?;
    c.goto(&format!("{base}/core-library")).await.context("open /core-library")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("library-table")).await.context("library table")?;
    let (entry_id, before) = find_row(c, WAITING_CORE).await?;
    if !before.contains(LibraryStatus::Applied.label_zh()) {
        return Err(format!("{WAITING_CORE} should be waiting (已申报) before the decision, its row reads: {before}"));
    }
    let button = format!("#entry-{entry_id} form.admit-form button.admit-button");
    let admit = c.find(Locator::Css(&button)).await.context("admit button in the row")?;
    let named = admit.attr("data-org-name").await.context("data-org-name")?;
    if named.as_deref() != Some(WAITING_CORE) {
        return Err(format!("the admit button names {named:?}, expected {WAITING_CORE}"));
    }
    admit.click().await.context("click admit")?;
    // The list comes back with a success message.
    c.wait()
        .at_most(PAGE_TIMEOUT)
        .for_element(Locator::Css("#flash.flash-ok"))
        .await
        .context("success message after admitting")?;
    let row = c.find(Locator::Id(&format!("entry-{entry_id}"))).await.context("the entry's row after admitting")?;
    let after = row.text().await.context("row text after admitting")?;
    if !(after.contains(WAITING_CORE) && after.contains(LibraryStatus::Admitted.label_zh())) {
        return Err(format!("after admitting, the row should show {WAITING_CORE} as 已入库, it reads: {after}"));
    }
    Ok(entry_id)
}

#[tokio::test]
async fn operator_admits_the_waiting_core_enterprise_in_the_browser() {
    let test = common::spawn_demo().await;
    let driver = ChromeDriver::start();
    let client = connect(&driver).await;
    let outcome = admit_in_browser(&client, &test.base_url).await;
    if outcome.is_err()
        && let Ok(url) = client.current_url().await
    {
        eprintln!("browser was at {url}");
    }
    let _ = client.close().await;
    drop(driver);
    let entry_id = outcome.unwrap_or_else(|e| panic!("{e}"));

    let system = Actor::system("system");
    let entries = core_library::list(&test.app, &system, EntryFilter::default(), PageRequest::all_small())
        .await
        .expect("list the library");
    let entry = entries.items.iter().find(|e| e.id == entry_id).expect("the admitted entry is in the library");
    assert_eq!(entry.org_name, WAITING_CORE);
    assert_eq!(entry.status, LibraryStatus::Admitted, "the database records the decision");
    assert!(entry.admission_date.is_some(), "an admitted entry has an admission date");
}
