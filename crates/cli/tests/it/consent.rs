//! Data authorisation end to end: a bank sees nothing of a supplier's data before a consent; reads
//! the consented categories after, and raw records only when they were granted; revocation stops the
//! very next read; an expired consent is refused; every read is audited and listed for the owner;
//! another bank cannot use a consent given to someone else; an owner cannot authorise a non-bank.

use jiff::ToSpan;
use lianrong_app::Actor;
use lianrong_domain::consent::Category;
use lianrong_domain::org::OrgKind;
use lianrong_domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, assert_problem, code, einvoice, spawn_app, ymd};

fn grant(bank_org_id: &str, categories: &[&str], valid_until: &str) -> Value {
    json!({"bank_org_id": bank_org_id, "categories": categories, "purpose": "应收账款融资申请审查",
        "valid_until": valid_until})
}

#[tokio::test]
async fn a_bank_reads_a_suppliers_data_only_through_a_live_consent_and_every_read_is_seen() {
    let t = spawn_app().await;
    let system = Actor::system("system");
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let supplier_id = t.org_with_admin(101, "supplier", "s.admin").await;
    let tier2_id = t.org_with_admin(102, "supplier", "x.admin").await;
    let bank_id = t.org_with_admin(104, "bank", "b.admin").await;
    let other_bank_id = t.org_with_admin(105, "bank", "o.bank").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "新能源汽车产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &supplier_id, "supplier", Some(1)).await.unwrap();
    let (core, supplier, bank, other) = (
        t.login("c.admin", PASSWORD).await,
        t.login("s.admin", PASSWORD).await,
        t.login("b.admin", PASSWORD).await,
        t.login("o.bank", PASSWORD).await,
    );
    let _ = tier2_id;

    // The supplier's sales to the core: two invoices with order and accepted delivery, one bare invoice;
    // and one purchase from its own supplier, which is not the supplier's to authorise.
    let (c100, c101, c102) = (code(100), code(101), code(102));
    let mut records = vec![];
    for i in 1..=2 {
        records.push(json!({"record_type": "order", "order_no": format!("PO-{i}"), "order_date": ymd(-97), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "term_days": "365"}));
        records.push(json!({"record_type": "delivery", "delivery_no": format!("DN-{i}"), "delivery_date": ymd(-93), "order_refs": format!("PO-{i}"), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "acceptance_status": "accepted", "accepted_date": ymd(-92)}));
        records.push(json!({"record_type": "invoice", "invoice_no": einvoice(-88, 1000 + i), "issue_date": ymd(-88), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "order_refs": format!("PO-{i}"), "delivery_refs": format!("DN-{i}")}));
    }
    records.push(json!({"record_type": "invoice", "invoice_no": einvoice(-86, 1003), "issue_date": ymd(-86), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "term_days": "365"}));
    records.push(json!({"record_type": "order", "order_no": "PO-BOUGHT-1", "order_date": ymd(-96), "buyer_uscc": c101, "seller_uscc": c102, "total_amount": "300.00"}));
    let (s, r) = supplier.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(8)), "{r}");

    let today = t.app.today();
    let in_days = |n: i64| today.checked_add(n.days()).unwrap().to_string();
    let bank_actor = Actor {
        org_id: bank_id.clone(),
        org_kind: OrgKind::Bank,
        system: false,
        roles: vec![Role::BankOfficer],
        login: Some("b.officer".into()),
        ..system.clone()
    };

    // Before any consent the bank sees nothing.
    let e = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::Receivables, today)
        .await
        .unwrap_err();
    assert_eq!((e.code, e.kind), ("no_consent", lianrong_app::ErrorKind::Forbidden));
    let (_, list) = bank.get("/api/v1/consents").await;
    assert_eq!(list["total"], 0);
    let (s, e) = bank.get("/api/v1/consents/no-such-consent/receivables").await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");

    // Only an owner grants, to a bank only, within the bounds.
    let (s, e) = bank.post("/api/v1/consents", grant(&other_bank_id, &["receivables"], &in_days(30))).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, e) = supplier.post("/api/v1/consents", grant(&core_id, &["receivables"], &in_days(30))).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_a_bank");
    assert_eq!(e["field"], "bank_org_id");
    let (s, e) = supplier.post("/api/v1/consents", grant(&supplier_id, &["receivables"], &in_days(30))).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_a_bank");
    let (s, e) = supplier.post("/api/v1/consents", grant(&tier2_id, &["receivables"], &in_days(30))).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    for (body, status, code, field) in [
        (grant(&bank_id, &[], &in_days(30)), StatusCode::UNPROCESSABLE_ENTITY, "no_category", "categories"),
        (
            grant(&bank_id, &["everything"], &in_days(30)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_value",
            "categories",
        ),
        (
            grant(&bank_id, &["receivables"], &in_days(0)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "valid_until_too_soon",
            "valid_until",
        ),
        (
            grant(
                &bank_id,
                &["receivables"],
                &today.checked_add(12.months()).unwrap().checked_add(1.day()).unwrap().to_string(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "valid_until_too_late",
            "valid_until",
        ),
        (
            grant(&bank_id, &["receivables"], "2026-13-01"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_invalid",
            "valid_until",
        ),
        (
            json!({"bank_org_id": bank_id, "categories": ["receivables"], "purpose": " ", "valid_until": in_days(30)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            "purpose",
        ),
        (
            json!({"bank_org_id": bank_id, "categories": ["receivables"], "purpose": "审".repeat(201), "valid_until": in_days(30)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            "purpose",
        ),
    ] {
        let (s, e) = supplier.post("/api/v1/consents", body).await;
        assert_problem(s, &e, status, code);
        assert_eq!(e["field"], field, "{e}");
    }

    // A consent to derived figures: receivables and verified trade totals.
    let (s, c) = supplier
        .post("/api/v1/consents", grant(&bank_id, &["trade_totals", "receivables", "receivables"], &in_days(30)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(
        (c["state"].as_str(), c["categories"].clone()),
        (Some("granted"), json!(["receivables", "trade_totals"]))
    );
    assert_eq!(c["bank_name"], "测试bank104有限公司");
    let id = c["id"].as_str().unwrap().to_string();
    let (_, list) = bank.get("/api/v1/consents").await;
    assert_eq!(list["total"], 1);
    for stranger in [&other, &core] {
        let (_, list) = stranger.get("/api/v1/consents").await;
        assert_eq!(list["total"], 0);
    }

    // The bank reads the receivables (derived figures) and the totals per buyer.
    let (s, rec) = bank.get(&format!("/api/v1/consents/{id}/receivables")).await;
    assert_eq!((s, rec["total"].as_i64()), (StatusCode::OK, Some(3)), "{rec}");
    let first =
        rec["items"].as_array().unwrap().iter().find(|r| r["invoice_no"] == einvoice(-88, 1001).as_str()).unwrap();
    assert_eq!(
        (first["debtor_name"].as_str(), first["outstanding_fen"].as_i64()),
        (Some("测试core100有限公司"), Some(100_000))
    );
    assert_eq!(
        (first["verification_status"].as_str(), first["data_only_eligible"].as_bool()),
        (Some("verified"), Some(true))
    );
    let (s, totals) = bank.get(&format!("/api/v1/consents/{id}/trade-totals")).await;
    assert_eq!(s, StatusCode::OK, "{totals}");
    assert_eq!(totals.as_array().map(Vec::len), Some(1), "one buyer: {totals}");
    let core_total = &totals[0];
    assert_eq!(
        (
            core_total["counterparty_uscc"].as_str(),
            core_total["invoices"].as_i64(),
            core_total["invoiced_fen"].as_i64()
        ),
        (Some(c100.as_str()), Some(3), Some(350_000))
    );
    assert_eq!(
        (core_total["verified_invoices"].as_i64(), core_total["verified_fen"].as_i64()),
        (Some(2), Some(300_000))
    );
    // Raw records and the score were not granted.
    for path in ["records", "reference-score"] {
        let (s, e) = bank.get(&format!("/api/v1/consents/{id}/{path}")).await;
        assert_problem(s, &e, StatusCode::FORBIDDEN, "no_consent");
    }
    let live = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::Receivables, today).await;
    assert_eq!(live.unwrap().id, id);
    let e = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::RawRecords, today).await;
    assert_eq!(e.unwrap_err().code, "no_consent");

    // Nobody else uses it: another bank is answered as if it did not exist; the owner and the core are
    // no bank.
    for path in ["", "/receivables", "/trade-totals", "/records", "/reference-score", "/reads"] {
        let (s, e) = other.get(&format!("/api/v1/consents/{id}{path}")).await;
        assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    }
    let (s, e) = other.post(&format!("/api/v1/consents/{id}/revoke"), json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let other_actor = Actor { org_id: other_bank_id.clone(), ..bank_actor.clone() };
    let e = lianrong_app::consent::require(&t.app, &other_actor, &supplier_id, Category::Receivables, today).await;
    assert_eq!(e.unwrap_err().code, "no_consent");
    for who in [&supplier, &core] {
        let (s, e) = who.get(&format!("/api/v1/consents/{id}/receivables")).await;
        assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    }

    // A second consent with raw records: the supplier's sales only, never its purchases; the score is
    // accepted as a category but not available yet.
    let (s, c2) =
        supplier.post("/api/v1/consents", grant(&bank_id, &["raw_records", "reference_score"], &in_days(60))).await;
    assert_eq!(s, StatusCode::CREATED, "{c2}");
    let id2 = c2["id"].as_str().unwrap().to_string();
    let (s, raw) = bank.get(&format!("/api/v1/consents/{id2}/records?page_size=200")).await;
    assert_eq!((s, raw["total"].as_i64()), (StatusCode::OK, Some(7)), "{raw}");
    assert!(raw["items"].as_array().unwrap().iter().all(|r| r["seller_uscc"] == c101.as_str()));
    assert!(!raw.to_string().contains("PO-BOUGHT-1") && !raw.to_string().contains("payee_account"), "{raw}");
    let (s, e) = bank.get(&format!("/api/v1/consents/{id2}/reference-score")).await;
    assert_problem(s, &e, StatusCode::SERVICE_UNAVAILABLE, "score_not_available");
    let (s, e) = bank.get(&format!("/api/v1/consents/{id2}/receivables")).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "no_consent");

    // Every read is audited, naming the consent, the category and the bank's user, and the owner sees
    // the reads.
    let (s, reads) = supplier.get(&format!("/api/v1/consents/{id}/reads")).await;
    assert_eq!((s, reads["total"].as_i64()), (StatusCode::OK, Some(2)), "{reads}");
    let categories: Vec<&str> =
        reads["items"].as_array().unwrap().iter().map(|r| r["category"].as_str().unwrap()).collect();
    assert!(categories.contains(&"receivables") && categories.contains(&"trade_totals"), "{reads}");
    assert!(reads["items"].as_array().unwrap().iter().all(|r| r["reader"] == "b.admin"));
    let (_, one) = supplier.get(&format!("/api/v1/consents/{id}")).await;
    assert_eq!(one["reads"], 2);
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, detail FROM audit_event WHERE object_type = 'consent' AND object_id = $1 AND outcome = 'ok' \
         AND action LIKE 'consent.read.%' ORDER BY at_ms",
    )
    .bind(&id)
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited.iter().all(|(_, d)| d.contains(&id) && d.contains("b.admin")), "{audited:?}");
    assert!(audited.iter().any(|(a, d)| a == "consent.read.receivables" && d.contains("receivables")));
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_event WHERE object_type = 'consent' AND outcome = 'refused' \
         AND action = 'consent.read.raw_records' AND object_id = $1",
    )
    .bind(&id)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert!(refused >= 2, "refused reads are audited too: {refused}");
    // The bank may see its own reads; another owner may not.
    let (s, _) = bank.get(&format!("/api/v1/consents/{id}/reads")).await;
    assert_eq!(s, StatusCode::OK);

    // Revocation: only the owner; it stops the very next read.
    let (s, e) = bank.post(&format!("/api/v1/consents/{id}/revoke"), json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let stranger = t.login("x.admin", PASSWORD).await;
    let (s, e) = stranger.post(&format!("/api/v1/consents/{id}/revoke"), json!({})).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, revoked) = supplier.post(&format!("/api/v1/consents/{id}/revoke"), json!({})).await;
    assert_eq!((s, revoked["state"].as_str()), (StatusCode::OK, Some("revoked")), "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (s, e) = bank.get(&format!("/api/v1/consents/{id}/receivables")).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "no_consent");
    assert!(e["message_en"].as_str().unwrap().contains("revoked"), "{e}");
    let (s, e) = supplier.post(&format!("/api/v1/consents/{id}/revoke"), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_revoked");
    let e = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::Receivables, today).await;
    assert_eq!(e.unwrap_err().code, "no_consent");
    let (_, reads) = supplier.get(&format!("/api/v1/consents/{id}/reads")).await;
    assert_eq!(reads["total"], 2, "a refused read is no read");

    // Expiry: the day after valid_until the consent is refused, by the same rule the API applies.
    let live = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::RawRecords, today).await;
    assert_eq!(live.unwrap().id, id2);
    let later = today.checked_add(61.days()).unwrap();
    let e = lianrong_app::consent::require(&t.app, &bank_actor, &supplier_id, Category::RawRecords, later).await;
    assert_eq!(e.unwrap_err().code, "no_consent");
    sqlx::query("UPDATE consent SET valid_until = $1 WHERE id = $2")
        .bind(today.checked_sub(1.day()).unwrap().to_string())
        .bind(&id2)
        .execute(&t.app.db.pool)
        .await
        .unwrap();
    let (s, e) = bank.get(&format!("/api/v1/consents/{id2}/records")).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "no_consent");
    assert!(e["message_en"].as_str().unwrap().contains("expired"), "{e}");
    let (_, c2) = supplier.get(&format!("/api/v1/consents/{id2}")).await;
    assert_eq!(c2["state"], "expired");

    // Grants and revocations are leaves of the verifiable log, for the owner and the bank.
    lianrong_app::log::integrate_all(&t.app).await.unwrap();
    let (_, leaves) = supplier.get("/api/v1/log/entries?kind=consent").await;
    assert_eq!(leaves["total"], 3, "{leaves}");
    let (_, leaves) = other.get("/api/v1/log/entries?kind=consent").await;
    assert_eq!(leaves["total"], 0);

    // The console: the owner grants from /consents; the bank opens the data room, which shows the
    // consented categories only; the owner sees who read what.
    let page = supplier.send(Method::GET, "/consents", None).await.text().await.unwrap();
    assert!(page.contains("grant-consent") && page.contains("测试bank104有限公司"), "{page}");
    let form = vec![
        ("csrf_token".to_string(), supplier.csrf.clone().unwrap()),
        ("bank_org_id".to_string(), bank_id.clone()),
        ("categories".to_string(), "receivables".to_string()),
        ("purpose".to_string(), "订单融资审查".to_string()),
        ("valid_until".to_string(), in_days(90)),
    ];
    let r = supplier.http.post(format!("{}/consents", supplier.base)).form(&form).send().await.unwrap();
    let landed = r.url().path().to_string();
    assert!(landed.starts_with("/consents/"), "{landed}");
    let id3 = landed.trim_start_matches("/consents/").to_string();
    let mut bad = form.clone();
    bad[1].1 = core_id.clone();
    let r = supplier.http.post(format!("{}/consents", supplier.base)).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bank.send(Method::GET, "/consents", None).await.text().await.unwrap();
    assert!(page.contains(&format!("/consents/{id3}")) && !page.contains("grant-consent"), "{page}");
    // Asking for a category not consented falls back to one that is.
    let page =
        bank.send(Method::GET, &format!("/consents/{id3}?category=raw_records"), None).await.text().await.unwrap();
    assert!(page.contains("room-receivables") && page.contains(&einvoice(-88, 1001)), "{page}");
    assert!(!page.contains("tab-raw_records") && !page.contains("room-records"), "only consented categories: {page}");
    let page = supplier.send(Method::GET, &format!("/consents/{id3}"), None).await.text().await.unwrap();
    assert!(page.contains("read-table") && page.contains("b.admin") && !page.contains("data-room"), "{page}");
    let page = bank.send(Method::GET, &format!("/consents/{id}"), None).await.text().await.unwrap();
    assert!(
        page.contains("room-note") && !page.contains("room-receivables"),
        "a revoked consent shows no data: {page}"
    );
    let (s, _) = other.get(&format!("/consents/{id3}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let revoke = vec![("csrf_token".to_string(), supplier.csrf.clone().unwrap())];
    let r = supplier.http.post(format!("{}/consents/{id3}/revoke", supplier.base)).form(&revoke).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("badge-revoked"));
}
