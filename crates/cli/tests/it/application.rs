//! Financing applications and loans end to end over the API: a supplier applies at two banks with a
//! verified receivable (consent granted with it), the pre-check refuses what the product does not
//! cover, officers decide with reasons, a second approver signs large decisions (never the first
//! approver), the bank disburses in one step (loan, registration, leaf), repayment through the fixed
//! account pays interest (ACT/360) then principal and releases the registration; overdue loans show
//! their days, in aggregate for the operator. A commitment part is discounted through an application
//! and repaid by the commitment's settlement.

use lianrong_app::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::commitment::{issue, verified_invoice, world};
use crate::common::{Api, PASSWORD, TestApp, assert_problem, spawn_app};

fn in_days(t: &TestApp, days: i64) -> String {
    t.app.today().checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

pub async fn product(bank: &Api, kind: &str, evidence: &str) -> String {
    let (s, p) = bank
        .post(
            "/api/v1/products",
            json!({"name": "链融通·供应链融资", "description": "面向链上供应商", "kind": kind, "eligible_chain_ids": [],
                "eligible_tiers": [], "evidence": evidence, "amount_min_fen": 10_000, "amount_max_fen": 500_000_000,
                "term_min_days": 7, "term_max_days": 360, "rate_min_bp": 350, "rate_max_bp": 600,
                "advance_ratio_bp": 8_000, "fee_bp": 10, "fee_fixed_fen": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    let (s, p) = bank.post(&format!("/api/v1/products/{id}/publish"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    id
}

fn offer_of<'a>(a: &'a Value, bank_id: &str) -> &'a Value {
    a["offers"].as_array().unwrap().iter().find(|o| o["bank_org_id"] == bank_id).expect("the bank's offer")
}

#[tokio::test]
async fn a_supplier_applies_at_two_banks_one_approves_disburses_and_is_repaid_through_the_fixed_account() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let bank2_id: String = sqlx::query_scalar("SELECT org_id FROM app_user WHERE login = 'b2.admin'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let p1 = product(&w.bank, "receivable_financing", "either").await;
    let p2 = product(&w.other_bank, "factoring_with_recourse", "either").await;
    let apply = |amount: i64, offers: Value| {
        json!({"subject": "receivables", "invoice_ids": [w.t2_invoice], "amount_fen": amount,
        "term_days": 90, "purpose": "支付原材料货款", "offers": offers, "consent_until": in_days(&t, 90)})
    };
    let both = json!([{"bank_org_id": w.bank_id, "product_id": p1}, {"bank_org_id": bank2_id, "product_id": p2}]);

    // Refusals by name: a product of another bank, a stranger's receivable, nobody's amount.
    let (s, e) =
        w.t2.post("/api/v1/applications", apply(100_000, json!([{"bank_org_id": w.bank_id, "product_id": p2}]))).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "product_not_of_bank");
    let (s, e) = w.stranger.post("/api/v1/applications", apply(100_000, both.clone())).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::NOT_FOUND, Some("invoice_ids[0]")), "{e}");
    let (s, e) = w.t2.post("/api/v1/applications", apply(0, both.clone())).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "amount_not_positive");
    // Above the advance ratio (80 % of ¥5,000): the pre-check stops both offers before anyone looks.
    let (s, a) = w.t2.post("/api/v1/applications", apply(400_001, both.clone())).await;
    assert_eq!((s, a["state"].as_str()), (StatusCode::CREATED, Some("closed")), "{a}");
    assert!(
        a["offers"].as_array().unwrap().iter().all(|o| o["state"] == "precheck_failed"
            && o["findings"].as_array().unwrap().iter().any(|f| f["code"] == "above_advance_limit")),
        "{a}"
    );

    // The real application, at both banks; each gets consent to read the supplier's data for it.
    let (s, a) = w.t2.post("/api/v1/applications", apply(400_000, both.clone())).await;
    assert_eq!((s, a["state"].as_str()), (StatusCode::CREATED, Some("open")), "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let (s, e) = w.t2.post("/api/v1/applications", apply(100_000, both.clone())).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_applied");
    let (_, seen) = w.bank.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(seen["offers"].as_array().map(Vec::len), Some(1), "a bank sees its own offer only: {seen}");
    let offer = offer_of(&seen, &w.bank_id)["id"].as_str().unwrap().to_string();
    let consent = offer_of(&seen, &w.bank_id)["consent_id"].as_str().unwrap().to_string();
    let (s, data) = w.bank.get(&format!("/api/v1/consents/{consent}/receivables")).await;
    assert_eq!(s, StatusCode::OK, "the bank reads the data room under the consent: {data}");
    let (s, _) = w.stranger.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Decisions: a reason is required to reject; rates stay in the product's range.
    let decide = |offer: &str| format!("/api/v1/applications/{id}/offers/{offer}/decision");
    let (s, e) = w.bank.post(&decide(&offer), json!({"decision": "reject"})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "reason_required");
    let (s, e) = w.bank.post(&decide(&offer), json!({"decision": "approve", "rate_bp": 700})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "rate_out_of_range");
    let (s, e) = w.t2.post(&decide(&offer), json!({"decision": "approve", "rate_bp": 450})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, d) = w
        .bank
        .post(&decide(&offer), json!({"decision": "approve", "rate_bp": 450, "reason": "四流一致，额度充足"}))
        .await;
    assert_eq!((s, offer_of(&d, &w.bank_id)["state"].as_str()), (StatusCode::OK, Some("approved")), "{d}");
    assert_eq!(offer_of(&d, &w.bank_id)["service_working_days"], 0);
    let (_, seen2) = w.other_bank.get(&format!("/api/v1/applications/{id}")).await;
    let offer2 = offer_of(&seen2, &bank2_id)["id"].as_str().unwrap().to_string();
    let (s, _) = w.other_bank.post(&decide(&offer2), json!({"decision": "reject", "reason": "超出我行行业限额"})).await;
    assert_eq!(s, StatusCode::OK);

    // Disbursement: the loan, its registration and its leaf in one step; a retry answers the same loan.
    let (s, loan) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{loan}");
    assert_eq!(
        (loan["principal_fen"].as_i64(), loan["fee_fen"].as_i64(), loan["advance_fen"].as_i64()),
        (Some(400_000), Some(400), Some(399_600)),
        "fee 10 bp of the advance: {loan}"
    );
    assert!(loan["registration_id"].is_string() && loan["log_leaf_id"].is_i64(), "{loan}");
    let loan_id = loan["id"].as_str().unwrap().to_string();
    let (_, again) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(again["id"], loan_id.as_str(), "a retried disbursement answers the first loan");
    let (s, e) = w.t2.post("/api/v1/registrations", json!({"invoice_ids": [w.t2_invoice]})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_registered");

    // Thirty days on the supplier repays into its fixed repayment account: 30 days at 4.5 % on ¥4,000
    // is 400,000 × 450 × 30 / 3,600,000 = 1,500 fen.
    let bound = w
        .t2
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/receivables/{}/collection-account", w.t2_invoice),
            Some(json!({"account_no": "6222020200115555555", "bank_name": "重庆银行", "holder_name": "二级供应商回款专户"})),
        )
        .await;
    assert!(bound.status().is_success(), "the fixed account is bound: {}", bound.status());
    t.app.shift_business_date(30);
    let paid_on = in_days(&t, 0);
    let repay = |account: &str, amount: i64, reference: &str| {
        json!({"amount_fen": amount, "paid_on": paid_on,
        "payment_reference": reference, "account_no": account})
    };
    let path = format!("/api/v1/loans/{loan_id}/repayments");
    let (s, e) = w.bank.post(&path, repay("6222020200119999999", 401_500, "TXN-1")).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_the_fixed_account");
    let (_, before) = w.bank.get(&format!("/api/v1/loans/{loan_id}")).await;
    assert_eq!(before["interest_due_fen"], 1_500, "{before}");
    let (s, repaid) = w.bank.post(&path, repay("6222 0202 0011 5555 555", 401_500, "TXN-1")).await;
    assert_eq!(s, StatusCode::OK, "{repaid}");
    assert_eq!(
        (repaid["state"].as_str(), repaid["repaid_principal_fen"].as_i64(), repaid["repaid_interest_fen"].as_i64()),
        (Some("repaid"), Some(400_000), Some(1_500)),
        "{repaid}"
    );
    let (_, retried) = w.bank.post(&path, repay("6222020200115555555", 401_500, "TXN-1")).await;
    assert_eq!(retried["repayments"].as_array().map(Vec::len), Some(1), "the same payment counts once");
    // Repaid: the registration is released, so the receivable may be registered again.
    let (s, r) = w.t2.post("/api/v1/registrations", json!({"invoice_ids": [w.t2_invoice]})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, st) = w.bank.get("/api/v1/applications/service-time").await;
    assert_eq!(st[0]["decided"], 1, "{st}");
}

