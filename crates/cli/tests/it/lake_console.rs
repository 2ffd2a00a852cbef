//! The data lake's console pages over HTTP: a core uploads through the console form (CSRF token first,
//! checked before the file is read) and is sent to the report, which names every bad row's field in the
//! reader's language; the raw bytes download as received; the records list filters and pages; a changed
//! record shows its earlier version; the counterparty sees the record but not the other's submission; a
//! bank can neither upload nor see; the operator, as custodian, sees everyone's.

use lianrong_app::Actor;
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, code, spawn_app};

/// A console session without automatic redirects, so that each 303 can be checked.
struct Console {
    base: String,
    http: Client,
    csrf: String,
}

impl Console {
    async fn login(t: &TestApp, login: &str) -> Console {
        let http = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let resp = http
            .post(format!("{}/api/v1/session", t.base_url))
            .json(&json!({"login": login, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "login {login}");
        let body: Value = resp.json().await.unwrap();
        Console { base: t.base_url.clone(), http, csrf: body["csrf_token"].as_str().unwrap().to_string() }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// Posts the upload form; `token_first` false sends the file before the token.
    async fn upload_with(&self, name: &str, bytes: &[u8], token: &str, token_first: bool) -> reqwest::Response {
        let file = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
        let form = reqwest::multipart::Form::new();
        let form = if token_first {
            form.text("csrf_token", token.to_string()).part("file", file)
        } else {
            form.part("file", file).text("csrf_token", token.to_string())
        };
        self.http.post(format!("{}/submissions", self.base)).multipart(form).send().await.unwrap()
    }

    /// Posts the upload form's preview button: answers the 303's location.
    async fn preview(&self, name: &str, bytes: &[u8]) -> String {
        let file = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone()).part("file", file);
        let resp = self.http.post(format!("{}/submissions/preview", self.base)).multipart(form).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{}", resp.text().await.unwrap_or_default());
        resp.headers()[header::LOCATION].to_str().unwrap().to_string()
    }

    /// Posts a urlencoded form with the session's token.
    async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        body.extend_from_slice(pairs);
        self.http.post(format!("{}{path}", self.base)).form(&body).send().await.unwrap()
    }

    /// Uploads through the form and follows nothing: answers the report's path from the 303.
    async fn upload(&self, name: &str, bytes: &[u8]) -> String {
        let resp = self.upload_with(name, bytes, &self.csrf, true).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{}", resp.text().await.unwrap_or_default());
        let location = resp.headers()[header::LOCATION].to_str().unwrap().to_string();
        assert!(location.starts_with("/submissions/") && location.ends_with("?ok=uploaded"), "{location}");
        location
    }
}

/// Three orders from the core (100) to its supplier (101): two good, one with a broken credit code, and
/// a column the standard does not know.
fn orders_csv(first_amount: &str) -> String {
    format!(
        "订单号,订单日期,购方统一社会信用代码,销方统一社会信用代码,价税合计,内部备注栏\n\
         PO-C-0001,2026-01-15,{core},{sup},\"{first_amount}\",x\n\
         PO-C-0002,2026-01-16,{core},{sup},\"2,500.50\",y\n\
         PO-C-0003,2026-01-17,91500112MA00001XXX,{sup},99.00,z\n",
        core = code(100),
        sup = code(101),
    )
}

async fn submission_count(t: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM submission").fetch_one(&t.app.db.pool).await.unwrap()
}

async fn record_id(t: &TestApp, doc_no: &str) -> String {
    sqlx::query_scalar("SELECT id FROM trade_record WHERE doc_no = $1")
        .bind(doc_no)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_console_shows_each_organisation_its_submissions_reports_and_records() {
    let t = spawn_app().await;
    let system = Actor::system("system");
    let core_id = t.org_with_admin(100, "core", "c.admin").await;
    let sup_id = t.org_with_admin(101, "supplier", "s.admin").await;
    t.org_with_admin(104, "bank", "b.admin").await;
    let chain = lianrong_app::chain::create(&t.app, &system, "测试产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &core_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &sup_id, "supplier", Some(1)).await.unwrap();
    let core = Console::login(&t, "c.admin").await;

    // The page offers the form, the templates and the three channels.
    let (status, page) = core.get("/submissions").await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "id=\"upload-form\"",
        "enctype=\"multipart/form-data\"",
        "accept=\".csv,.xlsx,.xls,.zip\"",
        "/standard/templates/invoice.xlsx",
        "POST /api/v1/submissions",
        "定点邮箱",
    ] {
        assert!(page.contains(part), "the submissions page lacks {part}");
    }

    // A wrong token, or a file before the token, is refused before anything is stored.
    let csv = orders_csv("1,000.00");
    assert_eq!(core.upload_with("orders.csv", csv.as_bytes(), "forged", true).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(core.upload_with("orders.csv", csv.as_bytes(), &core.csrf, false).await.status(), StatusCode::FORBIDDEN);
    let no_file = core.upload_with("", b"", &core.csrf, true).await;
    assert_eq!(no_file.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_file.text().await.unwrap().contains("请选择要上传的文件"));
    assert_eq!(submission_count(&t).await, 0, "refused uploads store nothing");

    // The upload lands on its report: two accepted, one rejected row named by field, one warning.
    let report_path = core.upload("2026年1月订单.csv", csv.as_bytes()).await;
    let submission_id = report_path.trim_start_matches("/submissions/").trim_end_matches("?ok=uploaded").to_string();
    let (status, report) = core.get(&report_path).await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "id=\"flash\"",
        "id=\"report-status\" data-status=\"partial\"",
        "id=\"report-accepted\">2<",
        "id=\"report-rejected\">1<",
        "id=\"report-warnings\">1<",
        "data-code=\"uscc_invalid\" data-field=\"buyer_uscc\"",
        "购方统一社会信用代码",
        "data-code=\"column_unknown\"",
        "91500112MA00001XXX",
        "指定账号上传",
        "2026年1月订单.csv",
    ] {
        assert!(report.contains(part), "the report lacks {part}");
    }
    let digest: String = sqlx::query_scalar("SELECT raw_sm3 FROM submission WHERE id = $1")
        .bind(&submission_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert!(report.contains(&digest), "the report shows the raw digest");

    // In English, the same report names the field and the problem in English.
    let (status, _) = core.get(&format!("/lang/en?next=/submissions/{submission_id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, english) = core.get(&format!("/submissions/{submission_id}")).await;
    assert!(english.contains("Buyer credit code") && english.contains("Submission report"), "English report");
    assert!(!english.contains("购方统一社会信用代码"), "no Chinese field label in the English report");
    core.get("/lang/zh?next=/home").await;

    // The raw bytes download exactly as received, under the uploaded name.
    let raw = core.http.get(format!("{}/submissions/{submission_id}/raw", core.base)).send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.headers()[header::CONTENT_TYPE], "text/csv");
    let disposition = raw.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''2026%E5%B9%B41"),
        "{disposition}"
    );
    assert_eq!(raw.bytes().await.unwrap().as_ref(), csv.as_bytes());

    // The records: by submission, by type and document number; an unknown type is an error page.
    let (_, list) = core.get(&format!("/trade-records?submission_id={submission_id}")).await;
    assert!(list.contains("PO-C-0001") && list.contains("PO-C-0002") && !list.contains("PO-C-0003"));
    assert!(list.contains("¥2,500.50") && list.contains(&code(101)));
    let (_, one) = core.get("/trade-records?record_type=order&doc_no=PO-C-0002").await;
    assert!(one.contains("PO-C-0002") && !one.contains("PO-C-0001"));
    let (_, none) = core.get("/trade-records?record_type=invoice").await;
    assert!(!none.contains("PO-C-000"));
    let (_, paged) = core.get("/trade-records?page_size=1").await;
    assert_eq!(paged.matches("<tr id=\"record-").count(), 1, "one record per page");
    assert!(
        paged.contains("href=\"/trade-records?after=") && paged.contains("\" rel=\"next\""),
        "the pager links to the next page by cursor"
    );
    assert_eq!(core.get("/trade-records?record_type=nonsense").await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // A changed amount becomes version 2, with version 1 kept and its changed fields marked.
    let second = core.upload("2026年1月订单-更正.csv", orders_csv("1,200.00").as_bytes()).await;
    let (_, report2) = core.get(&second).await;
    let counts =
        |page: &str| -> Vec<String> { page.lines().filter(|l| l.contains("stat-value")).map(str::to_string).collect() };
    assert!(
        report2.contains("id=\"report-accepted\">1<") && report2.contains("id=\"report-unchanged\">1<"),
        "{:?}",
        counts(&report2)
    );
    let po1 = record_id(&t, "PO-C-0001").await;
    let (status, detail) = core.get(&format!("/trade-records/{po1}")).await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "id=\"record-version\">版本 2<",
        "id=\"record-amount\">¥1,200.00<",
        "id=\"version-1\"",
        "¥1,000.00",
        "class=\"changed\"",
        "id=\"record-submission\"",
        "测试产业链",
        "2026年1月订单-更正.csv",
    ] {
        assert!(detail.contains(part), "the record page lacks {part}");
    }

    // The supplier is the seller: it sees the record, but not the core's submission.
    let supplier = Console::login(&t, "s.admin").await;
    let (status, seen) = supplier.get(&format!("/trade-records/{po1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen.contains("PO-C-0001") && !seen.contains("id=\"record-submission\""));
    assert_eq!(supplier.get(&format!("/submissions/{submission_id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(supplier.get(&format!("/submissions/{submission_id}/raw")).await.0, StatusCode::NOT_FOUND);
    let (_, sup_list) = supplier.get("/submissions").await;
    assert!(!sup_list.contains(&submission_id));

    // A bank has no data-sharing menu, no upload form, and may not upload.
    let bank = Console::login(&t, "b.admin").await;
    let (_, bank_home) = bank.get("/home").await;
    assert!(!bank_home.contains("href=\"/submissions\""));
    let (_, bank_page) = bank.get("/submissions").await;
    assert!(!bank_page.contains("upload-form"));
    let before = submission_count(&t).await;
    let refused = bank.upload_with("orders.csv", csv.as_bytes(), &bank.csrf, true).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(submission_count(&t).await, before);
    assert_eq!(bank.get(&format!("/trade-records/{po1}")).await.0, StatusCode::NOT_FOUND);

    // The operator sees every organisation's submissions, with the organisation named.
    let operator = Console::login(&t, "op.admin").await;
    let (_, all) = operator.get("/submissions").await;
    assert!(all.contains(&submission_id) && all.contains("测试core100有限公司"));
    assert!(!all.contains("upload-form"));
    assert_eq!(operator.get(&format!("/trade-records/{po1}")).await.0, StatusCode::OK);

    // The core's home page counts what it has shared.
    let (_, home) = core.get("/home").await;
    assert!(home.contains("id=\"home-data-sharing\""));
    assert!(home.contains("id=\"home-submissions\">2<") && home.contains("id=\"home-records\">2<"), "home tile counts");
    assert!(home.contains("¥3,700.50"), "orders total 1,200.00 + 2,500.50");
}

#[tokio::test]
async fn the_standard_page_lists_every_field_and_serves_the_templates() {
    let t = spawn_app().await;
    t.org_with_admin(101, "supplier", "s.admin").await;
    let supplier = Console::login(&t, "s.admin").await;
    let (status, page) = supplier.get("/standard").await;
    assert_eq!(status, StatusCode::OK);
    for rt in lianrong_domain::trade::RecordType::ALL {
        for (f, _) in rt.fields() {
            assert!(page.contains(&format!("id=\"field-{}-{}\"", rt.code(), f.code())), "{} {}", rt.code(), f.code());
        }
    }
    assert!(page.contains(lianrong_domain::trade::Field::InvoiceNo.format_hint().1));

    let csv = supplier.http.get(format!("{}/standard/templates/invoice.csv", supplier.base)).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("invoice.csv"));
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]) && String::from_utf8_lossy(&bytes).contains("发票号码/invoice_no"));
    let xlsx = supplier.http.get(format!("{}/standard/templates/payment.xlsx", supplier.base)).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"), "an XLSX is a ZIP");
    let (status, missing) = supplier.get("/standard/templates/nothing.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("<html"), "the console answers with its error page");
}

#[tokio::test]
async fn the_console_previews_an_upload_fixes_its_columns_once_and_uploads_the_held_file() {
    let t = spawn_app().await;
    t.org_with_admin(100, "core", "c.admin").await;
    t.org_with_admin(101, "supplier", "s.admin").await;
    let core = Console::login(&t, "c.admin").await;
    let supplier = Console::login(&t, "s.admin").await;
    // An ERP export whose party and amount columns the standard does not know.
    let csv = format!(
        "订单号,订单日期,客户编码,供应方代码,含税总额\nPO-M-1,2026-02-01,{core},{sup},100.00\nPO-M-2,2026-02-02,{core},{sup},200.00\n",
        core = code(100),
        sup = code(101)
    );

    let (status, page) = core.get("/submissions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"upload-preview\"") && page.contains("formaction=\"/submissions/preview\""), "{page}");
    let location = core.preview("erp_orders.csv", csv.as_bytes()).await;
    assert!(location.starts_with("/submissions/preview/"), "{location}");
    let (status, page) = core.get(&location).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for part in ["客户编码", "含税总额", "PO-M-1", "未识别", "data-origin=\"unknown\"", "id=\"preview-upload\""]
    {
        assert!(page.contains(part), "the preview lacks {part}");
    }
    assert_eq!(submission_count(&t).await, 0, "a preview stores nothing");
    // The held file is its sender's alone.
    assert_eq!(supplier.get(&location).await.0, StatusCode::NOT_FOUND);

    // The user gives the unknown columns their meanings and previews again: they are read as the core's.
    let form = [
        ("action", "save"),
        ("header", "客户编码"),
        ("meaning", "buyer_uscc"),
        ("current", "standard"),
        ("header", "供应方代码"),
        ("meaning", "seller_uscc"),
        ("current", "standard"),
        ("header", "含税总额"),
        ("meaning", "total_amount"),
        ("current", "standard"),
        ("header", "订单号"),
        ("meaning", "standard"),
        ("current", "standard"),
    ];
    let resp = core.post_form(&location, &form).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let again = resp.headers()[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(again, format!("{location}?ok=mapped"));
    let (_, page) = core.get(&again).await;
    assert!(page.contains("data-origin=\"organisation\"") && !page.contains("data-origin=\"unknown\""), "{page}");
    let (_, mappings) = t.login("c.admin", PASSWORD).await.get("/api/v1/column-mappings").await;
    assert_eq!(mappings["items"].as_array().map(Vec::len), Some(3), "{mappings}");

    // A form from another page, without the token, changes nothing.
    let forged = core
        .http
        .post(format!("{}{location}", core.base))
        .form(&[("action", "upload"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // Confirming uploads the held file once, read with the meanings.
    let resp = core.post_form(&location, &[("action", "upload")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let report = resp.headers()[header::LOCATION].to_str().unwrap().to_string();
    assert!(report.starts_with("/submissions/") && report.ends_with("?ok=uploaded"), "{report}");
    let (_, page) = core.get(&report).await;
    assert!(page.contains("id=\"report-accepted\">2<"), "{page}");
    assert_eq!(submission_count(&t).await, 1);
    // The held file went with its upload: confirming again finds nothing.
    assert_eq!(core.post_form(&location, &[("action", "upload")]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(submission_count(&t).await, 1);

    // Discarding a preview lets the file go without storing it.
    let other = core.preview("erp_orders.csv", csv.as_bytes()).await;
    let resp = core.post_form(&other, &[("action", "cancel")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(core.get(&other).await.0, StatusCode::NOT_FOUND);
    assert_eq!(submission_count(&t).await, 1);
}
