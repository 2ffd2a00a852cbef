//! The data lake end to end: the same trade through the three channels gives the same canonical
//! records, a re-sent file changes nothing, a changed record becomes a new version, every kind of bad
//! input gets a specific error by row and field with the raw bytes kept, and the curated Parquet files
//! read back with DuckDB give the database's totals.

use lianrong_app::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, code, spawn_app};

/// A core (code 100) buying from two suppliers (101, 102) on one chain; 103 is a stranger.
struct World {
    core: Api,
    supplier: Api,
    bank: Api,
    core_id: String,
}

async fn world(t: &TestApp) -> World {
    let system = Actor::system("system");
    let core = t.org_with_admin(100, "core", "c.admin").await;
    let s1 = t.org_with_admin(101, "supplier", "s1.admin").await;
    let s2 = t.org_with_admin(102, "supplier", "s2.admin").await;
    t.org_with_admin(104, "bank", "b.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "测试产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core, "core", None).await.unwrap();
    let core = core.to_string();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &s1, "supplier", Some(1)).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &s2, "supplier", Some(1)).await.unwrap();
    World {
        core: t.login("c.admin", PASSWORD).await,
        supplier: t.login("s1.admin", PASSWORD).await,
        bank: t.login("b.admin", PASSWORD).await,
        core_id: core,
    }
}

/// Twelve invoices from the two suppliers to the core, with a header as finance staff write it.
fn invoices_csv() -> String {
    let mut s =
        String::from("发票号码,开票日期,销方统一社会信用代码,购方统一社会信用代码,金额,税额,价税合计,关联订单号\n");
    for i in 0..12u32 {
        let seller = code(101 + i % 2);
        let net = 10_000 + i * 1_000;
        let tax = net * 13 / 100;
        s.push_str(&format!(
            "265000000000{:08},2026-{:02}-15,{seller},{},\"{}.00\",{tax}.00,\"{}.00\",PO-{i}\n",
            i + 1,
            i % 10 + 1,
            code(100),
            thousands(net),
            thousands(net + tax)
        ));
    }
    s
}

fn thousands(n: u32) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The same twelve invoices as a JSON batch for the direct link.
fn invoices_json() -> Value {
    let records: Vec<Value> = (0..12u32)
        .map(|i| {
            let net = 10_000 + i * 1_000;
            let tax = net * 13 / 100;
            json!({
                "record_type": "invoice",
                "invoice_no": format!("265000000000{:08}", i + 1),
                "issue_date": format!("2026-{:02}-15", i % 10 + 1),
                "seller_uscc": code(101 + i % 2),
                "buyer_uscc": code(100),
                "net_amount": format!("{net}.00"),
                "tax_amount": tax,
                "total_amount": format!("{}.00", net + tax),
                "order_refs": [format!("PO-{i}")],
            })
        })
        .collect();
    json!({"source": "ERP job 42", "records": records})
}

