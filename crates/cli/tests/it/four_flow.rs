//! Four-flow verification's two paths: the full run reads the whole trade in one pass and writes in bulk,
//! a submission's verification reads its pairs one by one; both must give the same verdicts, and each
//! writes only the verdicts that changed.

use lianrong_app::Actor;
use lianrong_app::App;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Api, PASSWORD, TestApp, code, spawn_app};

/// Every stored verdict as one line, its write time aside, in invoice order.
async fn verdicts(app: &App) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT invoice_id || '|' || buyer_uscc || '|' || seller_uscc || '|' || status || '|' || invoiced_fen \
         || '|' || paid_fen || '|' || credited_fen || '|' || reversed_fen || '|' || discrepancies || '|' || evidence \
         || '|' || COALESCE(delivered_date, '-') || '|' || COALESCE(due_date, '-') || '|' || outstanding_fen \
         FROM verification ORDER BY invoice_id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// When each verdict was last written, in invoice order.
async fn stamps(app: &App) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT invoice_id, verified_at_ms FROM verification ORDER BY invoice_id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

/// When each verdict was last written, by invoice number.
async fn stamps_by_number(app: &App) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT r.doc_no, v.verified_at_ms FROM verification v JOIN trade_record r ON r.id = v.invoice_id \
         ORDER BY r.doc_no",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

async fn exec(app: &App, sql: &'static str) {
    sqlx::query(sql).execute(&app.db.pool).await.unwrap();
}

#[tokio::test]
async fn the_one_pass_run_and_the_pair_by_pair_run_give_the_same_verdicts() {
    let (t, _) = crate::common::spawn_demo_with_trade().await;
    let app = &t.app;
    // The verdicts each submission's own (pair by pair) verification left.
    let reference = verdicts(app).await;
    assert!(reference.len() > 500, "{}", reference.len());
    for status in ["|verified|", "|inconsistent|"] {
        assert!(reference.iter().any(|v| v.contains(status)), "the demo's trade gives {status} verdicts");
    }
    // From nothing, in one pass: the same rows.
    exec(app, "DELETE FROM verification").await;
    let judged = lianrong_app::four_flow::verify_all_in_one_pass(app).await.unwrap();
    assert_eq!(judged as usize, reference.len());
    assert_eq!(verdicts(app).await, reference, "one pass from nothing");
    // From nothing, pair by pair: the same rows again.
    exec(app, "DELETE FROM verification").await;
    lianrong_app::four_flow::verify_all_pair_by_pair(app).await.unwrap();
    assert_eq!(verdicts(app).await, reference, "pair by pair from nothing");
    // A run over current verdicts rewrites none of them, so their write times stay.
    let before = stamps(app).await;
    lianrong_app::four_flow::verify_all_in_one_pass(app).await.unwrap();
    assert_eq!(stamps(app).await, before, "an unchanged verdict is not rewritten");
    // Drifted verdicts are put right, and only they: one altered, one missing, one for a red invoice
    // (which never has a verdict of its own).
    exec(app, "UPDATE verification SET status = 'verified', verified_at_ms = 1 WHERE invoice_id = (SELECT MIN(invoice_id) FROM verification WHERE status = 'inconsistent')").await;
    exec(app, "DELETE FROM verification WHERE invoice_id = (SELECT MAX(invoice_id) FROM verification)").await;
    exec(
        app,
        "INSERT INTO verification (invoice_id, buyer_uscc, seller_uscc, status, invoiced_fen, paid_fen, credited_fen, \
         reversed_fen, discrepancies, evidence, verified_at_ms, outstanding_fen) \
         SELECT id, buyer_uscc, seller_uscc, 'verified', 1, 0, 0, 0, '', '{}', 1, 1 FROM trade_record \
         WHERE id = (SELECT MIN(id) FROM trade_record WHERE invoice_kind = 'red')",
    )
    .await;
    let stray: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verification WHERE verified_at_ms = 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stray, 2, "the test altered one verdict and added one");
    lianrong_app::four_flow::verify_all_in_one_pass(app).await.unwrap();
    assert_eq!(verdicts(app).await, reference, "the drift is undone");
    let after = stamps(app).await;
    let kept = before.iter().filter(|s| after.contains(s)).count();
    assert_eq!(kept, before.len() - 2, "only the altered and the missing verdict were written");
    // The operator's full run (the pass, then the pairs submissions changed meanwhile) agrees too.
    lianrong_app::four_flow::verify_all(app).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(verdicts(app).await, reference);
}

