//! The files users actually have, shaped as the tools that make them save them: the e-tax service's
//! invoice export (invoice sheet and line sheet, issued and received), workbooks with formulas as Excel
//! saves them and as a script writes them, total rows, hidden and empty sheets, ERP exports in GB18030,
//! and restatements that leave out columns.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, code, day, einvoice, spawn_app};
use crate::mailbox::{
    SENDER, core_with_sender, designated, message_with_attachment, plain_client, send_raw, start_mail,
};

/// A core (100, with a registered mail sender) buying from supplier 101 on one chain.
struct World {
    core: Api,
    supplier: Api,
    core_id: String,
}

async fn world(t: &TestApp) -> World {
    let system = lianrong_app::Actor::system("system");
    let core_id = core_with_sender(t, 100, "c.admin").await;
    let supplier = t.org_with_admin(101, "supplier", "s1.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "测试产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &supplier, "supplier", Some(1)).await.unwrap();
    World { core: t.login("c.admin", PASSWORD).await, supplier: t.login("s1.admin", PASSWORD).await, core_id }
}

async fn upload(api: &Api, name: &str, bytes: Vec<u8>) -> Value {
    let resp = api.upload("/api/v1/submissions/upload", name, bytes).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn issues(api: &Api, report: &Value) -> Vec<Value> {
    let sub = report["submission_id"].as_str().unwrap();
    let (_, page) = api.get(&format!("/api/v1/submissions/{sub}/issues?page_size=200")).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

fn codes(issues: &[Value]) -> Vec<String> {
    issues.iter().map(|i| i["code"].as_str().unwrap_or("").to_string()).collect()
}

/// One invoice of the export: number (or legacy code and number), days before today, amounts in yuan,
/// status, sign and remarks, and its lines as (goods, quantity, unit price, net, tax).
struct ExportInvoice {
    code: &'static str,
    number: String,
    digital: String,
    days: i64,
    net: f64,
    tax: f64,
    status: &'static str,
    positive: &'static str,
    remarks: String,
    lines: Vec<(&'static str, &'static str, &'static str, f64, f64)>,
}

/// A month of invoices from supplier 101 to core 100: a live one with two lines, a voided one, one fully
/// red-flushed with its red invoice (whose remarks name it), and a legacy invoice with code and number.
fn export_invoices() -> Vec<ExportInvoice> {
    let legacy_code: &'static str =
        Box::leak(format!("05000{:02}11111", day(-15).year().rem_euclid(100)).into_boxed_str());
    vec![
        ExportInvoice {
            code: "",
            number: String::new(),
            digital: einvoice(-20, 7001),
            days: -20,
            net: 10_000.0,
            tax: 1_300.0,
            status: "正常",
            positive: "是",
            remarks: String::new(),
            lines: vec![
                ("*钢材*热轧钢板", "6", "1000", 6_000.0, 780.0),
                ("*钢材*冷轧钢板", "4", "1000", 4_000.0, 520.0),
            ],
        },
        ExportInvoice {
            code: "",
            number: String::new(),
            digital: einvoice(-19, 7002),
            days: -19,
            net: 5_000.0,
            tax: 650.0,
            status: "作废",
            positive: "是",
            remarks: String::new(),
            lines: vec![("*钢材*镀锌板", "5", "1000", 5_000.0, 650.0)],
        },
        ExportInvoice {
            code: "",
            number: String::new(),
            digital: einvoice(-18, 7003),
            days: -18,
            net: 2_000.0,
            tax: 260.0,
            status: "已红冲",
            positive: "是",
            remarks: String::new(),
            lines: vec![("*钢材*角钢", "2", "1000", 2_000.0, 260.0)],
        },
        ExportInvoice {
            code: "",
            number: String::new(),
            digital: einvoice(-10, 7004),
            days: -10,
            net: -2_000.0,
            tax: -260.0,
            status: "正常",
            positive: "否",
            remarks: format!(
                "被红冲蓝字数电发票号码：{} 红字发票信息确认单编号：50011225{:011}",
                einvoice(-18, 7003),
                1
            ),
            lines: vec![("*钢材*角钢", "-2", "1000", -2_000.0, -260.0)],
        },
        ExportInvoice {
            code: legacy_code,
            number: "00012345".into(),
            digital: String::new(),
            days: -15,
            net: 300.0,
            tax: 39.0,
            status: "正常",
            positive: "是",
            remarks: String::new(),
            lines: vec![("*办公用品*打印纸", "10", "30", 300.0, 39.0)],
        },
    ]
}

/// The e-tax service's 全量发票查询 export as it downloads: the invoice sheet 发票基础信息 and the line
/// sheet 信息汇总表, with the service's columns (a row number, the channel, the clerk) and times on dates.
fn etax_export() -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let invoices = export_invoices();
    let base = wb.add_worksheet();
    base.set_name("发票基础信息").unwrap();
    let head = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "金额",
        "税额",
        "价税合计",
        "发票来源",
        "发票票种",
        "发票状态",
        "是否正数发票",
        "发票风险等级",
        "开票人",
        "备注",
    ];
    for (c, h) in head.iter().enumerate() {
        base.write_string(0, c as u16, *h).unwrap();
    }
    for (i, inv) in invoices.iter().enumerate() {
        let r = i as u32 + 1;
        let cells: Vec<String> = vec![
            (i + 1).to_string(),
            inv.code.into(),
            inv.number.clone(),
            inv.digital.clone(),
            code(101),
            "测试supplier101有限公司".into(),
            code(100),
            "测试core100有限公司".into(),
            format!("{} 10:23:45", day(inv.days)),
        ];
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                base.write_string(r, c as u16, v).unwrap();
            }
        }
        base.write_number(r, 9, inv.net).unwrap();
        base.write_number(r, 10, inv.tax).unwrap();
        base.write_number(r, 11, inv.net + inv.tax).unwrap();
        for (c, v) in [
            (12, "电子发票服务平台"),
            (13, "数电发票（增值税专用发票）"),
            (14, inv.status),
            (15, inv.positive),
            (16, "正常"),
            (17, "张三"),
        ] {
            base.write_string(r, c, v).unwrap();
        }
        if !inv.remarks.is_empty() {
            base.write_string(r, 18, &inv.remarks).unwrap();
        }
    }
    let lines = wb.add_worksheet();
    lines.set_name("信息汇总表").unwrap();
    let head = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "税收分类编码",
        "特定业务类型",
        "货物或应税劳务名称",
        "规格型号",
        "单位",
        "数量",
        "单价",
        "金额",
        "税率",
        "税额",
        "价税合计",
        "发票来源",
        "发票票种",
        "发票状态",
        "是否正数发票",
        "发票风险等级",
        "开票人",
        "备注",
    ];
    for (c, h) in head.iter().enumerate() {
        lines.write_string(0, c as u16, *h).unwrap();
    }
    let mut r = 1u32;
    for inv in &invoices {
        for (goods, qty, price, net, tax) in &inv.lines {
            let text: Vec<(u16, String)> = vec![
                (0, r.to_string()),
                (1, inv.code.into()),
                (2, inv.number.clone()),
                (3, inv.digital.clone()),
                (4, code(101)),
                (6, code(100)),
                (8, format!("{} 10:23:45", day(inv.days))),
                (9, "1080208000000000000".into()),
                (11, goods.to_string()),
                (12, "Q235".into()),
                (13, "吨".into()),
                (17, "13%".into()),
                (22, inv.status.into()),
                (23, inv.positive.into()),
            ];
            for (c, v) in text {
                if !v.is_empty() {
                    lines.write_string(r, c, &v).unwrap();
                }
            }
            lines.write_number(r, 14, qty.parse::<f64>().unwrap()).unwrap();
            lines.write_number(r, 15, price.parse::<f64>().unwrap()).unwrap();
            lines.write_number(r, 16, *net).unwrap();
            lines.write_number(r, 18, *tax).unwrap();
            lines.write_number(r, 19, net + tax).unwrap();
            r += 1;
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn statement_of(api: &Api, doc_no: &str, submitter: &str) -> Value {
    let (_, list) = api.get(&format!("/api/v1/trade-records?doc_no={doc_no}")).await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["submitted_by_org_id"] == submitter)
        .unwrap_or_else(|| panic!("a statement of {doc_no} by {submitter}: {list}"))
        .clone();
    let (_, detail) = api.get(&format!("/api/v1/trade-records/{}", item["id"].as_str().unwrap())).await;
    detail
}

#[tokio::test]
async fn the_e_tax_export_lands_issued_by_upload_and_received_by_mail_with_status_sign_and_lines() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let supplier_id: String = sqlx::query_scalar("SELECT id FROM organisation WHERE uscc = $1")
        .bind(code(101))
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let export = etax_export();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/samples/etax-invoice-export.xlsx");
        std::fs::write(sample, &export).expect("the sample export is written");
    }
    let invoices = export_invoices();
    let line_count: u64 = invoices.iter().map(|i| i.lines.len() as u64).sum();
    let rows = invoices.len() as u64 + line_count;

    // The supplier's export of issued invoices (销项), uploaded as downloaded: every row lands once.
    let r = upload(&w.supplier, "全量发票查询导出结果_销项.xlsx", export.clone()).await;
    assert_eq!(
        (r["status"].as_str(), r["accepted"].as_u64(), r["rejected"].as_u64(), r["file_errors"].as_u64()),
        (Some("accepted"), Some(rows), Some(0), Some(0)),
        "{r}"
    );
    let notes = issues(&w.supplier, &r).await;
    assert!(notes.is_empty(), "the service's own columns are recognised, not warned about: {notes:?}");

    // Number, time-stamped date, status, sign and lines read as the data standard means them.
    let live = statement_of(&w.supplier, &invoices[0].digital, &supplier_id).await;
    assert_eq!(
        (live["doc_date"].as_str(), live["invoice_status"].as_str()),
        (Some(day(-20).to_string().as_str()), Some("live")),
        "{live}"
    );
    assert_eq!((live["total_fen"].as_i64(), live["net_fen"].as_i64()), (Some(1_130_000), Some(1_000_000)));
    let lines = live["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{live}");
    assert_eq!(
        (
            lines[0]["goods_name"].as_str(),
            lines[0]["quantity"].as_str(),
            lines[0]["tax_rate"].as_str(),
            lines[0]["net_fen"].as_i64()
        ),
        (Some("*钢材*热轧钢板"), Some("6"), Some("13%"), Some(600_000))
    );
    let red = statement_of(&w.supplier, &invoices[3].digital, &supplier_id).await;
    assert_eq!((red["invoice_kind"].as_str(), red["total_fen"].as_i64()), (Some("red"), Some(-226_000)), "{red}");
    assert_eq!(
        red["invoice_refs"],
        json!([invoices[2].digital]),
        "the red invoice names its blue one from its remarks"
    );
    let legacy = statement_of(&w.supplier, "00012345", &supplier_id).await;
    assert_eq!(legacy["invoice_code"].as_str(), Some(invoices[4].code), "{legacy}");

    // A voided invoice never counts as live: its verdict names it.
    let voided = statement_of(&w.supplier, &invoices[1].digital, &supplier_id).await;
    assert_eq!(voided["invoice_status"], "voided");
    let (_, v) = w.supplier.get(&format!("/api/v1/verifications/{}", voided["id"].as_str().unwrap())).await;
    assert_eq!(v["status"], "inconsistent", "{v}");
    assert!(v["discrepancies"].to_string().contains("\"voided\""), "{v}");
    let flushed = statement_of(&w.supplier, &invoices[2].digital, &supplier_id).await;
    let (_, v) = w.supplier.get(&format!("/api/v1/verifications/{}", flushed["id"].as_str().unwrap())).await;
    assert!(v["discrepancies"].to_string().contains("\"red_flushed\""), "{v}");

    // The same export again changes nothing, lines included.
    let again = upload(&w.supplier, "全量发票查询导出结果_销项.xlsx", export.clone()).await;
    assert_eq!((again["accepted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(rows)), "{again}");

    // The core's export of received invoices (进项), sent by mail: the core's own statements of the same
    // invoices, each row once, and the supplier's invoice is now corroborated by its buyer.
    let mail = start_mail(&t, |_| {}).await;
    let client = plain_client(mail.smtp_addr.unwrap().port());
    let raw = message_with_attachment(SENDER, &designated(100), "全量发票查询导出结果_进项.xlsx", &export);
    send_raw(&client, SENDER, &designated(100), &raw).await.expect("the mailbox accepts the export");
    let mut report = Value::Null;
    for _ in 0..200 {
        let (_, list) = w.core.get("/api/v1/submissions?page_size=50").await;
        if let Some(done) =
            list["items"].as_array().unwrap().iter().find(|s| s["channel"] == "mailbox" && s["status"] != "received")
        {
            report = done.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (report["status"].as_str(), report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some("accepted"), Some(rows), Some(0)),
        "{report}"
    );
    let buyers = statement_of(&w.core, &invoices[0].digital, &w.core_id).await;
    assert_eq!(buyers["lines"].as_array().unwrap().len(), 2);
    let (_, v) = w.core.get(&format!("/api/v1/verifications/{}", live["id"].as_str().unwrap())).await;
    assert!(v["evidence"]["corroborated"].to_string().contains(live["id"].as_str().unwrap()), "{v}");
    mail.stop().await;
}

/// Invoices whose 价税合计 is a formula, in the shape `tool` gives them: `excel` saves each formula's
/// result (as Excel, WPS and LibreOffice do), a hidden parameters sheet comes first, a 合计 row closes
/// the data and an empty sheet follows; one row's saved total disagrees with its parts.
fn formula_workbook_as_excel_saves_it() -> Vec<u8> {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut wb = Workbook::new();
    let params = wb.add_worksheet();
    params.set_name("参数").unwrap();
    params.write_string(0, 0, "税率").unwrap();
    params.write_number(0, 1, 0.13).unwrap();
    params.set_hidden(true);
    let s = wb.add_worksheet();
    s.set_name("发票").unwrap();
    // The data sheet is the one the workbook opens on (a workbook cannot open on a hidden sheet).
    s.set_active(true);
    for (c, h) in ["数电票号码", "开票日期", "销方统一社会信用代码", "购方统一社会信用代码", "金额", "税额", "价税合计"]
        .iter()
        .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        (8001u64, 1000.0, 130.0, 1130.0),
        (8002, 2000.0, 260.0, 2260.0),
        (8003, 3000.0, 390.0, 3390.0),
        (8004, 100.0, 13.0, 120.0),
    ];
    for (i, (serial, net, tax, saved_total)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        s.write_string(r, 0, einvoice(-5, *serial)).unwrap();
        s.write_string(r, 1, day(-5).to_string()).unwrap();
        s.write_string(r, 2, code(101)).unwrap();
        s.write_string(r, 3, code(100)).unwrap();
        s.write_number(r, 4, *net).unwrap();
        s.write_number(r, 5, *tax).unwrap();
        let f = Formula::new(format!("=E{}+F{}", r + 1, r + 1)).set_result(saved_total.to_string());
        s.write_formula(r, 6, f).unwrap();
    }
    s.write_string(5, 0, "合计").unwrap();
    s.write_formula(5, 4, Formula::new("=SUM(E2:E5)").set_result("6100")).unwrap();
    s.write_formula(5, 6, Formula::new("=SUM(G2:G5)").set_result("6900")).unwrap();
    wb.add_worksheet().set_name("Sheet3").unwrap();
    wb.save_to_buffer().unwrap()
}

/// Invoices written by openpyxl, which stores formulas without results.
fn formula_workbook_as_a_script_writes_it(path: &std::path::Path, serials: [u64; 2]) -> Vec<u8> {
    let script = format!(
        "import openpyxl\n\
         wb = openpyxl.Workbook()\n\
         ws = wb.active\n\
         ws.title = '发票'\n\
         ws.append(['数电票号码', '开票日期', '销方统一社会信用代码', '购方统一社会信用代码', '金额', '税额', '价税合计'])\n\
         for i, n in enumerate(['{}', '{}']):\n\
         \x20   ws.append([n, '{}', '{}', '{}', 1000, 130, '=E%d+F%d' % (i + 2, i + 2)])\n\
         wb.save(r'{}')\n",
        einvoice(-5, serials[0]),
        einvoice(-5, serials[1]),
        day(-5),
        code(101),
        code(100),
        path.display()
    );
    let out = std::process::Command::new("python3").arg("-c").arg(&script).output().expect("python3");
    assert!(
        out.status.success(),
        "openpyxl could not write the workbook (scripts/test installs the openpyxl Python package): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn formulas_are_read_by_their_saved_results_and_totals_hidden_and_empty_sheets_are_notes() {
    let t = spawn_app().await;
    let w = world(&t).await;

    let r = upload(&w.core, "发票台账.xlsx", formula_workbook_as_excel_saves_it()).await;
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64(), r["file_errors"].as_u64()),
        (Some(3), Some(1), Some(0)),
        "three rows by their saved totals, the fourth's total disagrees with its parts: {r}"
    );
    let errors = r["row_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r}");
    assert_eq!(
        (errors[0]["row_no"].as_u64(), errors[0]["code"].as_str(), errors[0]["field"].as_str()),
        (Some(5), Some("amount_mismatch"), Some("total_amount"))
    );
    let notes = issues(&w.core, &r).await;
    let found = codes(&notes);
    for code in ["sheet_hidden_skipped", "total_row_skipped", "sheet_empty"] {
        let note = notes.iter().find(|n| n["code"] == code).unwrap_or_else(|| panic!("{code} in {found:?}"));
        assert_eq!(note["severity"], "warning", "{note}");
    }
    let (_, rec) = w.core.get(&format!("/api/v1/trade-records?doc_no={}", einvoice(-5, 8002))).await;
    assert_eq!(rec["items"][0]["total_fen"], 226_000);

    // A workbook written by a script holds formulas without results: one message says how to re-save it.
    let path = std::env::temp_dir().join(format!("lianrong-openpyxl-{}.xlsx", lianrong_app::new_id()));
    let scripted = formula_workbook_as_a_script_writes_it(&path, [8101, 8102]);
    let _ = std::fs::remove_file(&path);
    let r = upload(&w.core, "脚本生成.xlsx", scripted).await;
    assert_eq!((r["accepted"].as_u64(), r["rejected"].as_u64()), (Some(0), Some(2)), "{r}");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, detail) = w.core.get(&format!("/api/v1/submissions/{sub}")).await;
    assert_eq!(detail["error_code"], "formula_not_calculated", "one clear message for the file: {detail}");
    assert!(detail["error_zh"].as_str().unwrap().contains("重新计算并保存"), "{detail}");
    let notes = issues(&w.core, &r).await;
    let sheet_level = notes.iter().filter(|n| n["code"] == "formula_not_calculated" && n["row_no"].is_null()).count();
    assert_eq!(sheet_level, 1, "told once, not per row: {notes:?}");
}