async fn upload(api: &Api, name: &str, bytes: Vec<u8>) -> Value {
    let resp = api.upload("/api/v1/submissions/upload", name, bytes).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn record_digests(t: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as::<_, (String, String, i64)>(
        "SELECT natural_key, content_sm3, version FROM trade_record ORDER BY natural_key",
    )
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn one_file_through_the_channels_gives_the_same_records_and_a_resend_changes_nothing() {
    let t = spawn_app().await;
    let w = world(&t).await;

    let first = upload(&w.core, "2026年发票.csv", invoices_csv().into_bytes()).await;
    assert_eq!(
        (first["status"].as_str(), first["accepted"].as_u64(), first["rejected"].as_u64()),
        (Some("accepted"), Some(12), Some(0)),
        "{first}"
    );
    let after_upload = record_digests(&t).await;
    assert_eq!(after_upload.len(), 12);
    // The submission's digest is a leaf of the verifiable log, readable by the submitter with its proof.
    assert!(first["log_leaf_id"].is_u64(), "a log leaf: {first}");
    let (status, entry) = w.core.log_leaf(&first["log_leaf_id"]).await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert!(entry.to_string().contains(first["raw_sm3"].as_str().unwrap()), "{entry}");

    // The same file again: nothing changes.
    let again = upload(&w.core, "2026年发票.csv", invoices_csv().into_bytes()).await;
    assert_eq!((again["accepted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(12)), "{again}");
    assert_eq!(record_digests(&t).await, after_upload);

    // The same trade through the direct link, by the supplier side: its own statements of the six
    // invoices it issued are kept beside the core's (each party owns its statements), with the same
    // canonical content, and four-flow reads them as corroboration.
    let (status, api) = w.supplier.post("/api/v1/submissions", invoices_json()).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    // Supplier 101 is a party to six of the twelve; the other six are refused as not its trade.
    assert_eq!(
        (api["unchanged"].as_u64(), api["rejected"].as_u64(), api["accepted"].as_u64()),
        (Some(0), Some(6), Some(6)),
        "{api}"
    );
    assert!(
        api["row_errors"].as_array().unwrap().iter().all(|e| e["code"] == "not_a_party" && e["field"] == "buyer_uscc")
    );
    let with_supplier = record_digests(&t).await;
    assert_eq!(with_supplier.len(), 18);
    let core_digests: std::collections::HashSet<&String> = after_upload.iter().map(|(_, d, _)| d).collect();
    assert!(with_supplier.iter().all(|(_, d, _)| core_digests.contains(d)), "the same canonical records");
    let (_, supplier_statements) = w.supplier.post("/api/v1/submissions", invoices_json()).await;
    assert_eq!(supplier_statements["unchanged"], 6, "a resend by the supplier changes nothing either");
    let (_, verdicts) = w.core.get("/api/v1/verifications?page_size=200").await;
    let corroborated =
        verdicts["items"].as_array().unwrap().iter().filter(|v| v["evidence"]["corroborated"].is_array()).count();
    assert_eq!((verdicts["total"].as_u64(), corroborated), (Some(12), 6), "one verdict per invoice: {verdicts}");

    // A changed record becomes version 2 with its history kept.
    let changed = invoices_csv().replace("\"11,300.00\",PO-0", "\"11,300.00\",PO-0;PO-99");
    let v2 = upload(&w.core, "更正.csv", changed.into_bytes()).await;
    assert_eq!((v2["accepted"].as_u64(), v2["unchanged"].as_u64()), (Some(1), Some(11)), "{v2}");
    let (status, list) = w.core.get("/api/v1/trade-records?doc_no=26500000000000000001").await;
    assert_eq!(status, StatusCode::OK);
    let own = list["items"].as_array().unwrap().iter().find(|r| r["submitted_by_org_id"] == w.core_id.as_str());
    let id = own.expect("the core's statement")["id"].as_str().unwrap().to_string();
    let (_, detail) = w.core.get(&format!("/api/v1/trade-records/{id}")).await;
    assert_eq!(detail["version"], 2);
    assert_eq!(detail["order_refs"], json!(["PO-0", "PO-99"]));
    assert_eq!(detail["history"][0]["version"], 1);
    assert_eq!(detail["history"][0]["data"]["order_refs"], "PO-0");
    assert_eq!(detail["channel"], "upload");
    assert_eq!(detail["file_name"], "更正.csv");
    assert_eq!(detail["row_no"], 2);

    // The raw bytes are kept exactly and served back with their digest.
    let sub = first["submission_id"].as_str().unwrap();
    let raw = w.core.send(reqwest::Method::GET, &format!("/api/v1/submissions/{sub}/raw"), None).await;
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.bytes().await.unwrap().to_vec(), invoices_csv().into_bytes());
    // The bank is a party to none of it.
    let (_, bank_view) = w.bank.get("/api/v1/trade-records").await;
    assert_eq!(bank_view["total"], 0);
    let (status, _) = w.bank.get(&format!("/api/v1/submissions/{sub}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// One row per kind of bad value, with the code and field each must get.
#[tokio::test]
async fn every_bad_row_is_named_with_its_field_and_code_and_the_good_rows_land() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (c100, c101, c103) = (code(100), code(101), code(103));
    let mut bad_code = c101.clone();
    bad_code.replace_range(17..18, if c101.ends_with('0') { "1" } else { "0" });
    let rows = [
        // row 3: good
        format!("PO-1,2026-03-01,{c100},{c101},\"1,000.00\",颜色红"),
        // row 4: invalid credit code
        format!("PO-2,2026-03-01,{c100},{bad_code},100.00,"),
        // row 5: impossible date
        format!("PO-3,2026-02-30,{c100},{c101},100.00,"),
        // row 6: negative amount
        format!("PO-4,2026-03-01,{c100},{c101},-5.00,"),
        // row 7: absurd amount
        format!("PO-5,2026-03-01,{c100},{c101},99999999999999.00,"),
        // row 8: duplicate of row 3
        format!("PO-1,2026-03-01,{c100},{c101},\"1,000.00\","),
        // row 9: trade between strangers (the submitter is neither party)
        format!("PO-6,2026-03-01,{c103},{c101},100.00,"),
        // row 10: three decimals
        format!("PO-7,2026-03-01,{c100},{c101},1.005,"),
        // row 11: a date in the future
        format!("PO-8,2099-03-01,{c100},{c101},100.00,"),
        // row 12: a code mangled by a spreadsheet
        format!("9.15E+17,2026-03-01,{c100},{c101},100.00,"),
    ];
    let csv = format!(
        "2026年3月采购订单\n订单号,订单日期,购方统一社会信用代码,销方统一社会信用代码,订单金额,颜色\n{}\n",
        rows.join("\n")
    );
    let report = upload(&w.core, "orders.csv", csv.clone().into_bytes()).await;
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(9)), "{report}");
    assert_eq!(report["status"], "partial");
    let expect = [
        (4, "seller_uscc", "uscc_invalid"),
        (5, "order_date", "date_impossible"),
        (6, "total_amount", "amount_negative"),
        (7, "total_amount", "amount_too_large"),
        (8, "order_no", "duplicate_in_submission"),
        (9, "buyer_uscc", "not_a_party"),
        (10, "total_amount", "amount_precision"),
        (11, "order_date", "date_in_future"),
        (12, "order_no", "scientific_notation"),
    ];
    let errors = report["row_errors"].as_array().unwrap();
    for (row, field, code) in expect {
        let e =
            errors.iter().find(|e| e["row_no"] == row).unwrap_or_else(|| panic!("row {row} not reported: {report}"));
        assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some(field), Some(code)), "row {row}: {e}");
        assert!(!e["message_zh"].as_str().unwrap().is_empty() && !e["message_en"].as_str().unwrap().is_empty());
    }
    // The unknown column is a warning, and the full report pages through the issues.
    let sub = report["submission_id"].as_str().unwrap();
    let (_, issues) = w.core.get(&format!("/api/v1/submissions/{sub}/issues?page_size=100")).await;
    let unknown = issues["items"].as_array().unwrap().iter().find(|i| i["code"] == "column_unknown").expect("warning");
    assert_eq!(unknown["severity"], "warning");
    assert!(unknown["message_zh"].as_str().unwrap().contains("颜色"));
    let rejected_row = issues["items"].as_array().unwrap().iter().find(|i| i["row_no"] == 4).unwrap();
    assert!(rejected_row["raw_text"].as_str().unwrap().contains("PO-2"), "the raw row is kept: {rejected_row}");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trade_record").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(kept, 1);
}

fn xlsx_with_formula_and_merged_cells() -> Vec<u8> {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.set_name("发票").unwrap();
    let header = ["发票号码", "开票日期", "销方统一社会信用代码", "购方统一社会信用代码", "价税合计"];
    for (c, h) in header.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [("26500000000000000101", 1000.5), ("26500000000000000102", 2000.0), ("26500000000000000103", 3000.0)];
    for (r, (no, amount)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        s.write_string(r, 0, *no).unwrap();
        // An Excel date serial number, as a date cell would hold it: 2026-05-06.
        s.write_number(r, 1, 46148.0).unwrap();
        s.write_string(r, 2, code(101)).unwrap();
        s.write_string(r, 3, code(100)).unwrap();
        s.write_number(r, 4, *amount).unwrap();
    }
    // A formula as Excel saves it, with its result: the result is what the row states.
    s.write_formula(2, 4, Formula::new("=1000*2").set_result("2000")).unwrap();
    s.merge_range(3, 2, 3, 3, &code(101), &rust_xlsxwriter::Format::new()).unwrap();
    wb.add_worksheet().set_name("空表").unwrap();
    wb.save_to_buffer().unwrap()
}

fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[tokio::test]
async fn spreadsheets_as_people_save_them_and_hostile_files_get_specific_errors() {
    let t = spawn_app().await;
    let w = world(&t).await;

    // GBK-encoded CSV (as Excel on Chinese Windows saves it), with empty rows and columns.
    let gbk_text = format!(
        "付款流水号,付款日期,购方统一社会信用代码,销方统一社会信用代码,付款金额,关联发票号码,,\r\n\r\nP-1,2026/4/1,{},{},\"5,000.00\",26500000000000000001,,\r\n,,,,,,,\r\n",
        code(100),
        code(101)
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&gbk_text);
    let r = upload(&w.core, "付款.csv", gbk.into_owned()).await;
    assert_eq!((r["accepted"].as_u64(), r["rejected"].as_u64()), (Some(1), Some(0)), "{r}");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, detail) = w.core.get(&format!("/api/v1/submissions/{sub}")).await;
    assert_eq!(detail["files"][0]["encoding"], "gb18030", "{detail}");

    // XLSX: a formula cell reads as its saved result, a merged range is refused by row, the Excel date
    // serial is read, and an empty sheet is noted.
    let r = upload(&w.core, "发票.xlsx", xlsx_with_formula_and_merged_cells()).await;
    assert_eq!((r["accepted"].as_u64(), r["rejected"].as_u64()), (Some(2), Some(1)), "{r}");
    let errors = r["row_errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["row_no"] == 4 && e["code"] == "merged_cell"), "{r}");
    let (_, by_formula) = w.core.get("/api/v1/trade-records?doc_no=26500000000000000102").await;
    assert_eq!(by_formula["items"][0]["total_fen"], 200_000);
    let (_, rec) = w.core.get("/api/v1/trade-records?doc_no=26500000000000000101").await;
    assert_eq!(rec["items"][0]["doc_date"], "2026-05-06");
    assert_eq!(rec["items"][0]["total_fen"], 100_050);
    let sub = r["submission_id"].as_str().unwrap();
    let (_, issues) = w.core.get(&format!("/api/v1/submissions/{sub}/issues")).await;
    assert!(issues["items"].as_array().unwrap().iter().any(|i| i["code"] == "sheet_empty"), "{issues}");

    // A ZIP with a good CSV, a nested archive and an unknown record type.
    let good = format!(
        "订单号,订单日期,购方统一社会信用代码,销方统一社会信用代码,订单金额\nZ-1,2026-06-01,{},{},10.00\n",
        code(100),
        code(101)
    );
    let unknown = "颜色,尺寸\n红,大\n".to_string();
    let inner = zip_of(&[("x.csv", good.clone().into_bytes())]);
    let z = zip_of(&[("订单.csv", good.into_bytes()), ("inner.zip", inner), ("杂项.csv", unknown.into_bytes())]);
    let r = upload(&w.core, "批量.zip", z).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, issues) = w.core.get(&format!("/api/v1/submissions/{sub}/issues")).await;
    let codes: Vec<&str> = issues["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"zip_nested"), "{codes:?}");
    // The CSV without a header beside one with data is skipped with a note, not an error.
    assert!(codes.contains(&"sheet_skipped"), "{codes:?}");

    // A zip bomb: refused without inflating it, its raw bytes kept.
    let bomb = zip_of(&[("bomb.csv", vec![b'0'; 300 * 1024 * 1024])]);
    let r = upload(&w.core, "bomb.zip", bomb.clone()).await;
    assert_eq!(r["status"], "rejected", "{r}");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, detail) = w.core.get(&format!("/api/v1/submissions/{sub}")).await;
    assert_eq!(detail["error_code"], "zip_bomb", "{detail}");
    let raw = w.core.send(reqwest::Method::GET, &format!("/api/v1/submissions/{sub}/raw"), None).await;
    assert_eq!(raw.bytes().await.unwrap().len(), bomb.len());

    // Not a spreadsheet at all.
    let r = upload(&w.core, "photo.png", b"\x89PNG\r\n\x1a\n....".to_vec()).await;
    assert_eq!(r["status"], "rejected");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, detail) = w.core.get(&format!("/api/v1/submissions/{sub}")).await;
    assert_eq!(detail["error_code"], "unsupported_format", "{detail}");

    // A batch with an unknown record type and a malformed body.
    let (status, body) = w.core.post("/api/v1/submissions", json!({"records": [{"record_type": "contract"}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["row_errors"][0]["code"], "record_type_unknown", "{body}");
    let resp = w
        .core
        .http
        .post(format!("{}/api/v1/submissions", w.core.base))
        .header("x-csrf-token", w.core.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body("{\"records\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
}

/// Count, sum in fen and number of months of the invoices in the curated zone, as DuckDB reads them.
fn duckdb_invoice_totals(lake_dir: &str) -> Vec<i64> {
    let script = format!(
        "import duckdb, json\n\
         r = duckdb.connect().execute(\"SELECT COUNT(*), SUM(total_fen), COUNT(DISTINCT month) FROM read_parquet('{lake_dir}/curated/**/*.parquet', hive_partitioning=true) WHERE record = 'invoice'\").fetchone()\n\
         print(json.dumps([int(r[0]), int(r[1]), int(r[2])]))\n"
    );
    let out = std::process::Command::new("python3").arg("-c").arg(&script).output().expect("python3");
    assert!(
        out.status.success(),
        "DuckDB could not read the curated zone (scripts/test installs the duckdb Python package): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn db_invoice_totals(t: &TestApp) -> Vec<i64> {
    let (rows, total, months): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(total_fen) AS BIGINT), COUNT(DISTINCT month) FROM trade_record WHERE record_type = 'invoice'",
    )
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    vec![rows, total, months]
}

#[tokio::test]
async fn the_curated_parquet_files_read_back_in_duckdb_with_the_database_totals() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let lake_dir = t.app.lake.location().trim_start_matches("file://").to_string();
    // New partitions, written from the submission's spool.
    upload(&w.core, "发票.csv", invoices_csv().into_bytes()).await;
    assert_eq!(duckdb_invoice_totals(&lake_dir), db_invoice_totals(&t).await);
    assert_eq!(duckdb_invoice_totals(&lake_dir)[0], 12);
    // More invoices in the same months: appended to the existing files.
    let more = invoices_csv().replace("265000000000000000", "265000000000000009");
    let r = upload(&w.core, "补充发票.csv", more.into_bytes()).await;
    assert_eq!(r["accepted"], 12, "{r}");
    assert_eq!(duckdb_invoice_totals(&lake_dir), db_invoice_totals(&t).await);
    // A changed amount: the partition is rewritten from the database, so the old version is gone.
    let changed = invoices_csv().replace("\"11,300.00\",PO-0", "\"11,300.01\",PO-0").replace(",1300.00,", ",1300.01,");
    let r = upload(&w.core, "更正.csv", changed.into_bytes()).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let totals = duckdb_invoice_totals(&lake_dir);
    assert_eq!(totals, db_invoice_totals(&t).await);
    assert_eq!(totals[0], 24);
    let stale: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM curated_partition WHERE changes <> published_changes")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(stale, 0, "every partition is current");
}

/// The demo's year of trade arrives through all three channels and exercises the pipeline's refusals.
#[tokio::test]
async fn the_demo_loads_a_year_of_trade_through_the_three_channels() {
    let (t, summary) = crate::common::spawn_demo_with_trade().await;
    for (channel, n) in &summary.by_channel {
        assert!(*n > 0, "no demo submission through {channel:?}: {summary:?}");
    }
    assert!(summary.accepted > 3_000, "{summary:?}");
    let pool = &t.app.db.pool;
    let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap() };
    for rt in ["order", "delivery", "invoice", "payment"] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trade_record WHERE record_type = $1")
            .bind(rt)
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(n > 100, "{rt}: {n}");
    }
    assert!(count("SELECT COUNT(*) FROM trade_record WHERE invoice_kind = 'red'").await > 0, "red-flushed invoices");
    assert!(count("SELECT COUNT(*) FROM trade_record WHERE acceptance_status = 'rejected'").await > 0, "disputes");
    assert!(count("SELECT COUNT(*) FROM trade_record WHERE term_days > 60").await > 0, "long terms");
    assert!(count("SELECT COUNT(*) FROM submission_issue WHERE code = 'uscc_invalid'").await > 0, "typos refused");
    assert!(count("SELECT COUNT(*) FROM mailbox_receipt").await >= 10, "monthly mail receipts");
    // A month of a core's received invoices arrives as the e-tax service exports them, lines and all.
    assert!(count("SELECT COUNT(*) FROM trade_record WHERE invoice_status = 'live'").await > 0, "e-tax statuses");
    assert!(count("SELECT COUNT(*) FROM trade_line WHERE superseded_at_ms IS NULL").await > 0, "e-tax lines");
    let refused: i64 = count(
        "SELECT COUNT(*) FROM submission_issue i JOIN submission s ON s.id = i.submission_id \
         WHERE s.source LIKE '全量发票查询导出结果%' AND i.severity = 'error'",
    )
    .await;
    assert_eq!(refused, 0, "every row of the demo's e-tax export lands");
    assert!(count("SELECT COUNT(DISTINCT month) FROM trade_record").await >= 12, "a year of months");
    let files = count("SELECT COUNT(*) FROM curated_partition WHERE changes = published_changes").await;
    assert!(files > 30, "curated partitions published: {files}");
    // The core that shares by mail sees its submissions and records through the API.
    let core = t.login("core31.admin", lianrong_app::demo::DEMO_PASSWORD).await;
    let (_, subs) = core.get("/api/v1/submissions").await;
    assert!(subs["items"].as_array().unwrap().iter().any(|s| s["channel"] == "mailbox"), "{subs}");
}

/// An upload whose processing outlasts the request's wait is answered 202 with its id, and the
/// processing finishes on its own; the outcome is then polled.
#[tokio::test]
async fn a_slow_upload_is_answered_at_once_and_its_outcome_polled() {
    let config = lianrong_web::WebConfig { upload_answer_wait_ms: Some(0), ..Default::default() };
    let t = crate::common::spawn_app_with(config).await;
    let w = world(&t).await;
    let resp = w.core.upload("/api/v1/submissions/upload", "发票.csv", invoices_csv().into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "received");
    let poll = body["poll"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, s) = w.core.get(&poll).await;
        assert_eq!(status, StatusCode::OK, "{s}");
        last = s;
        if last["status"] != "received" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((last["status"].as_str(), last["accepted"].as_i64()), (Some("accepted"), Some(12)), "{last}");
}

/// Four-flow verification runs after each submission for the pairs it changed, and names why.
#[tokio::test]
async fn invoices_are_verified_against_orders_deliveries_and_payments_as_records_arrive() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (c100, c101) = (code(100), code(101));
    let batch = |records: Value| json!({ "records": records });
    let (status, r) = w
        .core
        .post(
            "/api/v1/submissions",
            batch(json!([
                {"record_type": "order", "order_no": "PO-9", "order_date": "2026-05-01", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "term_days": "90"},
                {"record_type": "invoice", "invoice_no": "26500000000000000901", "issue_date": "2026-05-12", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "order_refs": "PO-9"},
                {"record_type": "invoice", "invoice_no": "26500000000000000902", "issue_date": "2026-05-02", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "300.00", "delivery_refs": "DN-8"},
            ])),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(3)), "{r}");
    let verdict = |no: &'static str| {
        let core = w.core.clone();
        async move {
            let (_, list) = core.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
            let id = list["items"][0]["id"].as_str().unwrap().to_string();
            let (status, v) = core.get(&format!("/api/v1/verifications/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            v
        }
    };
    // An order but no delivery yet: partly verified, the gap named.
    let v = verdict("26500000000000000901").await;
    assert_eq!(v["status"], "partly_verified", "{v}");
    let codes: Vec<&str> = v["discrepancies"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["no_delivery"]);
    // The delivery arrives (and a late delivery for the other invoice): the verdicts follow.
    let (_, r) = w
        .core
        .post(
            "/api/v1/submissions",
            batch(json!([
                {"record_type": "delivery", "delivery_no": "DN-9", "delivery_date": "2026-05-05", "order_refs": "PO-9", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "500.00", "acceptance_status": "accepted", "accepted_date": "2026-05-06"},
                {"record_type": "delivery", "delivery_no": "DN-8", "delivery_date": "2026-05-04", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "300.00", "acceptance_status": "accepted", "accepted_date": "2026-05-05"},
                {"record_type": "payment", "payment_no": "PAY-9", "payment_date": "2026-06-01", "buyer_uscc": c100, "seller_uscc": c101, "total_amount": "200.00", "invoice_refs": "26500000000000000901"},
            ])),
        )
        .await;
    assert_eq!(r["accepted"], 3, "{r}");
    let v = verdict("26500000000000000901").await;
    assert_eq!(v["status"], "verified", "{v}");
    assert_eq!(
        (v["paid_fen"].as_i64(), v["evidence"]["deliveries"][0]["doc_no"].as_str()),
        (Some(20_000), Some("DN-9"))
    );
    let v = verdict("26500000000000000902").await;
    assert_eq!(v["status"], "inconsistent", "{v}");
    let found: Vec<(&str, bool)> = v["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["contradicts"].as_bool().unwrap()))
        .collect();
    assert_eq!(found, vec![("no_order", false), ("invoice_before_delivery", true)], "{v}");
    // The console explains the verdict on the record's page.
    let page = w
        .core
        .send(reqwest::Method::GET, &format!("/trade-records/{}", v["invoice_id"].as_str().unwrap()), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-status=\"inconsistent\""), "{page}");
    assert!(page.contains("开票早于发货") && page.contains("DN-8"), "the finding and the linked delivery are shown");
    // The verified invoice is a receivable of the supplier: ¥500 invoiced, ¥200 paid, due 90 days after
    // delivery (the order's term), which breaks the 60 days a large core may take to pay an SME.
    let (status, owed) = w.supplier.get("/api/v1/receivables?side=creditor").await;
    assert_eq!(status, StatusCode::OK, "{owed}");
    let items = owed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{owed}");
    let r = &items[0];
    assert_eq!((r["outstanding_fen"].as_i64(), r["due_date"].as_str()), (Some(30_000), Some("2026-08-03")), "{r}");
    assert_eq!(r["sme_breach_days"], 30, "{r}");
    // Overdue since 3 August: the bucket depends on today, so it is computed the way the platform does.
    let today = crate::common::today();
    let expected = lianrong_domain::receivable::ageing(jiff::civil::date(2026, 8, 3), today);
    assert_eq!(r["ageing"], expected.code(), "{r}");
    assert!(r["late_interest_fen"].as_i64().unwrap() > 0, "{r}");
    let (_, theirs) = w.supplier.get("/api/v1/receivables?side=debtor").await;
    assert_eq!(theirs["total"], 0);
    // Per debtor and ageing bucket: the core owes the supplier ¥300, in the bucket of its due date.
    let (status, totals) = w.supplier.get("/api/v1/receivables/totals?side=creditor").await;
    assert_eq!(status, StatusCode::OK, "{totals}");
    assert_eq!(totals.as_array().unwrap().len(), 1, "{totals}");
    assert_eq!(
        (totals[0]["counterparty_uscc"].as_str(), totals[0]["outstanding_fen"].as_i64()),
        (Some(c100.as_str()), Some(30_000))
    );
    assert_eq!(totals[0]["buckets"][0]["ageing"], expected.code(), "{totals}");
    let (status, _) = w.supplier.get("/api/v1/receivables/totals?side=both").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The bank is a party to none of it.
    let (_, bank) = w.bank.get("/api/v1/verifications").await;
    assert_eq!(bank["total"], 0);
    let (_, listed) = w.core.get("/api/v1/verifications?status=inconsistent").await;
    assert_eq!(listed["total"], 1);
}

