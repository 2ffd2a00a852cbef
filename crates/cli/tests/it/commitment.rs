//! Digital payment commitments end to end over the API: a core issues one against confirmed payables
//! on its line; tier 1 splits it to the fen and passes a part to tier 2 against verified trade, tier 2
//! to tier 3, tier 3 discounts at a bank that posts it; at maturity the core's payment settles every
//! holder exactly and frees the line. Every wrong move is refused by name and changes nothing; a retried
//! transfer id is answered, not repeated; 200 concurrent attempts to spend one part let exactly one
//! through — on SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, assert_problem, code, einvoice, spawn_app, ymd};

pub struct World {
    pub core: Api,
    pub t1: Api,
    pub t2: Api,
    pub t3: Api,
    pub bank: Api,
    pub other_bank: Api,
    pub stranger: Api,
    pub core_id: String,
    pub t1_id: String,
    pub t2_id: String,
    pub t3_id: String,
    pub bank_id: String,
    pub stranger_id: String,
    pub line_id: String,
    /// The core's confirmed payables to tier 1 (¥1,000 + ¥2,000 + ¥3,000 + ¥4,000) and one unconfirmed.
    pub payables: Vec<String>,
    pub unconfirmed: String,
    /// Verified invoices tier 2 issued to tier 1, and tier 3 to tier 2.
    pub t2_invoice: String,
    pub t3_invoice: String,
}

/// Days from the business date back to the issue of the world's invoices (ordered 9 days earlier,
/// delivered 5, accepted 4); on a year's term they fall due about nine months ahead.
const ISSUED_DAYS: i64 = -88;

/// The e-invoice number of the world's invoice `serial` (its year is the issue date's).
pub fn invoice_no(serial: u64) -> String {
    einvoice(ISSUED_DAYS, serial)
}

/// `seller` shares one fully evidenced invoice to `buyer` (order, accepted delivery, invoice), due in a
/// year; answers its record id.
pub async fn verified_invoice(seller: &Api, buyer_n: u32, seller_n: u32, serial: u64, yuan: &str) -> String {
    let (b, s) = (code(buyer_n), code(seller_n));
    let no = invoice_no(serial);
    let records = json!([
        {"record_type": "order", "order_no": format!("PO-{no}"), "order_date": ymd(ISSUED_DAYS - 9), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "term_days": "365"},
        {"record_type": "delivery", "delivery_no": format!("DN-{no}"), "delivery_date": ymd(ISSUED_DAYS - 5), "order_refs": format!("PO-{no}"), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "acceptance_status": "accepted", "accepted_date": ymd(ISSUED_DAYS - 4)},
        {"record_type": "invoice", "invoice_no": no, "issue_date": ymd(ISSUED_DAYS), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "order_refs": format!("PO-{no}"), "delivery_refs": format!("DN-{no}")},
    ]);
    let (status, r) = seller.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(3)), "{r}");
    let (_, list) = seller.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
    list["items"][0]["id"].as_str().unwrap().to_string()
}

