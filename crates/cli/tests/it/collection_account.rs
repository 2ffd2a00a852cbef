//! Fixed repayment accounts (回款账户确定) end to end: bad numbers refused by field, the number kept only
//! sealed, a change applied only when the creditor, the debtor and — once financed — the bank have all
//! consented, every refusal audited, strangers answered 404, and a payment to another account flagged
//! by four-flow verification.

use lianrong_app::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, assert_problem, code, einvoice, spawn_app, ymd};

/// The receivable's invoice, issued seven months before the business date (and overdue by now).
const ISSUED_DAYS: i64 = -209;
/// The first account, typed with spaces; normalised it is `ACCOUNT_A`.
const ACCOUNT_A_TYPED: &str = "6222 0202 0011 2233 445";
const ACCOUNT_A: &str = "6222020200112233445";
/// A corporate account without a Luhn check digit.
const ACCOUNT_B: &str = "31050161393600000123";
const ACCOUNT_C: &str = "110060149018800012345";

/// A core (100) buying from a supplier (101); a bank (104) that may come to finance the receivable; a
/// stranger supplier (103).
struct World {
    core_id: String,
    supplier_id: String,
    bank_id: String,
    core: Api,
    supplier: Api,
    bank: Api,
    stranger: Api,
    operator: Api,
    invoice_id: String,
}

async fn world(t: &TestApp) -> World {
    let system = Actor::system("system");
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let supplier_id = t.org_with_admin(101, "supplier", "s.admin").await;
    t.org_with_admin(103, "supplier", "x.admin").await;
    let bank_id = t.org_with_admin(104, "bank", "b.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "回款测试链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &supplier_id, "supplier", Some(1)).await.unwrap();
    let core = t.login("c.admin", PASSWORD).await;
    let (c100, c101) = (code(100), code(101));
    let (status, r) = core
        .post(
            "/api/v1/submissions",
            json!({"records": [
                {"record_type": "order", "order_no": "PO-51", "order_date": ymd(-220), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "term_days": "60"},
                {"record_type": "delivery", "delivery_no": "DN-51", "delivery_date": ymd(-216), "order_refs": "PO-51", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "acceptance_status": "accepted", "accepted_date": ymd(-215)},
                {"record_type": "invoice", "invoice_no": einvoice(ISSUED_DAYS, 951), "issue_date": ymd(ISSUED_DAYS), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "order_refs": "PO-51"},
            ]}),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(3)), "{r}");
    let (_, list) = core.get(&format!("/api/v1/trade-records?doc_no={}", einvoice(ISSUED_DAYS, 951))).await;
    let invoice_id = list["items"][0]["id"].as_str().unwrap().to_string();
    World {
        core_id,
        supplier_id,
        bank_id,
        core,
        supplier: t.login("s.admin", PASSWORD).await,
        bank: t.login("b.admin", PASSWORD).await,
        stranger: t.login("x.admin", PASSWORD).await,
        operator: t.login("op.admin", PASSWORD).await,
        invoice_id,
    }
}

fn account(no: &str) -> Value {
    json!({"account_no": no, "bank_name": "中国工商银行重庆解放碑支行", "holder_name": "测试supplier101有限公司"})
}

