//! End to end in Debian's headless Chromium (`chromium`, `chromium-driver`): the operator logs in to the
//! console and admits, from the library list, the core enterprise the demo world leaves waiting; a core's
//! finance user uploads a file of orders through the console's form and follows its report to the records.
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
use serde_json::{Value, json};

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
    // The operator's home page offers the pending applications.
    log_in_as(c, base, "operator", lianrong_app::demo::DEMO_PASSWORD, "pending-applications").await
}

/// Logs in through the form and waits for the home page to show the element `home_element`.
async fn log_in_as(c: &Client, base: &str, login: &str, password: &str, home_element: &str) -> Result<(), String> {
    c.goto(&format!("{base}/login")).await.context("open /login")?;
    c.find(Locator::Id("login")).await.context("login field")?.send_keys(login).await.context("type login")?;
    let field = c.find(Locator::Id("password")).await.context("password field")?;
    field.send_keys(password).await.context("type password")?;
    c.find(Locator::Id("login-submit")).await.context("login button")?.click().await.context("click login")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id(home_element)).await.context("home page after login")?;
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

/// A core's finance user; the core (code 100) buys from the supplier (code 101).
const FINANCE_LOGIN: &str = "c.finance";
const UPLOADED_ORDERS: [&str; 2] = ["PO-BROWSER-0001", "PO-BROWSER-0002"];

fn orders_csv() -> String {
    let mut csv = String::from("订单号,订单日期,购方统一社会信用代码,销方统一社会信用代码,价税合计\n");
    for (i, no) in UPLOADED_ORDERS.iter().enumerate() {
        csv.push_str(&format!("{no},2026-01-1{i},{},{},1{i}00.00\n", common::code(100), common::code(101)));
    }
    csv
}

/// Logs in as the finance user, uploads `file` through the console's form, checks the report, and
/// follows its link to the records it became. Answers the submission id.
async fn upload_in_browser(c: &Client, base: &str, file: &std::path::Path) -> Result<String, String> {
    log_in_as(c, base, FINANCE_LOGIN, common::PASSWORD, "home-data-sharing").await?;
    c.find(Locator::Css("#home-data-sharing a[href='/submissions']"))
        .await
        .context("data-sharing link")?
        .click()
        .await
        .context("open data sharing")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("upload-form")).await.context("upload form")?;
    let input = c.find(Locator::Id("upload-file")).await.context("file input")?;
    input.send_keys(&file.display().to_string()).await.context("choose the file")?;
    c.find(Locator::Id("upload-submit")).await.context("upload button")?.click().await.context("click upload")?;
    let accepted =
        c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("report-accepted")).await.context("report page")?;
    let accepted = accepted.text().await.context("accepted count")?;
    if accepted.trim() != UPLOADED_ORDERS.len().to_string() {
        return Err(format!("the report should count {} accepted rows, it shows {accepted}", UPLOADED_ORDERS.len()));
    }
    let url = c.current_url().await.context("report address")?;
    let id = url.path().trim_start_matches("/submissions/").to_string();
    c.find(Locator::Id("report-records"))
        .await
        .context("link to the records")?
        .click()
        .await
        .context("open the records")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("record-table")).await.context("records page")?;
    let table =
        c.find(Locator::Id("record-table")).await.context("records table")?.text().await.context("table text")?;
    for no in UPLOADED_ORDERS {
        if !table.contains(no) {
            return Err(format!("the records list should show {no}, it reads: {table}"));
        }
    }
    Ok(id)
}

