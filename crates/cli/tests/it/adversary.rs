//! The evidence chain tried as an adversary would: the counterparty, another chain's organisation, a
//! user without the role, an API key, a replay and a race. Each test reproduces one way a party could
//! rewrite, self-certify or unbind what another relies on, and asserts that it is refused by name and
//! that the victim's records, confirmations, registrations and balances are unchanged.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::commitment::{World, verified_invoice, world};
use crate::common::{Api, PASSWORD, assert_problem, spawn_app, ymd};

// ---------------------------------------------------------------------------------------------------
// People: each organisation governs its own.

#[tokio::test]
async fn the_operator_suspends_but_never_sets_another_organisations_credentials_or_roles() {
    let t = spawn_app().await;
    t.org_with_admin(20, "bank", "bk.admin").await;
    let op = t.login("op.admin", PASSWORD).await;
    let bank = t.login("bk.admin", PASSWORD).await;
    let user = |login: &str, roles: Value| json!({"login": login, "display_name": "审批人", "password": PASSWORD, "roles": roles});
    let (s, approver) = bank.post("/api/v1/users", user("bk.approver", json!(["bank_approver"]))).await;
    assert_eq!(s, StatusCode::CREATED, "{approver}");
    let id = approver["id"].as_str().unwrap().to_string();
    let bank_id = approver["org_id"].as_str().unwrap().to_string();

    // The operator cannot set the approver's password, change its roles, or add a user to the bank.
    let (s, e) = op.post(&format!("/api/v1/users/{id}/password"), json!({"password": "Taken#Over2026"})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_organisation");
    assert!(e["message_zh"].as_str().unwrap().contains("只有该机构自己的管理员"), "{e}");
    let (s, e) = op.patch(&format!("/api/v1/users/{id}"), json!({"roles": ["bank_officer"], "active": true})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_organisation");
    let (s, e) = op
        .post("/api/v1/users", json!({"org_id": bank_id, "login": "op.plant", "display_name": "x", "password": PASSWORD, "roles": ["bank_approver"]}))
        .await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_organisation");
    let approver_api = t.login("bk.approver", PASSWORD).await;
    let (_, me) = approver_api.get("/api/v1/me").await;
    assert_eq!(me["roles"], json!(["bank_approver"]), "roles unchanged: {me}");

    // It can suspend the account, with a reason the bank sees; it cannot reactivate it.
    let (s, e) = op.post(&format!("/api/v1/users/{id}/suspension"), json!({"reason": ""})).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text");
    let (s, u) = op.post(&format!("/api/v1/users/{id}/suspension"), json!({"reason": "疑似账户被盗用"})).await;
    assert_eq!((s, u["active"].as_bool()), (StatusCode::OK, Some(false)), "{u}");
    let (s, _) = approver_api.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the suspended account's sessions ended");
    let (_, seen) = bank.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(seen["suspended_reason"], "疑似账户被盗用", "{seen}");
    assert!(seen["suspended_by"].as_str().unwrap().contains("op.admin"), "{seen}");
    let (s, e) = op.patch(&format!("/api/v1/users/{id}"), json!({"roles": ["bank_approver"], "active": true})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_organisation");
    let (_, trail) = op.get("/api/v1/audit-events?page_size=200").await;
    assert!(
        trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "user.suspend" && a["object_id"] == id.as_str()),
        "{trail}"
    );

    // A bank user cannot suspend the operator's people, nor another bank's.
    let (_, op_me) = op.get("/api/v1/me").await;
    let op_user = op_me["user_id"].as_str().unwrap();
    let (s, _) = bank.post(&format!("/api/v1/users/{op_user}/suspension"), json!({"reason": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Only the bank's own admin reactivates it, which clears the suspension.
    let (s, u) = bank.patch(&format!("/api/v1/users/{id}"), json!({"roles": ["bank_approver"], "active": true})).await;
    assert_eq!((s, u["active"].as_bool(), &u["suspended_reason"]), (StatusCode::OK, Some(true), &Value::Null), "{u}");
    let r = t
        .anonymous()
        .send(Method::POST, "/api/v1/session", Some(json!({"login": "bk.approver", "password": PASSWORD})))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the approver's own password still works");

    // Onboarding: the operator creates a new organisation's first account, and no more.
    let (s, org) = op
        .post(
            "/api/v1/organisations",
            json!({"uscc": crate::common::code(21), "name": "重庆新设银行", "kind": "bank", "size_class": "large"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{org}");
    let new_bank = org["id"].as_str().unwrap();
    let first = json!({"org_id": new_bank, "login": "nb.admin", "display_name": "管理员", "password": PASSWORD, "roles": ["org_admin"]});
    let (s, b) = op.post("/api/v1/users", first).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let second = json!({"org_id": new_bank, "login": "nb.approver", "display_name": "审批", "password": PASSWORD, "roles": ["bank_approver"]});
    let (s, e) = op.post("/api/v1/users", second).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "not_your_organisation");
}

// ---------------------------------------------------------------------------------------------------
// Registrations: what protects a financier is released by the financier.

/// Tier 2 finances its verified receivable (¥5,000) at the world's bank: ¥4,000 for 90 days, under the
/// four-eyes threshold. Answers the loan as the bank sees it.
async fn loan_on_t2(w: &World) -> Value {
    let product = crate::application::product(&w.bank, "receivable_financing", "either").await;
    let (s, a) =
        w.t2.post(
            "/api/v1/applications",
            json!({"subject": "receivables", "invoice_ids": [w.t2_invoice], "amount_fen": 400_000, "term_days": 90,
                "purpose": "支付原材料货款", "offers": [{"bank_org_id": w.bank_id, "product_id": product}],
                "consent_until": ymd(90)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap();
    let offer = a["offers"][0]["id"].as_str().unwrap();
    let (s, d) = w
        .bank
        .post(
            &format!("/api/v1/applications/{id}/offers/{offer}/decision"),
            json!({"decision": "approve", "rate_bp": 450, "reason": "四流一致"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let (s, loan) = w.bank.post(&format!("/api/v1/applications/{id}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{loan}");
    loan
}

async fn other_bank_id(t: &crate::common::TestApp) -> String {
    sqlx::query_scalar("SELECT org_id FROM app_user WHERE login = 'b2.admin'").fetch_one(&t.app.db.pool).await.unwrap()
}

#[tokio::test]
async fn a_borrower_cannot_unbind_its_loans_registration_and_concurrent_repayments_take_interest_once() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let loan = loan_on_t2(&w).await;
    let loan_id = loan["id"].as_str().unwrap();
    let reg_id = loan["registration_id"].as_str().unwrap();
    let reg_path = format!("/api/v1/registrations/{reg_id}");

    // The borrower (the registration's creditor) cannot release it, with or without a reason; the
    // debtor and a stranger cannot either.
    let (s, e) = w.t2.post(&format!("{reg_path}/release"), json!({"reason": "已还款"})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "financier_releases");
    let (s, _) = w.t1.post(&format!("{reg_path}/release"), json!({"reason": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = w.stranger.post(&format!("{reg_path}/release"), json!({"reason": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, reg) = w.bank.get(&reg_path).await;
    assert_eq!(reg["status"], "active", "{reg}");
    // So the receivable cannot be registered again, with another bank or none.
    let (s, e) =
        w.t2.post(
            "/api/v1/registrations",
            json!({"invoice_ids": [w.t2_invoice], "financier_org_id": other_bank_id(&t).await}),
        )
        .await;
    assert_problem(s, &e, StatusCode::CONFLICT, "already_registered");

    // Thirty days on, eight payments of ¥20 arrive at once: the ¥15 of interest is taken once.
    t.app.shift_business_date(30);
    let paid_on = t.app.today().to_string();
    let path = format!("/api/v1/loans/{loan_id}/repayments");
    let (_, before) = w.bank.get(&format!("/api/v1/loans/{loan_id}")).await;
    assert_eq!(before["interest_due_fen"], 1_500, "{before}");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (bank, path, paid_on) = (w.bank.clone(), path.clone(), paid_on.clone());
            tokio::spawn(async move {
                bank.post(
                    &path,
                    json!({"amount_fen": 2_000, "paid_on": paid_on, "payment_reference": format!("RACE-{i}")}),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        let (s, b) = task.await.unwrap();
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (_, after) = w.bank.get(&format!("/api/v1/loans/{loan_id}")).await;
    assert_eq!(
        (after["repaid_interest_fen"].as_i64(), after["repaid_principal_fen"].as_i64()),
        (Some(1_500), Some(16_000 - 1_500)),
        "interest once, the rest to principal: {after}"
    );

    // Repaid in full: the platform releases the registration and says why.
    let rest = 400_000 - (16_000 - 1_500);
    let (s, repaid) =
        w.bank.post(&path, json!({"amount_fen": rest, "paid_on": paid_on, "payment_reference": "FINAL"})).await;
    assert_eq!((s, repaid["state"].as_str()), (StatusCode::OK, Some("repaid")), "{repaid}");
    let (_, reg) = w.t2.get(&reg_path).await;
    assert_eq!(
        (reg["status"].as_str(), reg["release_reason"].as_str()),
        (Some("released"), Some("融资已结清 loan repaid"))
    );
}

#[tokio::test]
async fn a_payable_cannot_be_both_registered_to_a_bank_and_back_a_commitment_when_both_race() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let issue = {
        let (core, body) = (
            w.core.clone(),
            json!({"holder_org_id": w.t1_id, "invoice_ids": w.payables, "face_fen": 1_000_000,
                "maturity_date": ymd(120), "credit_line_id": w.line_id}),
        );
        tokio::spawn(async move { core.post("/api/v1/commitments", body).await })
    };
    let registrations: Vec<_> = w
        .payables
        .iter()
        .map(|invoice| {
            let (t1, body) = (w.t1.clone(), json!({"invoice_ids": [invoice], "financier_org_id": w.bank_id}));
            tokio::spawn(async move { t1.post("/api/v1/registrations", body).await })
        })
        .collect();
    let (issued, _) = issue.await.unwrap();
    let mut registered = 0;
    for r in registrations {
        if r.await.unwrap().0 == StatusCode::CREATED {
            registered += 1;
        }
    }
    // Either the commitment took every payable and no registration succeeded, or it was refused.
    let backing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM commitment_backing").fetch_one(&t.app.db.pool).await.unwrap();
    if issued == StatusCode::CREATED {
        assert_eq!((registered, backing), (0, 4), "a registered payable backs a commitment");
    } else {
        assert_eq!(backing, 0);
        assert!(registered >= 1);
    }
}

// ---------------------------------------------------------------------------------------------------
// Four eyes by person.

/// Creates a user of `org_id` as the organisation's own admin would, with `roles`.
async fn person(admin: &Api, login: &str, roles: Value) -> String {
    let (s, u) = admin
        .post("/api/v1/users", json!({"login": login, "display_name": "员工", "password": PASSWORD, "roles": roles}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_second_approver_is_another_person_who_held_the_role_before_the_application() {
    let t = spawn_app().await;
    let w = world(&t).await;
    person(&w.bank, "b.veteran", json!(["bank_approver"])).await;
    let officer = person(&w.bank, "b.officer", json!(["bank_officer"])).await;
    let big = verified_invoice(&w.t3, 102, 103, 3002, "2000000.00").await;
    let p = crate::application::product(&w.bank, "receivable_financing", "either").await;
    let (s, a) = w
        .t3
        .post(
            "/api/v1/applications",
            json!({"subject": "receivables", "invoice_ids": [big], "amount_fen": 150_000_000, "term_days": 30,
                "purpose": "扩大生产", "offers": [{"bank_org_id": w.bank_id, "product_id": p}], "consent_until": ymd(60)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (id, offer) = (a["id"].as_str().unwrap(), a["offers"][0]["id"].as_str().unwrap());
    let decide = format!("/api/v1/applications/{id}/offers/{offer}/decision");
    let approve = json!({"decision": "approve", "rate_bp": 400});
    let (_, d) = w.bank.post(&decide, approve.clone()).await;
    assert_eq!(d["offers"][0]["state"], "awaiting_second", "{d}");

    // The admin creates a second login after the application, or promotes an officer: neither approves.
    person(&w.bank, "b.puppet", json!(["bank_approver"])).await;
    let (s, e) = t.login("b.puppet", PASSWORD).await.post(&decide, approve.clone()).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "approver_too_recent");
    let (s, _) =
        w.bank.patch(&format!("/api/v1/users/{officer}"), json!({"roles": ["bank_approver"], "active": true})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = t.login("b.officer", PASSWORD).await.post(&decide, approve.clone()).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "approver_too_recent");
    // The first approver cannot approve twice, and nothing moved.
    let (s, e) = w.bank.post(&decide, approve.clone()).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "same_approver");
    let (_, still) = w.bank.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(still["offers"][0]["state"], "awaiting_second", "{still}");
    // An approver of long standing does.
    let (s, d) = t.login("b.veteran", PASSWORD).await.post(&decide, approve).await;
    assert_eq!((s, d["offers"][0]["state"].as_str()), (StatusCode::OK, Some("approved")), "{d}");
}

#[tokio::test]
async fn a_large_discount_is_posted_by_two_people_and_never_by_a_key() {
    let t = spawn_app().await;
    let w = world(&t).await;
    person(&w.bank, "b.veteran", json!(["bank_approver"])).await;
    // A ¥2,000,000 confirmed payable of the core to tier 1, on a line large enough.
    let payable = verified_invoice(&w.t1, 100, 101, 1010, "2000000.00").await;
    let (s, up) = w.core.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": payable}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let (s, line) = w
        .bank
        .post(
            "/api/v1/credit-lines",
            json!({"borrower_org_id": w.core_id, "kind": "core_supply_chain", "limit_fen": 500_000_000, "valid_from": ymd(-30), "valid_until": ymd(730)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{line}");
    let (s, c) = w
        .core
        .post(
            "/api/v1/commitments",
            json!({"holder_org_id": w.t1_id, "invoice_ids": [payable], "face_fen": 150_000_000, "maturity_date": ymd(120), "credit_line_id": line["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let cid = c["id"].as_str().unwrap();
    let (s, d) = w
        .t1
        .post(
            &format!("/api/v1/commitments/{cid}/transfers"),
            json!({"transfer_id": "big-discount", "kind": "discount", "part_id": format!("{cid}/0"), "bank_org_id": w.bank_id, "amount_fen": 150_000_000}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let post = format!("/api/v1/commitments/{cid}/transfers/big-discount/post");

    // A bank key with commitment:write cannot post it.
    let (s, k) = w
        .bank
        .post("/api/v1/api-keys", json!({"name": "核心系统", "scopes": ["commitment:write", "commitment:read"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let (s, e) = t.with_key(k["secret"].as_str().unwrap()).post(&post, json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "keys_cannot_approve");
    // The first person's post is an approval: the discount stays pending, also when repeated.
    for _ in 0..2 {
        let (s, pending) = w.bank.post(&post, json!({})).await;
        assert_eq!((s, pending["state"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{pending}");
    }
    // A login made after the discount was asked for cannot be the second; a veteran approver can.
    person(&w.bank, "b.puppet", json!(["bank_approver"])).await;
    let (s, e) = t.login("b.puppet", PASSWORD).await.post(&post, json!({})).await;
    assert_problem(s, &e, StatusCode::FORBIDDEN, "approver_too_recent");
    let (_, view) = w.t1.get(&format!("/api/v1/commitments/{cid}")).await;
    assert!(view.to_string().contains("\"pending\""), "still pending: {view}");
    let (s, posted) = t.login("b.veteran", PASSWORD).await.post(&post, json!({})).await;
    assert_eq!((s, posted["state"].as_str()), (StatusCode::CREATED, Some("posted")), "{posted}");
}

// ---------------------------------------------------------------------------------------------------
// External confirmations are the debtor's statement.

/// The platform's confirmation file confirming `invoice_no` of debtor 100 to creditor 101.
fn platform_file(invoice_no: &str, result: &str) -> Vec<u8> {
    let (debtor, creditor) = (crate::common::code(100), crate::common::code(101));
    format!(
        "债务人统一社会信用代码,债权人统一社会信用代码,发票号码,金额(元),确认结果,确认日期,平台编号\n\
         {debtor},{creditor},{invoice_no},500.00,{result},{},ZZ-ADV-1\n",
        ymd(-1)
    )
    .into_bytes()
}

async fn confirmation_status(creditor: &Api, invoice_id: &str) -> Value {
    let (_, owed) = creditor.get("/api/v1/receivables?side=creditor&page_size=200").await;
    let r = owed["items"].as_array().unwrap().iter().find(|r| r["invoice_id"] == invoice_id).cloned().unwrap();
    json!([r["confirmation_status"], r["confirmation_source"]])
}

#[tokio::test]
async fn a_creditor_cannot_confirm_its_own_receivables_by_import_and_an_import_never_overrides_the_debtor() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let invoice_no = crate::commitment::invoice_no(1009);
    let import = "/api/v1/registrations/confirmations/import";

    // Tier 1 writes the platform's file itself: every row refused by name, the receivable unconfirmed.
    let resp = w.t1.upload(import, "确认结果.csv", platform_file(&invoice_no, "已确认")).await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(
        (report["accepted"].as_u64(), report["issues"][0]["code"].as_str()),
        (Some(0), Some("creditor_cannot_confirm")),
        "{report}"
    );
    assert!(report["issues"][0]["message_zh"].as_str().unwrap().contains("债权人不能自行确认"), "{report}");
    assert_eq!(confirmation_status(&w.t1, &w.unconfirmed).await, json!([null, null]));

    // The core rejects tier 1's request; a later import (even the operator's) does not overturn it.
    let (s, asked) = w.t1.post("/api/v1/confirmations", json!({"invoice_ids": [w.unconfirmed]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let id = asked["items"][0]["id"].as_str().unwrap();
    let (s, r) = w
        .core
        .post(
            "/api/v1/confirmations/decisions",
            json!({"decisions": [{"confirmation_id": id, "decision": "reject", "reason": "金额有争议"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let op = t.login("op.admin", PASSWORD).await;
    let resp = op.upload(import, "中征平台确认结果.csv", platform_file(&invoice_no, "已确认")).await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["accepted"], 1, "the operator imports the platform's file: {report}");
    assert_eq!(confirmation_status(&w.t1, &w.unconfirmed).await, json!(["rejected", null]));

    // Where the debtor has not decided here, its own import stands, and says where it came from.
    let other = verified_invoice(&w.t1, 100, 101, 1011, "500.00").await;
    let resp =
        w.core.upload(import, "确认结果.csv", platform_file(&crate::commitment::invoice_no(1011), "已确认")).await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(confirmation_status(&w.t1, &other).await, json!(["confirmed", "crcrfsp"]));
}

// ---------------------------------------------------------------------------------------------------
// Applications claim only their own subject, in one transaction.

#[tokio::test]
async fn an_application_cannot_claim_anothers_invoices_and_commits_whole_or_not_at_all() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let c = crate::commitment::issue(&t, &w).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let p1 = crate::application::product(&w.bank, "commitment_discount", "confirmed").await;
    let other_bank = other_bank_id(&t).await;
    let p2 = crate::application::product(&w.other_bank, "commitment_discount", "confirmed").await;
    let part = |bank: &str, product: &str, invoices: Value| {
        json!({"subject": "commitment_part", "commitment_id": cid, "part_id": format!("{cid}/0"), "amount_fen": 800_000,
            "term_days": 100, "purpose": "贴现", "offers": [{"bank_org_id": bank, "product_id": product}],
            "invoice_ids": invoices, "consent_until": ymd(60)})
    };

    // Tier 1 names tier 2's receivable in its part's application: refused, and tier 2 may still apply.
    let (s, e) = w.t1.post("/api/v1/applications", part(&w.bank_id, &p1, json!([w.t2_invoice]))).await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "invoice_not_of_subject");
    assert_eq!(e["field"], "invoice_ids[0]");
    let applications: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM application").fetch_one(&t.app.db.pool).await.unwrap();
    let consents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!((applications, consents), (0, 0), "a refused application leaves nothing behind");
    let p3 = crate::application::product(&w.bank, "receivable_financing", "either").await;
    let (s, a) = w
        .t2
        .post(
            "/api/v1/applications",
            json!({"subject": "receivables", "invoice_ids": [w.t2_invoice], "amount_fen": 400_000, "term_days": 90,
                "purpose": "支付货款", "offers": [{"bank_org_id": w.bank_id, "product_id": p3}], "consent_until": ymd(60)}),
        )
        .await;
    assert_eq!((s, a["state"].as_str()), (StatusCode::CREATED, Some("open")), "{a}");

    // Its own part's backing payables it may name.
    let first_payable = w.payables[0].clone();
    // Two applications race for one part at two banks: whatever wins, every consent granted belongs to
    // an application that exists, and the part is held for exactly one.
    let (t1a, t1b) = (w.t1.clone(), w.t1.clone());
    let (body_a, body_b) = (part(&w.bank_id, &p1, json!([first_payable])), part(&other_bank, &p2, json!([])));
    let (ra, rb) = tokio::join!(async move { t1a.post("/api/v1/applications", body_a).await }, async move {
        t1b.post("/api/v1/applications", body_b).await
    },);
    let created = [&ra, &rb].iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{ra:?} {rb:?}");
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM application WHERE subject = 'commitment_part'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let consents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent WHERE purpose LIKE '%贴现%'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!((open, consents), (1, 1), "no consent outlives a refused application");
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM commitment_transfer WHERE kind = 'discount' AND state = 'pending'")
            .fetch_one(&t.app.db.pool)
            .await
            .unwrap();
    assert_eq!(pending, 1);
}

// ---------------------------------------------------------------------------------------------------
// Trade records: each party owns its own statements.

#[tokio::test]
async fn nobody_can_rewrite_another_partys_trade_record_or_inherit_its_vouching() {
    let t = spawn_app().await;
    let w = world(&t).await;
    // Another chain's core shares tier 2's invoice number with itself as buyer and ¥1.00 as total.
    let (_, victim) = w.t2.get(&format!("/api/v1/trade-records/{}", w.t2_invoice)).await;
    let no = victim["doc_no"].as_str().unwrap().to_string();
    t.org_with_admin(107, "core", "y.admin").await;
    let other_core = t.login("y.admin", PASSWORD).await;
    let forged = json!({"records": [{"record_type": "invoice", "invoice_no": no, "issue_date": ymd(-10),
        "buyer_uscc": crate::common::code(107), "seller_uscc": crate::common::code(102), "total_amount": "1.00"}]});
    let (s, r) = other_core.post("/api/v1/submissions", forged).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    // Its statement is its own record: tier 2's invoice is unchanged, and stays hidden from it.
    let (_, after) = w.t2.get(&format!("/api/v1/trade-records/{}", w.t2_invoice)).await;
    assert_eq!(
        (&after["version"], &after["total_fen"], &after["buyer_uscc"], &after["content_sm3"]),
        (&victim["version"], &victim["total_fen"], &victim["buyer_uscc"], &victim["content_sm3"]),
        "{after}"
    );
    assert_eq!(after["history"], json!([]), "{after}");
    let (s, _) = other_core.get(&format!("/api/v1/trade-records/{}", w.t2_invoice)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The supplier's receivable and its verdict are as they were.
    let (_, v) = w.t2.get(&format!("/api/v1/verifications/{}", w.t2_invoice)).await;
    assert_eq!((v["status"].as_str(), v["invoiced_fen"].as_i64()), (Some("verified"), Some(500_000)), "{v}");
    // The same forgery against the buyer side: tier 1 (the real buyer) sharing the invoice with another
    // amount is its own statement too, and four-flow names the disagreement.
    let disagree = json!({"records": [{"record_type": "invoice", "invoice_no": no, "issue_date": ymd(-88),
        "buyer_uscc": crate::common::code(101), "seller_uscc": crate::common::code(102), "total_amount": "1.00"}]});
    let (s, r) = w.t1.post("/api/v1/submissions", disagree).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    let (_, v) = w.t2.get(&format!("/api/v1/verifications/{}", w.t2_invoice)).await;
    assert_eq!(v["status"], "inconsistent", "{v}");
    assert!(v["discrepancies"].to_string().contains("counterparty_disagrees"), "{v}");
    let (_, after) = w.t2.get(&format!("/api/v1/trade-records/{}", w.t2_invoice)).await;
    assert_eq!(after["total_fen"], victim["total_fen"], "the seller's own statement is never rewritten");

    // The order variant: the core's purchase order to tier 1, vouched for by the core.
    let po = json!({"records": [{"record_type": "order", "order_no": "PO-CORE-0001", "order_date": ymd(-5),
        "buyer_uscc": crate::common::code(100), "seller_uscc": crate::common::code(101), "total_amount": "100000.00"}]});
    let (s, r) = w.core.post("/api/v1/submissions", po).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    let (_, list) = w.t1.get("/api/v1/trade-records?doc_no=PO-CORE-0001").await;
    let order_id = list["items"][0]["id"].as_str().unwrap().to_string();
    let (s, asked) = w.t1.post("/api/v1/confirmations", json!({"order_ids": [order_id]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let id = asked["items"][0]["id"].as_str().unwrap();
    let (s, c) = w.core.post(&format!("/api/v1/confirmations/{id}/decision"), json!({"decision": "confirm"})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    // Tier 2 shares the same order number naming itself as the seller: a statement of its own, unvouched.
    let stolen = json!({"records": [{"record_type": "order", "order_no": "PO-CORE-0001", "order_date": ymd(-5),
        "buyer_uscc": crate::common::code(100), "seller_uscc": crate::common::code(102), "total_amount": "100000.00"}]});
    let (s, r) = w.t2.post("/api/v1/submissions", stolen).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    let (_, vouched) = w.t1.get(&format!("/api/v1/trade-records/{order_id}")).await;
    assert_eq!(
        (vouched["seller_uscc"].as_str(), vouched["version"].as_i64()),
        (Some(crate::common::code(101).as_str()), Some(1))
    );
    let (_, theirs) = w.t2.get("/api/v1/trade-records?doc_no=PO-CORE-0001").await;
    let theirs_id = theirs["items"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(theirs_id, order_id);
    let (s, e) = w
        .t2
        .post(
            "/api/v1/applications",
            json!({"subject": "order", "order_id": theirs_id, "amount_fen": 1_000_000, "term_days": 60, "purpose": "备货",
                "offers": [{"bank_org_id": w.bank_id, "product_id": crate::application::product(&w.bank, "order_financing", "confirmed").await}],
                "consent_until": ymd(60)}),
        )
        .await;
    // Tier 2's order is not vouched for: the pre-check stops the bank's offer before anyone looks.
    assert_eq!((s, e["offers"][0]["state"].as_str()), (StatusCode::CREATED, Some("precheck_failed")), "{e}");
    assert_eq!(e["offers"][0]["findings"][0]["code"], "evidence_missing", "{e}");
}

// ---------------------------------------------------------------------------------------------------
// Confirmations sign content, not ids.

#[tokio::test]
async fn a_new_version_of_a_confirmed_invoice_supersedes_its_confirmation_and_a_statement_names_its_content() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let payable = w.payables[0].clone();
    let (_, before) = w.t1.get(&format!("/api/v1/trade-records/{payable}")).await;
    let no = before["doc_no"].as_str().unwrap().to_string();
    assert_eq!(confirmation_status(&w.t1, &payable).await, json!(["confirmed", "debtor_upload"]));

    // Tier 1 (the creditor) shares its confirmed invoice again, changed (here only its remarks, so the
    // trade still verifies): whatever changed, the debtor did not sign this version.
    let changed = json!({"records": [{"record_type": "invoice", "invoice_no": no, "issue_date": ymd(-88),
        "buyer_uscc": crate::common::code(100), "seller_uscc": crate::common::code(101), "total_amount": "1000.00",
        "order_refs": format!("PO-{no}"), "delivery_refs": format!("DN-{no}"), "remarks": "补充说明"}]});
    let (s, r) = w.t1.post("/api/v1/submissions", changed).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    // The confirmation no longer stands: it is superseded, visibly, and nothing relies on it.
    assert_eq!(confirmation_status(&w.t1, &payable).await, json!(["superseded", null]));
    let (_, confirmations) = w.core.get("/api/v1/confirmations?role=debtor&page_size=200").await;
    let c = confirmations["items"].as_array().unwrap().iter().find(|c| c["invoice_id"] == payable.as_str()).unwrap();
    assert_eq!(c["status"], "superseded", "{c}");
    let (s, e) = w
        .core
        .post(
            "/api/v1/commitments",
            json!({"holder_org_id": w.t1_id, "invoice_ids": [payable], "face_fen": 100_000, "maturity_date": ymd(120), "credit_line_id": w.line_id}),
        )
        .await;
    assert_problem(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "not_confirmed");

    // Asked again, the new statement names the record's content, its number and code, and when.
    let (s, asked) = w.t1.post("/api/v1/confirmations", json!({"invoice_ids": [payable]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let id = asked["items"][0]["id"].as_str().unwrap();
    let (s, statement) = w.core.get(&format!("/api/v1/confirmations/{id}/statement?decision=confirm")).await;
    assert_eq!(s, StatusCode::OK, "{statement}");
    let text = statement["statement"].as_str().map(str::to_string).unwrap_or_else(|| statement.to_string());
    let (_, now) = w.t1.get(&format!("/api/v1/trade-records/{payable}")).await;
    assert!(text.contains(now["content_sm3"].as_str().unwrap()), "the statement covers the content: {text}");
    assert!(text.contains("lianrong/confirmation/v2") && text.contains("requested_at") && text.contains(&no), "{text}");
    let (s, c) = w.core.post(&format!("/api/v1/confirmations/{id}/decision"), json!({"decision": "confirm"})).await;
    assert_eq!((s, c["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{c}");
    assert_eq!(confirmation_status(&w.t1, &payable).await, json!(["confirmed", "signed"]));
}

// ---------------------------------------------------------------------------------------------------
// The adversary walk: every operation that creates or changes evidence, tried against tier 2's by
// everyone who should not be able to, leaves tier 2's evidence exactly as it was.

/// Everything tier 2 (the victim) relies on, as one text: its statements, their verdicts, its
/// confirmations (asked or imported), registrations, applications with their offers and claims, loans,
/// consents and commitment parts.
async fn evidence_of(t: &crate::common::TestApp, org_id: &str, uscc: &str) -> Vec<String> {
    let queries = [
        "SELECT id || '|' || version || '|' || content_sm3 || '|' || buyer_uscc || '|' || total_fen FROM trade_record WHERE submitter_org_id = $1 ORDER BY 1",
        "SELECT invoice_id || '|' || status || '|' || invoiced_fen || '|' || outstanding_fen || '|' || discrepancies FROM verification WHERE seller_uscc = $2 ORDER BY 1",
        "SELECT id || '|' || status || '|' || amount_fen FROM confirmation WHERE creditor_org_id = $1 ORDER BY 1",
        "SELECT e.id || '|' || e.confirmed FROM external_confirmation e JOIN trade_record t ON t.id = e.invoice_id WHERE t.seller_uscc = $2 ORDER BY 1",
        "SELECT id || '|' || status FROM registration WHERE creditor_org_id = $1 ORDER BY 1",
        "SELECT a.id || '|' || a.state || '|' || o.state || '|' || COALESCE(o.decided_by, '-') FROM application a JOIN application_offer o ON o.application_id = a.id WHERE a.applicant_org_id = $1 ORDER BY 1",
        "SELECT c.record_id || '|' || c.application_id FROM application_claim c JOIN application a ON a.id = c.application_id WHERE a.applicant_org_id = $1 ORDER BY 1",
        "SELECT id || '|' || state || '|' || repaid_principal_fen || '|' || repaid_interest_fen FROM loan WHERE borrower_org_id = $1 ORDER BY 1",
        "SELECT id || '|' || state FROM consent WHERE owner_org_id = $1 ORDER BY 1",
        "SELECT commitment_id || '|' || id || '|' || state || '|' || amount_fen FROM commitment_part WHERE holder_org_id = $1 ORDER BY 1",
    ];
    let mut out = Vec::new();
    for q in queries {
        let rows: Vec<String> = sqlx::query_scalar(q)
            .bind(org_id.to_string())
            .bind(uscc.to_string())
            .fetch_all(&t.app.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        out.push(rows.join(";"));
    }
    out
}

enum Attempt {
    Json(reqwest::Method, String, Value),
    Upload(String, &'static str, Vec<u8>),
}

#[tokio::test]
async fn no_counterparty_stranger_role_less_user_or_key_changes_anothers_evidence() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (c101, c102) = (crate::common::code(101), crate::common::code(102));
    // Tier 2's evidence: a second receivable registered to the bank, a confirmation asked of tier 1, a part
    // of the core's commitment passed to it, and a loan on its first receivable.
    let registered = verified_invoice(&w.t2, 101, 102, 2002, "3000.00").await;
    let (s, reg) =
        w.t2.post("/api/v1/registrations", json!({"invoice_ids": [registered], "financier_org_id": w.bank_id})).await;
    assert_eq!(s, StatusCode::CREATED, "{reg}");
    let reg_id = reg["id"].as_str().unwrap().to_string();
    let (s, asked) = w.t2.post("/api/v1/confirmations", json!({"invoice_ids": [w.t2_invoice]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let confirmation = asked["items"][0]["id"].as_str().unwrap().to_string();
    let c = crate::commitment::issue(&t, &w).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let (s, passed) =
        w.t1.post(
            &format!("/api/v1/commitments/{cid}/transfers"),
            json!({"transfer_id": "to-t2", "kind": "transfer", "part_id": format!("{cid}/0"), "to_org_id": w.t2_id,
                "amount_fen": 300_000, "invoice_ids": [w.t2_invoice]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{passed}");
    let part = passed["output_part_ids"][0].as_str().unwrap().to_string();
    let loan = loan_on_t2(&w).await;
    let (loan_id, application) =
        (loan["id"].as_str().unwrap().to_string(), loan["application_id"].as_str().unwrap().to_string());
    let offer = loan["offer_id"].as_str().unwrap().to_string();
    let loan_reg = loan["registration_id"].as_str().unwrap().to_string();

    // The adversaries.
    let auditor = person(&w.t2, "t2.auditor", json!(["auditor"])).await;
    assert!(!auditor.is_empty());
    let (s, k) =
        w.t2.post("/api/v1/api-keys", json!({"name": "只读", "scopes": ["trade:read", "commitment:read"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let read_key = t.with_key(k["secret"].as_str().unwrap());
    let (s, k) = w
        .t1
        .post("/api/v1/api-keys", json!({"name": "全部", "scopes": ["trade:write", "receivable:write", "commitment:write", "trade:read", "commitment:read"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let counterparty_key = t.with_key(k["secret"].as_str().unwrap());
    t.org_with_admin(107, "core", "y.admin").await;
    let actors: Vec<(&str, Api)> = vec![
        ("counterparty", w.t1.clone()),
        ("counterparty key", counterparty_key),
        ("stranger", w.stranger.clone()),
        ("another chain's core", t.login("y.admin", PASSWORD).await),
        ("same organisation without the role", t.login("t2.auditor", PASSWORD).await),
        ("read-only key", read_key),
        ("another bank", w.other_bank.clone()),
    ];
    let forged = |buyer: &str| {
        json!({"records": [{"record_type": "invoice", "invoice_no": crate::commitment::invoice_no(2001), "issue_date": ymd(-88),
            "buyer_uscc": buyer, "seller_uscc": c102, "total_amount": "1.00"}]})
    };
    let forged_csv = format!(
        "发票号码,开票日期,购买方统一社会信用代码,销售方统一社会信用代码,价税合计\n{},{},{c101},{c102},1.00\n",
        crate::commitment::invoice_no(2001),
        ymd(-88)
    );
    let post = |path: String, body: Value| Attempt::Json(reqwest::Method::POST, path, body);
    let attempts: Vec<(&str, Attempt)> = vec![
        ("rewrite by API", post("/api/v1/submissions".into(), forged(&c101))),
        ("rewrite as another buyer", post("/api/v1/submissions".into(), forged(&crate::common::code(107)))),
        (
            "rewrite by upload",
            Attempt::Upload("/api/v1/submissions/upload".into(), "发票.csv", forged_csv.into_bytes()),
        ),
        (
            "ask confirmation of its receivable",
            post("/api/v1/confirmations".into(), json!({"invoice_ids": [registered]})),
        ),
        ("withdraw its request", post(format!("/api/v1/confirmations/{confirmation}/withdraw"), json!({}))),
        (
            "confirm its payable unasked",
            post("/api/v1/confirmations/payables".into(), json!({"payables": [{"invoice_id": registered}]})),
        ),
        (
            "import a confirmation of it",
            Attempt::Upload("/api/v1/registrations/confirmations/import".into(), "确认结果.csv", {
                let no = crate::commitment::invoice_no(2002);
                format!("债务人统一社会信用代码,债权人统一社会信用代码,发票号码,金额(元),确认结果,确认日期,平台编号\n{c101},{c102},{no},3000.00,已拒绝,{},ZZ-X\n", ymd(-1)).into_bytes()
            }),
        ),
        ("register its receivable", post("/api/v1/registrations".into(), json!({"invoice_ids": [w.t2_invoice]}))),
        ("release its registration", post(format!("/api/v1/registrations/{reg_id}/release"), json!({"reason": "x"}))),
        (
            "release its loan's registration",
            post(format!("/api/v1/registrations/{loan_reg}/release"), json!({"reason": "x"})),
        ),
        (
            "split its part",
            post(
                format!("/api/v1/commitments/{cid}/transfers"),
                json!({"transfer_id": "steal-1", "kind": "split", "part_id": part, "amounts_fen": [1, 299_999]}),
            ),
        ),
        (
            "discount its part",
            post(
                format!("/api/v1/commitments/{cid}/transfers"),
                json!({"transfer_id": "steal-2", "kind": "discount", "part_id": part, "bank_org_id": w.bank_id, "amount_fen": 300_000}),
            ),
        ),
        (
            "apply with its receivable",
            post(
                "/api/v1/applications".into(),
                json!({"subject": "receivables", "invoice_ids": [registered], "amount_fen": 100_000, "term_days": 30, "purpose": "x", "offers": [{"bank_org_id": w.bank_id, "product_id": "x"}], "consent_until": ymd(30)}),
            ),
        ),
        (
            "decide its application",
            post(
                format!("/api/v1/applications/{application}/offers/{offer}/decision"),
                json!({"decision": "reject", "reason": "x"}),
            ),
        ),
        (
            "repay its loan",
            post(
                format!("/api/v1/loans/{loan_id}/repayments"),
                json!({"amount_fen": 400_000, "paid_on": ymd(0), "payment_reference": "FAKE-1"}),
            ),
        ),
    ];
    let victim_uscc = c102.clone();
    let mut before = evidence_of(&t, &w.t2_id, &victim_uscc).await;
    for (what, attempt) in &attempts {
        for (who, api) in &actors {
            // Confirming a payable, or importing the platform's result for it, is the debtor's (tier 1's)
            // own statement to make.
            let debtors_own = matches!(*what, "confirm its payable unasked" | "import a confirmation of it");
            if who.starts_with("counterparty") && debtors_own {
                continue;
            }
            let status = match attempt {
                Attempt::Json(method, path, body) => api.send(method.clone(), path, Some(body.clone())).await.status(),
                Attempt::Upload(path, name, bytes) => api.upload(path, name, bytes.clone()).await.status(),
            };
            // A party may state its own view of a document (a new record of its own); nothing else lands.
            let own_statement = what.starts_with("rewrite") && status.is_success();
            let import_report = what.starts_with("import") && status == StatusCode::CREATED;
            assert!(status.is_client_error() || own_statement || import_report, "{who} could {what}: {status}");
            let after = evidence_of(&t, &w.t2_id, &victim_uscc).await;
            if own_statement && after[1] != before[1] {
                // The counterparty's differing statement is compared, not obeyed: tier 2's verdict names
                // the disagreement, and everything else stands.
                assert!(after[1].contains("inconsistent|500000|500000|counterparty_disagrees"), "{}", after[1]);
                before[1] = after[1].clone();
            }
            assert_eq!(after, before, "{who} changed tier 2's evidence trying to {what}");
        }
    }
    // Tier 2 itself cannot certify its own evidence: confirm its own request or its own receivable.
    let (s, _) =
        w.t2.post(&format!("/api/v1/confirmations/{confirmation}/decision"), json!({"decision": "confirm"})).await;
    assert!(s.is_client_error(), "{s}");
    let (s, _) = w.t2.post("/api/v1/confirmations/payables", json!({"payables": [{"invoice_id": registered}]})).await;
    assert!(s.is_client_error(), "{s}");
    // Replays change nothing: the same disbursement, the same repayment twice.
    let (_, again) =
        w.bank.post(&format!("/api/v1/applications/{application}/offers/{offer}/disbursement"), json!({})).await;
    assert_eq!(again["id"], loan_id.as_str());
    assert_eq!(evidence_of(&t, &w.t2_id, &victim_uscc).await, before);
    let repay = json!({"amount_fen": 10_000, "paid_on": t.app.today().to_string(), "payment_reference": "BANK-1"});
    let (s, _) = w.bank.post(&format!("/api/v1/loans/{loan_id}/repayments"), repay.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let once = evidence_of(&t, &w.t2_id, &victim_uscc).await;
    let (s, _) = w.bank.post(&format!("/api/v1/loans/{loan_id}/repayments"), repay).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(evidence_of(&t, &w.t2_id, &victim_uscc).await, once, "a replayed repayment counts once");
}

#[tokio::test]
async fn a_platform_result_imported_before_a_record_changed_no_longer_confirms_it() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let invoice_no = crate::commitment::invoice_no(1009);
    let resp = w
        .core
        .upload("/api/v1/registrations/confirmations/import", "确认结果.csv", platform_file(&invoice_no, "已确认"))
        .await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(confirmation_status(&w.t1, &w.unconfirmed).await, json!(["confirmed", "crcrfsp"]));
    let changed = json!({"records": [{"record_type": "invoice", "invoice_no": invoice_no, "issue_date": ymd(-88),
        "buyer_uscc": crate::common::code(100), "seller_uscc": crate::common::code(101), "total_amount": "500.00",
        "order_refs": format!("PO-{invoice_no}"), "delivery_refs": format!("DN-{invoice_no}"), "remarks": "更正"}]});
    let (s, r) = w.t1.post("/api/v1/submissions", changed).await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    assert_eq!(confirmation_status(&w.t1, &w.unconfirmed).await, json!([null, null]), "the old result is set aside");
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM external_confirmation").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(kept, 1, "and kept");
}
