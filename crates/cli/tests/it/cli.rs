//! The `lianrong` binary as a newcomer runs it: `demo` builds a world and prints its logins; `admin`
//! creates an organisation, a user, an API key, and resets a password.

use std::process::Command;

fn lianrong(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lianrong"));
    cmd.args(args).env("RUST_LOG", "warn").env_remove("LIANRONG_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run lianrong");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("lianrong-tests").join(format!("{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn demo_builds_a_world_and_prints_a_login_for_each_kind() {
    let dir = temp_dir("demo");
    // The world is built on the run's business date, given as a flag here and by the environment below.
    let today = crate::common::today().to_string();
    let (ok, out, err) = lianrong(
        &["demo", "--no-serve", "--seed", "7", "--data-dir", dir.to_str().unwrap(), "--business-date", &today],
        &[],
    );
    assert!(ok, "{out}\n{err}");
    assert!(out.contains(&format!("业务日期 business date: {today}（固定 pinned")), "{out}");
    assert!(out.contains("http://127.0.0.1:8080/"), "{out}");
    assert!(out.contains(lianrong_app::demo::DEMO_PASSWORD), "{out}");
    for kind in ["operator", "regulator", "bank", "core", "supplier"] {
        assert!(out.lines().any(|l| l.split_whitespace().nth(1) == Some(kind)), "no {kind} login in:\n{out}");
    }
    assert!(dir.join("demo.db").exists());
    // A second run replaces the world instead of failing on the old one.
    let (ok, out2, err) = lianrong(
        &["demo", "--no-serve", "--seed", "7", "--data-dir", dir.to_str().unwrap()],
        &[("LIANRONG_BUSINESS_DATE", &today)],
    );
    assert!(ok, "{err}");
    assert!(out2.contains(&format!("business date: {today}")), "{out2}");
    let counts = |s: &str| {
        s.lines().find(|l| l.contains("demo world ready")).map(|l| l.split(':').nth(1).unwrap_or("").to_string())
    };
    assert_eq!(counts(&out), counts(&out2), "the same seed builds the same world");
}

#[test]
fn a_business_date_that_is_not_a_date_is_refused_before_anything_is_built() {
    let dir = temp_dir("demo-bad-date");
    for bad in ["2027-02-29", "31/12/2027", "明天"] {
        let (ok, out, err) =
            lianrong(&["demo", "--no-serve", "--data-dir", dir.to_str().unwrap(), "--business-date", bad], &[]);
        assert!(!ok, "{bad}: {out}");
        assert!(err.contains("业务日期") && err.contains("business date") && err.contains(bad), "{bad}: {err}");
        assert!(!dir.join("demo.db").exists(), "nothing is built on a bad date");
    }
}

#[test]
fn admin_commands_create_what_they_say_and_refuse_bad_input() {
    let dir = temp_dir("admin");
    let d = dir.to_str().unwrap();
    let (ok, out, err) = lianrong(&["admin", "--data-dir", d, "migrate"], &[]);
    assert!(ok && out.contains("migrations up to date"), "{out}{err}");
    let (ok, _, err) = lianrong(
        &["admin", "--data-dir", d, "create-org", "--uscc", "91500000MA5U000A5X", "--name", "坏代码", "--kind", "core"],
        &[],
    );
    assert!(!ok && err.contains("校验码") && err.contains("check character"), "{err}");
    let (ok, out, err) = lianrong(
        &[
            "admin",
            "--data-dir",
            d,
            "create-org",
            "--uscc",
            "91500000MA5U000A5N",
            "--name",
            "重庆测试汽车有限公司",
            "--kind",
            "core",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let pw = [("LIANRONG_PASSWORD", "Strong#Pass2026")];
    let (ok, out, err) = lianrong(
        &[
            "admin",
            "--data-dir",
            d,
            "create-user",
            "--org-uscc",
            "91500000MA5U000A5N",
            "--login",
            "alice",
            "--display-name",
            "张三",
            "--role",
            "org_admin",
            "--role",
            "finance_staff",
        ],
        &pw,
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = lianrong(
        &[
            "admin",
            "--data-dir",
            d,
            "create-user",
            "--org-uscc",
            "91500000MA5U000A5N",
            "--login",
            "bob",
            "--display-name",
            "李四",
            "--role",
            "org_admin",
        ],
        &[("LIANRONG_PASSWORD", "weak")],
    );
    assert!(!ok && err.contains("密码"), "{err}");
    let (ok, out, err) = lianrong(
        &[
            "admin",
            "--data-dir",
            d,
            "create-api-key",
            "--org-uscc",
            "91500000MA5U000A5N",
            "--name",
            "ERP",
            "--scope",
            "core_library:read",
        ],
        &[],
    );
    assert!(ok && out.contains("lrk_"), "{out}{err}");
    let (ok, out, err) = lianrong(
        &["admin", "--data-dir", d, "reset-password", "--login", "alice"],
        &[("LIANRONG_PASSWORD", "Another#Pass2026")],
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = lianrong(&["admin", "--data-dir", d, "reset-password", "--login", "nobody"], &pw);
    assert!(!ok && err.contains("nobody"), "{err}");
}

/// A `lianrong serve` child on a free port of this machine, killed (SIGKILL) when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(dir: &str, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lianrong"));
        cmd.args(["serve", "--data-dir", dir, "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .env_remove("LIANRONG_DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Server { child: cmd.spawn().expect("start lianrong serve"), base: format!("http://127.0.0.1:{port}") }
    }

    async fn ready(&self, http: &reqwest::Client) {
        for _ in 0..300 {
            if http.get(format!("{}/healthz", self.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("lianrong serve did not become ready within 30 s");
    }

    /// Ends the process the hard way, as a power cut or the OOM killer would.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_leaf_acknowledged_before_a_crash_is_integrated_after_the_restart() {
    let dir = temp_dir("crash");
    let d = dir.to_str().unwrap();
    let core = crate::common::code(100);
    let (ok, out, err) = lianrong(
        &["admin", "--data-dir", d, "create-org", "--uscc", &core, "--name", "重庆测试汽车有限公司", "--kind", "core"],
        &[],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = lianrong(
        &[
            "admin",
            "--data-dir",
            d,
            "create-api-key",
            "--org-uscc",
            &core,
            "--name",
            "erp",
            "--scope",
            "trade:write",
            "--scope",
            "trade:read",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let key = out.lines().last().unwrap().trim().to_string();
    let http = reqwest::Client::new();

    // A server whose sequencer is off acknowledges the submission and its leaf, which stays pending.
    let server = Server::start(d, &[("LIANRONG_LOG_SEQUENCER", "off")]);
    server.ready(&http).await;
    let date = lianrong_app::clock::plus_days(lianrong_app::clock::calendar_date(lianrong_app::now_ms()), -3);
    let csv = format!(
        "发票号码,开票日期,销方统一社会信用代码,购方统一社会信用代码,金额,税额,价税合计\n{:02}50{:016},{date},{},{core},100.00,13.00,113.00\n",
        date.year() % 100,
        7,
        crate::common::code(101),
    );
    let part = reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("发票.csv");
    let resp = http
        .post(format!("{}/api/v1/submissions/upload", server.base))
        .bearer_auth(&key)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let report: serde_json::Value = resp.json().await.unwrap();
    let leaf_id = report["log_leaf_id"].as_u64().unwrap_or_else(|| panic!("a log leaf: {report}"));
    let leaf_url = format!("{}/api/v1/log/leaves/{leaf_id}", server.base);
    let pending = http.get(&leaf_url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(pending.status(), reqwest::StatusCode::ACCEPTED, "no sequencer ran: the leaf waits");
    assert!(pending.headers().contains_key(reqwest::header::RETRY_AFTER));
    server.kill();

    // After the crash a server with its sequencer integrates what was acknowledged: nothing is lost.
    let server = Server::start(d, &[]);
    server.ready(&http).await;
    let base = server.base.clone();
    let mut entry = serde_json::Value::Null;
    for _ in 0..100 {
        let r = http.get(format!("{base}/api/v1/log/leaves/{leaf_id}")).bearer_auth(&key).send().await.unwrap();
        if r.status() == reqwest::StatusCode::OK {
            entry = r.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(entry["leaf"]["leaf_id"], leaf_id, "integrated after the restart: {entry}");
    assert!(entry["leaf"]["data"].as_str().unwrap().contains(report["raw_sm3"].as_str().unwrap()), "{entry}");
    // The proof holds against the signed head: the leaf is in the tree the platform signs.
    let head: serde_json::Value =
        http.get(format!("{base}/api/v1/log/tree-head")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let alg = lianrong_domain::log::HashAlg::parse(head["hash_alg"].as_str().unwrap()).unwrap();
    let root = lianrong_domain::log::hash_from_hex("root_hash", head["root_hash"].as_str().unwrap()).unwrap();
    let path: Vec<_> = entry["inclusion_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| lianrong_domain::log::hash_from_hex("path", h.as_str().unwrap()).unwrap())
        .collect();
    let leaf_hash = lianrong_domain::log::leaf_hash(alg, entry["leaf"]["data"].as_str().unwrap().as_bytes());
    let index = entry["leaf"]["leaf_index"].as_u64().unwrap();
    let size = entry["tree_size"].as_u64().unwrap();
    assert_eq!(head["tree_size"].as_u64(), Some(size), "{head} {entry}");
    lianrong_domain::log::verify_inclusion(alg, index, size, &leaf_hash, &path, &root).expect("inclusion proof");
    server.kill();
}