async fn put(api: &Api, path: &str, body: Value) -> (StatusCode, Value) {
    let r = api.send(Method::PUT, path, Some(body)).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Registers the receivable as financed by `bank_id` the way the registration module stores it
/// (migration 0008): a registration naming the bank, and the claim on the invoice.
async fn register_financing(t: &TestApp, w: &World) {
    let reg_id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO registration (id, reference, fingerprint, creditor_org_id, creditor_uscc, debtor_uscc, \
         financier_org_id, amount_fen, due_date, invoice_nos, status, registered_by_org_id, registered_by, \
         registered_at_ms) VALUES ($1, 'LR-REG-2026-000001', 'f', $2, $3, $4, $5, 50000, NULL, $6, 'active', $2, \
         's.admin', $7)",
    )
    .bind(&reg_id)
    .bind(&w.supplier_id)
    .bind(code(101))
    .bind(code(100))
    .bind(&w.bank_id)
    .bind(einvoice(ISSUED_DAYS, 951))
    .bind(lianrong_app::now_ms())
    .execute(&t.app.db.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO registration_claim (invoice_key, invoice_id, registration_id) VALUES ($1, $2, $3)")
        .bind(format!("{}|{}", code(101), einvoice(ISSUED_DAYS, 951)))
        .bind(&w.invoice_id)
        .bind(&reg_id)
        .execute(&t.app.db.pool)
        .await
        .unwrap();
}

async fn refusals(t: &TestApp, action: &str, code: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE action = $1 AND outcome = 'refused' AND detail LIKE $2")
        .bind(action)
        .bind(format!("{code}%"))
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_account_is_bound_sealed_and_changed_only_with_every_required_consent() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let path = format!("/api/v1/receivables/{}/collection-account", w.invoice_id);
    let changes = format!("{path}/changes");

    // Nothing bound yet; the debtor sees that too.
    let (status, s) = w.core.get(&path).await;
    assert_eq!((status, &s["account"], s["relation"].as_str()), (StatusCode::OK, &Value::Null, Some("debtor")), "{s}");

    // Bad input is refused by field, and the refusal audited.
    for (body, field, code) in [
        (account("6222 02AB 1234 5678"), "account_no", "account_no_not_digits"),
        (account("12345678"), "account_no", "account_no_too_short"),
        (account(&"1".repeat(31)), "account_no", "account_no_too_long"),
        (json!({"account_no": ACCOUNT_A, "bank_name": " ", "holder_name": "某公司"}), "bank_name", "name_required"),
        (json!({"account_no": ACCOUNT_A, "bank_name": "某银行", "holder_name": ""}), "holder_name", "name_required"),
    ] {
        let (status, e) = put(&w.supplier, &path, body).await;
        assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(e["field"], field, "{e}");
    }
    assert_eq!(refusals(&t, "collection_account.bind", "account_no_not_digits").await, 1);

    // Only the creditor binds; a stranger is told the receivable does not exist.
    let (status, e) = put(&w.core, &path, account(ACCOUNT_A)).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    let (status, e) = put(&w.stranger, &path, account(ACCOUNT_A)).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    let (status, e) = w.stranger.get(&path).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");

    let (status, s) = put(&w.supplier, &path, account(ACCOUNT_A_TYPED)).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    assert_eq!((s["account"]["masked"].as_str(), s["account"]["version"].as_i64()), (Some("**** 3445"), Some(1)));
    assert!(s["account"].get("account_no").is_none(), "no number unless revealed: {s}");

    // The database holds the number only sealed: not in the account row, not in the audit trail.
    let row: (String, String, String, String, String) = sqlx::query_as(
        "SELECT account_sealed, account_sm3, account_last4, bank_name, holder_name FROM collection_account \
         WHERE invoice_id = $1",
    )
    .bind(&w.invoice_id)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    for column in [&row.0, &row.1, &row.2, &row.3, &row.4] {
        assert!(!column.contains(ACCOUNT_A) && !column.contains("0011223"), "plaintext stored: {column}");
    }
    assert!(row.0.starts_with("v1:"), "{}", row.0);
    // The digest is keyed: the platform's own, and not the plain SM3 anyone could recompute from a guess.
    assert_eq!(row.1, t.app.secret().account_digest().of(ACCOUNT_A));
    assert_ne!(row.1, lianrong_app::sm3_hex(ACCOUNT_A.as_bytes()));
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_event").fetch_all(&t.app.db.pool).await.unwrap();
    assert!(details.iter().all(|d| !d.contains(ACCOUNT_A)), "{details:?}");
    // A sealed value moved onto another row does not open there.
    let place = lianrong_app::secret::aad("collection_account", "account_sealed", "another-invoice");
    assert!(t.app.secret().open(&row.0, &place).is_err());

    // The creditor may reveal the number (audited); the debtor sees the last four digits only.
    let (status, s) = w.supplier.get(&format!("{path}?reveal=true")).await;
    assert_eq!((status, s["account"]["account_no"].as_str()), (StatusCode::OK, Some(ACCOUNT_A)), "{s}");
    let (status, e) = w.core.get(&format!("{path}?reveal=true")).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    let (_, s) = w.core.get(&path).await;
    assert_eq!(s["account"]["masked"], "**** 3445");
    assert!(!s.to_string().contains(ACCOUNT_A));

    // Binding again is no way to change it.
    let (status, e) = put(&w.supplier, &path, account(ACCOUNT_B)).await;
    assert_problem(status, &e, StatusCode::CONFLICT, "collection_account_bound");
    assert_eq!(refusals(&t, "collection_account.bind", "collection_account_bound").await, 1);

    // The creditor proposes a change: pending until the debtor consents.
    let (status, c) = w.supplier.post(&changes, json!({"account_no": ACCOUNT_B, "bank_name": "中国建设银行上海分行", "holder_name": "测试supplier101有限公司", "reason": "开户行调整"})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(c["status"], "pending");
    assert_eq!(c["awaiting_org_ids"], json!([w.core_id]), "{c}");
    let change_id = c["id"].as_str().unwrap().to_string();
    let (status, e) = w.supplier.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_problem(status, &e, StatusCode::CONFLICT, "already_consented");
    assert_eq!(refusals(&t, "collection_account.consent", "already_consented").await, 1);
    let (status, e) = w.core.post(&changes, account(ACCOUNT_C)).await;
    assert_problem(status, &e, StatusCode::CONFLICT, "change_pending");
    let (status, e) = w.stranger.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    // The operator sees the receivable as custodian (masked), but it is no party whose consent counts.
    let (status, s) = w.operator.get(&path).await;
    assert_eq!((status, s["relation"].as_str()), (StatusCode::OK, Some("custodian")), "{s}");
    let (status, e) = w.operator.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(refusals(&t, "collection_account.consent", "Your role does not allow").await, 1);
    let (_, s) = w.core.get(&path).await;
    assert_eq!(
        (s["account"]["masked"].as_str(), s["pending_change_id"].as_str()),
        (Some("**** 3445"), Some(change_id.as_str()))
    );

    // The debtor consents: the change applies, as version 2.
    let (status, c) = w.core.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::OK, Some("applied")), "{c}");
    let (_, s) = w.core.get(&path).await;
    assert_eq!(
        (s["account"]["masked"].as_str(), s["account"]["version"].as_i64()),
        (Some("**** 0123"), Some(2)),
        "{s}"
    );
    let (_, s) = w.supplier.get(&format!("{path}?reveal=true")).await;
    assert_eq!(s["account"]["account_no"], ACCOUNT_B, "re-sealed for the account row, it opens there");
    let (status, e) = w.core.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_problem(status, &e, StatusCode::CONFLICT, "change_closed");

    // Once the receivable is financed, the bank must consent too; until then it cannot even see it.
    let (status, _) = w.bank.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    register_financing(&t, &w).await;
    let (status, s) = w.bank.get(&path).await;
    assert_eq!((status, s["relation"].as_str()), (StatusCode::OK, Some("financier")), "{s}");
    let (status, c) = w.core.post(&changes, account(ACCOUNT_C)).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let mut awaiting = vec![w.supplier_id.clone(), w.bank_id.clone()];
    awaiting.sort();
    assert_eq!(c["awaiting_org_ids"], json!(awaiting), "{c}");
    let change_id = c["id"].as_str().unwrap().to_string();
    // The proposer alone may withdraw; the creditor's consent leaves it pending for the bank.
    let (status, e) = w.supplier.post(&format!("{changes}/{change_id}/withdraw"), json!({})).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    let (status, c) = w.supplier.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::OK, Some("pending")), "{c}");
    assert_eq!(c["awaiting_org_ids"], json!([w.bank_id]), "{c}");
    let (_, s) = w.bank.get(&path).await;
    assert_eq!(s["account"]["masked"], "**** 0123", "not applied without the bank");
    let (status, c) = w.bank.post(&format!("{changes}/{change_id}/consent"), json!({})).await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::OK, Some("applied")), "{c}");
    assert_eq!(c["consents"].as_array().unwrap().len(), 3, "{c}");
    let (_, s) = w.bank.get(&path).await;
    assert_eq!((s["account"]["masked"].as_str(), s["account"]["version"].as_i64()), (Some("**** 2345"), Some(3)));
    // Each account fixed is a leaf of the verifiable log, naming the account by digest, never by number;
    // the bank that consented reads the leaf of the version it agreed to (once the sequencer has placed
    // the latest one in the tree).
    lianrong_app::log::integrate_all(&t.app).await.unwrap();
    let (_, leaves) = w.supplier.get("/api/v1/log/entries?kind=collection_account").await;
    let data: Vec<Value> = leaves["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l["data"].as_str().unwrap()).unwrap())
        .collect();
    let versions: Vec<i64> = data.iter().map(|d| d["entry"]["version"].as_i64().unwrap()).collect();
    assert_eq!(versions.iter().copied().collect::<std::collections::BTreeSet<_>>(), [1, 2, 3].into(), "{leaves}");
    assert!(!leaves.to_string().contains(ACCOUNT_C), "no account number in the log: {leaves}");
    let (_, leaves) = w.bank.get("/api/v1/log/entries?kind=collection_account").await;
    assert!(leaves.to_string().contains(&w.bank_id), "the bank's consent is on the leaf it can read: {leaves}");

    // A change can be withdrawn by its proposer, or declined by another party; neither touches the account.
    let (_, c) = w.supplier.post(&changes, account(ACCOUNT_A)).await;
    let id = c["id"].as_str().unwrap().to_string();
    let (status, c) = w.supplier.post(&format!("{changes}/{id}/withdraw"), json!({})).await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{c}");
    let (_, c) = w.supplier.post(&changes, account(ACCOUNT_A)).await;
    let id = c["id"].as_str().unwrap().to_string();
    let (status, c) = w.bank.post(&format!("{changes}/{id}/decline"), json!({"reason": "须经银行监管账户"})).await;
    assert_eq!(
        (status, c["status"].as_str(), c["close_reason"].as_str()),
        (StatusCode::OK, Some("refused"), Some("须经银行监管账户")),
        "{c}"
    );
    let (_, list) = w.core.get(&changes).await;
    let statuses: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["refused", "withdrawn", "applied", "applied"], "{list}");
    let (_, s) = w.core.get(&path).await;
    assert_eq!(s["account"]["version"], 3);

    // The console shows the masked account to the debtor, never the number.
    let page =
        w.core.send(Method::GET, &format!("/receivables/{}/account", w.invoice_id), None).await.text().await.unwrap();
    assert!(page.contains("**** 2345") && !page.contains(ACCOUNT_C), "{page}");
    assert!(page.contains("data-status=\"refused\""), "{page}");
}

