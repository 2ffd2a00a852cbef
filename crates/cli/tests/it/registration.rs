//! Registration of receivables against double financing, end to end through the API and the console: a
//! second (or overlapping, or simultaneous) registration is refused with the first one's reference,
//! release frees the invoices, other organisations can neither register nor release nor read, the
//! exports read back with the right amounts and the financing platform's confirmations import row by row.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, assert_problem, code, spawn_app};

/// A core (100) buying from supplier 101 (the creditor under test) and supplier 102; bank 104 finances;
/// core 200 is a stranger.
struct World {
    core: Api,
    supplier: Api,
    other_supplier: Api,
    bank: Api,
    stranger: Api,
    bank_id: String,
    core_id: String,
}

async fn world(t: &TestApp) -> World {
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    t.org_with_admin(101, "supplier", "s1.admin").await;
    t.org_with_admin(102, "supplier", "s2.admin").await;
    let bank_id = t.org_with_admin(104, "bank", "b.admin").await;
    t.org_with_admin(200, "core", "x.admin").await;
    let w = World {
        core: t.login("c.admin", PASSWORD).await,
        supplier: t.login("s1.admin", PASSWORD).await,
        other_supplier: t.login("s2.admin", PASSWORD).await,
        bank: t.login("b.admin", PASSWORD).await,
        stranger: t.login("x.admin", PASSWORD).await,
        bank_id,
        core_id,
    };
    let (c100, c101, c102) = (code(100), code(101), code(102));
    // Each invoice has its own order (90 days' term) and accepted delivery of the same amount, so its
    // four-flow verdict is verified and the whole amount is owed; 905 is paid in full.
    let mut records = Vec::new();
    for (no, seller, amount) in [
        ("901", &c101, "100.00"),
        ("902", &c101, "200.50"),
        ("903", &c101, "300.00"),
        ("904", &c102, "400.00"),
        ("905", &c101, "50.00"),
    ] {
        let (po, dn) = (format!("PO-{no}"), format!("DN-{no}"));
        records.push(json!({"record_type": "order", "order_no": po, "order_date": "2026-05-01", "buyer_uscc": c100,
            "seller_uscc": seller, "total_amount": amount, "term_days": "90"}));
        records.push(
            json!({"record_type": "delivery", "delivery_no": dn, "delivery_date": "2026-05-05", "order_refs": po,
            "buyer_uscc": c100, "seller_uscc": seller, "total_amount": amount, "acceptance_status": "accepted",
            "accepted_date": "2026-05-06"}),
        );
        records.push(json!({"record_type": "invoice", "invoice_no": format!("265000000000000009{}", &no[1..]),
            "issue_date": "2026-05-12", "buyer_uscc": c100, "seller_uscc": seller, "total_amount": amount, "order_refs": po}));
    }
    records.push(
        json!({"record_type": "payment", "payment_no": "PAY-5", "payment_date": "2026-06-01", "buyer_uscc": c100,
        "seller_uscc": c101, "total_amount": "50.00", "invoice_refs": "26500000000000000905"}),
    );
    let (status, r) = w.core.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(16)), "{r}");
    // An invoice of 101 to a buyer that is not on the platform, shared by 101 itself.
    let (status, r) = w
        .supplier
        .post(
            "/api/v1/submissions",
            json!({"records": [{"record_type": "invoice", "invoice_no": "26500000000000000906", "issue_date": "2026-05-12",
                "buyer_uscc": code(300), "seller_uscc": c101, "total_amount": "70.00"}]}),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    w
}

async fn invoice_id(api: &Api, no: &str) -> String {
    let (_, list) = api.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
    list["items"][0]["id"].as_str().unwrap_or_else(|| panic!("invoice {no}: {list}")).to_string()
}

async fn ids(w: &World, nos: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for no in nos {
        // The creditor looks its invoices up (906's buyer is not on the platform); 904 is 102's.
        let api = if *no == "04" { &w.other_supplier } else { &w.supplier };
        out.push(invoice_id(api, &format!("265000000000000009{no}")).await);
    }
    out
}

fn year() -> String {
    crate::common::today().year().to_string()
}