#[tokio::test]
async fn a_finance_user_uploads_orders_in_the_browser_and_sees_the_report_and_the_records() {
    let test = common::spawn_app().await;
    let core = test.org_with_admin(100, "core", "c.admin").await;
    test.org_with_admin(101, "supplier", "s.admin").await;
    lianrong_app::user::create(
        &test.app,
        &Actor::system("system"),
        lianrong_app::user::NewUser {
            org_id: core,
            login: FINANCE_LOGIN.into(),
            display_name: "应付会计".into(),
            password: common::PASSWORD.into(),
            roles: vec!["finance_staff".into()],
        },
    )
    .await
    .expect("finance user");
    let dir = std::env::temp_dir().join("lianrong-tests").join(format!("upload-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("upload folder");
    let file = dir.join("orders-2026-01.csv");
    std::fs::write(&file, orders_csv()).expect("write the file to upload");

    let driver = ChromeDriver::start();
    let client = connect(&driver).await;
    let outcome = upload_in_browser(&client, &test.base_url, &file).await;
    if outcome.is_err()
        && let Ok(url) = client.current_url().await
    {
        eprintln!("browser was at {url}");
    }
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&dir);
    let submission_id = outcome.unwrap_or_else(|e| panic!("{e}"));

    let (channel, source, by): (String, String, String) =
        sqlx::query_as("SELECT channel, source, submitted_by FROM submission WHERE id = $1")
            .bind(&submission_id)
            .fetch_one(&test.app.db.pool)
            .await
            .expect("the submission is recorded");
    assert_eq!((channel.as_str(), source.as_str(), by.as_str()), ("upload", "orders-2026-01.csv", FINANCE_LOGIN));
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trade_record WHERE submission_id = $1")
        .bind(&submission_id)
        .fetch_one(&test.app.db.pool)
        .await
        .expect("count records");
    assert_eq!(records, UPLOADED_ORDERS.len() as i64);
}

/// The demo's credit journey in the browser: the first chain's tier-1 supplier asks its core to
/// confirm an un-asked receivable from its receivables page; the core's finance user signs it from its
/// confirmation inbox. Answers the confirmed invoice's id.
async fn confirm_in_browser(c: &Client, base: &str, core_login: &str) -> Result<String, String> {
    log_in_as(c, base, "sup1.t1", lianrong_app::demo::DEMO_PASSWORD, "home-data-sharing").await?;
    c.goto(&format!("{base}/receivables?side=creditor")).await.context("open /receivables")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("receivable-table")).await.context("receivables")?;
    let tick = c
        .find(Locator::Css("tr[data-confirmation='none'] input[name='invoice_id']"))
        .await
        .context("an un-asked receivable with a checkbox")?;
    let invoice_id = tick.attr("value").await.context("checkbox value")?.unwrap_or_default();
    tick.click().await.context("tick it")?;
    c.find(Locator::Id("ask-confirmation")).await.context("ask button")?.click().await.context("ask")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Css("#flash.flash-ok")).await.context("asked")?;
    c.find(Locator::Id("logout")).await.context("log-out button")?.click().await.context("log out")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("login")).await.context("back at the login page")?;
    log_in_as(c, base, core_login, lianrong_app::demo::DEMO_PASSWORD, "home-data-sharing").await?;
    c.goto(&format!("{base}/confirmations?role=received&status=requested")).await.context("open the inbox")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("confirmation-table")).await.context("inbox")?;
    let rows = c.find_all(Locator::Css("tr.confirmation-row[data-status='requested']")).await.context("rows")?;
    let mut ticked = false;
    for row in rows {
        let link = row.find(Locator::Css("a")).await.context("invoice link")?;
        let href = link.attr("href").await.context("href")?.unwrap_or_default();
        if href.ends_with(&invoice_id) {
            row.find(Locator::Css("input[name='confirmation_id']"))
                .await
                .context("row checkbox")?
                .click()
                .await
                .context("tick")?;
            ticked = true;
        }
    }
    if !ticked {
        return Err(format!("the core's inbox does not show the request for {invoice_id}"));
    }
    c.find(Locator::Id("confirm-selected")).await.context("confirm button")?.click().await.context("confirm")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Css("#flash.flash-ok")).await.context("confirmed")?;
    Ok(invoice_id)
}