#[tokio::test]
async fn a_restatement_keeps_what_it_does_not_state_and_clears_only_what_it_empties() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let no = einvoice(-3, 9001);
    let first = format!(
        "数电票号码,开票日期,销方统一社会信用代码,销方名称,购方统一社会信用代码,购方名称,价税合计,备注\n{no},{},{},乙公司,{},甲公司,113.00,首批\n",
        day(-3),
        code(101),
        code(100)
    );
    let r = upload(&w.core, "发票.csv", first.into_bytes()).await;
    assert_eq!(r["accepted"], 1, "{r}");
    // A later file without the name and remarks columns says nothing of them: unchanged.
    let narrow = format!(
        "数电票号码,开票日期,销方统一社会信用代码,购方统一社会信用代码,价税合计\n{no},{},{},{},113.00\n",
        day(-3),
        code(101),
        code(100)
    );
    let r = upload(&w.core, "发票_简.csv", narrow.into_bytes()).await;
    assert_eq!((r["accepted"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(1)), "{r}");
    let rec = statement_of(&w.core, &no, &w.core_id).await;
    assert_eq!(
        (rec["version"].as_i64(), rec["seller_name"].as_str(), rec["remarks"].as_str()),
        (Some(1), Some("乙公司"), Some("首批")),
        "{rec}"
    );
    // An empty remarks cell under a present column clears the remarks, and only them.
    let clearing = format!(
        "数电票号码,开票日期,销方统一社会信用代码,购方统一社会信用代码,价税合计,备注\n{no},{},{},{},113.00,\n",
        day(-3),
        code(101),
        code(100)
    );
    let r = upload(&w.core, "发票_更正.csv", clearing.into_bytes()).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let rec = statement_of(&w.core, &no, &w.core_id).await;
    assert_eq!(
        (rec["version"].as_i64(), rec["remarks"].is_null(), rec["seller_name"].as_str()),
        (Some(2), true, Some("乙公司")),
        "{rec}"
    );
    // Through the API the same: a key left out is not stated, null clears.
    let (_, r) = w
        .core
        .post("/api/v1/submissions", json!({"records": [{"record_type": "invoice", "digital_invoice_no": no, "issue_date": day(-3).to_string(), "seller_uscc": code(101), "buyer_uscc": code(100), "total_amount": "113.00", "buyer_name": null}]}))
        .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let rec = statement_of(&w.core, &no, &w.core_id).await;
    assert_eq!((rec["buyer_name"].is_null(), rec["seller_name"].as_str()), (true, Some("乙公司")), "{rec}");
}

