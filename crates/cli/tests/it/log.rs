//! The verifiable log end to end: leaves appended inside a use case's write transaction, tree heads,
//! keys and proofs fetched over the API and saved exactly as answered, then checked offline by the real
//! `lianrong verify` binary — which must pass on honest data and name the failure after tampering.

use std::path::{Path, PathBuf};
use std::process::Command;

use lianrong_app::log::{self as log_app, LeafKind};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, assert_problem, spawn_app};

/// Appends leaves in one write transaction, as a use case does, waits for the sequencer to integrate
/// them and returns their indexes in the tree.
async fn append(t: &TestApp, leaves: &[(LeafKind, &str, Vec<&str>, Value)]) -> Vec<u64> {
    let mut tx = t.app.db.begin_write().await.unwrap();
    let mut ids = Vec::new();
    for (kind, subject, parties, entry) in leaves {
        let id = log_app::append(&mut tx, *kind, subject, parties, entry, lianrong_app::now_ms()).await.unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    log_app::integrate_all(&t.app).await.unwrap();
    let mut out = Vec::new();
    for id in ids {
        out.push(index_of(t, id).await);
    }
    out
}

/// The index the sequencer gave the leaf with this id.
async fn index_of(t: &TestApp, leaf_id: u64) -> u64 {
    let index: i64 = sqlx::query_scalar("SELECT leaf_index FROM log_leaf WHERE leaf_id = $1")
        .bind(leaf_id as i64)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    index as u64
}

fn submission(n: u32, org: &str) -> (LeafKind, String, Vec<String>, Value) {
    let subject = format!("sub-{n}");
    let entry = json!({"sm3": format!("{n:064x}"), "rows": n * 10, "amount_fen": 1_000_000 + i64::from(n)});
    (LeafKind::Submission, subject, vec![org.to_string()], entry)
}

async fn append_submissions(t: &TestApp, from: u32, to: u32, org: &str) -> Vec<u64> {
    let owned: Vec<_> = (from..to).map(|n| submission(n, org)).collect();
    let leaves: Vec<(LeafKind, &str, Vec<&str>, Value)> =
        owned.iter().map(|(k, s, p, e)| (*k, s.as_str(), p.iter().map(String::as_str).collect(), e.clone())).collect();
    append(t, &leaves).await
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("lianrong-tests").join(format!("{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// GETs `path` and saves the body byte for byte, as `curl > file` would.
async fn save(api: &Api, path: &str, file: &Path) -> Value {
    let resp = api.send(Method::GET, path, None).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    std::fs::write(file, &text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs `lianrong verify …` (the real binary): (success, stdout, stderr).
fn verify(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lianrong"))
        .arg("verify")
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("LIANRONG_LOG_PUBLIC_KEY")
        .output()
        .expect("run lianrong verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify_inclusion(head: &Path, entry: &Path, key: Option<&Path>) -> (bool, String, String) {
    let mut args =
        vec!["inclusion".as_ref(), "--tree-head".as_ref(), head.as_os_str(), "--proof".as_ref(), entry.as_os_str()];
    if let Some(k) = key {
        args.extend(["--public-key".as_ref(), k.as_os_str()]);
    }
    verify(&args)
}

fn verify_consistency(old: &Path, new: &Path, proof: &Path, key: &Path) -> (bool, String, String) {
    verify(&[
        "consistency".as_ref(),
        "--old".as_ref(),
        old.as_os_str(),
        "--new".as_ref(),
        new.as_os_str(),
        "--proof".as_ref(),
        proof.as_os_str(),
        "--public-key".as_ref(),
        key.as_os_str(),
    ])
}

/// Asserts a failed verification that names `failure` in the summary line and both languages.
fn assert_fails(result: &(bool, String, String), failure: &str) {
    let (ok, out, err) = result;
    assert!(!ok, "verification should have failed ({failure}):\n{out}\n{err}");
    assert!(out.contains(&format!("VERIFICATION FAILED: {failure}")), "expected {failure}:\n{out}\n{err}");
    assert!(err.contains(failure) && err.contains("验证失败"), "{err}");
}

async fn parties(t: &TestApp) -> (String, String, String) {
    let core = t.org_with_admin(300, "core", "c.admin").await;
    let supplier = t.org_with_admin(301, "supplier", "s.admin").await;
    let bank = t.org_with_admin(302, "bank", "b.admin").await;
    (core, supplier, bank)
}

#[tokio::test]
async fn an_inclusion_proof_verifies_offline_and_a_tampered_leaf_is_caught() {
    let t = spawn_app().await;
    let (core, supplier, _) = parties(&t).await;
    append_submissions(&t, 0, 3, &core).await;
    let confirmation = append(
        &t,
        &[(
            LeafKind::Confirmation,
            "conf-1",
            vec![core.as_str(), supplier.as_str()],
            json!({"receivable_id": "r-1", "amount_fen": 12_345_600, "debtor": core}),
        )],
    )
    .await[0];
    append_submissions(&t, 3, 7, &supplier).await;
    assert_eq!(confirmation, 3);

    let api = t.login("c.admin", PASSWORD).await;
    let dir = temp_dir("log-inclusion");
    let (head_file, key_file, entry_file) = (dir.join("head.json"), dir.join("key.json"), dir.join("entry.json"));
    let head = save(&api, "/api/v1/log/tree-head", &head_file).await;
    assert_eq!(head["tree_size"], 8);
    assert_eq!(head["hash_alg"], "sm3");
    assert_eq!(head["signature_alg"], "sm2-sm3");
    let key = save(&api, "/api/v1/log/key", &key_file).await;
    assert_eq!(key["key_id"], head["key_id"]);
    let entry = save(&api, &format!("/api/v1/log/entries/{confirmation}?tree_size=8"), &entry_file).await;
    assert_eq!(entry["leaf"]["kind"], "confirmation");
    assert_eq!(entry["leaf"]["entry"]["amount_fen"], 12_345_600);
    assert_eq!(entry["inclusion_path"].as_array().unwrap().len(), 3);

    // Honest data verifies, with the key as the API's JSON, as PEM, and (with a warning) without a key.
    let ok = verify_inclusion(&head_file, &entry_file, Some(&key_file));
    assert!(ok.0, "{}\n{}", ok.1, ok.2);
    assert!(
        ok.1.contains("VERIFIED") && ok.1.contains("SM2") && ok.1.contains("leaf 3 is in the tree of 8"),
        "{}",
        ok.1
    );
    assert!(ok.1.contains("\"conf-1\""), "the proven content is shown: {}", ok.1);
    let pem_file = dir.join("key.pem");
    std::fs::write(&pem_file, key["public_key_pem"].as_str().unwrap()).unwrap();
    assert!(verify_inclusion(&head_file, &entry_file, Some(&pem_file)).0);
    let unsigned = verify_inclusion(&head_file, &entry_file, None);
    assert!(unsigned.0 && unsigned.1.contains("NOT checked"), "{}", unsigned.1);
    // Every leaf of the tree verifies against the same head (the operator sees them all).
    let operator = t.login("op.admin", PASSWORD).await;
    for i in 0..8 {
        let f = dir.join(format!("entry-{i}.json"));
        save(&operator, &format!("/api/v1/log/entries/{i}?tree_size=8"), &f).await;
        let r = verify_inclusion(&head_file, &f, Some(&key_file));
        assert!(r.0, "leaf {i}: {}\n{}", r.1, r.2);
    }

    // Someone with database access changes the recorded amount: the proof fetched afterwards no longer
    // matches the head saved before.
    let data = entry["leaf"]["data"].as_str().unwrap().to_string();
    let forged = data.replace("12345600", "99345600");
    assert_ne!(forged, data);
    sqlx::query("UPDATE log_leaf SET data = $1 WHERE leaf_index = $2")
        .bind(&forged)
        .bind(confirmation as i64)
        .execute(&t.app.db.pool)
        .await
        .unwrap();
    let tampered_file = dir.join("entry-tampered.json");
    let tampered = save(&api, &format!("/api/v1/log/entries/{confirmation}?tree_size=8"), &tampered_file).await;
    assert_eq!(tampered["leaf"]["entry"]["amount_fen"], 99_345_600);
    let r = verify_inclusion(&head_file, &tampered_file, Some(&key_file));
    assert_fails(&r, "leaf_hash_mismatch");
    assert!(r.1.contains("叶子哈希不一致") && r.1.contains("leaf hash mismatch"), "{}", r.1);
    // Even with the stored leaf hash rewritten to match, the path no longer leads to the signed root.
    let forged_hash = log_app::recompute_leaf_hash(log_app::HashAlg::Sm3, &forged);
    sqlx::query("UPDATE log_leaf SET leaf_hash = $1 WHERE leaf_index = $2")
        .bind(forged_hash.to_vec())
        .bind(confirmation as i64)
        .execute(&t.app.db.pool)
        .await
        .unwrap();
    save(&api, &format!("/api/v1/log/entries/{confirmation}?tree_size=8"), &tampered_file).await;
    assert_fails(&verify_inclusion(&head_file, &tampered_file, Some(&key_file)), "root_mismatch");

    // Edited files are caught too: a changed path hash, root or signature.
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(&entry_file).unwrap()).unwrap();
    let first = e["inclusion_path"][0].as_str().unwrap().to_string();
    e["inclusion_path"][0] = json!(format!("{}{}", if first.starts_with('0') { "1" } else { "0" }, &first[1..]));
    let edited = dir.join("entry-edited.json");
    std::fs::write(&edited, e.to_string()).unwrap();
    assert_fails(&verify_inclusion(&head_file, &edited, Some(&key_file)), "root_mismatch");
    let mut h = head.clone();
    h["root_hash"] = entry["inclusion_path"][0].clone();
    let bad_head = dir.join("head-edited.json");
    std::fs::write(&bad_head, h.to_string()).unwrap();
    assert_fails(&verify_inclusion(&bad_head, &entry_file, Some(&key_file)), "bad_signature");
    let mut h = head.clone();
    h["tree_size"] = json!(9);
    std::fs::write(&bad_head, h.to_string()).unwrap();
    assert_fails(&verify_inclusion(&bad_head, &entry_file, Some(&key_file)), "bad_signature");

    // A proof for a larger tree does not match an older head.
    append_submissions(&t, 7, 9, &core).await;
    let newer = dir.join("entry-newer.json");
    let e = save(&api, "/api/v1/log/entries/1", &newer).await;
    assert_eq!(e["tree_size"], 10, "without tree_size the proof is against the latest signed head");
    assert_fails(&verify_inclusion(&head_file, &newer, Some(&key_file)), "size_mismatch");
    let missing = dir.join("nothing.json");
    assert_fails(&verify_inclusion(&head_file, &missing, Some(&key_file)), "unreadable_input");
}

#[tokio::test]
async fn a_consistency_proof_shows_the_log_was_only_appended_to() {
    let t = spawn_app().await;
    let (core, _, bank) = parties(&t).await;
    let _ = bank;
    // The empty log has a signed head too.
    let api = t.login("b.admin", PASSWORD).await;
    let dir = temp_dir("log-consistency");
    let empty = save(&api, "/api/v1/log/tree-head", &dir.join("head-0.json")).await;
    assert_eq!(empty["tree_size"], 0);
    assert_eq!(
        empty["root_hash"], "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
        "SM3 of nothing"
    );

    append_submissions(&t, 0, 3, &core).await;
    let (old_file, new_file, proof_file, key_file) =
        (dir.join("old.json"), dir.join("new.json"), dir.join("proof.json"), dir.join("key.json"));
    let old = save(&api, "/api/v1/log/tree-head", &old_file).await;
    // Asking again without appends answers the same signed head.
    assert_eq!(api.get("/api/v1/log/tree-head").await.1, old);
    append_submissions(&t, 3, 5, &core).await;
    append_submissions(&t, 5, 11, &core).await;
    let new = save(&api, "/api/v1/log/tree-head", &new_file).await;
    assert_eq!((old["tree_size"].as_u64(), new["tree_size"].as_u64()), (Some(3), Some(11)));
    save(&api, "/api/v1/log/key", &key_file).await;
    let proof = save(&api, "/api/v1/log/consistency?first=3&second=11", &proof_file).await;
    assert_eq!(proof["consistency_path"].as_array().unwrap().len(), 5);

    let args = |old: &Path, new: &Path, proof: &Path| verify_consistency(old, new, proof, &key_file);
    let ok = args(&old_file, &new_file, &proof_file);
    assert!(ok.0, "{}\n{}", ok.1, ok.2);
    assert!(ok.1.contains("prefix") && ok.1.contains("VERIFIED"), "{}", ok.1);
    assert_fails(&args(&new_file, &old_file, &proof_file), "size_mismatch");
    let other = dir.join("proof-2-11.json");
    save(&api, "/api/v1/log/consistency?first=2&second=11", &other).await;
    assert_fails(&args(&old_file, &new_file, &other), "size_mismatch");
    // From the empty tree, and between equal heads, the proof is empty and verifies.
    let p0 = dir.join("proof-0.json");
    save(&api, "/api/v1/log/consistency?first=0&second=11", &p0).await;
    assert!(args(&dir.join("head-0.json"), &new_file, &p0).0);

    // Rewriting history in the database (the stored hash of leaves 4..8) breaks the proof against the
    // saved heads.
    sqlx::query("UPDATE log_node SET node_hash = $1 WHERE node_level = 2 AND node_index = 1")
        .bind(vec![7u8; 32])
        .execute(&t.app.db.pool)
        .await
        .unwrap();
    save(&api, "/api/v1/log/consistency?first=3&second=11", &proof_file).await;
    assert_fails(&args(&old_file, &new_file, &proof_file), "root_mismatch");

    // Bad requests are named.
    let (s, b) = api.get("/api/v1/log/consistency?first=5&second=4").await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "sizes_out_of_order");
    let (s, b) = api.get("/api/v1/log/consistency?first=1&second=99").await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "tree_size_out_of_range");
    let (s, b) = api.get("/api/v1/log/consistency?first=-1&second=2").await;
    assert_problem(s, &b, StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn a_leaf_is_visible_only_to_its_parties_the_operator_and_the_regulator() {
    let t = spawn_app().await;
    let (core, supplier, _bank) = parties(&t).await;
    t.org_with_admin(303, "regulator", "r.admin").await;
    let i = append(
        &t,
        &[(LeafKind::Confirmation, "conf-9", vec![core.as_str(), supplier.as_str()], json!({"secret": "机密金额"}))],
    )
    .await[0];
    for login in ["c.admin", "s.admin", "op.admin", "r.admin"] {
        let api = t.login(login, PASSWORD).await;
        let (s, b) = api.get(&format!("/api/v1/log/entries/{i}")).await;
        assert_eq!(s, StatusCode::OK, "{login}: {b}");
        assert_eq!(b["leaf"]["entry"]["secret"], "机密金额");
        let (_, list) = api.get("/api/v1/log/entries").await;
        assert_eq!(list["total"], 1, "{login}: {list}");
    }
    let bank = t.login("b.admin", PASSWORD).await;
    let (s, b) = bank.get(&format!("/api/v1/log/entries/{i}")).await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, list) = bank.get("/api/v1/log/entries").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 0);
    assert!(!list.to_string().contains("机密"), "{list}");
    // Heads and the key are public to any authenticated caller, but not to anonymous ones.
    assert_eq!(bank.get("/api/v1/log/tree-head").await.0, StatusCode::OK);
    assert_eq!(bank.get("/api/v1/log/key").await.0, StatusCode::OK);
    assert_eq!(t.anonymous().get("/api/v1/log/tree-head").await.0, StatusCode::UNAUTHORIZED);
    // The console shows the bank no leaf, the core its own.
    let page = bank.http.get(format!("{}/log", t.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("tree-size") && !page.contains("conf-9"), "{page}");
    let core_api = t.login("c.admin", PASSWORD).await;
    let page = core_api.http.get(format!("{}/log", t.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("conf-9"), "{page}");
    let detail = core_api.http.get(format!("{}/log/{i}", t.base_url)).send().await.unwrap();
    assert_eq!(detail.status(), StatusCode::OK);
    assert!(detail.text().await.unwrap().contains("机密金额"));
    let refused = bank.http.get(format!("{}/log/{i}", t.base_url)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Malformed and out-of-range requests are named.
    let (s, b) = core_api.get("/api/v1/log/entries/abc").await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = core_api.get(&format!("/api/v1/log/entries/{i}?tree_size=5")).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "tree_size_out_of_range");
    let (s, b) = core_api.get(&format!("/api/v1/log/entries/{i}?tree_size=0")).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "leaf_not_in_tree");
    let (s, b) = core_api.get("/api/v1/log/entries?kind=bogus").await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");

    // Appends refuse unknown parties, bad subjects and oversize entries, and leave the log unchanged.
    let mut tx = t.app.db.begin_write().await.unwrap();
    let e = log_app::append(&mut tx, LeafKind::Submission, "s", &["no-such-org"], &json!({}), 1).await.unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("unknown_organisation", Some("party_org_ids")));
    drop(tx);
    let mut tx = t.app.db.begin_write().await.unwrap();
    let e = log_app::append(&mut tx, LeafKind::Submission, " ", &[], &json!({}), 1).await.unwrap_err();
    assert_eq!(e.code, "invalid_log_subject");
    let big = json!({"blob": "x".repeat(lianrong_domain::limits::LOG_LEAF_BYTES_MAX)});
    let e = log_app::append(&mut tx, LeafKind::Submission, "s", &[], &big, 1).await.unwrap_err();
    assert_eq!(e.code, "log_entry_too_large");
    drop(tx);
    let head = t.login("op.admin", PASSWORD).await.get("/api/v1/log/tree-head").await.1;
    assert_eq!(head["tree_size"], 1);
}

#[tokio::test]
async fn concurrent_appends_are_serialised_into_one_tree() {
    let t = spawn_app().await;
    let (core, _, _) = parties(&t).await;
    let mut tasks = Vec::new();
    for worker in 0..8u32 {
        let t_app = t.app.clone();
        let core = core.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for n in 0..5u32 {
                let mut tx = t_app.db.begin_write().await.unwrap();
                let entry = json!({"worker": worker, "n": n});
                let i =
                    log_app::append(&mut tx, LeafKind::Disbursement, &format!("d-{worker}-{n}"), &[&core], &entry, 1)
                        .await
                        .unwrap();
                tx.commit().await.unwrap();
                got.push(i);
            }
            got
        }));
    }
    let mut ids: Vec<u64> = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    log_app::integrate_all(&t.app).await.unwrap();
    let mut all: Vec<u64> = Vec::new();
    for id in &ids {
        all.push(index_of(&t, *id).await);
    }
    all.sort_unstable();
    assert_eq!(all, (0..40).collect::<Vec<u64>>(), "every append got its own index, none lost");
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM log_pending").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(pending, 0, "nothing is left pending once integrated");
    // The signed root is the root of the stored leaves, recomputed from their data.
    let datas: Vec<String> =
        sqlx::query_scalar("SELECT data FROM log_leaf ORDER BY leaf_index").fetch_all(&t.app.db.pool).await.unwrap();
    let want = lianrong_domain::log::root(lianrong_domain::log::HashAlg::Sm3, &datas);
    let head = log_app::tree_head(&t.app, &lianrong_app::Actor::system("system")).await.unwrap();
    assert_eq!((head.tree_size, head.root_hash), (40, want));
}

#[tokio::test]
async fn a_log_may_use_sha256_when_chosen_before_its_first_leaf() {
    let t = spawn_app().await;
    let (core, _, _) = parties(&t).await;
    let system = lianrong_app::Actor::system("system");
    let empty = log_app::tree_head(&t.app, &system).await.unwrap();
    assert_eq!(empty.hash_alg, log_app::HashAlg::Sm3, "SM3 by default");
    let mut tx = t.app.db.begin_write().await.unwrap();
    log_app::choose_hash_alg(&mut tx, log_app::HashAlg::Sha256).await.unwrap();
    tx.commit().await.unwrap();
    // The empty log's head is signed anew for the chosen function: SHA-256 of nothing.
    let empty = log_app::tree_head(&t.app, &system).await.unwrap();
    assert_eq!(
        (empty.hash_alg, lianrong_domain::log::to_hex(&empty.root_hash).as_str()),
        (log_app::HashAlg::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    append_submissions(&t, 0, 5, &core).await;
    let mut tx = t.app.db.begin_write().await.unwrap();
    let e = log_app::choose_hash_alg(&mut tx, log_app::HashAlg::Sm3).await.unwrap_err();
    assert_eq!(e.code, "log_not_empty");
    drop(tx);
    let api = t.login("c.admin", PASSWORD).await;
    let dir = temp_dir("log-sha256");
    let head = save(&api, "/api/v1/log/tree-head", &dir.join("head.json")).await;
    assert_eq!(head["hash_alg"], "sha256");
    save(&api, "/api/v1/log/key", &dir.join("key.json")).await;
    let entry = save(&api, "/api/v1/log/entries/4?tree_size=5", &dir.join("entry.json")).await;
    // The leaf hash is SHA-256(0x00 ‖ data), checkable with any SHA-256 tool.
    let data = entry["leaf"]["data"].as_str().unwrap();
    let want = lianrong_domain::log::leaf_hash(lianrong_domain::log::HashAlg::Sha256, data.as_bytes());
    assert_eq!(entry["leaf"]["leaf_hash"], lianrong_domain::log::to_hex(&want));
    let r = verify_inclusion(&dir.join("head.json"), &dir.join("entry.json"), Some(&dir.join("key.json")));
    assert!(r.0, "{}\n{}", r.1, r.2);
}

/// Runs `lianrong admin --data-dir <dir> log-key` with the given environment.
fn admin_log_key(dir: &Path, env: &[(&str, &std::ffi::OsStr)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lianrong"));
    cmd.args(["admin", "--data-dir"]).arg(dir).arg("log-key").env("RUST_LOG", "warn");
    cmd.env_remove("LIANRONG_DATABASE_URL").env_remove(log_app::KEY_FILE_ENV);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run lianrong admin log-key");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or_else(|| panic!("no {prefix} in {out}"))
}

#[test]
fn the_signing_key_comes_from_an_openssl_key_file_or_is_made_once_and_kept() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures");
    let dir = temp_dir("log-key");
    // A key made by `openssl genpkey -algorithm SM2` (PKCS#8 PEM) is used as is, and its public half is
    // published exactly as `openssl pkey -pubout` writes it.
    let key_file = fixtures.join("test_only_sm2_key.pem");
    let out = admin_log_key(&dir, &[(log_app::KEY_FILE_ENV, key_file.as_os_str())]);
    let openssl_pub = std::fs::read_to_string(fixtures.join("test_only_sm2_key.pub.pem")).unwrap();
    assert!(out.contains(openssl_pub.trim()), "{out}\nwanted:\n{openssl_pub}");
    let from_file = line(&out, "key_id: ").to_string();
    assert_eq!(from_file, log_app::PublicKey::from_text(&openssl_pub).unwrap().key_id());
    // Without a key file the platform makes a key once and keeps it in its database.
    let first = admin_log_key(&dir, &[]);
    let second = admin_log_key(&dir, &[]);
    assert_eq!(line(&first, "key_id: "), line(&second, "key_id: "));
    assert_ne!(line(&first, "key_id: "), from_file);
    assert!(line(&first, "public_key_hex: ").starts_with("04"));
}
