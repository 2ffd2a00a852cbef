//! `spawn_app()` and friends: a fresh database and server per test, and a small API client.

use std::sync::atomic::{AtomicBool, Ordering};

use lianrong_app::{Actor, App};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "Test#Password1";

pub struct TestApp {
    pub base_url: String,
    pub app: App,
}

static LOGGED: AtomicBool = AtomicBool::new(false);

/// A database URL for one test: a new PostgreSQL database when `LIANRONG_TEST_DATABASE_URL` is set,
/// otherwise a new SQLite file.
pub async fn fresh_database_url() -> String {
    let name = format!("lr_test_{}", uuid::Uuid::now_v7().simple());
    match std::env::var("LIANRONG_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&base).await.expect("connect to the PostgreSQL test server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("database URL ends with /dbname");
            if !LOGGED.swap(true, Ordering::Relaxed) {
                eprintln!("tests on PostgreSQL ({prefix}/lr_test_…)");
            }
            format!("{prefix}/{name}")
        }
        _ => {
            let dir = std::env::temp_dir().join("lianrong-tests");
            std::fs::create_dir_all(&dir).expect("temp folder");
            lianrong_store::Db::sqlite_url(&dir.join(format!("{name}.db")))
        }
    }
}

/// A new lake folder for one test.
pub fn fresh_lake_url() -> String {
    let dir = std::env::temp_dir().join("lianrong-tests").join(format!("lake_{}", uuid::Uuid::now_v7().simple()));
    dir.display().to_string()
}

async fn serve(app: App) -> String {
    serve_with(app, lianrong_web::WebConfig::default()).await
}

/// Serves `app` (for instance the same database under another business date) on a server of its own.
pub async fn serve_app(app: App) -> TestApp {
    let base_url = serve(app.clone()).await;
    TestApp { base_url, app }
}

/// A fresh platform like [`spawn_app`] served with its own web configuration.
pub async fn spawn_app_with(config: lianrong_web::WebConfig) -> TestApp {
    let t = spawn_app().await;
    let base_url = serve_with(t.app.clone(), config).await;
    TestApp { base_url, app: t.app }
}

async fn serve_with(app: App, config: lianrong_web::WebConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_app = app.clone();
    tokio::spawn(async move {
        let _ = lianrong_web::serve(listener, server_app, config, std::future::pending()).await;
    });
    format!("http://{addr}")
}