async fn refusals(t: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE action = $1 AND outcome = 'refused'")
        .bind(action)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_second_or_overlapping_registration_is_refused_with_the_first_reference() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let inv = ids(&w, &["01", "02", "03", "04", "05", "06"]).await;

    let (status, first) = w
        .supplier
        .post("/api/v1/registrations", json!({"invoice_ids": [inv[1], inv[0]], "financier_org_id": w.bank_id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let reference = first["reference"].as_str().unwrap().to_string();
    assert_eq!(reference, format!("LR-REG-{}-000001", year()));
    assert_eq!(first["amount_fen"], 30_050, "the outstanding amounts of both invoices: {first}");
    assert_eq!(first["status"], "active");
    assert_eq!(first["kind"], "pledge");
    assert_eq!(first["term_months"], 12, "a year by default, or until the due date when that is later");
    assert_eq!(first["debtor_uscc"], code(100));
    assert_eq!(first["financier_org_id"], w.bank_id.as_str());
    assert_eq!(first["fingerprint"].as_str().unwrap().len(), 64);
    let nos: Vec<&str> =
        first["invoices"].as_array().unwrap().iter().map(|i| i["invoice_no"].as_str().unwrap()).collect();
    assert_eq!(nos, vec!["26500000000000000901", "26500000000000000902"]);
    // The registration is a log leaf that its parties (creditor, debtor, financier) may read.
    let leaf = first["log_leaf_id"].clone();
    for party in [&w.supplier, &w.core, &w.bank] {
        let (status, e) = party.log_leaf(&leaf).await;
        assert_eq!(status, StatusCode::OK, "{e}");
        assert_eq!(e["leaf"]["kind"], "registration", "{e}");
    }
    assert_eq!(w.stranger.log_leaf(&leaf).await.0, StatusCode::NOT_FOUND);

    // The same receivable again, in another order: refused, naming the first registration.
    let (status, again) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[0], inv[1]]})).await;
    assert_problem(status, &again, StatusCode::CONFLICT, "already_registered");
    assert_eq!(again["reference"], reference.as_str(), "{again}");
    assert!(again["message_zh"].as_str().unwrap().contains(&reference), "{again}");
    assert!(again["message_en"].as_str().unwrap().contains(&reference), "{again}");
    // A receivable sharing one invoice with it: refused too.
    let (status, partial) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[2], inv[1]]})).await;
    assert_problem(status, &partial, StatusCode::CONFLICT, "already_registered");
    assert_eq!(partial["reference"], reference.as_str());
    assert_eq!(refusals(&t, "registration.register").await, 2, "both refusals are audited");
    // The invoice left out is free.
    let (status, third) = w
        .supplier
        .post("/api/v1/registrations", json!({"invoice_ids": [inv[2]], "kind": "factoring", "term_months": 6}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    assert_eq!(third["reference"], format!("LR-REG-{}-000002", year()));
    assert_eq!((third["kind"].as_str(), third["term_months"].as_i64()), (Some("factoring"), Some(6)));

    // Bad input, each refused with its own code and audited.
    let (status, e) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[4]]})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "nothing_outstanding");
    let (status, e) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[5], inv[2]]})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "mixed_parties");
    let (status, e) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": []})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "invoice_ids_required");
    let (status, e) =
        w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[5]], "financier_org_id": w.core_id})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "financier_not_bank");
    let (status, e) =
        w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[5]], "term_months": 361})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "term_months_out_of_range");
    // Across organisations: another creditor's invoice is not found; the debtor may not register it.
    let (status, e) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[3]]})).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    let (status, e) = w.other_supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[5]]})).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    let (status, e) = w.core.post("/api/v1/registrations", json!({"invoice_ids": [inv[2]]})).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    let (status, e) = w.bank.post("/api/v1/registrations", json!({"invoice_ids": [inv[5]]})).await;
    assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(refusals(&t, "registration.register").await, 11, "every refusal is audited");

    // Who reads: creditor, debtor, financier; not a stranger.
    let id = first["id"].as_str().unwrap();
    for party in [&w.supplier, &w.core, &w.bank] {
        let (status, r) = party.get(&format!("/api/v1/registrations/{id}")).await;
        assert_eq!((status, r["reference"].as_str()), (StatusCode::OK, Some(reference.as_str())), "{r}");
    }
    let (_, listed) = w.core.get("/api/v1/registrations").await;
    assert_eq!(listed["total"], 2, "the debtor sees both: {listed}");
    let (_, listed) = w.bank.get("/api/v1/registrations").await;
    assert_eq!(listed["total"], 1, "the financier sees the one it finances: {listed}");
    for outsider in [&w.stranger, &w.other_supplier] {
        assert_eq!(outsider.get(&format!("/api/v1/registrations/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(outsider.get("/api/v1/registrations").await.1["total"], 0);
        let (status, e) =
            outsider.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": "融资已结清"})).await;
        assert_problem(status, &e, StatusCode::NOT_FOUND, "not_found");
    }
    // The debtor may read but not release; nor may the creditor release what protects its financier.
    let (status, e) =
        w.core.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": "融资已结清"})).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "forbidden");
    let (status, e) =
        w.supplier.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": "融资已结清"})).await;
    assert_problem(status, &e, StatusCode::FORBIDDEN, "financier_releases");
    assert_eq!(e["reference"], reference.as_str(), "{e}");
    let (status, e) = w.bank.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": " "})).await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text");
    assert_eq!(refusals(&t, "registration.release").await, 5);

    // The national registry's certificate number is recorded by the creditor or the financier.
    let (status, e) = w
        .bank
        .post(&format!("/api/v1/registrations/{id}/certificate"), json!({"registry_certificate_no": "0 bad"}))
        .await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid_certificate_no");
    let (status, r) = w
        .bank
        .post(
            &format!("/api/v1/registrations/{id}/certificate"),
            json!({"registry_certificate_no": "06512345000123456789"}),
        )
        .await;
    assert_eq!((status, r["registry_certificate_no"].as_str()), (StatusCode::OK, Some("06512345000123456789")), "{r}");
    let (status, _) = w
        .stranger
        .post(&format!("/api/v1/registrations/{id}/certificate"), json!({"registry_certificate_no": "X1"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Release (by the financier here): the invoices are free again, and the release is a log leaf.
    let before: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM log_leaf WHERE kind = 'registration') \
         + (SELECT COUNT(*) FROM log_pending WHERE kind = 'registration')",
    )
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    let (status, released) =
        w.bank.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": "融资已结清"})).await;
    assert_eq!((status, released["status"].as_str()), (StatusCode::OK, Some("released")), "{released}");
    assert!(released["released_at"].is_string());
    assert_eq!(released["release_reason"], "融资已结清", "the release names why: {released}");
    let after: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM log_leaf WHERE kind = 'registration') \
         + (SELECT COUNT(*) FROM log_pending WHERE kind = 'registration')",
    )
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!(after, before + 1);
    let (status, e) =
        w.bank.post(&format!("/api/v1/registrations/{id}/release"), json!({"reason": "融资已结清"})).await;
    assert_problem(status, &e, StatusCode::CONFLICT, "already_released");
    let (status, again) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[0], inv[1]]})).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["reference"], format!("LR-REG-{}-000003", year()));
    assert_eq!(again["fingerprint"], first["fingerprint"], "the same receivable has the same fingerprint");
    let (_, active) = w.supplier.get("/api/v1/registrations?status=active").await;
    assert_eq!(active["total"], 2);
    let (_, released) = w.supplier.get("/api/v1/registrations?status=released").await;
    assert_eq!(released["total"], 1);
    // Another helper relies on this: the financier of the active registration claiming an invoice.
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    assert_eq!(lianrong_store::registration::active_financier(&mut conn, &inv[0]).await.unwrap(), None);
}