/// A supplier and its core with the supplier's admin `s1.admin` and the core's `c.admin`.
async fn pair_world(t: &TestApp) -> (Api, String, String) {
    let system = Actor::system("system");
    let core = t.org_with_admin(100, "core", "c.admin").await;
    let supplier = t.org_with_admin(101, "supplier", "s1.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "测试产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &supplier, "supplier", Some(1)).await.unwrap();
    (t.login("c.admin", PASSWORD).await, code(100), code(101))
}

/// After a small submission, the pair's verification writes exactly the verdicts whose evidence changed.
#[tokio::test]
async fn a_small_submission_rewrites_exactly_the_verdicts_it_affects() {
    let t = spawn_app().await;
    let (core, buyer, seller) = pair_world(&t).await;
    let mut records = Vec::new();
    for i in 1..=6 {
        let amount = format!("{}.00", 100 * i);
        records.push(json!({"record_type": "order", "order_no": format!("PO-{i}"), "order_date": "2026-05-01", "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": amount}));
        records.push(json!({"record_type": "delivery", "delivery_no": format!("DN-{i}"), "delivery_date": "2026-05-05", "order_refs": format!("PO-{i}"), "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": amount, "acceptance_status": "accepted", "accepted_date": "2026-05-06"}));
        records.push(json!({"record_type": "invoice", "invoice_no": format!("2650000000000000090{i}"), "issue_date": "2026-05-12", "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": amount, "order_refs": format!("PO-{i}")}));
    }
    let (status, r) = core.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(18)), "{r}");
    let before = stamps_by_number(&t.app).await;
    let lines = verdicts(&t.app).await;
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l.contains("|verified|")), "{lines:?}");
    // A payment of the third invoice, and a rejected delivery's statement for the fifth's goods arrive.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, r) = core
        .post(
            "/api/v1/submissions",
            json!({ "records": [
                {"record_type": "payment", "payment_no": "PAY-3", "payment_date": "2026-06-01", "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": "300.00", "invoice_refs": "26500000000000000903"},
                {"record_type": "delivery", "delivery_no": "DN-5", "delivery_date": "2026-05-05", "order_refs": "PO-5", "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": "500.00", "acceptance_status": "rejected", "accepted_date": "2026-05-06"},
            ]}),
        )
        .await;
    assert_eq!(r["accepted"], 2, "{r}");
    let after = stamps_by_number(&t.app).await;
    let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(
        changed,
        vec!["26500000000000000903", "26500000000000000905"],
        "the third and fifth invoices' verdicts, no other: {before:?} {after:?}"
    );
    let line = |no: &'static str| {
        let app = t.app.clone();
        async move {
            let l: String = sqlx::query_scalar(
                "SELECT v.status || '|' || v.paid_fen || '|' || v.discrepancies FROM verification v \
                 JOIN trade_record r ON r.id = v.invoice_id WHERE r.doc_no = $1",
            )
            .bind(no)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            l
        }
    };
    assert_eq!(line("26500000000000000903").await, "verified|30000|");
    assert_eq!(line("26500000000000000905").await, "inconsistent|0|delivery_rejected");
    // A full run afterwards finds nothing to change.
    lianrong_app::four_flow::verify_all_in_one_pass(&t.app).await.unwrap();
    assert_eq!(stamps_by_number(&t.app).await, after);
}
