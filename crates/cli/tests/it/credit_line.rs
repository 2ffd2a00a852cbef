//! Dedicated supply-chain credit lines: a bank grants one to a core; only the bank and the core see it;
//! every bad grant is refused by name; and concurrent occupations never exceed the line, on both
//! databases, with a retried occupation recognised instead of counted twice.

use lianrong_app::Actor;
use lianrong_app::credit_line::{self, Moved};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{PASSWORD, assert_problem, spawn_app, ymd};

#[tokio::test]
async fn a_bank_grants_a_line_that_concurrent_occupations_never_exceed() {
    let t = spawn_app().await;
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let supplier_id = t.org_with_admin(101, "supplier", "s.admin").await;
    t.org_with_admin(104, "bank", "b.admin").await;
    let other_bank_id = t.org_with_admin(105, "bank", "other.bank").await;
    let (core, bank, other) =
        (t.login("c.admin", PASSWORD).await, t.login("b.admin", PASSWORD).await, t.login("other.bank", PASSWORD).await);
    let grant = |borrower: &str, kind: &str, limit: i64, from: &str, until: &str| json!({"borrower_org_id": borrower, "kind": kind, "limit_fen": limit, "valid_from": from, "valid_until": until});
    // A line in force from a month ago for a year; every date is relative to the business date.
    let (from, until) = (ymd(-30), ymd(365));
    let (from, until) = (from.as_str(), until.as_str());
    // Refusals, by name.
    let (s, e) = bank.post("/api/v1/credit-lines", grant(&core_id, "supplier", 100_000, from, until)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "borrower_kind");
    let (s, e) = bank.post("/api/v1/credit-lines", grant(&core_id, "core_supply_chain", 0, from, until)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "limit_out_of_bounds");
    let (s, e) = bank.post("/api/v1/credit-lines", grant(&core_id, "core_supply_chain", 100_000, until, from)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "term_out_of_bounds");
    let (s, e) =
        bank.post("/api/v1/credit-lines", grant(&core_id, "core_supply_chain", 100_000, "2026-13-01", until)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "date_invalid");
    let (s, e) =
        bank.post("/api/v1/credit-lines", grant("no-such-org", "core_supply_chain", 100_000, from, until)).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, e) = core.post("/api/v1/credit-lines", grant(&core_id, "core_supply_chain", 100_000, from, until)).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    // The grant; the bank and the core see it, another bank does not.
    let (s, line) = bank.post("/api/v1/credit-lines", grant(&core_id, "core_supply_chain", 100_000, from, until)).await;
    assert_eq!(s, StatusCode::CREATED, "{line}");
    let id = line["id"].as_str().unwrap().to_string();
    let (_, mine) = core.get("/api/v1/credit-lines").await;
    assert_eq!((mine["total"].as_i64(), mine["items"][0]["available_fen"].as_i64()), (Some(1), Some(100_000)));
    let (s, _) = other.get(&format!("/api/v1/credit-lines/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, theirs) = other.get("/api/v1/credit-lines").await;
    assert_eq!(theirs["total"], 0);
    let (s, supplier_line) =
        bank.post("/api/v1/credit-lines", grant(&supplier_id, "supplier", 5_000, from, &ymd(180))).await;
    assert_eq!((s, supplier_line["kind"].as_str()), (StatusCode::CREATED, Some("supplier")));

    // Forty requests of ¥30 race for a ¥1,000 line: exactly thirty-three fit.
    let system = Actor::system("system");
    let attempts = (0..40).map(|i| {
        let (app, system, id) = (t.app.clone(), system.clone(), id.clone());
        tokio::spawn(async move { credit_line::occupy(&app, &system, &id, 3_000, &format!("commitment-{i}")).await })
    });
    let mut fitted = 0;
    for a in attempts {
        match a.await.unwrap() {
            Ok(Moved::Now) => fitted += 1,
            Ok(Moved::Already) => panic!("distinct references are distinct occupations"),
            Err(e) => assert_eq!(e.code, "line_exceeded", "{e:?}"),
        }
    }
    assert_eq!(fitted, 33);
    let (_, after) = core.get(&format!("/api/v1/credit-lines/{id}")).await;
    assert_eq!((after["used_fen"].as_i64(), after["available_fen"].as_i64()), (Some(99_000), Some(1_000)), "{after}");
    // A retried occupation is recognised, not counted twice; a release frees room; the events balance.
    assert_eq!(credit_line::occupy(&t.app, &system, &id, 3_000, "commitment-0").await.unwrap(), Moved::Already);
    let mut tx = t.app.db.begin_write().await.unwrap();
    credit_line::release_in(&mut tx, &id, 3_000, "repaid-commitment-0", "system").await.unwrap();
    tx.commit().await.unwrap();
    let e = {
        let mut tx = t.app.db.begin_write().await.unwrap();
        credit_line::release_in(&mut tx, &id, 100_000, "too-much", "system").await.unwrap_err()
    };
    assert_eq!(e.code, "release_exceeds_use");
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    let balance = lianrong_store::credit_line::event_balance(&mut conn, &id).await.unwrap();
    let (_, after) = core.get(&format!("/api/v1/credit-lines/{id}")).await;
    assert_eq!((after["used_fen"].as_i64(), balance), (Some(96_000), 96_000));
    // Another bank's staff cannot occupy a line they cannot see.
    let other_staff = Actor {
        org_id: other_bank_id,
        org_kind: lianrong_domain::org::OrgKind::Bank,
        system: false,
        roles: vec![lianrong_domain::role::Role::OrgAdmin],
        ..system.clone()
    };
    let e = credit_line::occupy(&t.app, &other_staff, &id, 1, "x").await.unwrap_err();
    assert_eq!(e.code, "not_found");

    // The console: the bank grants from its page (the limit typed in yuan); the core sees what it has.
    let form = vec![
        ("csrf_token".to_string(), bank.csrf.clone().unwrap()),
        ("borrower_org_id".to_string(), supplier_id.clone()),
        ("kind".to_string(), "supplier".to_string()),
        ("limit_yuan".to_string(), "1,250,000.50".to_string()),
        ("valid_from".to_string(), ymd(-30)),
        ("valid_until".to_string(), ymd(200)),
    ];
    let r = bank.http.post(format!("{}/credit-lines", bank.base)).form(&form).send().await.unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("¥1,250,000.50") && page.contains("grant-line"), "{page}");
    let mut bad = form.clone();
    bad[3].1 = "12.345".into();
    let r = bank.http.post(format!("{}/credit-lines", bank.base)).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = core.send(reqwest::Method::GET, "/credit-lines", None).await.text().await.unwrap();
    assert!(page.contains("¥960.00") && !page.contains("grant-line"), "the core sees its line, ¥960 in use: {page}");
}