/// Twenty simultaneous registrations of one receivable: exactly one wins, every other one is refused
/// naming the winner — on SQLite and on PostgreSQL alike.
#[tokio::test]
async fn simultaneous_registrations_of_one_receivable_leave_exactly_one() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let inv = ids(&w, &["01", "02"]).await;
    let attempts = (0..20).map(|i| {
        let api = w.supplier.clone();
        // Half name the invoices in the other order: it is the same receivable.
        let body = if i % 2 == 0 {
            json!({"invoice_ids": [inv[0], inv[1]]})
        } else {
            json!({"invoice_ids": [inv[1], inv[0]]})
        };
        async move { api.post("/api/v1/registrations", body).await }
    });
    let answers = futures_join_all(attempts).await;
    let won: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert_eq!(won.len(), 1, "exactly one registration: {answers:?}");
    let reference = won[0]["reference"].as_str().unwrap();
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_problem(*status, body, StatusCode::CONFLICT, "already_registered");
        assert_eq!(body["reference"], reference, "{body}");
    }
    let claims: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM registration_claim").fetch_one(&t.app.db.pool).await.unwrap();
    let regs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM registration").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!((claims, regs), (2, 1));
    assert_eq!(refusals(&t, "registration.register").await, 19);
}

/// `join_all` without another dependency: spawn every attempt, then await them in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<(StatusCode, Value)>
where
    F: std::future::Future<Output = (StatusCode, Value)> + Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    text.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::String(s) => s.clone(),
                    calamine::Data::Empty => String::new(),
                    other => panic!("every cell is text, found {other:?}"),
                })
                .collect()
        })
        .collect()
}

