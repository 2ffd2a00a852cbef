//! The foundation as a newcomer meets it: operations endpoints, the OpenAPI document, credit codes,
//! bad input, accounts, sessions, API keys, idempotency and the demo world.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, assert_problem, code, spawn_app, spawn_demo};

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let t = spawn_app().await;
    let api = t.anonymous();
    let r = api.http.get(format!("{}/healthz", t.base_url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"), "every answer carries a request id");
    let r = api.http.get(format!("{}/readyz", t.base_url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = api.http.get(format!("{}/metrics", t.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains("lianrong_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("lianrong_process_resident_memory_bytes"), "{text}");
}

#[tokio::test]
async fn openapi_describes_the_api_and_docs_work_offline() {
    let t = spawn_app().await;
    let api = t.anonymous();
    let doc: Value =
        api.http.get(format!("{}/api/v1/openapi.json", t.base_url)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/organisations",
        "/api/v1/users/{id}",
        "/api/v1/api-keys",
        "/api/v1/chains/{id}/members",
        "/api/v1/core-library/{id}/transitions",
        "/api/v1/clusters",
        "/api/v1/session",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    let html = api.http.get(format!("{}/api/docs/", t.base_url)).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let body = html.text().await.unwrap();
    assert!(body.contains("swagger-ui"), "{body}");
    assert!(!body.contains("unpkg.com") && !body.contains("cdn."), "the docs page must not load from the internet");
    let css = api.http.get(format!("{}/api/docs/swagger-ui.css", t.base_url)).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK, "vendored assets are served locally");
}

#[tokio::test]
async fn credit_codes_are_check_verified_and_legacy_codes_need_an_exception() {
    let t = spawn_app().await;
    let op = t.login("op.admin", PASSWORD).await;
    let org =
        |uscc: &str| json!({"uscc": uscc, "name": "重庆测试机械有限公司", "kind": "supplier", "size_class": "small"});

    let (s, b) = op.post("/api/v1/organisations", org("91500000MA5U000A5X")).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc");
    assert_eq!(b["field"], "uscc");
    assert!(b["message_en"].as_str().unwrap().contains("'N'"), "names the expected check character: {b}");
    assert!(b["message_zh"].as_str().unwrap().contains("校验码"), "{b}");

    let (s, b) = op.post("/api/v1/organisations", org("915000")).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc");
    assert!(b["message_en"].as_str().unwrap().contains("6 characters"), "{b}");

    // A real early Fujian code whose check character fails: refused until the operator lists it.
    let legacy = "91350100M0001TGQXM";
    let (s, b) = op.post("/api/v1/organisations", org(legacy)).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc");
    let (s, b) =
        op.post("/api/v1/uscc-exceptions", json!({"uscc": legacy, "note": "福建早期试点代码，经核实真实有效"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = op.post("/api/v1/uscc-exceptions", json!({"uscc": "91500000MA5U000A5N", "note": "x"})).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "exception_not_needed");
    let (s, b) = op.post("/api/v1/organisations", org(legacy)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["uscc_verified"], false);
    assert_eq!(b["region_code"], "350100");

    let (s, b) = op.post("/api/v1/organisations", org("91500000MA5U000A5N")).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["uscc_verified"], true);
    assert_eq!(b["sme"], true);
    let (s, b) = op.post("/api/v1/organisations", org(" 91500000ma5u000a5n ")).await;
    assert_problem(s, &b, StatusCode::CONFLICT, "organisation_exists");

    let (_, list) = op.get("/api/v1/organisations?kind=supplier").await;
    assert_eq!(list["total"], 2, "{list}");
}

#[tokio::test]
async fn bad_requests_get_specific_problems_and_change_nothing() {
    let t = spawn_app().await;
    let op = t.login("op.admin", PASSWORD).await;
    let url = format!("{}/api/v1/organisations", t.base_url);
    let csrf = op.csrf.clone().unwrap();
    let raw = |body: &'static str, ct: &'static str| {
        op.http.post(&url).header("x-csrf-token", &csrf).header("content-type", ct).body(body)
    };

    let r = raw("{\"uscc\": ", "application/json").send().await.unwrap();
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::BAD_REQUEST, "malformed_json");

    let r = raw("uscc=1", "application/x-www-form-urlencoded").send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(200 * 1024));
    let r = op
        .http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let (s, b) = op
        .post(
            "/api/v1/organisations",
            json!({"uscc": code(1), "name": "甲", "kind": "supplier", "size_class": "small", "colour": "red"}),
        )
        .await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    let (s, b) = op
        .post("/api/v1/organisations", json!({"uscc": code(1), "name": "甲", "kind": "factory", "size_class": "small"}))
        .await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(b["field"], "kind");

    let (s, b) = op
        .post(
            "/api/v1/organisations",
            json!({"uscc": code(1), "name": "名".repeat(101), "kind": "supplier", "size_class": "small"}),
        )
        .await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text");
    assert_eq!(b["field"], "name");

    let (s, b) = op.get("/api/v1/organisations?page_size=100000").await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_page");
    let (s, b) = op.get("/api/v1/organisations?page=abc").await;
    assert_problem(s, &b, StatusCode::BAD_REQUEST, "invalid_query");

    let (s, b) = t.anonymous().get("/api/v1/organisations").await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (s, b) = t.anonymous().get("/api/v1/nowhere").await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, "no_such_path");

    let (_, list) = op.get("/api/v1/organisations").await;
    assert_eq!(list["total"], 1, "only the operator exists: {list}");
}

#[tokio::test]
async fn users_get_roles_fit_for_their_organisation_and_strong_passwords() {
    let t = spawn_app().await;
    let core = t.org_with_admin(10, "core", "core.admin").await;
    let admin = t.login("core.admin", PASSWORD).await;
    let user = |login: &str, pw: &str, roles: Value| json!({"login": login, "display_name": "应付会计", "password": pw, "roles": roles});

    let (s, b) = admin.post("/api/v1/users", user("ap.clerk", "short", json!(["finance_staff"]))).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "weak_password");
    let (s, b) = admin.post("/api/v1/users", user("ap.clerk", "alllowercaseletters", json!(["finance_staff"]))).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "weak_password");
    let (s, b) = admin.post("/api/v1/users", user("ap.clerk", PASSWORD, json!(["cashier"]))).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let (s, b) = admin.post("/api/v1/users", user("ap.clerk", PASSWORD, json!(["bank_officer"]))).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "role_not_allowed");
    let (s, b) = admin.post("/api/v1/users", user("ap.clerk", PASSWORD, json!(["finance_staff"]))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["org_id"], core.as_str());
    let clerk_id = b["id"].as_str().unwrap().to_string();
    let (s, b) = admin.post("/api/v1/users", user("AP.Clerk", PASSWORD, json!(["finance_staff"]))).await;
    assert_problem(s, &b, StatusCode::CONFLICT, "login_taken");

    // Stored as argon2id, never in clear.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM app_user WHERE login = 'ap.clerk'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let clerk = t.login("ap.clerk", PASSWORD).await;
    let (s, b) = clerk.post("/api/v1/users", user("x.clerk", PASSWORD, json!(["finance_staff"]))).await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");

    let (s, b) =
        admin.patch(&format!("/api/v1/users/{clerk_id}"), json!({"roles": ["finance_staff"], "active": false})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = clerk.get("/api/v1/me").await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "session_expired");
    let r = t
        .anonymous()
        .send(Method::POST, "/api/v1/session", Some(json!({"login": "ap.clerk", "password": PASSWORD})))
        .await;
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "account_disabled");

    let me = admin.get("/api/v1/me").await.1;
    let (s, b) = admin
        .patch(
            &format!("/api/v1/users/{}", me["user_id"].as_str().unwrap()),
            json!({"roles": ["finance_staff"], "active": true}),
        )
        .await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "self_lockout");
}

