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