#[tokio::test]
async fn large_decisions_need_a_second_approver_and_overdue_loans_are_flagged() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let big = verified_invoice(&w.t3, 102, 103, 3002, "2000000.00").await;
    let approver = lianrong_app::user::create(
        &t.app,
        &Actor::system("system"),
        lianrong_app::user::NewUser {
            org_id: w.bank_id.clone(),
            login: "b.approver".into(),
            display_name: "审批人".into(),
            password: PASSWORD.into(),
            roles: vec!["bank_approver".into()],
        },
    )
    .await
    .unwrap();
    assert!(!approver.id.is_empty());
    let p = product(&w.bank, "receivable_financing", "either").await;
    let (s, a) = w
        .t3
        .post(
            "/api/v1/applications",
            json!({"subject": "receivables", "invoice_ids": [big], "amount_fen": 150_000_000, "term_days": 30,
                "purpose": "扩大生产", "offers": [{"bank_org_id": w.bank_id, "product_id": p}], "consent_until": in_days(&t, 60)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let offer = a["offers"][0]["id"].as_str().unwrap().to_string();
    let decide = format!("/api/v1/applications/{id}/offers/{offer}/decision");
    let approve = json!({"decision": "approve", "rate_bp": 400});
    let (_, d) = w.bank.post(&decide, approve.clone()).await;
    assert_eq!(d["offers"][0]["state"], "awaiting_second", "{d}");
    let (s, e) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "offer_not_approved");
    let (s, e) = w.bank.post(&decide, approve.clone()).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "same_approver");
    let second = t.login("b.approver", PASSWORD).await;
    let (s, d) = second.post(&decide, approve).await;
    assert_eq!((s, d["offers"][0]["state"].as_str()), (StatusCode::OK, Some("approved")), "{d}");
    assert_eq!(d["offers"][0]["second_approver"], "b.approver");
    let (s, loan) = second.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{loan}");
    // Forty days on, ten days past maturity and unpaid: the bank sees it overdue; the operator in aggregate.
    t.app.shift_business_date(40);
    let (_, portfolio) = w.bank.get("/api/v1/loans").await;
    assert_eq!(portfolio["items"][0]["overdue_days"], 10, "{portfolio}");
    let figures = lianrong_app::loan::figures_by_chain_tier(&t.app, &Actor::system("system")).await.unwrap();
    assert_eq!(figures.iter().fold((0, 0), |(n, fen), f| (n + f.overdue_loans, fen + f.overdue_fen)), (1, 150_000_000));
    let (s, _) = w.t3.get("/api/v1/stats/loans").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_commitment_part_is_discounted_through_an_application_and_repaid_at_settlement() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let c = issue(&t, &w).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let p = product(&w.bank, "commitment_discount", "confirmed").await;
    let (s, a) = w
        .t1
        .post(
            "/api/v1/applications",
            json!({"subject": "commitment_part", "commitment_id": cid, "part_id": format!("{cid}/0"), "amount_fen": 800_000,
                "term_days": 100, "purpose": "贴现", "offers": [{"bank_org_id": w.bank_id, "product_id": p}],
                "consent_until": in_days(&t, 60)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["offers"][0]["state"], "pending_review", "{a}");
    // While the bank decides, the part is held pending: it cannot be spent.
    let (s, e) = w
        .t1
        .post(
            &format!("/api/v1/commitments/{cid}/transfers"),
            json!({"transfer_id": "sneak", "kind": "split", "part_id": format!("{cid}/0"), "amounts_fen": [1, 999_999]}),
        )
        .await;
    assert_problem(s, &e, StatusCode::CONFLICT, "part_not_held");
    let id = a["id"].as_str().unwrap().to_string();
    let offer = a["offers"][0]["id"].as_str().unwrap().to_string();
    let (_, d) = w
        .bank
        .post(
            &format!("/api/v1/applications/{id}/offers/{offer}/decision"),
            json!({"decision": "approve", "rate_bp": 400}),
        )
        .await;
    assert_eq!(d["offers"][0]["state"], "approved", "{d}");
    let (s, loan) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{loan}");
    // 120 days to maturity at 4 %: 800,000 × 400 × 120 / 3,600,000 = 10,666.67 → 10,667 fen up front.
    assert_eq!(
        (loan["upfront_interest_fen"].as_i64(), loan["fee_fen"].as_i64(), loan["advance_fen"].as_i64()),
        (Some(10_667), Some(800), Some(788_533)),
        "{loan}"
    );
    let (_, view) = w.bank.get(&format!("/api/v1/commitments/{cid}")).await;
    let bank_part =
        view["parts"].as_array().unwrap().iter().find(|p| p["holder_org_id"] == w.bank_id.as_str()).cloned();
    assert_eq!(bank_part.map(|p| p["amount_fen"].clone()), Some(json!(800_000)), "the bank holds the discounted part");
    // At maturity the core settles; the bank's part repays the loan.
    t.app.shift_business_date(120);
    let (s, paid) = w
        .core
        .post(
            &format!("/api/v1/commitments/{cid}/settle"),
            json!({"payment_reference": "PAY-9", "amount_fen": 1_000_000}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{paid}");
    let (_, loan) = w.bank.get(&format!("/api/v1/loans/{}", loan["id"].as_str().unwrap())).await;
    assert_eq!(
        (loan["state"].as_str(), loan["repaid_principal_fen"].as_i64()),
        (Some("repaid"), Some(800_000)),
        "{loan}"
    );
}

#[tokio::test]
async fn order_financing_needs_the_buyers_vouching_and_is_applied_once() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (_, orders) =
        w.t2.get(&format!("/api/v1/trade-records?doc_no=PO-{}", crate::commitment::invoice_no(2001))).await;
    let order = orders["items"][0]["id"].as_str().unwrap().to_string();
    let p = product(&w.bank, "order_financing", "confirmed").await;
    let apply = json!({"subject": "order", "order_id": order, "amount_fen": 300_000, "term_days": 60, "purpose": "备货",
        "offers": [{"bank_org_id": w.bank_id, "product_id": p}], "consent_until": in_days(&t, 60)});
    // The order's page offers the seller the bank's order-financing product.
    let html =
        w.t2.http.get(format!("{}/trade-records/{order}", w.t2.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"apply-order-form\"") && html.contains(&p), "the order's page offers the product");
    // Not vouched for by the buyer yet: the pre-check stops it (the product needs confirmed evidence).
    let (s, a) = w.t2.post("/api/v1/applications", apply.clone()).await;
    assert_eq!((s, a["offers"][0]["state"].as_str()), (StatusCode::CREATED, Some("precheck_failed")), "{a}");
    assert!(a["offers"][0]["findings"].as_array().unwrap().iter().any(|f| f["code"] == "evidence_missing"), "{a}");
    // Only the seller applies with an order.
    let (s, e) = w.t1.post("/api/v1/applications", apply.clone()).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_your_order");
    // The buyer (tier 1) vouches for the order (订单确真); now it passes, once.
    let (s, asked) = w.t2.post("/api/v1/confirmations", json!({"order_ids": [order]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let c = asked["items"][0]["id"].as_str().unwrap().to_string();
    let (s, _) = w.t1.post(&format!("/api/v1/confirmations/{c}/decision"), json!({"decision": "confirm"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, a) = w.t2.post("/api/v1/applications", apply.clone()).await;
    assert_eq!((s, a["offers"][0]["state"].as_str()), (StatusCode::CREATED, Some("pending_review")), "{a}");
    assert_eq!(a["order_id"], order.as_str());
    let (s, e) = w.t2.post("/api/v1/applications", apply).await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_applied");
    let id = a["id"].as_str().unwrap().to_string();
    let offer = a["offers"][0]["id"].as_str().unwrap().to_string();
    let (_, d) = w
        .bank
        .post(
            &format!("/api/v1/applications/{id}/offers/{offer}/decision"),
            json!({"decision": "approve", "rate_bp": 500}),
        )
        .await;
    assert_eq!(d["offers"][0]["state"], "approved", "{d}");
    let (s, loan) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!((s, loan["registration_id"].is_null()), (StatusCode::CREATED, true), "{loan}");
}