#[tokio::test]
async fn logins_are_throttled_after_repeated_failures() {
    let t = spawn_app().await;
    let anon = t.anonymous();
    for _ in 0..4 {
        let r = anon
            .send(Method::POST, "/api/v1/session", Some(json!({"login": "op.admin", "password": "Wrong#Password1"})))
            .await;
        let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
        assert_problem(s, &b, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let r = anon
        .send(Method::POST, "/api/v1/session", Some(json!({"login": "op.admin", "password": "Wrong#Password1"})))
        .await;
    assert!(r.headers().contains_key("retry-after"));
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::TOO_MANY_REQUESTS, "login_throttled");
    // Locked even for the right password, until the lock ends.
    let r = anon.send(Method::POST, "/api/v1/session", Some(json!({"login": "op.admin", "password": PASSWORD}))).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // An unknown login answers exactly like a wrong password.
    let r = anon.send(Method::POST, "/api/v1/session", Some(json!({"login": "nobody", "password": PASSWORD}))).await;
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn session_changes_need_the_csrf_token_and_expired_sessions_end() {
    let t = spawn_app().await;
    let op = t.login("op.admin", PASSWORD).await;
    let body = json!({"name": "测试产业链", "cluster_id": "nev", "pilot": true});
    let r = op.http.post(format!("{}/api/v1/chains", t.base_url)).json(&body).send().await.unwrap();
    let (s, b) = (r.status(), r.json::<Value>().await.unwrap());
    assert_problem(s, &b, StatusCode::FORBIDDEN, "csrf_failed");
    let r = op
        .http
        .post(format!("{}/api/v1/chains", t.base_url))
        .header("x-csrf-token", "forged-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, chains) = op.get("/api/v1/chains").await;
    assert_eq!(chains["total"], 0, "nothing was created: {chains}");
    let (s, b) = op.post("/api/v1/chains", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Idle past the timeout: the next request is refused and the session is gone.
    sqlx::query("UPDATE session SET last_seen_at_ms = 0").execute(&t.app.db.pool).await.unwrap();
    let (s, b) = op.get("/api/v1/me").await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "session_expired");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM session").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn api_keys_carry_scopes_are_stored_hashed_and_can_be_revoked() {
    let t = spawn_app().await;
    t.org_with_admin(20, "core", "core.admin").await;
    let admin = t.login("core.admin", PASSWORD).await;
    let (s, b) = admin
        .post("/api/v1/api-keys", json!({"name": "ERP 推送", "scopes": ["core_library:read", "organisation:read"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let secret = b["secret"].as_str().unwrap().to_string();
    let key_id = b["key"]["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lrk_"));
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_key").fetch_one(&t.app.db.pool).await.unwrap();
    assert!(!secret.contains(&stored) && stored.len() == 64, "only the SM3 digest is stored");

    let (s, b) = admin.post("/api/v1/api-keys", json!({"name": "bad", "scopes": ["everything"]})).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");

    let key = t.with_key(&secret);
    let (s, me) = key.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["api_key_id"], key_id.as_str());
    assert_eq!(key.get("/api/v1/core-library").await.0, StatusCode::OK);
    let (s, b) = key.post("/api/v1/core-library", json!({"cluster_id": "nev", "reason": "申请"})).await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = key.get("/api/v1/users").await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = key.post("/api/v1/api-keys", json!({"name": "x", "scopes": ["chain:read"]})).await;
    assert_problem(s, &b, StatusCode::FORBIDDEN, "forbidden");

    let r = admin.send(Method::POST, &format!("/api/v1/api-keys/{key_id}/revoke"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, b) = key.get("/api/v1/me").await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let (s, b) = t.with_key("lrk_000000000000_guess").get("/api/v1/me").await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, "invalid_api_key");
}

#[tokio::test]
async fn a_retried_request_with_the_same_idempotency_key_is_answered_not_repeated() {
    let t = spawn_app().await;
    let op = t.login("op.admin", PASSWORD).await;
    let send = |body: Value, key: &'static str| {
        let op = op.clone();
        async move {
            op.http
                .post(format!("{}/api/v1/chains", op.base))
                .header("x-csrf-token", op.csrf.clone().unwrap())
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let body = json!({"name": "电子信息产业链", "cluster_id": "electronics", "pilot": true});
    let first = send(body.clone(), "chain-1").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone(), "chain-1").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    let other = send(json!({"name": "别的链", "cluster_id": "nev"}), "chain-1").await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, chains) = op.get("/api/v1/chains").await;
    assert_eq!(chains["total"], 1, "{chains}");
}

#[tokio::test]
async fn the_demo_world_has_the_promised_shape_and_its_logins_work() {
    let t = spawn_demo().await;
    let op = t.login("operator", lianrong_app::demo::DEMO_PASSWORD).await;
    let total = |kind: &'static str| {
        let op = op.clone();
        async move { op.get(&format!("/api/v1/organisations?kind={kind}&page_size=1")).await.1["total"].as_i64().unwrap() }
    };
    let suppliers = total("supplier").await;
    assert!((150..=300).contains(&suppliers), "{suppliers}");
    assert!((4..=6).contains(&total("bank").await));
    assert_eq!(total("core").await, 5);
    assert_eq!(total("regulator").await, 1);
    let (_, chains) = op.get("/api/v1/chains").await;
    assert_eq!(chains["total"], 3);
    let clusters: Vec<&str> =
        chains["items"].as_array().unwrap().iter().map(|c| c["cluster_id"].as_str().unwrap()).collect();
    for c in ["nev", "electronics", "advanced_materials"] {
        assert!(clusters.contains(&c), "{clusters:?}");
    }
    assert!(chains["items"].as_array().unwrap().iter().all(|c| c["pilot"] == true));
    let chain_id = chains["items"][0]["id"].as_str().unwrap();
    let (_, members) = op.get(&format!("/api/v1/chains/{chain_id}/members?role=supplier&page_size=200")).await;
    let tiers: std::collections::BTreeSet<i64> =
        members["items"].as_array().unwrap().iter().map(|m| m["tier"].as_i64().unwrap()).collect();
    assert_eq!(tiers, [1, 2, 3].into(), "three tiers");
    let (_, applied) = op.get("/api/v1/core-library?status=applied").await;
    assert!(
        applied["items"].as_array().unwrap().iter().any(|e| e["org_name"] == "嘉陵微电子集团有限公司"),
        "{applied}"
    );
    let (_, admitted) = op.get("/api/v1/core-library?status=admitted").await;
    assert_eq!(admitted["total"], 4);
    let (_, page) = op.get("/api/v1/organisations?page_size=200").await;
    for o in page["items"].as_array().unwrap() {
        assert!(lianrong_domain::Uscc::parse(o["uscc"].as_str().unwrap()).is_ok(), "{o}");
    }
    for login in ["regulator", "bank1.officer", "core11.admin", "sup1.t1", "sup3.t3"] {
        let api = t.login(login, lianrong_app::demo::DEMO_PASSWORD).await;
        assert_eq!(api.get("/api/v1/me").await.0, StatusCode::OK, "{login}");
    }
}

/// The API document is committed (`docs/openapi.json`), so every API change shows as a reviewable diff.
/// Run with `UPDATE_SNAPSHOTS=1` to accept a change.
#[tokio::test]
async fn the_openapi_document_matches_the_committed_snapshot() {
    let t = spawn_app().await;
    let doc: Value = t
        .anonymous()
        .http
        .get(format!("{}/api/v1/openapi.json", t.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == pretty,
        "docs/openapi.json is out of date; review the change and run UPDATE_SNAPSHOTS=1 cargo test --test it openapi"
    );
}

/// utoipa names a schema after its struct, and two structs of one name silently become one schema (the
/// document then describes one endpoint's body with another's fields): every API struct and page is
/// named once across `crates/web/src/api`.
#[test]
fn openapi_schema_names_are_unique_across_the_api() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src/api");
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let names = source
            .lines()
            .map(str::trim)
            .filter_map(|l| {
                l.strip_prefix("pub struct ")
                    .or_else(|| l.strip_prefix("page_dto!("))
                    .map(|rest| rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("").to_string())
            })
            .filter(|n| !n.is_empty());
        for name in names {
            if let Some(other) = seen.insert(name.clone(), file.clone()) {
                panic!("{name} is declared in both {other} and {file}: rename one");
            }
        }
    }
    assert!(seen.len() > 50, "the API's structs were found: {}", seen.len());
}
