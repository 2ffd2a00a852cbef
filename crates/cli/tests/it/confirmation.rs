//! Debtor confirmation (确权) end to end over the API and the console: a supplier asks its core to
//! confirm receivables; the core confirms with an SM2 signature that verifies independently and becomes
//! a log leaf, or rejects with a reason; every wrong move is refused by name; an organisation holding
//! its own key signs the statement itself. Receivables show the core's path and the data-only path apart.

use lianrong_app::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};

use crate::common::{Api, PASSWORD, TestApp, assert_problem, code, einvoice, spawn_app, ymd};

struct World {
    core: Api,
    supplier: Api,
    stranger: Api,
    core_id: String,
}

async fn world(t: &TestApp) -> World {
    let system = Actor::system("system");
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let s1 = t.org_with_admin(101, "supplier", "s1.admin").await;
    t.org_with_admin(102, "supplier", "s2.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "测试产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &s1, "supplier", Some(1)).await.unwrap();
    World {
        core: t.login("c.admin", PASSWORD).await,
        supplier: t.login("s1.admin", PASSWORD).await,
        stranger: t.login("s2.admin", PASSWORD).await,
        core_id,
    }
}

/// The supplier shares four invoices to the core, delivered and accepted, due in a year (so not yet
/// overdue); the core shares a fifth itself (sharing data is not confirming it).
async fn trade(w: &World) -> Vec<String> {
    let (c100, c101) = (code(100), code(101));
    let mut records = vec![];
    for i in 1..=4 {
        records.push(json!({"record_type": "order", "order_no": format!("PO-{i}"), "order_date": ymd(-97), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "term_days": "365"}));
        records.push(json!({"record_type": "delivery", "delivery_no": format!("DN-{i}"), "delivery_date": ymd(-93), "order_refs": format!("PO-{i}"), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "acceptance_status": "accepted", "accepted_date": ymd(-92)}));
        records.push(json!({"record_type": "invoice", "invoice_no": einvoice(-88, 1000 + i), "issue_date": ymd(-88), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": format!("{i}000.00"), "order_refs": format!("PO-{i}"), "delivery_refs": format!("DN-{i}")}));
    }
    let (status, r) = w.supplier.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(12)), "{r}");
    let (status, r) = w
        .core
        .post(
            "/api/v1/submissions",
            json!({"records": [
                {"record_type": "invoice", "invoice_no": einvoice(-86, 1005), "issue_date": ymd(-86), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "5000.00", "term_days": "30"},
            ]}),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    let mut ids = vec![];
    for i in 1..=5 {
        let no = einvoice(if i == 5 { -86 } else { -88 }, 1000 + i);
        let (_, list) = w.supplier.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
        ids.push(list["items"][0]["id"].as_str().unwrap().to_string());
    }
    ids
}

fn receivable<'a>(list: &'a Value, invoice_id: &str) -> &'a Value {
    list["items"].as_array().unwrap().iter().find(|r| r["invoice_id"] == invoice_id).expect("receivable listed")
}

/// Checks a decision's signature with nothing but the sm2 crate: the statement's bytes, the signature
/// and the public key it names.
fn signature_verifies(c: &Value) -> bool {
    let key = hex::decode(c["public_key"].as_str().unwrap()).unwrap();
    let key = VerifyingKey::from_sec1_bytes("1234567812345678", &key).unwrap();
    let signature = Signature::from_slice(&hex::decode(c["signature"].as_str().unwrap()).unwrap()).unwrap();
    key.verify(c["statement"].as_str().unwrap().as_bytes(), &signature).is_ok()
}

