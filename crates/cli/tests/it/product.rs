//! Financing products: a bank drafts and publishes a product; every signed-in user reads the
//! catalogue; a draft is its bank's alone; another bank can neither see a draft nor edit, publish or
//! withdraw any product but its own; every bound is refused by its field; a chain variant narrows its
//! parent, is published only while the parent is, and is withdrawn with it. Every change is audited.

use lianrong_app::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{PASSWORD, assert_problem, spawn_app};

fn body(chain_id: &str) -> Value {
    json!({
        "name": "链融通·应收账款融资",
        "description": "面向新能源汽车产业链一、二级供应商",
        "kind": "receivable_financing",
        "eligible_chain_ids": [chain_id],
        "eligible_tiers": [1, 2],
        "evidence": "either",
        "amount_min_fen": 100_000,
        "amount_max_fen": 500_000_000,
        "term_min_days": 30,
        "term_max_days": 360,
        "rate_min_bp": 350,
        "rate_max_bp": 600,
        "advance_ratio_bp": 8_000,
        "fee_bp": 10,
        "fee_fixed_fen": 0
    })
}

fn with(mut b: Value, key: &str, value: Value) -> Value {
    b[key] = value;
    b
}

#[tokio::test]
async fn a_bank_publishes_products_that_everyone_reads_and_no_other_bank_can_touch() {
    let t = spawn_app().await;
    let system = Actor::system("system");
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let supplier_id = t.org_with_admin(101, "supplier", "s.admin").await;
    let bank_id = t.org_with_admin(104, "bank", "b.admin").await;
    t.org_with_admin(105, "bank", "o.bank").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "新能源汽车产业链", "nev", true).await.unwrap();
    let other_chain =
        lianrong_app::chain::create(&t.app, &system, "电子信息产业链", "electronics", false).await.unwrap();
    for (org, role, tier) in [(&core_id, "core", None), (&supplier_id, "supplier", Some(1)), (&bank_id, "bank", None)] {
        lianrong_app::chain::add_member(&t.app, &system, &chain.id, org, role, tier).await.unwrap();
    }
    let (supplier, bank, other) =
        (t.login("s.admin", PASSWORD).await, t.login("b.admin", PASSWORD).await, t.login("o.bank", PASSWORD).await);

    // Only bank staff draft products; a chain the bank is no partner of is not found.
    let (s, e) = supplier.post("/api/v1/products", body(&chain.id)).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, e) = bank.post("/api/v1/products", body(&other_chain.id)).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(e["field"], "eligible_chain_ids");
    let (s, draft) = bank.post("/api/v1/products", body(&chain.id)).await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    assert_eq!(
        (draft["state"].as_str(), draft["eligible_chains"][0]["name"].as_str()),
        (Some("draft"), Some("新能源汽车产业链"))
    );
    assert_eq!(draft["eligible_tiers"], json!([1, 2]));
    let id = draft["id"].as_str().unwrap().to_string();

    // The draft is the bank's alone.
    let (_, list) = supplier.get("/api/v1/products").await;
    assert_eq!(list["total"], 0);
    for who in [&supplier, &other] {
        let (s, e) = who.get(&format!("/api/v1/products/{id}")).await;
        assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, mine) = bank.get("/api/v1/products?state=draft").await;
    assert_eq!(mine["total"], 1);
    let (_, theirs) = other.get("/api/v1/products?state=draft").await;
    assert_eq!(theirs["total"], 0, "another bank's drafts are never listed");

    // Another bank can neither edit, publish nor withdraw it: as if it did not exist.
    let (s, e) = other.put(&format!("/api/v1/products/{id}"), body(&chain.id)).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    for action in ["publish", "withdraw"] {
        let (s, e) = other.post(&format!("/api/v1/products/{id}/{action}"), json!({})).await;
        assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    }

    // The bank edits its draft (rates lowered), then publishes it.
    let edited = with(body(&chain.id), "rate_min_bp", json!(320));
    let (s, p) = bank.put(&format!("/api/v1/products/{id}"), edited).await;
    assert_eq!((s, p["rate_min_bp"].as_i64()), (StatusCode::OK, Some(320)), "{p}");
    let (s, p) = bank.post(&format!("/api/v1/products/{id}/publish"), json!({})).await;
    assert_eq!((s, p["state"].as_str()), (StatusCode::OK, Some("published")), "{p}");
    assert!(p["published_at"].is_string());
    let (s, e) = bank.put(&format!("/api/v1/products/{id}"), body(&chain.id)).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "not_a_draft");
    let (s, e) = bank.post(&format!("/api/v1/products/{id}/publish"), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "not_a_draft");

    // The supplier, a member of the chain, sees it in the catalogue with the chain's name; another bank
    // sees it too, but not the name of a chain it is not on.
    let (_, list) = supplier.get("/api/v1/products").await;
    assert_eq!(list["total"], 1, "{list}");
    let item = &list["items"][0];
    assert_eq!(
        (item["name"].as_str(), item["bank_name"].as_str()),
        (Some("链融通·应收账款融资"), Some("测试bank104有限公司"))
    );
    assert_eq!(
        (item["eligible_chains"][0]["id"].as_str(), item["chains_hidden"].as_u64()),
        (Some(chain.id.as_str()), Some(0))
    );
    let (s, seen) = other.get(&format!("/api/v1/products/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((seen["eligible_chains"].as_array().map(Vec::len), seen["chains_hidden"].as_u64()), (Some(0), Some(1)));
    assert!(!seen.to_string().contains(&chain.id), "the chain's id is not shown to a non-member");
    // Filters: kind, chain, bank; a chain the caller does not see is not found.
    for (query, total) in [
        ("kind=receivable_financing".to_string(), 1),
        ("kind=order_financing".to_string(), 0),
        (format!("chain_id={}", chain.id), 1),
        (format!("bank_org_id={bank_id}"), 1),
        (format!("bank_org_id={supplier_id}"), 0),
    ] {
        let (s, l) = supplier.get(&format!("/api/v1/products?{query}")).await;
        assert_eq!((s, l["total"].as_i64()), (StatusCode::OK, Some(total)), "{query}: {l}");
    }
    let (s, e) = supplier.get(&format!("/api/v1/products?chain_id={}", other_chain.id)).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, e) = supplier.get("/api/v1/products?kind=loan").await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");

    // Every bound is refused by its field.
    let refusals: Vec<(&str, Value, &str, &str)> = vec![
        ("name", json!(""), "name", "name_empty"),
        ("name", json!("Chain Finance"), "name", "name_not_chinese"),
        ("name", json!("链".repeat(61)), "name", "name_too_long"),
        ("description", json!("说".repeat(2001)), "description", "description_too_long"),
        ("kind", json!("loan"), "kind", "unknown_value"),
        ("evidence", json!("rumour"), "evidence", "unknown_value"),
        ("eligible_tiers", json!([0]), "eligible_tiers", "tier_out_of_range"),
        ("eligible_tiers", json!([6]), "eligible_tiers", "tier_out_of_range"),
        ("eligible_tiers", json!([300]), "eligible_tiers", "tier_out_of_range"),
        ("amount_min_fen", json!(0), "amount_min_fen", "amount_out_of_bounds"),
        ("amount_max_fen", json!(1_000_000_000_001i64), "amount_max_fen", "amount_out_of_bounds"),
        ("amount_max_fen", json!(99_999), "amount_max_fen", "amount_range_inverted"),
        ("term_min_days", json!(0), "term_min_days", "term_out_of_bounds"),
        ("term_max_days", json!(1_096), "term_max_days", "term_out_of_bounds"),
        ("term_max_days", json!(29), "term_max_days", "term_range_inverted"),
        ("rate_min_bp", json!(0), "rate_min_bp", "rate_out_of_bounds"),
        ("rate_max_bp", json!(2_401), "rate_max_bp", "rate_out_of_bounds"),
        ("rate_max_bp", json!(349), "rate_max_bp", "rate_range_inverted"),
        ("advance_ratio_bp", json!(0), "advance_ratio_bp", "advance_ratio_out_of_bounds"),
        ("advance_ratio_bp", json!(10_001), "advance_ratio_bp", "advance_ratio_out_of_bounds"),
        ("fee_bp", json!(501), "fee_bp", "fee_out_of_bounds"),
        ("fee_bp", json!(-1), "fee_bp", "fee_out_of_bounds"),
        ("fee_fixed_fen", json!(10_000_001), "fee_fixed_fen", "fee_out_of_bounds"),
        (
            "eligible_chain_ids",
            json!((0..21).map(|i| format!("c{i}")).collect::<Vec<_>>()),
            "eligible_chain_ids",
            "too_many_chains",
        ),
    ];
    for (key, value, field, code) in refusals {
        let (s, e) = bank.post("/api/v1/products", with(body(&chain.id), key, value)).await;
        assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(e["field"], field, "{key}: {e}");
    }
    let data_only_confirmed =
        with(with(body(&chain.id), "kind", json!("data_only_credit")), "evidence", json!("confirmed"));
    let (s, e) = bank.post("/api/v1/products", data_only_confirmed).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "evidence_kind_mismatch");
    assert_eq!(e["field"], "evidence");

    // A chain variant: one chain, tier 1 only, confirmed receivables, a narrower amount, its own price.
    let variant = json!({
        "name": "链融通·新能源专享", "kind": "receivable_financing", "eligible_chain_ids": [chain.id],
        "eligible_tiers": [1], "evidence": "confirmed", "amount_min_fen": 1_000_000, "amount_max_fen": 100_000_000,
        "term_min_days": 30, "term_max_days": 180, "rate_min_bp": 290, "rate_max_bp": 380,
        "advance_ratio_bp": 9_000, "parent_product_id": id
    });
    let wider = with(variant.clone(), "amount_max_fen", json!(600_000_000));
    let (s, e) = bank.post("/api/v1/products", wider).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "variant_wider_than_parent");
    assert_eq!(e["field"], "amount_max_fen");
    let every_chain = with(variant.clone(), "eligible_chain_ids", json!([]));
    let (s, e) = bank.post("/api/v1/products", every_chain).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "variant_needs_one_chain");
    let (s, e) = other.post("/api/v1/products", with(variant.clone(), "eligible_chain_ids", json!([]))).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(e["field"], "parent_product_id", "another bank's product is no parent: {e}");
    let (s, v) = bank.post("/api/v1/products", variant.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["parent_product_id"], id.as_str());
    let variant_id = v["id"].as_str().unwrap().to_string();
    let (s, e) = bank.post("/api/v1/products", with(variant.clone(), "parent_product_id", json!(variant_id))).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "parent_is_a_variant");
    let (s, v) = bank.post(&format!("/api/v1/products/{variant_id}/publish"), json!({})).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("published")), "{v}");
    let (_, list) = supplier.get("/api/v1/products").await;
    assert_eq!(list["total"], 2);

    // A draft variant of a draft parent waits for the parent.
    let (_, p2) = bank.post("/api/v1/products", with(body(&chain.id), "name", json!("链融通·订单贷"))).await;
    let p2_id = p2["id"].as_str().unwrap().to_string();
    let (s, v2) = bank.post("/api/v1/products", with(variant.clone(), "parent_product_id", json!(p2_id))).await;
    assert_eq!(s, StatusCode::CREATED, "{v2}");
    let (s, e) = bank.post(&format!("/api/v1/products/{}/publish", v2["id"].as_str().unwrap()), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "parent_not_published");

    // Withdrawing the parent withdraws its variant; the catalogue is empty again.
    let (s, w) = bank.post(&format!("/api/v1/products/{id}/withdraw"), json!({})).await;
    assert_eq!((s, w["state"].as_str()), (StatusCode::OK, Some("withdrawn")), "{w}");
    let (_, v) = supplier.get(&format!("/api/v1/products/{variant_id}")).await;
    assert_eq!(v["state"], "withdrawn");
    let (_, list) = supplier.get("/api/v1/products").await;
    assert_eq!(list["total"], 0);
    let (s, e) = bank.post(&format!("/api/v1/products/{id}/withdraw"), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_withdrawn");
    let (_, gone) = supplier.get("/api/v1/products?state=withdrawn").await;
    assert_eq!(gone["total"], 2, "once published, a withdrawn product stays readable");

    // A parent narrowed after its variant was drafted: the variant is refused when it is published.
    let narrowed = with(with(body(&chain.id), "name", json!("链融通·订单贷")), "amount_max_fen", json!(50_000_000));
    let (s, _) = bank.put(&format!("/api/v1/products/{p2_id}"), narrowed).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = bank.post(&format!("/api/v1/products/{p2_id}/publish"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = bank.post(&format!("/api/v1/products/{}/publish", v2["id"].as_str().unwrap()), json!({})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "variant_wider_than_parent");
    assert_eq!(e["field"], "amount_max_fen");

    // Every change is audited, and so are the refused attempts.
    let changes: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_event WHERE object_type = 'product' AND outcome = 'ok' ORDER BY at_ms, id",
    )
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap();
    for action in ["product.create", "product.update", "product.publish", "product.withdraw"] {
        assert!(changes.iter().any(|a| a == action), "{action} audited: {changes:?}");
    }
    let withdrawals = changes.iter().filter(|a| *a == "product.withdraw").count();
    assert_eq!(withdrawals, 2, "the parent and its variant");
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_event WHERE object_type = 'product' AND outcome = 'refused' AND object_id = $1",
    )
    .bind(&id)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert!(refused >= 3, "another bank's attempts are audited: {refused}");

    // The console: the bank drafts from the catalogue page in yuan and percent, exactly.
    let form = |rate: &str| {
        vec![
            ("csrf_token".to_string(), bank.csrf.clone().unwrap()),
            ("name".to_string(), "链融通·数据信用贷".to_string()),
            ("kind".to_string(), "data_only_credit".to_string()),
            ("evidence".to_string(), "data_verified".to_string()),
            ("eligible_chain_ids".to_string(), chain.id.clone()),
            ("eligible_tiers".to_string(), "2".to_string()),
            ("eligible_tiers".to_string(), "3".to_string()),
            ("amount_min_yuan".to_string(), "10,000".to_string()),
            ("amount_max_yuan".to_string(), "3,000,000.50".to_string()),
            ("term_min_days".to_string(), "30".to_string()),
            ("term_max_days".to_string(), "180".to_string()),
            ("rate_min_pct".to_string(), rate.to_string()),
            ("rate_max_pct".to_string(), "7.5%".to_string()),
            ("advance_ratio_pct".to_string(), "70".to_string()),
            ("fee_pct".to_string(), "".to_string()),
            ("fee_fixed_yuan".to_string(), "".to_string()),
        ]
    };
    let r = bank.http.post(format!("{}/products", bank.base)).form(&form("4.355")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "more than two decimals is refused");
    let r = bank.http.post(format!("{}/products", bank.base)).form(&form("4.35")).send().await.unwrap();
    let landed = r.url().path().to_string();
    let page = r.text().await.unwrap();
    assert!(landed.starts_with("/products/") && page.contains("id=\"publish\""), "{landed}: {page}");
    assert!(page.contains("4.35% – 7.50%") && page.contains("¥10,000.00 – ¥3,000,000.50"), "{page}");
    let new_id = landed.trim_start_matches("/products/").to_string();
    let (_, stored) = bank.get(&format!("/api/v1/products/{new_id}")).await;
    assert_eq!(
        (stored["rate_min_bp"].as_i64(), stored["rate_max_bp"].as_i64(), stored["advance_ratio_bp"].as_i64()),
        (Some(435), Some(750), Some(7_000))
    );
    assert_eq!(
        (stored["amount_max_fen"].as_i64(), stored["eligible_tiers"].clone()),
        (Some(300_000_050), json!([2, 3]))
    );
    let publish = vec![("csrf_token".to_string(), bank.csrf.clone().unwrap())];
    let r = bank.http.post(format!("{}/products/{new_id}/publish", bank.base)).form(&publish).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("badge-published"));
    // The supplier reads the catalogue without being a bank: no form, no drafts.
    let page = supplier.send(reqwest::Method::GET, "/products", None).await.text().await.unwrap();
    assert!(page.contains("链融通·数据信用贷") && page.contains("4.35% – 7.50%") && page.contains("70.00%"), "{page}");
    assert!(page.contains("新能源汽车产业链") && !page.contains("product-form"), "{page}");
    assert!(page.contains("href=\"/products\""), "the catalogue is in the navigation");
    let page = bank.send(reqwest::Method::GET, "/products", None).await.text().await.unwrap();
    assert!(page.contains("product-form") && page.contains("draft-table") && page.contains("链融通·订单贷"), "{page}");
}