#[tokio::test]
async fn in_the_demo_a_supplier_asks_and_its_core_signs_in_the_browser() {
    let (test, _) = common::spawn_demo_with_trade().await;
    let supplier = test.login("sup1.t1", lianrong_app::demo::DEMO_PASSWORD).await;
    // The supplier's receivables show both paths and the demo's history: a signed and a pending
    // request, and receivables never asked.
    let (status, owed) = supplier.get("/api/v1/receivables?side=creditor&page_size=200").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{owed}");
    let items = owed["items"].as_array().unwrap();
    let with = |status: &str, source: Value| {
        items.iter().filter(|r| r["confirmation_status"] == status && r["confirmation_source"] == source).count()
    };
    assert_eq!((with("confirmed", json!("signed")), with("requested", Value::Null)), (1, 1), "{owed}");
    assert_eq!(
        with("confirmed", json!("debtor_upload")),
        3,
        "the core confirmed three recent payables: two back its commitment, one is left to issue against"
    );
    assert!(items.iter().any(|r| r["confirmation_status"].is_null()), "some receivables are left to ask about");
    assert!(items.iter().any(|r| r["data_only_eligible"] == true), "the data alone prove some: {owed}");
    let debtor: String = sqlx::query_scalar(
        "SELECT o.id FROM organisation o JOIN confirmation c ON c.debtor_org_id = o.id JOIN organisation s \
         ON s.id = c.creditor_org_id JOIN app_user u ON u.org_id = s.id WHERE u.login = 'sup1.t1' LIMIT 1",
    )
    .fetch_one(&test.app.db.pool)
    .await
    .expect("the supplier's core");
    let core_login: String =
        sqlx::query_scalar("SELECT login FROM app_user WHERE org_id = $1 AND login LIKE '%.finance'")
            .bind(&debtor)
            .fetch_one(&test.app.db.pool)
            .await
            .expect("the core's finance login");
    assert_eq!(core_login, "core11.finance", "the README names this login");

    let driver = ChromeDriver::start();
    let client = connect(&driver).await;
    let outcome = confirm_in_browser(&client, &test.base_url, &core_login).await;
    if outcome.is_err()
        && let Ok(url) = client.current_url().await
    {
        eprintln!("browser was at {url}");
    }
    let _ = client.close().await;
    drop(driver);
    let invoice_id = outcome.unwrap_or_else(|e| panic!("{e}"));

    // Through the API: the receivable is confirmed with a signature, and the decision is a log leaf.
    let (_, owed) = supplier.get("/api/v1/receivables?side=creditor&page_size=200").await;
    let r = owed["items"].as_array().unwrap().iter().find(|r| r["invoice_id"] == invoice_id.as_str()).unwrap().clone();
    assert_eq!(
        (r["confirmation_status"].as_str(), r["confirmation_source"].as_str()),
        (Some("confirmed"), Some("signed"))
    );
    let (_, c) = supplier.get(&format!("/api/v1/confirmations/{}", r["confirmation_id"].as_str().unwrap())).await;
    let key = hex::decode(c["public_key"].as_str().unwrap()).unwrap();
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", &key).unwrap();
    let signature = sm2::dsa::Signature::from_slice(&hex::decode(c["signature"].as_str().unwrap()).unwrap()).unwrap();
    use sm2::dsa::signature::Verifier;
    assert!(key.verify(c["statement"].as_str().unwrap().as_bytes(), &signature).is_ok(), "{c}");
    let (status, _) = supplier.log_leaf(&c["log_leaf_id"]).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    // The core's time to confirm counts the demo's history and this decision.
    let core = test.login(&core_login, lianrong_app::demo::DEMO_PASSWORD).await;
    let (_, ttc) = core.get("/api/v1/confirmations/time-to-confirm").await;
    assert!(ttc["decided"].as_u64().unwrap() >= 2 && ttc["median_ms"].as_i64().unwrap() > 0, "{ttc}");
    // The demo registered the supplier's signed receivable; a second registration of it is refused with
    // the first one's reference, and so is one of the receivable just confirmed once it is registered.
    let (_, owed) = supplier.get("/api/v1/receivables?side=creditor&page_size=200").await;
    let registered = owed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["registration_reference"].is_string())
        .expect("a registered receivable")
        .clone();
    let (status, e) = supplier.post("/api/v1/registrations", json!({"invoice_ids": [registered["invoice_id"]]})).await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "{e}");
    assert_eq!(
        (e["code"].as_str(), e["reference"].as_str()),
        (Some("already_registered"), registered["registration_reference"].as_str()),
        "{e}"
    );
    let (status, first) = supplier.post("/api/v1/registrations", json!({"invoice_ids": [invoice_id]})).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{first}");
    let (status, e) = supplier.post("/api/v1/registrations", json!({"invoice_ids": [invoice_id]})).await;
    assert_eq!((status, e["reference"].clone()), (reqwest::StatusCode::CONFLICT, first["reference"].clone()), "{e}");
    // The chain's tier graph reaches tier 3.
    let (status, reach) = core.get(&format!("/api/v1/penetration/{debtor}")).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{reach}");
    assert!(reach["depth"].as_u64().unwrap() >= 3, "{reach}");
}

/// Sets a form control's value by its id (dates and selects are set the same way in every locale).
async fn set_value(c: &Client, id: &str, value: &str) -> Result<(), String> {
    c.execute("document.getElementById(arguments[0]).value = arguments[1];", vec![json!(id), json!(value)])
        .await
        .context(&format!("set #{id}"))?;
    Ok(())
}