#[tokio::test]
async fn a_supplier_asks_its_core_to_confirm_and_the_core_signs_or_rejects() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let ids = trade(&w).await;

    // Before anything is asked: both paths are shown apart. The verified, current receivables are
    // eligible for data-only financing; none is confirmed, not even the one the core shared itself.
    let (status, owed) = w.supplier.get("/api/v1/receivables?side=creditor").await;
    assert_eq!(status, StatusCode::OK, "{owed}");
    let first = receivable(&owed, &ids[0]);
    assert_eq!(
        (first["verification_status"].as_str(), first["confirmation_status"].as_str()),
        (Some("verified"), None)
    );
    assert_eq!(first["data_only_eligible"], true, "{first}");
    let shared = receivable(&owed, &ids[4]);
    assert_eq!(shared["confirmation_status"], Value::Null, "sharing trade data is not confirmation: {shared}");
    assert_eq!(shared["data_only_eligible"], false, "no order or delivery proves it: {shared}");
    assert!(shared["data_only_ineligibility"].as_array().unwrap().contains(&json!("not_verified")), "{shared}");

    // The core uploads that payable, which confirms it unasked; the supplier cannot do that for it.
    let (s, e) = w.supplier.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": ids[4]}]})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_payable");
    let (s, up) = w.core.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": ids[4]}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    assert_eq!(
        (up["items"][0]["status"].as_str(), up["items"][0]["kind"].as_str()),
        (Some("confirmed"), Some("debtor_upload"))
    );
    assert!(signature_verifies(&up["items"][0]), "{up}");
    let (s, e) = w.core.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": ids[4]}]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_confirmed");
    let (_, owed) = w.supplier.get("/api/v1/receivables?side=creditor").await;
    let shared = receivable(&owed, &ids[4]);
    assert_eq!(
        (shared["confirmation_status"].as_str(), shared["confirmation_source"].as_str()),
        (Some("confirmed"), Some("debtor_upload"))
    );

    // The supplier asks for a batch of two.
    let (status, asked) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[0], ids[1]]})).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let asked = asked["items"].as_array().unwrap().clone();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0]["batch_id"], asked[1]["batch_id"]);
    assert_eq!((asked[0]["status"].as_str(), asked[0]["amount_fen"].as_i64()), (Some("requested"), Some(100_000)));
    let (a, b) = (asked[0]["id"].as_str().unwrap().to_string(), asked[1]["id"].as_str().unwrap().to_string());

    // Wrong moves, each refused by name and nothing changed.
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2], ids[0]]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_requested");
    assert_eq!(e["field"], "invoice_ids[1]", "{e}");
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[4]]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_confirmed");
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2], ids[2]]})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "duplicate");
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": []})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "empty");
    let (s, e) = w.stranger.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2]]})).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, e) = w.core.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2]]})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_receivable");
    let (s, e) = w.core.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": ids[0]}]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_requested");
    let (_, sent) = w.supplier.get("/api/v1/confirmations?role=sent").await;
    assert_eq!(sent["total"], 3, "two asked, one uploaded by the core; the refused batch left nothing: {sent}");

    // The core sees what it is asked; the supplier cannot decide its own request, nor a stranger.
    let (_, inbox) = w.core.get("/api/v1/confirmations?role=received&status=requested").await;
    assert_eq!(inbox["total"], 2, "{inbox}");
    let (s, e) = w.supplier.post(&format!("/api/v1/confirmations/{a}/decision"), json!({"decision": "confirm"})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_the_debtor");
    let (s, e) = w.stranger.post(&format!("/api/v1/confirmations/{a}/decision"), json!({"decision": "confirm"})).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, e) = w.core.post(&format!("/api/v1/confirmations/{b}/decision"), json!({"decision": "reject"})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "reason_required");
    let (s, e) = w.core.post(&format!("/api/v1/confirmations/{b}/decision"), json!({"decision": "perhaps"})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "decision_unknown");

    // The core confirms: signed with its platform-held key, verifiable by anyone, a leaf of the log.
    let (s, c) = w.core.post(&format!("/api/v1/confirmations/{a}/decision"), json!({"decision": "confirm"})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "confirmed");
    assert!(signature_verifies(&c), "{c}");
    let statement: Value = serde_json::from_str(c["statement"].as_str().unwrap()).unwrap();
    assert_eq!(
        (statement["invoice_no"].as_str(), statement["amount_fen"].as_i64(), statement["debtor_uscc"].as_str()),
        (Some(einvoice(-88, 1001).as_str()), Some(100_000), Some(code(100).as_str()))
    );
    assert!(c["wait_ms"].as_i64().unwrap() >= 0);
    let (_, key) = w.core.get("/api/v1/signing-key").await;
    assert_eq!((key["held_by"].as_str(), key["public_key"].as_str()), (Some("platform"), c["public_key"].as_str()));
    // The platform holds the core's private key sealed (SM4-GCM), never in the clear.
    let sealed: Option<String> = sqlx::query_scalar("SELECT private_key_sealed FROM org_key WHERE org_id = $1")
        .bind(&w.core_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert!(sealed.as_deref().is_some_and(|s| s.starts_with("v1:")), "{sealed:?}");
    let leaf = c["log_leaf_id"].clone();
    let (s, entry) = w.supplier.log_leaf(&leaf).await;
    assert_eq!(s, StatusCode::OK, "the creditor reads the confirmation's leaf: {entry}");
    assert!(entry.to_string().contains("confirmation"), "{entry}");
    let (s, _) = w.stranger.log_leaf(&leaf).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Twice is refused.
    let (s, e) = w.core.post(&format!("/api/v1/confirmations/{a}/decision"), json!({"decision": "confirm"})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_decided");
    // A rejection carries its reason (a batch of one here).
    let (s, r) = w
        .core
        .post(
            "/api/v1/confirmations/decisions",
            json!({"decisions": [{"confirmation_id": b, "decision": "reject", "reason": "货物尚有质量争议"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["items"][0]["status"].as_str(), r["items"][0]["reason"].as_str()),
        (Some("rejected"), Some("货物尚有质量争议"))
    );

    // The receivables now show each path.
    let (_, owed) = w.supplier.get("/api/v1/receivables?side=creditor").await;
    let first = receivable(&owed, &ids[0]);
    assert_eq!(
        (first["confirmation_status"].as_str(), first["confirmation_source"].as_str()),
        (Some("confirmed"), Some("signed"))
    );
    assert_eq!(first["data_only_eligible"], true, "confirmation and data-only are separate marks: {first}");
    assert_eq!(receivable(&owed, &ids[1])["confirmation_status"], "rejected");

    // Time to confirm: two decided on request, none pending (the unasked upload has no wait to count).
    let (s, ttc) = w.core.get("/api/v1/confirmations/time-to-confirm").await;
    assert_eq!(s, StatusCode::OK, "{ttc}");
    assert_eq!((ttc["decided"].as_u64(), ttc["pending"].as_i64()), (Some(2), Some(0)), "{ttc}");

    // A withdrawn request cannot then be decided.
    let (_, asked) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2]]})).await;
    let c3 = asked["items"][0]["id"].as_str().unwrap().to_string();
    let (s, e) = w.core.post(&format!("/api/v1/confirmations/{c3}/withdraw"), json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, r) = w.supplier.post(&format!("/api/v1/confirmations/{c3}/withdraw"), json!({})).await;
    assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{r}");
    let (s, e) = w.core.post(&format!("/api/v1/confirmations/{c3}/decision"), json!({"decision": "confirm"})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_decided");

    // Refusals are in the audit trail of the organisation that tried.
    let (_, audit) = w.core.get("/api/v1/audit-events?page_size=100").await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "confirmation.decide" && e["outcome"] == "refused"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_core_holding_its_own_key_signs_the_statement_itself() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let ids = trade(&w).await;
    // The core supplies its public key; its private key never reaches the platform.
    let secret = SigningKey::from_slice("1234567812345678", &[7u8; 32]).unwrap();
    let public_hex = hex::encode(secret.verifying_key().to_sec1_bytes());
    let r = w.core.send(reqwest::Method::PUT, "/api/v1/signing-key", Some(json!({"public_key": public_hex}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let key: Value = r.json().await.unwrap();
    assert_eq!(key["held_by"], "organisation");
    let r = w.core.send(reqwest::Method::PUT, "/api/v1/signing-key", Some(json!({"public_key": "04abcd"}))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = w.supplier.send(reqwest::Method::PUT, "/api/v1/signing-key", Some(json!({"public_key": public_hex}))).await;
    assert_eq!(r.status(), StatusCode::OK, "each organisation sets its own key only");

    let (_, asked) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[3]]})).await;
    let id = asked["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/confirmations/{id}/decision");
    let (s, e) = w.core.post(&path, json!({"decision": "confirm"})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "signature_required");
    // A signature over other bytes, or by another key, does not verify.
    let wrong: Signature = secret.sign(b"something else");
    let (s, e) = w.core.post(&path, json!({"decision": "confirm", "signature": hex::encode(wrong.to_bytes())})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    let (s, st) = w.core.get(&format!("/api/v1/confirmations/{id}/statement?decision=confirm")).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let (s, _) = w.stranger.get(&format!("/api/v1/confirmations/{id}/statement?decision=confirm")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let signature: Signature = secret.sign(st["statement"].as_str().unwrap().as_bytes());
    let (s, c) =
        w.core.post(&path, json!({"decision": "confirm", "signature": hex::encode(signature.to_bytes())})).await;
    assert_eq!((s, c["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{c}");
    assert!(signature_verifies(&c));
    assert_eq!(c["public_key"].as_str(), Some(public_hex.as_str()));
}

#[tokio::test]
async fn the_console_asks_and_confirms_a_batch() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let ids = trade(&w).await;
    let form = |api: &Api, path: &str, fields: Vec<(&str, String)>| {
        let mut all = vec![("csrf_token".to_string(), api.csrf.clone().unwrap())];
        all.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
        api.http.post(format!("{}{path}", api.base)).form(&all).send()
    };
    // The supplier's receivables page shows both paths and offers the request.
    let page = w.supplier.send(reqwest::Method::GET, "/receivables?side=creditor", None).await.text().await.unwrap();
    assert!(page.contains("receivable-table") && page.contains("可数据融资"), "{page}");
    assert!(page.contains("未申请"), "nothing is confirmed yet: {page}");
    let r = form(
        &w.supplier,
        "/receivables/confirmation-requests",
        vec![("invoice_id", ids[0].clone()), ("invoice_id", ids[1].clone())],
    )
    .await
    .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("data-status=\"requested\""), "{page}");
    // The core signs both in one step.
    let (_, inbox) = w.core.get("/api/v1/confirmations?role=received&status=requested").await;
    let pending: Vec<String> =
        inbox["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(pending.len(), 2);
    let page = w.core.send(reqwest::Method::GET, "/confirmations?role=received", None).await.text().await.unwrap();
    assert!(page.contains("confirm-selected"), "{page}");
    let mut fields: Vec<(&str, String)> = pending.iter().map(|id| ("confirmation_id", id.clone())).collect();
    fields.push(("action", "confirm".into()));
    let page = form(&w.core, "/confirmations", fields).await.unwrap().text().await.unwrap();
    assert_eq!(page.matches("data-status=\"confirmed\"").count(), 2, "{page}");
    // The invoice's own page shows both paths apart.
    let page =
        w.supplier.send(reqwest::Method::GET, &format!("/trade-records/{}", ids[0]), None).await.text().await.unwrap();
    assert!(page.contains("id=\"credit-confirmation\" data-status=\"confirmed\""), "{page}");
    assert!(page.contains("id=\"credit-data-only\" data-eligible=\"true\""), "{page}");
    // A rejection without a reason is refused on the page, and nothing is decided.
    let (_, asked) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[2]]})).await;
    let id = asked["items"][0]["id"].as_str().unwrap().to_string();
    let r = form(&w.core, "/confirmations", vec![("confirmation_id", id.clone()), ("action", "reject".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("拒绝确权须填写理由"));
    let (_, c) = w.core.get(&format!("/api/v1/confirmations/{id}")).await;
    assert_eq!(c["status"], "requested");
    // The core confirms a payable of its own from its side of the receivables page.
    let page = w.core.send(reqwest::Method::GET, "/receivables?side=debtor", None).await.text().await.unwrap();
    assert!(page.contains("confirm-payables"), "{page}");
    let page = form(&w.core, "/receivables/payables-confirmations", vec![("invoice_id", ids[4].clone())])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("债务人上传应付即确权"), "{page}");
}