async fn download(api: &Api, path: &str) -> (StatusCode, String, Vec<u8>) {
    let r = api.send(Method::GET, path, None).await;
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn exports_read_back_in_the_registries_terms_with_the_right_amounts() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let inv = ids(&w, &["01", "02", "03"]).await;
    let (status, first) = w
        .supplier
        .post("/api/v1/registrations", json!({"invoice_ids": [inv[0], inv[1]], "financier_org_id": w.bank_id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, second) = w.supplier.post("/api/v1/registrations", json!({"invoice_ids": [inv[2]]})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    // A released registration is not exported.
    let (status, _) = w
        .supplier
        .post(
            &format!("/api/v1/registrations/{}/release", second["id"].as_str().unwrap()),
            json!({"reason": "登记有误"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reference = first["reference"].as_str().unwrap();

    for file in ["csv", "xlsx"] {
        let (status, ct, bytes) =
            download(&w.supplier, &format!("/api/v1/registrations/export?format=zhongdeng&file={file}")).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        assert!(ct.contains(if file == "csv" { "text/csv" } else { "spreadsheetml" }), "{ct}");
        let rows = if file == "csv" { csv_rows(&bytes) } else { xlsx_rows(&bytes) };
        assert_eq!(rows.len(), 2, "a header and one active registration: {rows:?}");
        assert_eq!(rows[0][0], "登记类型");
        assert_eq!(rows[0][6], "应收账款金额(元)");
        let r = &rows[1];
        assert_eq!(r[0], "应收账款质押");
        assert_eq!((r[1].as_str(), r[2].as_str()), ("测试supplier101有限公司", code(101).as_str()));
        assert_eq!((r[3].as_str(), r[4].as_str()), ("测试bank104有限公司", code(104).as_str()));
        assert!(r[5].contains("26500000000000000901、26500000000000000902"), "{}", r[5]);
        assert_eq!(r[6], "300.50");
        assert_eq!(r[9], reference);

        let (status, _, bytes) =
            download(&w.supplier, &format!("/api/v1/registrations/export?format=crcrfsp&file={file}")).await;
        assert_eq!(status, StatusCode::OK);
        let rows = if file == "csv" { csv_rows(&bytes) } else { xlsx_rows(&bytes) };
        assert_eq!(rows.len(), 3, "one row per invoice: {rows:?}");
        assert_eq!(
            rows[0][..6],
            [
                "债务人名称",
                "债务人统一社会信用代码",
                "债权人名称",
                "债权人统一社会信用代码",
                "发票号码",
                "应收账款金额(元)"
            ]
        );
        let amounts: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[4].as_str(), r[5].as_str())).collect();
        assert_eq!(amounts, vec![("26500000000000000901", "100.00"), ("26500000000000000902", "200.50")]);
        assert!(rows[1..].iter().all(|r| r[1] == code(100) && r[7] == reference), "{rows:?}");
    }
    // The debtor exports the same registration; a stranger exports an empty file.
    let (_, _, bytes) = download(&w.core, "/api/v1/registrations/export?format=crcrfsp").await;
    assert_eq!(csv_rows(&bytes).len(), 3);
    let (_, _, bytes) = download(&w.stranger, "/api/v1/registrations/export?format=crcrfsp").await;
    assert_eq!(csv_rows(&bytes).len(), 1, "the header only");
    let (status, e) = w.supplier.get("/api/v1/registrations/export?format=swift").await;
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "unknown_export_format");
}

#[tokio::test]
async fn the_platforms_confirmation_file_imports_row_by_row_with_every_bad_row_named() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let inv = ids(&w, &["01", "03"]).await;
    let (c100, c101, c102, c200) = (code(100), code(101), code(102), code(200));
    let csv = format!(
        "债务人统一社会信用代码,债权人统一社会信用代码,发票号码,金额(元),确认结果,确认日期,平台编号\n\
         {c100},{c101},26500000000000000901,100.00,已确认,2026-06-01,ZZ-0001\n\
         {c100},{c101},26500000000000000903,300.00,已拒绝,2026/06/02,ZZ-0002\n\
         91500000MA5U000A5X,{c101},26500000000000000902,200.50,已确认,2026-06-01,ZZ-0003\n\
         {c100},{c101},26500000000000000999,1.00,已确认,2026-06-01,ZZ-0004\n\
         {c200},{c102},26500000000000000904,400.00,已确认,2026-06-01,ZZ-0005\n\
         {c100},{c101},26500000000000000902,200.50,也许,2026-06-01,\n"
    );
    // The debtor imports the platform's results for its payables.
    let resp = w.core.upload("/api/v1/registrations/confirmations/import", "确认结果.csv", csv.into_bytes()).await;
    let status = resp.status();
    let report: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(
        (report["rows_total"].as_u64(), report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(6), Some(2), Some(4)),
        "{report}"
    );
    let issues: Vec<(u64, &str, &str)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["row_no"].as_u64().unwrap(), i["field"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        issues,
        vec![
            (4, "debtor_uscc", "uscc_invalid"),
            (5, "invoice_no", "unknown_receivable"),
            (6, "debtor_uscc", "not_your_payable"),
            (7, "platform_reference", "required"),
            (7, "result", "result_unknown"),
        ]
    );
    for i in report["issues"].as_array().unwrap() {
        assert!(i["message_zh"].as_str().unwrap().contains(&format!("第 {} 行", i["row_no"])), "{i}");
        assert!(i["message_en"].as_str().unwrap().starts_with("Row "), "{i}");
        assert!(i["raw_row"].as_str().unwrap().contains("2650000000000000"), "the raw row is kept: {i}");
    }
    // The receivables view can now show the platform's result per invoice.
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    let c = lianrong_store::registration::external_confirmation(&mut conn, &inv[0]).await.unwrap().unwrap();
    assert_eq!((c.source.as_str(), c.confirmed, c.confirmed_date.as_str()), ("crcrfsp", true, "2026-06-01"));
    assert_eq!((c.platform_reference.as_str(), c.amount_fen, c.row_no), ("ZZ-0001", Some(10_000), 2));
    assert!(c.raw_row.contains("ZZ-0001"));
    let c = lianrong_store::registration::external_confirmation(&mut conn, &inv[1]).await.unwrap().unwrap();
    assert!(!c.confirmed);
    let kept: String = sqlx::query_scalar("SELECT issues_json FROM external_confirmation_import")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert!(kept.contains("26500000000000000999") && kept.contains("也许"), "refused rows are kept: {kept}");

    // XLSX works alike; a file without the platform's columns is refused whole.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["平台编号", "债务人统一社会信用代码", "债权人统一社会信用代码", "发票号码", "确认结果", "确认日期"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in
        ["ZZ-0009", c100.as_str(), c101.as_str(), "26500000000000000903", "已确认", "2026-06-09"].iter().enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    let resp = w.core.upload("/api/v1/registrations/confirmations/import", "确认结果.xlsx", xlsx).await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["accepted"], 1, "{report}");
    let c = lianrong_store::registration::external_confirmation(&mut conn, &inv[1]).await.unwrap().unwrap();
    assert!(c.confirmed, "the latest import is current");
    // The supplier's receivables show it as confirmed on the central bank's platform.
    let (_, owed) = w.supplier.get("/api/v1/receivables?side=creditor&page_size=200").await;
    let r = owed["items"].as_array().unwrap().iter().find(|r| r["invoice_id"] == inv[1].as_str()).unwrap();
    assert_eq!(
        (r["confirmation_status"].as_str(), r["confirmation_source"].as_str()),
        (Some("confirmed"), Some("crcrfsp")),
        "{r}"
    );
    let resp = w.core.upload("/api/v1/registrations/confirmations/import", "x.csv", b"a,b\n1,2\n".to_vec()).await;
    let status = resp.status();
    let e: Value = resp.json().await.unwrap();
    assert_problem(status, &e, StatusCode::UNPROCESSABLE_ENTITY, "header_not_found");
    // Another debtor importing the file names nothing of 100's: every row refused, nothing stored.
    let csv = format!(
        "债务人统一社会信用代码,债权人统一社会信用代码,发票号码,确认结果,确认日期,平台编号\n{c100},{c101},26500000000000000901,已拒绝,2026-06-03,ZZ-1\n"
    );
    let resp = w.stranger.upload("/api/v1/registrations/confirmations/import", "c.csv", csv.into_bytes()).await;
    let report: Value = resp.json().await.unwrap();
    assert_eq!(
        (report["accepted"].as_u64(), report["issues"][0]["code"].as_str()),
        (Some(0), Some("not_your_payable")),
        "{report}"
    );
    let c = lianrong_store::registration::external_confirmation(&mut conn, &inv[0]).await.unwrap().unwrap();
    assert!(c.confirmed, "unchanged by another organisation");
    // A bank imports no confirmations (it is not the creditor).
    let resp = w.bank.upload("/api/v1/registrations/confirmations/import", "c.csv", b"x".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_console_registers_refuses_a_second_registration_and_releases() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let inv = ids(&w, &["01", "02"]).await;
    let page = |api: &Api| {
        let api = api.clone();
        async move { api.send(Method::GET, "/registrations", None).await.text().await.unwrap() }
    };
    let html = page(&w.supplier).await;
    assert!(
        html.contains("26500000000000000901") && html.contains("id=\"register-form\""),
        "the form offers the invoices"
    );
    let csrf = w.supplier.csrf.clone().unwrap();
    let form = vec![
        ("csrf_token", csrf.clone()),
        ("invoice_ids", inv[0].clone()),
        ("invoice_ids", inv[1].clone()),
        ("financier_org_id", w.bank_id.clone()),
        ("kind", "pledge".into()),
    ];
    // Without the token nothing happens.
    let no_token: Vec<_> = form.iter().filter(|(k, _)| *k != "csrf_token").cloned().collect();
    let r = w.supplier.http.post(format!("{}/registrations", t.base_url)).form(&no_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = w.supplier.http.post(format!("{}/registrations", t.base_url)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().query().unwrap_or("").contains("ok=registered"), "{}", r.url());
    let html = r.text().await.unwrap();
    let reference = format!("LR-REG-{}-000001", year());
    assert!(html.contains(&reference) && html.contains("data-status=\"active\""), "{html}");
    // The same receivable again: refused, the page names the first registration.
    let r = w.supplier.http.post(format!("{}/registrations", t.base_url)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("已登记，登记编号 {reference}")), "{html}");
    // The debtor and the creditor see it but have no release button; the financier it names releases.
    for party in [&w.core, &w.supplier] {
        let html = page(party).await;
        assert!(html.contains(&reference) && !html.contains("/release\""), "{html}");
    }
    let (_, list) = w.supplier.get("/api/v1/registrations").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    assert!(page(&w.bank).await.contains(&format!("/registrations/{id}/release")));
    let r = w
        .bank
        .http
        .post(format!("{}/registrations/{id}/release", t.base_url))
        .form(&[("csrf_token", w.bank.csrf.clone().unwrap()), ("reason", "融资已结清".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("data-status=\"released\""));
    // Exports download from the console too.
    let r = w.supplier.send(Method::GET, "/registrations/export?format=zhongdeng&file=xlsx", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".xlsx"));
    // English labels.
    let r = w.supplier.send(Method::GET, "/lang/en?next=/registrations", None).await;
    assert!(r.text().await.unwrap().contains("Register a receivable"));
}