pub async fn world(t: &TestApp) -> World {
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let t1_id = t.org_with_admin(101, "supplier", "t1.admin").await;
    let t2_id = t.org_with_admin(102, "supplier", "t2.admin").await;
    let t3_id = t.org_with_admin(103, "supplier", "t3.admin").await;
    let bank_id = t.org_with_admin(104, "bank", "b.admin").await;
    t.org_with_admin(105, "bank", "b2.admin").await;
    let stranger_id = t.org_with_admin(106, "supplier", "x.admin").await;
    let (core, t1, t2, t3) = (
        t.login("c.admin", PASSWORD).await,
        t.login("t1.admin", PASSWORD).await,
        t.login("t2.admin", PASSWORD).await,
        t.login("t3.admin", PASSWORD).await,
    );
    let (bank, other_bank, stranger) =
        (t.login("b.admin", PASSWORD).await, t.login("b2.admin", PASSWORD).await, t.login("x.admin", PASSWORD).await);
    let mut payables = Vec::new();
    for i in 1..=4 {
        payables.push(verified_invoice(&t1, 100, 101, 1000 + i, &format!("{i}000.00")).await);
    }
    let unconfirmed = verified_invoice(&t1, 100, 101, 1009, "500.00").await;
    let body = json!({"payables": payables.iter().map(|id| json!({"invoice_id": id})).collect::<Vec<_>>()});
    let (s, up) = core.post("/api/v1/confirmations/payables", body).await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let t2_invoice = verified_invoice(&t2, 101, 102, 2001, "5000.00").await;
    let t3_invoice = verified_invoice(&t3, 102, 103, 3001, "2000.00").await;
    let (s, line) = bank
        .post(
            "/api/v1/credit-lines",
            json!({"borrower_org_id": core_id, "kind": "core_supply_chain", "limit_fen": 5_000_000, "valid_from": ymd(-30), "valid_until": ymd(730)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{line}");
    World {
        core,
        t1,
        t2,
        t3,
        bank,
        other_bank,
        stranger,
        core_id,
        t1_id,
        t2_id,
        t3_id,
        bank_id,
        stranger_id,
        line_id: line["id"].as_str().unwrap().to_string(),
        payables,
        unconfirmed,
        t2_invoice,
        t3_invoice,
    }
}

fn in_days(t: &TestApp, days: i64) -> String {
    t.app.today().checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

pub async fn issue(t: &TestApp, w: &World) -> Value {
    let (s, c) = w
        .core
        .post(
            "/api/v1/commitments",
            json!({"holder_org_id": w.t1_id, "invoice_ids": w.payables, "face_fen": 1_000_000, "maturity_date": in_days(t, 120), "credit_line_id": w.line_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

fn op(transfer_id: &str, kind: &str, part_id: &str) -> Value {
    json!({"transfer_id": transfer_id, "kind": kind, "part_id": part_id})
}

fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(x.clone());
    }
    v
}

#[tokio::test]
async fn a_commitment_passes_down_the_chain_is_discounted_and_settles_every_holder_to_the_fen() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let issue_body = |invoices: Vec<String>, face: i64, maturity: String, line: &str| json!({"holder_org_id": w.t1_id, "invoice_ids": invoices, "face_fen": face, "maturity_date": maturity, "credit_line_id": line});

    // Refusals at issue, each by name.
    let (s, e) =
        w.t1.post("/api/v1/commitments", issue_body(w.payables.clone(), 100, in_days(&t, 90), &w.line_id)).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, e) = w
        .core
        .post("/api/v1/commitments", issue_body(vec![w.unconfirmed.clone()], 100, in_days(&t, 90), &w.line_id))
        .await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_confirmed");
    let (s, e) = w
        .core
        .post("/api/v1/commitments", issue_body(w.payables.clone(), 1_000_001, in_days(&t, 90), &w.line_id))
        .await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "face_out_of_bounds");
    let (s, e) =
        w.core.post("/api/v1/commitments", issue_body(w.payables.clone(), 1_000, in_days(&t, 400), &w.line_id)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "maturity_too_far");
    // The payables fall due a year after their delivery, about nine months from now: a large core may not
    // push an SME past that.
    let (s, e) =
        w.core.post("/api/v1/commitments", issue_body(w.payables.clone(), 1_000, in_days(&t, 364), &w.line_id)).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "stretches_sme_term");
    let (s, e) = w
        .core
        .post("/api/v1/commitments", issue_body(w.payables.clone(), 1_000, in_days(&t, 90), "no-such-line"))
        .await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");

    let c = issue(&t, &w).await;
    let id = c["id"].as_str().unwrap().to_string();
    let first = format!("{id}/0");
    assert_eq!(
        (c["face_fen"].as_i64(), c["live_fen"].as_i64(), c["ledger_balanced"].as_bool()),
        (Some(1_000_000), Some(1_000_000), Some(true))
    );
    assert!(c["log_leaf_id"].is_i64(), "the issue is a log leaf: {c}");
    assert_eq!(
        (c["issuer_org_id"].as_str(), c["bank_org_id"].as_str()),
        (Some(w.core_id.as_str()), Some(w.bank_id.as_str()))
    );
    let (_, line) = w.core.get(&format!("/api/v1/credit-lines/{}", w.line_id)).await;
    assert_eq!(line["used_fen"], 1_000_000, "issuing occupies the core's line");
    // The same payables cannot back a second commitment.
    let (s, e) = w
        .core
        .post("/api/v1/commitments", issue_body(w.payables[..1].to_vec(), 1_000, in_days(&t, 90), &w.line_id))
        .await;
    assert_problem(s, &e, StatusCode::CONFLICT, "payable_already_backs");

    // Tier 1 splits to the fen. Bad splits change nothing.
    let path = format!("/api/v1/commitments/{id}/transfers");
    let split = |tid: &str, amounts: Value| with(op(tid, "split", &first), json!({"amounts_fen": amounts}));
    for (amounts, code) in [
        (json!([1_000_000, 0]), "amount_not_positive"),
        (json!([1_000_001, -1]), "amount_not_positive"),
        (json!([500_000, 500_001]), "amounts_do_not_add_up"),
        (json!([1_000_000]), "split_count"),
    ] {
        let (s, e) = w.t1.post(&path, split("x1", amounts)).await;
        assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let (s, e) = w.t2.post(&path, split("x1", json!([1, 999_999]))).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, x1) = w.t1.post(&path, split("x1", json!([600_000, 399_999, 1]))).await;
    assert_eq!(s, StatusCode::CREATED, "{x1}");
    assert_eq!(x1["output_part_ids"], json!(["x1/0", "x1/1", "x1/2"]));
    // A retry is answered with the first result; the same id for another request is refused.
    let (s, again) = w.t1.post(&path, split("x1", json!([600_000, 399_999, 1]))).await;
    assert_eq!((s, &again["log_leaf_id"]), (StatusCode::OK, &x1["log_leaf_id"]), "{again}");
    let (s, e) = w.t1.post(&path, split("x1", json!([500_000, 500_000]))).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "transfer_id_reused");
    let (s, e) = w.t1.post(&path, split("x1b", json!([500_000, 500_000]))).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "part_not_held");

    // Tier 1 passes ¥2,500 to tier 2 against the verified invoice tier 2 issued it; not to a stranger.
    let give = |tid: &str, part: &str, to: &str, amount: i64, invoices: Vec<&str>| {
        with(op(tid, "transfer", part), json!({"to_org_id": to, "amount_fen": amount, "invoice_ids": invoices}))
    };
    let (s, e) = w.t1.post(&path, give("x2", "x1/0", &w.stranger_id, 250_000, vec![&w.t2_invoice])).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "no_verified_trade");
    let (s, e) = w.t1.post(&path, give("x2", "x1/0", &w.t2_id, 250_000, vec![])).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "no_verified_trade");
    let (s, e) = w.t1.post(&path, give("x2", "x1/0", &w.t2_id, 600_001, vec![&w.t2_invoice])).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "amount_exceeds_part");
    let (s, e) = w.t1.post(&path, give("x2", "x1/0", &w.t1_id, 100, vec![&w.t2_invoice])).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "self_transfer");
    let (s, x2) = w.t1.post(&path, give("x2", "x1/0", &w.t2_id, 250_000, vec![&w.t2_invoice])).await;
    assert_eq!(s, StatusCode::CREATED, "{x2}");
    // Tier 2 passes ¥1,000 on to tier 3; the invoice covers ¥2,000 of trade, so ¥1,000 more would fit but
    // not ¥1,000.01 beyond it.
    let (s, x3) = w.t2.post(&path, give("x3", "x2/0", &w.t3_id, 100_000, vec![&w.t3_invoice])).await;
    assert_eq!(s, StatusCode::CREATED, "{x3}");
    let (s, e) = w.t2.post(&path, give("x3b", "x3/1", &w.t3_id, 100_001, vec![&w.t3_invoice])).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "exceeds_verified_trade");

    // Tier 3 discounts its part at the bank: pending until the bank acts. Only that bank acts.
    let (s, e) =
        w.t3.post(&path, with(op("x4", "discount", "x3/0"), json!({"bank_org_id": w.t2_id, "amount_fen": 100_000})))
            .await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_a_bank");
    let (s, x4) =
        w.t3.post(&path, with(op("x4", "discount", "x3/0"), json!({"bank_org_id": w.bank_id, "amount_fen": 100_000})))
            .await;
    assert_eq!((s, x4["state"].as_str()), (StatusCode::CREATED, Some("pending")), "{x4}");
    let (_, queue) = w.bank.get("/api/v1/commitments/pending-discounts").await;
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
    let (s, e) = w.t3.post(&path, give("x5", "x3/0", &w.t2_id, 1, vec![&w.t3_invoice])).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "part_not_held");
    let (s, e) = w.other_bank.post(&format!("{path}/x4/post"), json!({})).await;
    assert_problem(s, &e, StatusCode::NOT_FOUND, "not_found");
    let (s, e) = w.t3.post(&format!("{path}/x4/post"), json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_the_bank");
    let (s, posted) = w.bank.post(&format!("{path}/x4/post"), json!({})).await;
    assert_eq!((s, posted["state"].as_str()), (StatusCode::CREATED, Some("posted")), "{posted}");
    let (s, _) = w.bank.post(&format!("{path}/x4/post"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "posting twice is answered, not repeated");
    let (s, e) = w.bank.post(&format!("{path}/x4/void"), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "not_pending");

    // Every fen traces back to the issue; a holder sees its own branch only.
    let (_, lineage) = w.bank.get(&format!("/api/v1/commitments/{id}/lineage?part_id=x4/0")).await;
    let ids: Vec<&str> = lineage.as_array().unwrap().iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, vec!["x4/0", "x3/0", "x2/0", "x1/0", first.as_str()]);
    let (_, seen) = w.t3.get(&format!("/api/v1/commitments/{id}")).await;
    let parts: Vec<&str> = seen["parts"].as_array().unwrap().iter().filter_map(|p| p["id"].as_str()).collect();
    assert!(!parts.contains(&"x1/2"), "tier 3 does not see tier 1's other parts: {parts:?}");
    let (s, _) = w.stranger.get(&format!("/api/v1/commitments/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, entry) = w.t3.log_leaf(&x3["log_leaf_id"]).await;
    assert_eq!(s, StatusCode::OK, "tier 3 reads the leaf of the transfer it received: {entry}");

    // Before maturity nothing settles; at maturity nothing moves but settlement.
    let settle = format!("/api/v1/commitments/{id}/settle");
    let (s, e) = w.core.post(&settle, json!({"payment_reference": "PAY-1", "amount_fen": 1_000_000})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "not_matured");
    t.app.shift_business_date(120);
    let (s, e) = w.t1.post(&path, split("x6", json!([1, 399_998]))).await;
    assert_eq!(e["code"], "matured", "{s} {e}");
    let (s, e) = w.t1.post(&settle, json!({"payment_reference": "PAY-1", "amount_fen": 1_000_000})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_the_issuer");
    let (s, e) = w.core.post(&settle, json!({"payment_reference": "PAY-1", "amount_fen": 999_999})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "settlement_amount_mismatch");
    let (s, paid) = w.core.post(&settle, json!({"payment_reference": "PAY-1", "amount_fen": 1_000_000})).await;
    assert_eq!(s, StatusCode::CREATED, "{paid}");
    assert_eq!(
        paid["paid_fen_by_holder"],
        json!({w.t1_id.clone(): 750_000, w.t2_id.clone(): 150_000, w.bank_id.clone(): 100_000}),
        "every holder exactly"
    );
    let (s, _) = w.core.post(&settle, json!({"payment_reference": "PAY-1", "amount_fen": 1_000_000})).await;
    assert_eq!(s, StatusCode::OK, "a retried settlement is answered");
    let (_, c) = w.core.get(&format!("/api/v1/commitments/{id}")).await;
    assert_eq!(
        (c["state"].as_str(), c["settled_fen"].as_i64(), c["live_fen"].as_i64(), c["ledger_balanced"].as_bool()),
        (Some("settled"), Some(1_000_000), Some(0), Some(true)),
        "{c}"
    );
    let (_, line) = w.core.get(&format!("/api/v1/credit-lines/{}", w.line_id)).await;
    assert_eq!(line["used_fen"], 0, "settlement frees the core's line");
    let (_, held) = w.t1.get("/api/v1/commitments/holdings").await;
    assert_eq!(held.as_array().map(Vec::len), Some(0), "{held}");
    // Every refusal above was audited.
    let (_, audit) = w.t1.get("/api/v1/audit-events?page_size=200").await;
    let refused = audit["items"].as_array().unwrap().iter().filter(|a| a["outcome"] == "refused").count();
    assert!(refused >= 5, "refusals are audited: {refused}");
}

#[tokio::test]
async fn two_hundred_concurrent_attempts_to_spend_one_part_let_exactly_one_through() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let c = issue(&t, &w).await;
    let id = c["id"].as_str().unwrap().to_string();
    let first = format!("{id}/0");
    let path = format!("/api/v1/commitments/{id}/transfers");
    let attempts = (0..200).map(|i| {
        let (api, path) = (w.t1.clone(), path.clone());
        let body = if i % 2 == 0 {
            with(op(&format!("race-{i}"), "split", &first), json!({"amounts_fen": [500_000, 500_000]}))
        } else {
            with(
                op(&format!("race-{i}"), "transfer", &first),
                json!({"to_org_id": w.t2_id, "amount_fen": 1_000, "invoice_ids": [w.t2_invoice]}),
            )
        };
        tokio::spawn(async move { api.post(&path, body).await })
    });
    let mut won = 0;
    for a in attempts {
        let (s, body) = a.await.unwrap();
        match s {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "part_not_held", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won, 1, "exactly one spends the part");
    let (_, c) = w.t1.get(&format!("/api/v1/commitments/{id}")).await;
    assert_eq!((c["live_fen"].as_i64(), c["ledger_balanced"].as_bool()), (Some(1_000_000), Some(true)), "{c}");
    let spent = c["parts"].as_array().unwrap().iter().filter(|p| p["state"] == "spent").count();
    assert_eq!(spent, 1, "{c}");
}

/// Posts a console form with the caller's CSRF token; answers the status and the page it landed on.
async fn form(api: &Api, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let mut fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
    fields.push(("csrf_token", api.csrf.clone().unwrap()));
    let resp = api.http.post(format!("{}{path}", api.base)).form(&fields).send().await.unwrap();
    let (status, landed) = (resp.status(), resp.url().path().to_string());
    (status, landed, resp.text().await.unwrap())
}

async fn page(api: &Api, path: &str) -> String {
    let resp = api.http.get(format!("{}{path}", api.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn the_console_issues_splits_passes_down_discounts_and_settles() {
    let t = spawn_app().await;
    let w = world(&t).await;
    // The core sees its confirmed payables and its line, and issues from them (amounts in yuan).
    let list = page(&w.core, "/commitments").await;
    assert!(list.contains(&format!("data-invoice-id=\"{}\"", w.payables[0])), "payables offered");
    let maturity = in_days(&t, 90);
    let mut fields =
        vec![("face_yuan", "10,000.00"), ("maturity_date", maturity.as_str()), ("credit_line_id", w.line_id.as_str())];
    for p in &w.payables {
        fields.push(("invoice_id", p.as_str()));
    }
    let (s, landed, body) = form(&w.core, "/commitments", &fields).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let id = landed.trim_start_matches("/commitments/").to_string();
    assert!(body.contains("id=\"face\">¥10,000.00<"), "{body}");
    // Tier 1 splits (one amount per line); a split that does not add up is refused on the page.
    let first = format!("{id}/0");
    let (s, _, body) = form(
        &w.t1,
        &format!("/commitments/{id}"),
        &[("action", "split"), ("transfer_id", "c1"), ("part_id", &first), ("amounts_yuan", "6000\n3999.99")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("amounts_do_not_add_up") || body.contains("不符"), "{body}");
    let (s, _, body) = form(
        &w.t1,
        &format!("/commitments/{id}"),
        &[
            ("action", "split"),
            ("transfer_id", "c1"),
            ("part_id", &first),
            ("amounts_yuan", "6,000.00\n3,999.99\n0.01"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("data-part-id=\"c1/2\""), "the one-fen part exists");
    // Tier 1 passes ¥2,500 to tier 2 by ticking the invoice tier 2 issued it.
    let (s, _, body) = form(
        &w.t1,
        &format!("/commitments/{id}"),
        &[
            ("action", "transfer"),
            ("transfer_id", "c2"),
            ("part_id", "c1/0"),
            ("invoice_id", &w.t2_invoice),
            ("amount_yuan", "2500"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let held = page(&w.t2, "/commitments").await;
    assert!(held.contains("data-part-id=\"c2/0\""), "tier 2 holds its part");
    // Tier 2 applies to discount ¥2,000 of its ¥2,500 part (the product advances 80 %) at the bank, with consent; the part waits in the bank's queue;
    // the bank's officer approves in the data room and pays out.
    let product = crate::application::product(&w.bank, "commitment_discount", "confirmed").await;
    let offer = format!("{}|{product}", w.bank_id);
    let held = page(&w.t2, &format!("/commitments/{id}")).await;
    assert!(held.contains("id=\"apply-discount-form\"") && held.contains(&offer), "the product is offered");
    let consent_until = in_days(&t, 60);
    let (s, landed, body) = form(
        &w.t2,
        "/applications",
        &[
            ("subject", "commitment_part"),
            ("commitment_id", &id),
            ("part_id", "c2/0"),
            ("offer", &offer),
            ("amount_yuan", "2000"),
            ("term_days", "80"),
            ("purpose", "贴现"),
            ("consent_until", &consent_until),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let application = landed.trim_start_matches("/applications/").to_string();
    let queue = page(&w.bank, "/commitments").await;
    assert!(queue.contains(&format!("data-transfer-id=\"app-{application}\"")), "the bank's queue shows the discount");
    let room = page(&w.bank, &format!("/applications/{application}")).await;
    assert!(room.contains("id=\"data-room-table\"") && room.contains("id=\"decision-form\""), "the data room");
    let offer_id: String = sqlx::query_scalar("SELECT id FROM application_offer WHERE application_id = $1")
        .bind(&application)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let (s, _, body) = form(
        &w.bank,
        &format!("/applications/{application}"),
        &[("action", "approve"), ("offer_id", &offer_id), ("rate_percent", "4.00")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, landed, body) =
        form(&w.bank, &format!("/applications/{application}"), &[("action", "disburse"), ("offer_id", &offer_id)])
            .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(landed.starts_with("/loans/") && body.contains("id=\"loan-principal\">¥2,000.00<"), "{landed}");
    // At maturity the core settles from the page; every holder is paid.
    t.app.shift_business_date(90);
    let detail = page(&w.core, &format!("/commitments/{id}")).await;
    assert!(detail.contains("id=\"settle-form\""), "the issuer may settle at maturity");
    let (s, _, body) = form(
        &w.core,
        &format!("/commitments/{id}"),
        &[("action", "settle"), ("payment_reference", "PAY-C"), ("amount_yuan", "10000.00")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"settled\">¥10,000.00<"), "{body}");
}
