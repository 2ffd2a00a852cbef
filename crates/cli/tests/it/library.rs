//! The core-enterprise library: application, the operator's decisions, history, and concurrency.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn a_core_applies_and_only_the_operator_decides_with_full_history() {
    let t = spawn_app().await;
    t.org_with_admin(30, "core", "core.admin").await;
    let bank_id = t.org_with_admin(31, "bank", "bank.admin").await;
    let core = t.login("core.admin", PASSWORD).await;
    let op = t.login("op.admin", PASSWORD).await;
    let bank = t.login("bank.admin", PASSWORD).await;

    let (s, b) = core.post("/api/v1/core-library", json!({"cluster_id": "nowhere", "reason": "链主"})).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_cluster");
    let (s, entry) = core.post("/api/v1/core-library", json!({"cluster_id": "nev", "reason": "整车链主企业"})).await;
    assert_eq!(s, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["status"], "applied");
    let id = entry["id"].as_str().unwrap().to_string();
    let (s, b) = core.post("/api/v1/core-library", json!({"cluster_id": "nev", "reason": "再次申请"})).await;
    assert_problem(s, &b, StatusCode::CONFLICT, "already_in_library");
    let (s, b) = bank.post("/api/v1/core-library", json!({"cluster_id": "nev", "reason": "银行不入库"})).await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let _ = bank_id;

    // Banks see only decided entries; an application is not yet theirs to see.
    assert_eq!(bank.get(&format!("/api/v1/core-library/{id}")).await.0, StatusCode::NOT_FOUND);

    let path = format!("/api/v1/core-library/{id}/transitions");
    let (s, b) = core.post(&path, json!({"action": "admit"})).await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = op.post(&path, json!({"action": "suspend", "reason": "x"})).await;
    assert_problem(s, &b, StatusCode::CONFLICT, "illegal_transition");
    let (s, b) = op.post(&path, json!({"action": "admit", "reason": "符合入库条件"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "admitted");
    assert_eq!(b["admission_date"].as_str().unwrap().len(), 10);
    assert_eq!(
        bank.get(&format!("/api/v1/core-library/{id}")).await.0,
        StatusCode::OK,
        "admitted entries are published to banks"
    );

    let (s, b) = op.post(&path, json!({"action": "suspend"})).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "reason_required");
    assert_eq!(op.post(&path, json!({"action": "suspend", "reason": "拖欠中小企业账款"})).await.0, StatusCode::OK);
    assert_eq!(op.post(&path, json!({"action": "reinstate", "reason": "已整改"})).await.0, StatusCode::OK);
    let (s, b) = core.post(&path, json!({"action": "withdraw", "reason": "企业主动退出"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = op.post(&path, json!({"action": "admit"})).await;
    assert_problem(s, &b, StatusCode::CONFLICT, "illegal_transition");

    let (_, history) = core.get(&format!("/api/v1/core-library/{id}/history")).await;
    let moves: Vec<(String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or("apply").to_string(), e["to_status"].as_str().unwrap().to_string()))
        .collect();
    let expected = [
        ("apply", "applied"),
        ("admit", "admitted"),
        ("suspend", "suspended"),
        ("reinstate", "admitted"),
        ("withdraw", "withdrawn"),
    ];
    assert_eq!(moves, expected.map(|(a, s)| (a.to_string(), s.to_string())).to_vec());
    assert_eq!(history["items"][2]["reason"], "拖欠中小企业账款");

    let (_, audit) = op.get("/api/v1/audit-events?page_size=200").await;
    let refused: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(refused.contains(&"core_library.admit"), "the core's attempt to admit itself is audited: {refused:?}");
}

#[tokio::test]
async fn concurrent_decisions_on_one_entry_let_exactly_one_win() {
    let t = spawn_app().await;
    let core_id = t.org_with_admin(40, "core", "core.admin").await;
    let system = lianrong_app::Actor::system("system");
    let entry = lianrong_app::core_library::apply(&t.app, &system, &core_id, "nev", "链主").await.unwrap();
    let op = t.login("op.admin", PASSWORD).await;
    let path = format!("/api/v1/core-library/{}/transitions", entry.id);
    let attempts = (0..12).map(|_| {
        let op = op.clone();
        let path = path.clone();
        tokio::spawn(async move { op.post(&path, json!({"action": "admit", "reason": "并发"})).await.0 })
    });
    let mut ok = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one admission wins");
    let history =
        lianrong_app::core_library::history(&t.app, &system, &entry.id, lianrong_domain::page::PageRequest::first())
            .await
            .unwrap();
    assert_eq!(history.total, 2, "one application and one admission");
}

#[tokio::test]
async fn the_cluster_list_is_seeded_and_only_the_operator_edits_it() {
    let t = spawn_app().await;
    t.org_with_admin(50, "supplier", "sup.admin").await;
    let op = t.login("op.admin", PASSWORD).await;
    let sup = t.login("sup.admin", PASSWORD).await;
    let (_, list) = sup.get("/api/v1/clusters").await;
    assert_eq!(list["total"], 30);
    let tiers: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["tier"].as_str().unwrap()).collect();
    assert_eq!(tiers.iter().filter(|t| **t == "trillion").count(), 3);
    assert_eq!(tiers.iter().filter(|t| **t == "new_star").count(), 18);
    let nev = &list["items"][0];
    assert_eq!(nev["verified"], true);
    let body = json!({"tier": "new_star", "name_zh": "元宇宙（已核实）", "name_en": "Metaverse", "verified": true, "position": 30});
    let r = sup.send(reqwest::Method::PUT, "/api/v1/clusters/metaverse", Some(body.clone())).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = op.send(reqwest::Method::PUT, "/api/v1/clusters/metaverse", Some(body)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (s, b) = op
        .post(
            "/api/v1/clusters",
            json!({"id": "low_altitude", "tier": "new_star", "name_zh": "低空经济", "name_en": "Low-altitude economy"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["verified"], false);
    let (_, list) = sup.get("/api/v1/clusters").await;
    assert_eq!(list["total"], 31);
}