/// Logs of the platform go to the test's output when `LIANRONG_TEST_LOG` is set (e.g. `debug`).
fn init_logs() {
    if let Ok(filter) = std::env::var("LIANRONG_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}

/// The business date every test world of this run is built on and judged by: `LIANRONG_BUSINESS_DATE`
/// when set (CI runs the suite again on a handful of hard days: month ends, leap days, year ends, a
/// Sunday, the day after a long holiday), else the calendar date when the run started, so a run that
/// crosses midnight does not change its mind halfway. Tests write every date relative to it.
pub fn today() -> jiff::civil::Date {
    static TODAY: std::sync::OnceLock<jiff::civil::Date> = std::sync::OnceLock::new();
    *TODAY.get_or_init(|| match std::env::var("LIANRONG_BUSINESS_DATE") {
        Ok(text) if !text.trim().is_empty() => {
            let date = lianrong_app::clock::parse_business_date(&text).expect("LIANRONG_BUSINESS_DATE");
            eprintln!("tests on the business date {date} (LIANRONG_BUSINESS_DATE)");
            date
        }
        _ => lianrong_app::clock::calendar_date(lianrong_app::now_ms()),
    })
}

/// The business date `days` from [`today`] (negative goes back).
pub fn day(days: i64) -> jiff::civil::Date {
    lianrong_app::clock::plus_days(today(), days)
}

/// [`day`] as `YYYY-MM-DD` text, as the API and the files carry dates.
pub fn ymd(days: i64) -> String {
    day(days).to_string()
}

/// A fully digital e-invoice number issued on the business date `issued_days` from today: its year in the
/// first two digits (the data standard refuses a mismatch), then Chongqing's `50` and a 16-digit `serial`.
pub fn einvoice(issued_days: i64, serial: u64) -> String {
    format!("{:02}50{serial:016}", day(issued_days).year() % 100)
}

/// A fresh database and lake under a fresh random field-encryption key, judging on [`today`].
async fn open_app() -> App {
    let key = lianrong_app::secret::SecretKey::random().expect("random key");
    App::open_with(&fresh_database_url().await, &fresh_lake_url(), &key)
        .await
        .expect("open app")
        .with_business_date(today())
}

/// A fresh platform with one operator organisation and its admin `op.admin`.
pub async fn spawn_app() -> TestApp {
    serve_app(platform().await).await
}

/// The platform of [`spawn_app`] without a server: for tests that call the use cases in-process.
pub async fn platform() -> App {
    init_logs();
    let app = open_app().await;
    let system = Actor::system("system");
    let op = lianrong_app::org::create(
        &app,
        &system,
        lianrong_app::org::NewOrg {
            uscc: "12500000MB0000001X".parse_code(),
            name: "平台运营方".into(),
            kind: "operator".into(),
            size_class: "large".into(),
            region_code: None,
        },
    )
    .await
    .expect("operator org");
    lianrong_app::user::create(
        &app,
        &system,
        lianrong_app::user::NewUser {
            org_id: op.id.clone(),
            login: "op.admin".into(),
            display_name: "运营管理员".into(),
            password: PASSWORD.into(),
            roles: vec!["org_admin".into(), "operator_staff".into()],
        },
    )
    .await
    .expect("operator admin");
    app
}

/// A fresh platform with the demo world of seed 7.
pub async fn spawn_demo() -> TestApp {
    let app = open_app().await;
    lianrong_app::demo::build(&app, 7, &|_, _| {}).await.expect("demo world");
    let base_url = serve(app.clone()).await;
    TestApp { base_url, app }
}

/// The demo world of seed 7 with its year of trade loaded through the three channels.
pub async fn spawn_demo_with_trade() -> (TestApp, lianrong_app::demo::trade::TradeSummary) {
    let app = open_app().await;
    lianrong_app::demo::build(&app, 7, &|_, _| {}).await.expect("demo world");
    let trade = lianrong_app::demo::trade::load(&app, 7, &|_, _| {}, &lianrong_mail::mime::attachments)
        .await
        .expect("demo trade");
    lianrong_app::demo::credit::load(&app).await.expect("demo credit");
    lianrong_app::demo::commitment::load(&app).await.expect("demo commitments");
    let base_url = serve(app.clone()).await;
    (TestApp { base_url, app }, trade)
}

/// Makes a valid credit code from 17 characters by appending the check character.
pub trait CodeExt {
    fn parse_code(&self) -> String;
}

impl CodeExt for str {
    /// Accepts either a full valid code or its first 17 characters.
    fn parse_code(&self) -> String {
        lianrong_domain::Uscc::with_check_char(&self[..17]).expect("valid prefix").to_string()
    }
}

/// Builds a valid credit code from a small number, for organisations made in tests.
pub fn code(n: u32) -> String {
    lianrong_domain::Uscc::with_check_char(&format!("91500112MA{n:07}")).expect("valid").to_string()
}

/// An API client authenticated either by a session (with its CSRF token) or by an API key.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: Client,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl TestApp {
    pub fn anonymous(&self) -> Api {
        Api {
            base: self.base_url.clone(),
            http: Client::builder().cookie_store(true).build().expect("client"),
            csrf: None,
            bearer: None,
        }
    }

    /// Logs in through `POST /api/v1/session` and keeps the cookie and the CSRF token.
    pub async fn login(&self, login: &str, password: &str) -> Api {
        let mut api = self.anonymous();
        let resp = api
            .http
            .post(format!("{}/api/v1/session", self.base_url))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), StatusCode::OK, "login {login}: {}", resp.text().await.unwrap_or_default());
        let body: Value = resp.json().await.expect("json");
        api.csrf = Some(body["csrf_token"].as_str().expect("csrf").to_string());
        api
    }

    pub fn with_key(&self, key: &str) -> Api {
        Api { bearer: Some(key.to_string()), ..self.anonymous() }
    }

    /// Creates an organisation of `kind` with an admin user `login` (password [`PASSWORD`]), as the system.
    pub async fn org_with_admin(&self, n: u32, kind: &str, login: &str) -> String {
        let system = Actor::system("system");
        let o = lianrong_app::org::create(
            &self.app,
            &system,
            lianrong_app::org::NewOrg {
                uscc: code(n),
                name: format!("测试{kind}{n}有限公司"),
                kind: kind.into(),
                size_class: if kind == "supplier" { "small".into() } else { "large".into() },
                region_code: None,
            },
        )
        .await
        .expect("org");
        lianrong_app::user::create(
            &self.app,
            &system,
            lianrong_app::user::NewUser {
                org_id: o.id.clone(),
                login: login.into(),
                display_name: "管理员".into(),
                password: PASSWORD.into(),
                roles: vec!["org_admin".into()],
            },
        )
        .await
        .expect("admin");
        o.id
    }
}

impl Api {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let (Some(c), false) = (&self.csrf, method == Method::GET) {
            req = req.header("x-csrf-token", c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// Uploads one file as the multipart part `file`.
    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut req = self.http.post(format!("{}{path}", self.base)).multipart(form);
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send().await.expect("upload")
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::GET, path, None).await;
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// A log leaf by the id a record shows, as a client does: while the sequencer has not integrated it
    /// (202 with `Retry-After`) ask again, for at most ten seconds; then the answer as it is.
    pub async fn log_leaf(&self, leaf_id: &Value) -> (StatusCode, Value) {
        let path = format!("/api/v1/log/leaves/{leaf_id}");
        for _ in 0..200 {
            let r = self.send(Method::GET, &path, None).await;
            if r.status() != StatusCode::ACCEPTED {
                let s = r.status();
                return (s, r.json().await.unwrap_or(Value::Null));
            }
            assert!(r.headers().contains_key(reqwest::header::RETRY_AFTER), "a pending leaf says when to ask again");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("log leaf {leaf_id} was not integrated within ten seconds");
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(Method::POST, path, Some(body)).await;
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(Method::PUT, path, Some(body)).await;
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(Method::PATCH, path, Some(body)).await;
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// Asserts a problem+json answer with `status` and `code`, and that it names both languages.
pub fn assert_problem(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], expected_status.as_u16(), "body: {body}");
    assert!(body["message_zh"].as_str().is_some_and(|m| !m.is_empty()), "body: {body}");
    assert!(body["message_en"].as_str().is_some_and(|m| !m.is_empty()), "body: {body}");
}
