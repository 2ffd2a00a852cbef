//! The evidence chain tried as an adversary would: the counterparty, another chain's organisation, a
//! user without the role, an API key, a replay and a race. Each test reproduces one way a party could
//! rewrite, self-certify or unbind what another relies on, and asserts that it is refused by name and
//! that the victim's records, confirmations, registrations and balances are unchanged.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, assert_problem, spawn_app};

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
