//! Every business rule is judged on the app's business date, never on the wall clock: the same database
//! served by an app pinned three years ahead accepts documents dated in what is still the future for the
//! wall clock, ages a receivable by the pinned date, numbers a registration in the pinned year and takes a
//! consent that would run too long from today's date — while an app on today's date judges the same
//! facts by today.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, code, day, einvoice, serve_app, spawn_app, ymd};

/// Days from the run's business date to the later one: three years and forty days (another year,
/// whatever today is).
const AHEAD_DAYS: i64 = 3 * 365 + 40;

/// A verified sale of supplier 101 to core 100 on 30 days' term, issued 50 days before the later date;
/// answers the records and the invoice number.
fn trade() -> (Value, String) {
    let (b, s) = (code(100), code(101));
    let at = |days: i64| ymd(AHEAD_DAYS + days);
    let no = einvoice(AHEAD_DAYS - 50, 1);
    let records = json!({"records": [
        {"record_type": "order", "order_no": "PO-F1", "order_date": at(-60), "buyer_uscc": b, "seller_uscc": s, "total_amount": "1000.00", "term_days": "30"},
        {"record_type": "delivery", "delivery_no": "DN-F1", "delivery_date": at(-56), "order_refs": "PO-F1", "buyer_uscc": b, "seller_uscc": s, "total_amount": "1000.00", "acceptance_status": "accepted", "accepted_date": at(-55)},
        {"record_type": "invoice", "invoice_no": no, "issue_date": at(-50), "buyer_uscc": b, "seller_uscc": s, "total_amount": "1000.00", "order_refs": "PO-F1", "delivery_refs": "DN-F1"},
    ]});
    (records, no)
}

#[tokio::test]
async fn every_rule_is_judged_on_the_business_date_not_the_wall_clock() {
    let now = spawn_app().await;
    now.org_with_admin(100, "core", "c.admin").await;
    now.org_with_admin(101, "supplier", "s.admin").await;
    let bank_id = now.org_with_admin(104, "bank", "b.admin").await;
    // The same database, judged three years and forty days ahead (another year, whatever today is).
    let future = day(AHEAD_DAYS);
    let later: TestApp = serve_app(now.app.clone().with_business_date(future)).await;
    assert_eq!(later.app.today(), future);
    assert_eq!(now.app.today(), crate::common::today(), "the first app keeps its own date");
    let (supplier_now, supplier_later) = (now.login("s.admin", PASSWORD).await, later.login("s.admin", PASSWORD).await);
    let (records, no) = trade();

    // Documents are "from the future" only relative to the business date.
    let (status, r) = supplier_now.post("/api/v1/submissions", records.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["accepted"], 0, "dated after today's business date: {r}");
    assert!(r["row_errors"].as_array().unwrap().iter().any(|e| e["code"] == "date_in_future"), "{r}");
    let (status, r) = supplier_later.post("/api/v1/submissions", records).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(3)), "{r}");

    // The receivable fell due 30 days after delivery: overdue by the later date, not by today's.
    let overdue = async |api: &crate::common::Api| {
        let (status, owed) = api.get("/api/v1/receivables?side=creditor").await;
        assert_eq!(status, StatusCode::OK, "{owed}");
        owed["items"][0].clone()
    };
    let r = overdue(&supplier_later).await;
    let due = jiff::civil::Date::strptime("%Y-%m-%d", r["due_date"].as_str().unwrap()).unwrap();
    assert_eq!(due, day(AHEAD_DAYS - 26), "{r}");
    assert_eq!(r["overdue_days"], 26, "{r}");
    assert_eq!(r["data_only_ineligibility"], json!(["overdue"]), "{r}");
    let r = overdue(&supplier_now).await;
    assert_eq!((r["overdue_days"].as_i64(), r["data_only_eligible"].as_bool()), (Some(0), Some(true)), "{r}");

    // A registration is numbered in the business date's year.
    let (_, list) = supplier_later.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
    let invoice_id = list["items"][0]["id"].as_str().unwrap().to_string();
    let (status, reg) = supplier_later
        .post("/api/v1/registrations", json!({"invoice_ids": [invoice_id], "financier_org_id": bank_id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    assert_eq!(reg["reference"], format!("LR-REG-{}-000001", future.year()), "{reg}");

    // A consent may run twelve months from the business date: from today's date the same end is too late.
    let until = ymd(AHEAD_DAYS + 30);
    let grant =
        json!({"bank_org_id": bank_id, "categories": ["receivables"], "purpose": "授信审查", "valid_until": until});
    let (status, e) = supplier_now.post("/api/v1/consents", grant.clone()).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("valid_until_too_late")), "{e}");
    let (status, c) = supplier_later.post("/api/v1/consents", grant).await;
    assert_eq!((status, c["state"].as_str()), (StatusCode::CREATED, Some("granted")), "{c}");
}