/// On the page at `url`, sets the controls, ticks the boxes, presses the button and waits for the
/// success message. Answers the path it landed on.
async fn fill_and_submit(
    c: &Client,
    url: &str,
    values: &[(&str, &str)],
    ticks: &[String],
    button: &str,
) -> Result<String, String> {
    c.goto(url).await.context(&format!("open {url}"))?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id(button)).await.context(&format!("#{button} on {url}"))?;
    for (id, value) in values {
        set_value(c, id, value).await?;
    }
    for css in ticks {
        c.find(Locator::Css(css)).await.context(&format!("checkbox {css}"))?.click().await.context("tick")?;
    }
    c.find(Locator::Id(button)).await.context("button")?.click().await.context(&format!("press #{button}"))?;
    let flash = c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("flash")).await.context("the outcome")?;
    let class = flash.attr("class").await.context("flash class")?.unwrap_or_default();
    if !class.contains("flash-ok") {
        return Err(format!("#{button} on {url} was refused: {}", flash.text().await.unwrap_or_default()));
    }
    Ok(c.current_url().await.context("url")?.path().to_string())
}

async fn log_out(c: &Client) -> Result<(), String> {
    c.find(Locator::Id("logout")).await.context("log-out button")?.click().await.context("log out")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("login")).await.context("back at the login page")?;
    Ok(())
}

/// A console login of organisation `org_id` (made for the test when the demo gave it none).
async fn login_of(test: &common::TestApp, org_id: &str, fallback: &str) -> String {
    let found: Option<String> =
        sqlx::query_scalar("SELECT login FROM app_user WHERE org_id = $1 ORDER BY login LIMIT 1")
            .bind(org_id)
            .fetch_optional(&test.app.db.pool)
            .await
            .expect("logins");
    if let Some(login) = found {
        return login;
    }
    lianrong_app::user::create(
        &test.app,
        &Actor::system("system"),
        lianrong_app::user::NewUser {
            org_id: org_id.to_string(),
            login: fallback.to_string(),
            display_name: "财务经理".into(),
            password: lianrong_app::demo::DEMO_PASSWORD.into(),
            roles: vec!["org_admin".into()],
        },
    )
    .await
    .expect("a login for the journey");
    fallback.to_string()
}