#[tokio::test]
async fn a_supplier_asks_its_core_to_vouch_for_an_order_and_the_core_signs() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let ids = trade(&w).await;
    let order = |no: &'static str| {
        let api = w.supplier.clone();
        async move {
            let (_, list) = api.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
            list["items"][0]["id"].as_str().unwrap().to_string()
        }
    };
    let (po1, po2) = (order("PO-1").await, order("PO-2").await);
    // Refusals, each by name.
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"invoice_ids": [ids[0]], "order_ids": [po1]})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "one_kind_per_request");
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"order_ids": [ids[0]]})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_an_order");
    let (s, e) = w.core.post("/api/v1/confirmations", json!({"order_ids": [po1]})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_order");
    let (s, e) = w.stranger.post("/api/v1/confirmations", json!({"order_ids": [po1]})).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    // Asked over the API, signed by the core: the statement names an order and its number.
    let (s, asked) = w.supplier.post("/api/v1/confirmations", json!({"order_ids": [po1]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    assert_eq!(
        (asked["items"][0]["subject"].as_str(), asked["items"][0]["amount_fen"].as_i64()),
        (Some("order"), Some(100_000))
    );
    let id = asked["items"][0]["id"].as_str().unwrap().to_string();
    let (s, e) = w.supplier.post("/api/v1/confirmations", json!({"order_ids": [po1]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_requested");
    let (s, c) = w.core.post(&format!("/api/v1/confirmations/{id}/decision"), json!({"decision": "confirm"})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert!(signature_verifies(&c), "{c}");
    let statement: Value = serde_json::from_str(c["statement"].as_str().unwrap()).unwrap();
    assert_eq!((statement["subject"].as_str(), statement["invoice_no"].as_str()), (Some("order"), Some("PO-1")));
    let page =
        w.supplier.send(reqwest::Method::GET, &format!("/trade-records/{po1}"), None).await.text().await.unwrap();
    assert!(page.contains("id=\"vouching-status\" data-status=\"confirmed\""), "{page}");
    // From the order's page in the console: the seller asks, the request lands in the core's inbox.
    let page =
        w.supplier.send(reqwest::Method::GET, &format!("/trade-records/{po2}"), None).await.text().await.unwrap();
    assert!(page.contains("ask-vouching"), "{page}");
    let form =
        vec![("csrf_token".to_string(), w.supplier.csrf.clone().unwrap()), ("order_id".to_string(), po2.clone())];
    let r = w
        .supplier
        .http
        .post(format!("{}/confirmations/order-requests", w.supplier.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, inbox) = w.core.get("/api/v1/confirmations?role=received&status=requested").await;
    assert!(
        inbox["items"].as_array().unwrap().iter().any(|c| c["invoice_id"] == po2.as_str() && c["subject"] == "order"),
        "{inbox}"
    );
    let page = w.core.send(reqwest::Method::GET, &format!("/trade-records/{po2}"), None).await.text().await.unwrap();
    assert!(!page.contains("ask-vouching"), "only the seller is offered the request");
}