/// The core's ERP exports as their systems write them, in GB18030, each listing the supplier only, with the
/// number of records each holds.
fn erp_exports() -> Vec<(&'static str, Vec<u8>, u64)> {
    // 金蝶: 采购订单 with 单据编号 and 业务日期, the supplier only, and a 合计 row.
    let kingdee = format!(
        "单据编号,业务日期,供应商税号,供应商名称,价税合计,税额,制单人\r\nCGDD-0001,{d},{s},乙公司,\"1,130.00\",130.00,李四\r\nCGDD-0002,{d},{s},乙公司,565.00,65.00,李四\r\n合计,,,,\"1,695.00\",195.00,\r\n",
        d = day(-30),
        s = code(101)
    );
    // 用友: 到货单 with its own number and date columns and the acceptance.
    let yonyou = format!(
        "到货单号,到货日期,供应商统一社会信用代码,订单编号,价税合计,验收状态,验收日期\r\nDH-01,{d},{s},CGDD-0001,\"1,130.00\",已验收,{a}\r\n",
        d = day(-25),
        a = day(-24),
        s = code(101)
    );
    // SAP (Chinese interface): goods receipts as 物料凭证 with 过账日期.
    let sap = format!(
        "物料凭证,过账日期,供应商税号,采购凭证,金额\r\n5000000001,{d},{s},CGDD-0002,565.00\r\n",
        d = day(-20),
        s = code(101)
    );
    [("采购订单_金蝶导出.csv", kingdee, 2u64), ("到货单_用友.csv", yonyou, 1), ("收货_SAP.csv", sap, 1)]
        .into_iter()
        .map(|(name, text, n)| (name, encoding_rs::GB18030.encode(&text).0.into_owned(), n))
        .collect()
}