/// The tier graph comes from invoices: who sells to whom, each supplier's tier relative to the core.
#[tokio::test]
async fn a_cores_credit_reach_is_derived_from_invoices_tier_by_tier() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (c100, c101, c102) = (code(100), code(101), code(102));
    let invoice = |no: &str, buyer: &str, seller: &str| json!({"record_type": "invoice", "invoice_no": no, "issue_date": "2026-05-12", "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": "100.00"});
    // The core buys from 101; 101 buys from 102 and reports it (102 is tier 2 of the core).
    let (_, r) =
        w.core.post("/api/v1/submissions", json!({"records": [invoice("26500000000000000801", &c100, &c101)]})).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let (_, r) = w
        .supplier
        .post("/api/v1/submissions", json!({"records": [invoice("26500000000000000802", &c101, &c102)]}))
        .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let (_, me) = w.core.get("/api/v1/me").await;
    let core_id = me["org_id"].as_str().unwrap().to_string();
    let (status, p) = w.core.get(&format!("/api/v1/penetration/{core_id}")).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["depth"], 2, "{p}");
    assert_eq!(
        p["tiers"],
        json!([{"tier": 1, "suppliers": 1, "volume_fen": 10_000}, {"tier": 2, "suppliers": 1, "volume_fen": 10_000}])
    );
    // The core names its own tier-1 supplier only; the operator sees every tier.
    assert_eq!(p["suppliers"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["suppliers"][0]["uscc"], c101.as_str());
    let op = t.login("op.admin", crate::common::PASSWORD).await;
    let (_, all) = op.get(&format!("/api/v1/penetration/{core_id}")).await;
    assert_eq!(all["suppliers"].as_array().unwrap().len(), 2, "{all}");
    // A supplier cannot look at the core's chain.
    let (status, _) = w.supplier.get(&format!("/api/v1/penetration/{core_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The console draws it: the core, tier 1 with its named supplier, tier 2 counted.
    let page = w.core.send(reqwest::Method::GET, "/penetration", None).await.text().await.unwrap();
    assert!(page.contains("id=\"penetration-graph\""), "{page}");
    assert!(page.contains("第1级供应商") && page.contains("第2级供应商"), "{page}");
    assert!(page.contains("测试supplier101有限公司") && !page.contains("测试supplier102有限公司"), "{page}");
    // The operator leads no chain: it chooses a chain's core first, then sees every tier by name.
    let page = op.send(reqwest::Method::GET, "/penetration", None).await.text().await.unwrap();
    assert!(page.contains("id=\"penetration-choose\"") && !page.contains("id=\"penetration-graph\""), "{page}");
    assert!(page.contains(&format!("value=\"{core_id}\"")) && page.contains("测试产业链 · "), "{page}");
    let page =
        op.send(reqwest::Method::GET, &format!("/penetration?org_id={core_id}"), None).await.text().await.unwrap();
    assert!(page.contains("id=\"penetration-graph\"") && page.contains("测试supplier102有限公司"), "{page}");
}