async fn verdict(api: &Api, invoice_id: &str) -> (String, Vec<String>) {
    let (status, v) = api.get(&format!("/api/v1/verifications/{invoice_id}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let codes =
        v["discrepancies"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect();
    (v["status"].as_str().unwrap().to_string(), codes)
}

#[tokio::test]
async fn a_payment_to_an_account_other_than_the_fixed_one_is_flagged() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let path = format!("/api/v1/receivables/{}/collection-account", w.invoice_id);
    let (c100, c101) = (code(100), code(101));
    // The debtor pays ¥200 into account B, typed with hyphens, before any account is fixed: fine.
    let (status, r) = w
        .core
        .post(
            "/api/v1/submissions",
            json!({"records": [{"record_type": "payment", "payment_no": "PAY-51", "payment_date": ymd(-189), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "200.00", "invoice_refs": einvoice(ISSUED_DAYS, 951), "payee_account": "3105-0161-3936-0000-0123"}]}),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    assert_eq!(verdict(&w.core, &w.invoice_id).await, ("verified".to_string(), vec![]));

    // The creditor fixes account A: the pair is verified again at once, and the payment into B is flagged.
    let (status, s) = put(&w.supplier, &path, account(ACCOUNT_A)).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    assert_eq!(
        verdict(&w.core, &w.invoice_id).await,
        ("inconsistent".to_string(), vec!["payment_other_account".to_string()])
    );

    // A later payment into A (typed with spaces) is not flagged by itself, but B's still is.
    let (_, r) = w
        .core
        .post(
            "/api/v1/submissions",
            json!({"records": [{"record_type": "payment", "payment_no": "PAY-52", "payment_date": ymd(-185), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "100.00", "invoice_refs": einvoice(ISSUED_DAYS, 951), "payee_account": ACCOUNT_A_TYPED}]}),
        )
        .await;
    assert_eq!(r["accepted"], 1, "{r}");
    assert_eq!(verdict(&w.core, &w.invoice_id).await.1, vec!["payment_other_account".to_string()]);

    // Both parties agree the fixed account is B after all; PAY-52 into A is now the one made elsewhere.
    let (_, c) = w.supplier.post(&format!("{path}/changes"), account(ACCOUNT_B)).await;
    let id = c["id"].as_str().unwrap().to_string();
    let (_, c) = w.core.post(&format!("{path}/changes/{id}/consent"), json!({})).await;
    assert_eq!(c["status"], "applied", "{c}");
    assert_eq!(verdict(&w.core, &w.invoice_id).await.1, vec!["payment_other_account".to_string()]);

    // With only payments into the fixed account, nothing is flagged: a receivable of its own, paid into C.
    let (_, r) = w
        .core
        .post(
            "/api/v1/submissions",
            json!({"records": [
                {"record_type": "invoice", "invoice_no": einvoice(-201, 952), "issue_date": ymd(-201), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "80.00"},
                {"record_type": "payment", "payment_no": "PAY-53", "payment_date": ymd(-180), "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "80.00", "invoice_refs": einvoice(-201, 952), "payee_account": ACCOUNT_C},
            ]}),
        )
        .await;
    assert_eq!(r["accepted"], 2, "{r}");
    let (_, list) = w.core.get(&format!("/api/v1/trade-records?doc_no={}", einvoice(-201, 952))).await;
    let second = list["items"][0]["id"].as_str().unwrap().to_string();
    let (status, _) =
        put(&w.supplier, &format!("/api/v1/receivables/{second}/collection-account"), account(ACCOUNT_C)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!verdict(&w.core, &second).await.1.contains(&"payment_other_account".to_string()));
}

#[tokio::test]
async fn a_database_opens_only_under_the_key_its_fields_were_sealed_with() {
    use lianrong_app::App;
    use lianrong_app::secret::SecretKey;
    let url = crate::common::fresh_database_url().await;
    let lake = crate::common::fresh_lake_url();
    let key = SecretKey::random().unwrap();
    let app = App::open_with(&url, &lake, &key).await.unwrap();
    let sealed = app.secret().seal(ACCOUNT_A.as_bytes(), b"t.c:1").unwrap();
    app.db.pool.close().await;
    // Another key is refused at start, before it could seal anything beside the old values.
    let e = App::open_with(&url, &lake, &SecretKey::random().unwrap()).await.unwrap_err();
    assert_eq!(e.code, "secret_key_mismatch", "{e:?}");
    // The right key opens the database and its values again.
    let app = App::open_with(&url, &lake, &key).await.unwrap();
    assert_eq!(app.secret().open(&sealed, b"t.c:1").unwrap().as_slice(), ACCOUNT_A.as_bytes());
}

#[tokio::test]
async fn two_changes_proposed_at_once_cannot_both_be_pending() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let path = format!("/api/v1/receivables/{}/collection-account", w.invoice_id);
    let (status, _) = put(&w.supplier, &path, account(ACCOUNT_A)).await;
    assert_eq!(status, StatusCode::CREATED);
    let changes = format!("{path}/changes");
    let (a, b) = tokio::join!(w.supplier.post(&changes, account(ACCOUNT_B)), w.core.post(&changes, account(ACCOUNT_C)));
    let mut statuses = vec![a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::CREATED, StatusCode::CONFLICT], "{} {}", a.1, b.1);
    let loser = if a.0 == StatusCode::CONFLICT { &a.1 } else { &b.1 };
    assert_eq!(loser["code"], "change_pending", "{loser}");
}