/// Of `buyer`'s verified purchase invoices still owed, the one with the most trade that no transfer (the
/// demo's own included) has used as its basis yet, among those whose seller itself buys verified trade
/// from a tier below that a transfer may still use (so the part can travel on): (invoice id, seller org
/// id, room in fen).
async fn passable_invoice(test: &common::TestApp, buyer_org_id: &str) -> Option<(String, String, i64)> {
    let used = |alias: &str| {
        format!(
            "COALESCE((SELECT CAST(SUM(u.amount_fen) AS BIGINT) FROM commitment_basis u WHERE u.invoice_id = {alias}.invoice_id), 0)"
        )
    };
    let sql = format!(
        "SELECT v.invoice_id, s.id, v.invoiced_fen - {} AS room FROM verification v \
         JOIN organisation b ON b.uscc = v.buyer_uscc JOIN organisation s ON s.uscc = v.seller_uscc \
         WHERE b.id = $1 AND v.status = 'verified' AND v.outstanding_fen > 0 AND s.kind = 'supplier' \
         AND EXISTS (SELECT 1 FROM verification w WHERE w.buyer_uscc = s.uscc AND w.status = 'verified' \
         AND w.outstanding_fen > 0 AND w.invoiced_fen > {}) ORDER BY room DESC, v.invoice_id LIMIT 1",
        used("v"),
        used("w")
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(buyer_org_id)
        .fetch_optional(&test.app.db.pool)
        .await
        .expect("invoices")
        .filter(|(_, _, room): &(String, String, i64)| *room > 0)
}

/// `buyer`'s largest verified purchase still owed, with what of it no transfer has used as its basis
/// yet: (invoice id, seller org id, room in fen).
async fn any_verified_purchase(test: &common::TestApp, buyer_org_id: &str) -> Option<(String, String, i64)> {
    sqlx::query_as(
        "SELECT v.invoice_id, s.id, v.invoiced_fen - COALESCE((SELECT CAST(SUM(b.amount_fen) AS BIGINT) \
         FROM commitment_basis b WHERE b.invoice_id = v.invoice_id), 0) AS room FROM verification v \
         JOIN organisation b ON b.uscc = v.buyer_uscc JOIN organisation s ON s.uscc = v.seller_uscc \
         WHERE b.id = $1 AND v.status = 'verified' AND v.outstanding_fen > 0 AND s.kind = 'supplier' \
         ORDER BY room DESC, v.invoice_id LIMIT 1",
    )
    .bind(buyer_org_id)
    .fetch_optional(&test.app.db.pool)
    .await
    .expect("invoices")
}

/// The held part of `org_id` in commitment `id` holding exactly `fen`.
async fn part_of(api: &common::Api, id: &str, org_id: &str, fen: i64) -> String {
    let (_, c) = api.get(&format!("/api/v1/commitments/{id}")).await;
    c["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["holder_org_id"] == org_id && p["amount_fen"] == fen && p["state"] == "held")
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("{org_id} holds no part of {fen} fen: {c}"))
        .to_string()
}

/// The journey in the browser, step by step; each step is one person's action on their own page.
async fn commitment_journey(
    c: &Client,
    test: &common::TestApp,
    logins: &[(String, String)],
    bank_org_id: &str,
) -> Result<(String, Vec<String>, (i64, i64, i64), String), String> {
    let base = test.base_url.as_str();
    let pw = lianrong_app::demo::DEMO_PASSWORD;
    let (core_login, t1_login) = (&logins[0].1, &logins[1].1);
    let t1_id = logins[1].0.clone();
    // The core issues ¥300,000 against the confirmed payable the demo left for it (tier 1's third recent
    // sale, issued 27 days before the business date; the core's older payables fall due too soon). It
    // matures on the payable's due date: the latest the SME payment rule allows.
    let t1 = test.login(t1_login, pw).await;
    let (_, left) = t1.get(&format!("/api/v1/trade-records?doc_no={}", common::einvoice(-27, 9_990_000_003))).await;
    let left = left["items"][0]["id"].as_str().ok_or("the payable left to issue against")?.to_string();
    let maturity: String = sqlx::query_scalar("SELECT due_date FROM verification WHERE invoice_id = $1")
        .bind(&left)
        .fetch_one(&test.app.db.pool)
        .await
        .context("the payable's due date")?;
    let maturity_date: jiff::civil::Date = maturity.parse().context("the payable's due date as a date")?;
    let days_to_maturity = test.app.days_until(maturity_date);
    if days_to_maturity < 30 {
        return Err(format!(
            "the demo's payable falls due in {days_to_maturity} days ({maturity}), too soon to pass on"
        ));
    }
    log_in_as(c, base, core_login, pw, "logout").await?;
    let landed = fill_and_submit(
        c,
        &format!("{base}/commitments"),
        &[("face", "300,000.00"), ("maturity", &maturity)],
        &[format!("tr.payable-row[data-invoice-id='{left}'] input")],
        "issue-button",
    )
    .await?;
    let id = landed.trim_start_matches("/commitments/").to_string();
    log_out(c).await?;
    // Tier 1 splits off ¥200,000 and passes up to ¥80,000 of it to a tier-2 supplier it buys from, as far
    // as the invoice's trade not yet used by the demo's own commitment reaches.
    log_in_as(c, base, t1_login, pw, "logout").await?;
    let page = format!("{base}/commitments/{id}");
    fill_and_submit(
        c,
        &page,
        &[("split-part", &format!("{id}/0")), ("split-amounts", "200000\n100000")],
        &[],
        "split-button",
    )
    .await?;
    let t1 = test.login(t1_login, pw).await;
    let part = part_of(&t1, &id, &t1_id, 20_000_000).await;
    let (invoice, t2_id, room) = passable_invoice(test, &t1_id).await.ok_or("tier 1 buys no verified trade")?;
    let to_t2 = room.min(8_000_000);
    let to_t2_yuan = format!("{}.{:02}", to_t2 / 100, to_t2 % 100);
    fill_and_submit(
        c,
        &page,
        &[("transfer-part", &part), ("transfer-amount", &to_t2_yuan)],
        &[format!("tr.trade-row[data-invoice-id='{invoice}'] input")],
        "transfer-button",
    )
    .await?;
    log_out(c).await?;
    // Tier 2 passes up to ¥30,000 on to tier 3.
    let t2_login = login_of(test, &t2_id, "journey.t2").await;
    log_in_as(c, base, &t2_login, pw, "logout").await?;
    let t2 = test.login(&t2_login, pw).await;
    let part = part_of(&t2, &id, &t2_id, to_t2).await;
    let (invoice, t3_id, room) = any_verified_purchase(test, &t2_id).await.ok_or("tier 2 buys no verified trade")?;
    // Up to ¥30,000, as far as the invoice's trade reaches (lower tiers trade in smaller amounts).
    let to_t3 = room.min(3_000_000).min(to_t2);
    let to_t3_yuan = format!("{}.{:02}", to_t3 / 100, to_t3 % 100);
    fill_and_submit(
        c,
        &page,
        &[("transfer-part", &part), ("transfer-amount", &to_t3_yuan)],
        &[format!("tr.trade-row[data-invoice-id='{invoice}'] input")],
        "transfer-button",
    )
    .await?;
    log_out(c).await?;
    // Tier 3 applies to the chain's bank to discount 80 % of it (the product's advance ratio), granting the
    // bank consent to read its data for the application.
    let t3_login = login_of(test, &t3_id, "journey.t3").await;
    log_in_as(c, base, &t3_login, pw, "logout").await?;
    let t3 = test.login(&t3_login, pw).await;
    let part = part_of(&t3, &id, &t3_id, to_t3).await;
    let (_, products) = t3.get(&format!("/api/v1/products?kind=commitment_discount&bank_org_id={bank_org_id}")).await;
    let product = products["items"][0].clone();
    let product_id = product["id"].as_str().ok_or("the bank publishes a discount product")?.to_string();
    let rate_bp = product["rate_min_bp"].as_i64().ok_or("rate")?;
    let discounted = to_t3 * 4 / 5;
    let landed = fill_and_submit(
        c,
        &page,
        &[
            ("apply-part", &part),
            ("apply-offer", &format!("{bank_org_id}|{product_id}")),
            ("apply-amount", &format!("{}.{:02}", discounted / 100, discounted % 100)),
        ],
        &[],
        "apply-discount-button",
    )
    .await?;
    let application = format!("{base}{landed}");
    log_out(c).await?;
    // The bank's officer reviews in the data room, approves at the product's rate and pays out.
    let officer: String = sqlx::query_scalar("SELECT login FROM app_user WHERE org_id = $1 AND login LIKE '%.officer'")
        .bind(bank_org_id)
        .fetch_one(&test.app.db.pool)
        .await
        .context("the bank's officer")?;
    log_in_as(c, base, &officer, pw, "logout").await?;
    c.goto(&application).await.context("the data room")?;
    c.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Id("data-room-table")).await.context("data room")?;
    let rate = format!("{}.{:02}", rate_bp / 100, rate_bp % 100);
    fill_and_submit(
        c,
        &application,
        &[("decision-rate", &rate), ("decision-reason", "凭证由核心企业承诺兑付，同意贴现")],
        &[],
        "approve-button",
    )
    .await?;
    let loan_page = fill_and_submit(c, &application, &[], &[], "disburse-button").await?;
    let loan_id = loan_page.trim_start_matches("/loans/").to_string();
    log_out(c).await?;
    // At maturity the core settles from the commitment's page.
    test.app.shift_business_date(days_to_maturity);
    log_in_as(c, base, core_login, pw, "logout").await?;
    fill_and_submit(c, &page, &[("payment-ref", "PAY-DEMO-0001")], &[], "settle-button").await?;
    log_out(c).await?;
    Ok((id, vec![t1_id, t2_id, t3_id], (to_t2, to_t3, discounted), loan_id))
}