#[tokio::test]
async fn erp_exports_in_gb18030_with_their_own_headers_land_with_the_submitter_as_the_unnamed_party() {
    let t = spawn_app().await;
    let w = world(&t).await;
    for (name, bytes, expected) in erp_exports() {
        let r = upload(&w.core, name, bytes).await;
        assert_eq!((r["accepted"].as_u64(), r["rejected"].as_u64()), (Some(expected), Some(0)), "{name}: {r}");
        let notes = codes(&issues(&w.core, &r).await);
        assert!(notes.contains(&"own_party_assumed".to_string()), "{name}: {notes:?}");
        assert!(!notes.contains(&"column_unknown".to_string()), "{name}: {notes:?}");
    }
    let order = statement_of(&w.core, "CGDD-0001", &w.core_id).await;
    assert_eq!(
        (order["record_type"].as_str(), order["buyer_uscc"].as_str(), order["total_fen"].as_i64()),
        (Some("order"), Some(code(100).as_str()), Some(113_000)),
        "{order}"
    );
    let receipt = statement_of(&w.core, "5000000001", &w.core_id).await;
    assert_eq!(
        (receipt["record_type"].as_str(), receipt["order_refs"].clone()),
        (Some("delivery"), json!(["CGDD-0002"])),
        "{receipt}"
    );
    let (_, all) = w.core.get("/api/v1/trade-records?page_size=50").await;
    assert_eq!(all["total"], 4, "the 合计 row is not a record: {all}");
}