#[tokio::test]
async fn in_the_demo_a_commitment_travels_down_the_chain_and_settles_every_holder_in_the_browser() {
    let (test, _) = common::spawn_demo_with_trade().await;
    // The demo already carried one commitment to tier 3, whose discount waits for the bank.
    let t1 = test.login("sup1.t1", lianrong_app::demo::DEMO_PASSWORD).await;
    let (_, mine) = t1.get("/api/v1/commitments?role=held").await;
    assert_eq!(mine["total"], 1, "{mine}");
    let demo_id = mine["items"][0]["id"].as_str().unwrap().to_string();
    let bank_org_id = mine["items"][0]["bank_org_id"].as_str().unwrap().to_string();
    let (_, demo) = t1.get(&format!("/api/v1/commitments/{demo_id}")).await;
    assert_eq!(demo["ledger_balanced"], true, "{demo}");
    let core_id = demo["issuer_org_id"].as_str().unwrap().to_string();
    let t1_id = demo["first_holder_org_id"].as_str().unwrap().to_string();
    let core_login: String =
        sqlx::query_scalar("SELECT login FROM app_user WHERE org_id = $1 AND login LIKE '%.finance'")
            .bind(&core_id)
            .fetch_one(&test.app.db.pool)
            .await
            .unwrap();
    assert_eq!(core_login, "core11.finance", "the README names this login");
    let logins = vec![(core_id.clone(), core_login), (t1_id.clone(), "sup1.t1".to_string())];

    let driver = ChromeDriver::start();
    let client = connect(&driver).await;
    let outcome = commitment_journey(&client, &test, &logins, &bank_org_id).await;
    if outcome.is_err()
        && let Ok(url) = client.current_url().await
    {
        eprintln!("browser was at {url}");
    }
    let _ = client.close().await;
    drop(driver);
    let (id, tiers, (to_t2, to_t3, discounted), loan_id) = outcome.unwrap_or_else(|e| panic!("{e}"));

    // Over the API: settled to the fen — tier 1 kept what it did not pass on, tier 2 the rest of its part,
    // tier 3 what it did not discount, the bank what it bought.
    let core = test.login("core11.finance", lianrong_app::demo::DEMO_PASSWORD).await;
    let (_, c) = core.get(&format!("/api/v1/commitments/{id}")).await;
    assert_eq!(
        (c["state"].as_str(), c["settled_fen"].as_i64(), c["live_fen"].as_i64(), c["ledger_balanced"].as_bool()),
        (Some("settled"), Some(30_000_000), Some(0), Some(true)),
        "{c}"
    );
    let settle = c["transfers"].as_array().unwrap().iter().find(|t| t["kind"] == "settle").expect("settlement").clone();
    let mut paid: std::collections::BTreeMap<String, i64> = Default::default();
    for p in settle["payouts"].as_array().unwrap() {
        *paid.entry(p[1].as_str().unwrap().to_string()).or_default() += p[2].as_i64().unwrap();
    }
    let expected: std::collections::BTreeMap<String, i64> = [
        (tiers[0].clone(), 30_000_000 - to_t2),
        (tiers[1].clone(), to_t2 - to_t3),
        (tiers[2].clone(), to_t3 - discounted),
        (bank_org_id.clone(), discounted),
    ]
    .into_iter()
    .filter(|(_, fen)| *fen > 0)
    .collect();
    assert_eq!(paid, expected, "every holder exactly");
    // The bank's loan was repaid by the settlement; the application carried the consent.
    let officer = test
        .login(
            &sqlx::query_scalar::<_, String>("SELECT login FROM app_user WHERE org_id = $1 AND login LIKE '%.officer'")
                .bind(&bank_org_id)
                .fetch_one(&test.app.db.pool)
                .await
                .unwrap(),
            lianrong_app::demo::DEMO_PASSWORD,
        )
        .await;
    let (_, loan) = officer.get(&format!("/api/v1/loans/{loan_id}")).await;
    assert_eq!((loan["state"].as_str(), loan["principal_fen"].as_i64()), (Some("repaid"), Some(discounted)), "{loan}");
    let (_, application) =
        officer.get(&format!("/api/v1/applications/{}", loan["application_id"].as_str().unwrap())).await;
    assert!(application["offers"][0]["consent_id"].is_string(), "{application}");
    assert!(c["transfers"].as_array().unwrap().iter().all(|t| t["log_leaf_id"].is_i64()), "every operation is a leaf");
    // The operator's page shows financing by chain and tier: tier 3 discounted what the journey did.
    let operator = test.login("operator", lianrong_app::demo::DEMO_PASSWORD).await;
    let (status, figures) = operator.get("/api/v1/stats/financing").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{figures}");
    let tier3: i64 = figures
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["tier"] == 3)
        .map(|f| f["discounted_fen"].as_i64().unwrap())
        .sum();
    assert!(discounted > 0 && tier3 >= discounted, "{figures}");
    let html = operator.http.get(format!("{}/financing", test.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("financing-row") && html.contains("data-tier=\"3\""), "the operator's page lists tiers");
    assert!(html.contains("loan-figure-row"), "and the banks' loans by chain and tier");
}