#[tokio::test]
async fn a_submission_made_with_an_api_key_names_the_key_and_full_width_codes_are_read() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (s, k) =
        w.core.post("/api/v1/api-keys", json!({"name": "ERP对接", "scopes": ["trade:write", "trade:read"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let full_width: String = code(101)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xfee0).unwrap() } else { c })
        .collect();
    let (s, r) = t
        .with_key(k["secret"].as_str().unwrap())
        .post("/api/v1/submissions", json!({"records": [{"record_type": "order", "order_no": "PO-K1", "order_date": day(-2).to_string(), "seller_uscc": full_width, "buyer_uscc": code(100), "total_amount": "10.00"}]}))
        .await;
    assert_eq!((s, r["accepted"].as_u64()), (StatusCode::CREATED, Some(1)), "{r}");
    let sub = r["submission_id"].as_str().unwrap();
    let (_, detail) = w.core.get(&format!("/api/v1/submissions/{sub}")).await;
    let by = detail["submitted_by"].as_str().unwrap();
    assert!(
        by.contains("ERP对接") && by.contains(k["key"]["id"].as_str().unwrap()),
        "the key, not the organisation: {detail}"
    );
    let (s, e) = w.core.post("/api/v1/submissions", json!({"records": [{"record_type": "invoice"}]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let message = e["row_errors"].to_string();
    assert!(message.contains("required on every invoice record") && !message.contains("a Invoice"), "{message}");
}

/// Re-saves a workbook as LibreOffice does (headless, its own profile so runs never share one), in
/// `format` (`xlsx` or `xls`): every formula's result is saved with it, as by any office suite.
fn saved_by_libreoffice(input: &std::path::Path, format: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("lianrong-lo-{}", lianrong_app::new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", dir.join("profile").display()))
        .args(["--headless", "--calc", "--convert-to", format, "--outdir"])
        .arg(&dir)
        .arg(input)
        .output()
        .expect("soffice runs (scripts/test installs libreoffice-calc-nogui)");
    let stem = input.file_stem().unwrap().to_string_lossy().to_string();
    let saved = dir.join(format!("{stem}.{format}"));
    let bytes = std::fs::read(&saved).unwrap_or_else(|e| {
        panic!("LibreOffice did not write {}: {e}; {}", saved.display(), String::from_utf8_lossy(&out.stderr))
    });
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// The openpyxl workbook with `serials`, re-saved by LibreOffice in `format`.
fn scripted_then_saved_by_libreoffice(serials: [u64; 2], format: &str) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("lianrong-openpyxl-{}.xlsx", lianrong_app::new_id()));
    formula_workbook_as_a_script_writes_it(&path, serials);
    let bytes = saved_by_libreoffice(&path, format);
    let _ = std::fs::remove_file(&path);
    bytes
}

/// Mails a file to the core's designated mailbox and answers the submission it became, once processed.
async fn mailed(w: &World, mail: &lianrong_mail::Running, name: &str, bytes: &[u8]) -> Value {
    let ids = |list: &Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
    };
    let (_, before) = w.core.get("/api/v1/submissions?page_size=200").await;
    let known = ids(&before);
    let client = plain_client(mail.smtp_addr.unwrap().port());
    let raw = message_with_attachment(SENDER, &designated(100), name, bytes);
    send_raw(&client, SENDER, &designated(100), &raw).await.expect("the mailbox accepts the file");
    for _ in 0..300 {
        let (_, list) = w.core.get("/api/v1/submissions?page_size=200").await;
        if let Some(done) = list["items"].as_array().unwrap().iter().find(|s| {
            s["channel"] == "mailbox"
                && s["status"] != "received"
                && !known.contains(&s["id"].as_str().unwrap().to_string())
        }) {
            return done.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{name} sent by mail was not processed");
}

#[tokio::test]
async fn every_file_shape_lands_every_row_once_through_upload_and_through_the_mailbox() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let mail = start_mail(&t, |_| {}).await;
    let invoices = export_invoices();
    let etax_rows = invoices.len() as u64 + invoices.iter().map(|i| i.lines.len() as u64).sum::<u64>();
    // (file name, bytes, rows that land, rows refused).
    let mut shapes: Vec<(&str, Vec<u8>, u64, u64)> = vec![
        ("全量发票查询导出结果_进项.xlsx", etax_export(), etax_rows, 0),
        ("发票台账.xlsx", formula_workbook_as_excel_saves_it(), 3, 1),
        ("发票台账_LibreOffice.xlsx", scripted_then_saved_by_libreoffice([8201, 8202], "xlsx"), 2, 0),
        ("发票台账_97-2003.xls", scripted_then_saved_by_libreoffice([8301, 8302], "xls"), 2, 0),
    ];
    shapes.extend(erp_exports().into_iter().map(|(name, bytes, n)| (name, bytes, n, 0)));
    for (i, (name, bytes, rows, refused)) in shapes.into_iter().enumerate() {
        // Alternate which channel sees the file first: the first lands every row, the second finds each
        // unchanged, so no row lands twice.
        let by_upload_first = i % 2 == 0;
        let first = if by_upload_first {
            upload(&w.core, name, bytes.clone()).await
        } else {
            mailed(&w, &mail, name, &bytes).await
        };
        assert_eq!(
            (first["accepted"].as_u64(), first["rejected"].as_u64(), first["unchanged"].as_u64()),
            (Some(rows), Some(refused), Some(0)),
            "{name} first by {}: {first}",
            if by_upload_first { "upload" } else { "mail" }
        );
        let second = if by_upload_first {
            mailed(&w, &mail, name, &bytes).await
        } else {
            upload(&w.core, name, bytes.clone()).await
        };
        assert_eq!(
            (second["accepted"].as_u64(), second["rejected"].as_u64(), second["unchanged"].as_u64()),
            (Some(0), Some(refused), Some(rows)),
            "{name} again through the other channel: {second}"
        );
    }
    let (_, rec) = w.core.get(&format!("/api/v1/trade-records?doc_no={}", einvoice(-5, 8302))).await;
    assert_eq!(rec["items"][0]["total_fen"], 113_000, "the .xls formula's saved result: {rec}");
    mail.stop().await;
}

/// A 用友-style order export whose party, amount and name columns the standard does not know.
fn own_headers_export() -> Vec<u8> {
    format!(
        "单据号,单据日期,往来单位识别码,往来单位,含税总额,摘要\n\
         XSD-01,{d},{s},乙公司,\"1,130.00\",首批\n\
         XSD-02,{d},{s},乙公司,565.00,二批\n",
        d = day(-8),
        s = code(101)
    )
    .into_bytes()
}

async fn preview(api: &Api, name: &str, bytes: Vec<u8>) -> Value {
    let resp = api.upload("/api/v1/submissions/preview", name, bytes).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn column<'a>(p: &'a Value, header: &str) -> &'a Value {
    p["sheets"][0]["columns"].as_array().unwrap().iter().find(|c| c["header"] == header).unwrap()
}

#[tokio::test]
async fn a_preview_shows_how_each_column_is_read_and_an_organisations_meanings_apply_through_every_channel() {
    let t = spawn_app().await;
    let w = world(&t).await;
    t.org_with_admin(102, "bank", "b.admin").await;
    let bank = t.login("b.admin", PASSWORD).await;

    // Before anything is stored, the preview says how the file would be read: no header row the standard
    // knows, so the likeliest row's columns are shown to be given meanings.
    let p = preview(&w.core, "采购订单_用友.csv", own_headers_export()).await;
    let sheet = &p["sheets"][0];
    assert_eq!(
        (sheet["status"].as_str(), sheet["record_type"].as_str(), sheet["header_guess_row_no"].as_u64()),
        (Some("no_header"), Some("order"), Some(1)),
        "{p}"
    );
    assert_eq!(
        (column(&p, "单据号")["meaning"].as_str(), column(&p, "单据号")["origin"].as_str()),
        (Some("order_no"), Some("generic"))
    );
    assert_eq!(
        (column(&p, "往来单位识别码")["meaning"].clone(), column(&p, "往来单位识别码")["origin"].as_str()),
        (Value::Null, Some("unknown"))
    );
    assert_eq!(sheet["samples"][0]["cells"][0], "XSD-01");
    let (_, subs) = w.core.get("/api/v1/submissions").await;
    assert_eq!(subs["total"], 0, "a preview stores nothing: {subs}");
    let r = upload(&w.core, "采购订单_用友.csv", own_headers_export()).await;
    assert_eq!((r["accepted"].as_u64(), r["file_errors"].as_u64()), (Some(0), Some(1)), "as the preview said: {r}");

    // The core tells the platform what its headers mean, all or none.
    let (s, bad) = w
        .core
        .post("/api/v1/column-mappings", json!({"columns": [{"header": "含税总额", "meaning": "total_amount"}, {"header": "往来单位", "meaning": "colour"}]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(
        (bad["code"].as_str(), bad["field"].as_str()),
        (Some("column_meaning_unknown"), Some("columns[1].meaning")),
        "{bad}"
    );
    let (_, none) = w.core.get("/api/v1/column-mappings").await;
    assert_eq!(none["items"], json!([]), "nothing of a refused request is kept");
    let (s, m) = w
        .core
        .post(
            "/api/v1/column-mappings",
            json!({"columns": [
                {"header": "往来单位识别码", "meaning": "seller_uscc"},
                {"header": "往来单位", "meaning": "seller_name"},
                {"header": "含税总额", "meaning": "total_amount"},
                {"header": "摘要", "meaning": "ignore"}
            ]}),
        )
        .await;
    assert_eq!((s, m["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(4)), "{m}");
    let p = preview(&w.core, "采购订单_用友.csv", own_headers_export()).await;
    let sheet = &p["sheets"][0];
    assert_eq!(
        (sheet["status"].as_str(), sheet["header_row_no"].as_u64(), sheet["rows"].as_u64()),
        (Some("read"), Some(1), Some(2)),
        "{p}"
    );
    let c = column(&p, "往来单位识别码");
    assert_eq!((c["meaning"].as_str(), c["origin"].as_str()), (Some("seller_uscc"), Some("organisation")), "{p}");
    assert_eq!(p["sheets"][0]["own_party"], "buyer_uscc");

    // Every channel reads the core's files with its meanings: the upload lands both rows, the mail
    // finds them unchanged.
    let r = upload(&w.core, "采购订单_用友.csv", own_headers_export()).await;
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64(), r["file_errors"].as_u64()),
        (Some(2), Some(0), Some(0)),
        "{r}"
    );
    let notes = codes(&issues(&w.core, &r).await);
    assert!(!notes.contains(&"column_unknown".to_string()), "{notes:?}");
    let order = statement_of(&w.core, "XSD-01", &w.core_id).await;
    assert_eq!(
        (
            order["seller_uscc"].as_str(),
            order["seller_name"].as_str(),
            order["total_fen"].as_i64(),
            order["remarks"].clone()
        ),
        (Some(code(101).as_str()), Some("乙公司"), Some(113_000), Value::Null),
        "{order}"
    );
    let mail = start_mail(&t, |_| {}).await;
    let again = mailed(&w, &mail, "采购订单_用友.csv", &own_headers_export()).await;
    assert_eq!((again["accepted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "{again}");
    mail.stop().await;

    // The meanings are the core's alone: the supplier neither sees them nor has its files read by them.
    let (_, theirs) = w.supplier.get("/api/v1/column-mappings").await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");
    let p = preview(&w.supplier, "采购订单_用友.csv", own_headers_export()).await;
    assert_eq!(column(&p, "往来单位识别码")["origin"], "unknown", "{p}");
    // A bank shares no trade data and keeps no meanings.
    let (s, refused) =
        bank.post("/api/v1/column-mappings", json!({"columns": [{"header": "单号", "meaning": "order_no"}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{refused}");
    let resp = bank.upload("/api/v1/submissions/preview", "x.csv", own_headers_export()).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // "standard" returns a header to the platform's own reading.
    let (_, m) =
        w.core.post("/api/v1/column-mappings", json!({"columns": [{"header": "摘要", "meaning": "standard"}]})).await;
    assert_eq!(m["items"].as_array().map(Vec::len), Some(3), "{m}");
    assert!(!m.to_string().contains("摘要"), "{m}");
}
