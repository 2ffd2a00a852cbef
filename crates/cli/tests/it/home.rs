//! Each party's home page leads with its main job, over HTTP on a small world whose figures are known:
//! a supplier sees what it can finance now (confirmed or data-proven receivables not yet financed or
//! claimed, the commitment parts it holds, its applications with banks) and its receivables by age; a
//! core the confirmations it must sign and the payables due within 30 days or overdue; a bank its queue,
//! the longest waiting first, with working days waited against the ten-day goal (another bank never sees
//! it); the operator and the regulator financing per chain, as a chart with its table.

use lianrong_app::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::application::product;
use crate::commitment::{World, issue, world};
use crate::common::{Api, PASSWORD, TestApp, code, einvoice, spawn_app, ymd};

/// The home page's HTML as `api` sees it.
async fn home(api: &Api) -> String {
    let r = api.send(Method::GET, "/home", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// The part of `html` from the element with `id` to the first `end` after it (its closing tag).
fn part<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element {id} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find(end).map_or(rest.len(), |i| i + end.len())]
}

/// The text of an HTML fragment as a reader sees it: tags dropped, white space collapsed.
fn text_of(fragment: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The number shown in the element with `id` (a figure of a stat tile).
fn figure(html: &str, id: &str) -> String {
    let element = part(html, id, "<");
    let text = &element[element.find('>').unwrap() + 1..element.len() - 1];
    text.trim().to_string()
}

/// `seller` (organisation `seller_n`) shares an invoice to `buyer_n`, ordered, delivered, accepted and
/// invoiced on the business date `day` days from today with a term of `term_days`: it falls due on
/// `day + term_days`. Answers its record id.
async fn invoice_on(seller: &Api, buyer_n: u32, seller_n: u32, serial: u64, yuan: &str, day: i64, term: i64) -> String {
    let (b, s, no) = (code(buyer_n), code(seller_n), einvoice(day, serial));
    let records = json!([
        {"record_type": "order", "order_no": format!("PO-{no}"), "order_date": ymd(day), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "term_days": term.to_string()},
        {"record_type": "delivery", "delivery_no": format!("DN-{no}"), "delivery_date": ymd(day), "order_refs": format!("PO-{no}"), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "acceptance_status": "accepted", "accepted_date": ymd(day)},
        {"record_type": "invoice", "invoice_no": no, "issue_date": ymd(day), "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "order_refs": format!("PO-{no}"), "delivery_refs": format!("DN-{no}")},
    ]);
    let (status, r) = seller.post("/api/v1/submissions", json!({ "records": records })).await;
    assert_eq!((status, r["accepted"].as_u64()), (StatusCode::CREATED, Some(3)), "{r}");
    let (_, list) = seller.get(&format!("/api/v1/trade-records?doc_no={no}")).await;
    list["items"][0]["id"].as_str().unwrap().to_string()
}

/// `applicant` applies with receivables at `banks` (bank id, product id); answers the application.
async fn apply(t: &TestApp, applicant: &Api, invoice: &str, amount_fen: i64, banks: &[(&str, &str)]) -> Value {
    let offers: Vec<Value> = banks.iter().map(|(b, p)| json!({"bank_org_id": b, "product_id": p})).collect();
    let (s, a) = applicant
        .post(
            "/api/v1/applications",
            json!({"subject": "receivables", "invoice_ids": [invoice], "amount_fen": amount_fen, "term_days": 90,
                "purpose": "支付原材料货款", "offers": offers, "consent_until": t.app.day_in(90).to_string()}),
        )
        .await;
    assert_eq!((s, a["state"].as_str()), (StatusCode::CREATED, Some("open")), "{a}");
    a
}

/// Moves an application's offers back `days` whole days, as if it had been submitted then.
async fn submitted_days_ago(t: &TestApp, application_id: &str, days: i64) {
    sqlx::query("UPDATE application_offer SET submitted_at_ms = submitted_at_ms - $1 WHERE application_id = $2")
        .bind(days * 24 * 3_600_000)
        .bind(application_id.to_string())
        .execute(&t.app.db.pool)
        .await
        .unwrap();
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Tier 1 (101) also sold to the core (100) an invoice overdue by 70 days (¥800) and one due in 20 days
/// (¥600), beside the world's four confirmed (¥10,000) and one unconfirmed (¥500), due in about nine
/// months. Answers (overdue, due soon).
async fn more_trade(w: &World) -> (String, String) {
    let overdue = invoice_on(&w.t1, 100, 101, 7001, "800.00", -90, 20).await;
    let due_soon = invoice_on(&w.t1, 100, 101, 7002, "600.00", -10, 30).await;
    (overdue, due_soon)
}

#[tokio::test]
async fn a_supplier_sees_what_it_can_finance_now_and_a_core_what_it_must_confirm_and_pay() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let (_overdue, due_soon) = more_trade(&w).await;

    // Everything owed to tier 1 but the overdue invoice (unconfirmed, and no longer proven by the data
    // alone once due): four confirmed ¥10,000, and ¥500 + ¥600 proven by the data.
    let page = home(&w.t1).await;
    let job = part(&page, "home-supplier-job", "</section>");
    assert_eq!(
        (figure(job, "home-financeable-count"), figure(job, "home-financeable-amount")),
        ("6".into(), "¥11,100.00".into())
    );
    assert_eq!((figure(job, "home-held-parts"), figure(job, "home-with-banks")), ("0".into(), "0".into()));
    assert!(job.contains("href=\"/applications\""), "the button to apply: {job}");
    let ageing = text_of(part(job, "home-ageing-table", "</table>"));
    assert!(ageing.contains("未到期 6 ¥11,100.00"), "{ageing}");
    assert!(ageing.contains("逾期61–90天 1 ¥800.00") && ageing.contains("逾期1–30天 0 ¥0.00"), "{ageing}");
    assert!(ageing.contains("合计 7 ¥11,900.00"), "{ageing}");
    let chart = part(job, "home-ageing-chart", "</svg>");
    assert_eq!(chart.matches("<rect").count(), 6, "one bar per ageing bucket: {chart}");
    assert_eq!(chart.matches("class=\"bar-warn\"").count(), 1, "the overdue bucket stands out: {chart}");
    // Chinese labels large amounts in 万元: ¥11,100 is 1.11万元.
    assert!(text_of(chart).contains("1.11万元") && text_of(chart).contains("¥800.00"), "{chart}");
    let first = page.find("id=\"home-supplier-job\"").unwrap();
    assert!(first < page.find("id=\"home-data-sharing\"").unwrap(), "the main job comes first");

    // The core turns the four confirmed invoices into a commitment held by tier 1; tier 1 asks the core
    // to confirm the ¥500 invoice, and applies at the bank with the ¥600 one (asking 80 %: ¥480).
    issue(&t, &w).await;
    let (s, asked) = w.t1.post("/api/v1/confirmations", json!({"invoice_ids": [w.unconfirmed]})).await;
    assert_eq!(s, StatusCode::CREATED, "{asked}");
    let p = product(&w.bank, "receivable_financing", "either").await;
    apply(&t, &w.t1, &due_soon, 48_000, &[(&w.bank_id, &p)]).await;
    let page = home(&w.t1).await;
    let job = part(&page, "home-supplier-job", "</section>");
    assert_eq!(
        (figure(job, "home-financeable-count"), figure(job, "home-financeable-amount")),
        ("1".into(), "¥500.00".into()),
        "backing a commitment or claimed by an application, a receivable is no longer financeable"
    );
    assert_eq!((figure(job, "home-held-parts"), figure(job, "home-held-amount")), ("1".into(), "¥10,000.00".into()));
    assert_eq!((figure(job, "home-with-banks"), figure(job, "home-with-banks-amount")), ("1".into(), "¥480.00".into()));

    // The core: one request to sign (¥500), ¥600 due within 30 days, ¥800 overdue; payables by age.
    let page = home(&w.core).await;
    assert!(!page.contains("id=\"home-supplier-job\""), "a core's home leads with its own job");
    let job = part(&page, "home-core-job", "</section>");
    assert_eq!((figure(job, "home-to-confirm"), figure(job, "home-to-confirm-amount")), ("1".into(), "¥500.00".into()));
    assert_eq!((figure(job, "home-due-soon"), figure(job, "home-due-soon-amount")), ("1".into(), "¥600.00".into()));
    assert_eq!((figure(job, "home-overdue"), figure(job, "home-overdue-amount")), ("1".into(), "¥800.00".into()));
    assert!(job.contains("href=\"/confirmations?role=received") && job.contains("href=\"/receivables?side=debtor\""));
    let payables = text_of(part(job, "home-payables-table", "</table>"));
    assert!(payables.contains("未到期 6 ¥11,100.00") && payables.contains("逾期61–90天 1 ¥800.00"), "{payables}");
    assert!(part(job, "home-payables-chart", "</svg>").contains("class=\"bar-warn\""));

    // In English, the same figures under English words.
    w.t1.send(Method::GET, "/lang/en?next=/home", None).await;
    let page = home(&w.t1).await;
    let job = part(&page, "home-supplier-job", "</section>");
    assert!(job.contains("What we can finance now") && !job.contains("现在可以融资"), "{job}");
    assert!(text_of(part(job, "home-ageing-table", "</table>")).contains("Not yet due 6 ¥11,100.00"));
}

#[tokio::test]
async fn a_bank_sees_its_queue_against_the_service_goal_and_never_another_banks() {
    let t = spawn_app().await;
    let w = world(&t).await;
    let bank2 = t.login("b2.admin", PASSWORD).await;
    let bank2_id: String = sqlx::query_scalar("SELECT org_id FROM app_user WHERE login = 'b2.admin'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let p1 = product(&w.bank, "receivable_financing", "either").await;
    let p2 = product(&bank2, "receivable_financing", "either").await;
    // Tier 1 applied two weeks ago (ten working days, whatever today's weekday), tier 3 one week ago
    // (five), tier 2 today at both banks; the first bank has already refused tier 2, the second not.
    let a = id_of(&apply(&t, &w.t1, &w.unconfirmed, 40_000, &[(&w.bank_id, &p1)]).await);
    submitted_days_ago(&t, &a, 14).await;
    let b = id_of(&apply(&t, &w.t3, &w.t3_invoice, 100_000, &[(&w.bank_id, &p1)]).await);
    submitted_days_ago(&t, &b, 7).await;
    let c = apply(&t, &w.t2, &w.t2_invoice, 200_000, &[(&w.bank_id, &p1), (&bank2_id, &p2)]).await;
    let c_offer = c["offers"].as_array().unwrap().iter().find(|o| o["bank_org_id"] == w.bank_id.as_str()).unwrap();
    let (s, d) = w
        .bank
        .post(
            &format!("/api/v1/applications/{}/offers/{}/decision", id_of(&c), c_offer["id"].as_str().unwrap()),
            json!({"decision": "reject", "reason": "超出我行行业限额"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");

    let page = home(&w.bank).await;
    let job = part(&page, "home-bank-job", "</section>");
    assert_eq!((figure(job, "home-queue-waiting"), figure(job, "home-queue-attention")), ("2".into(), "1".into()));
    let queue = part(job, "home-queue", "</table>");
    let (at_a, at_b) =
        (queue.find(&format!("id=\"queue-{a}\"")).unwrap(), queue.find(&format!("id=\"queue-{b}\"")).unwrap());
    assert!(at_a < at_b, "the longest waiting first");
    assert!(queue.contains(&format!("<tr class=\"row-warn\" id=\"queue-{a}\">")), "ten working days: flagged");
    assert!(queue.contains(&format!("<tr id=\"queue-{b}\">")), "five working days: not yet");
    let rows = text_of(queue);
    assert!(rows.contains(&format!("测试supplier101有限公司 应收账款 ¥400.00 待审查 {} 10", ymd(-14))), "{rows}");
    assert!(rows.contains(&format!("测试supplier103有限公司 应收账款 ¥1,000.00 待审查 {} 5", ymd(-7))), "{rows}");
    assert!(!rows.contains("测试supplier102有限公司"), "a decided offer has left the queue: {rows}");
    let chart = part(job, "home-queue-chart", "</svg>");
    assert!(chart.contains("class=\"chart-goal\"") && text_of(chart).contains("目标：10个工作日"), "{chart}");
    assert!(text_of(chart).contains("10个工作日") && text_of(chart).contains("5个工作日"), "{chart}");
    assert_eq!(chart.matches("class=\"bar-warn\"").count(), 1, "{chart}");
    assert_eq!(figure(job, "home-service-value"), "1/1", "one decision, within the goal");
    assert_eq!(figure(job, "home-discounts"), "0");

    // The second bank sees tier 2's application, waiting there, and nothing of the first bank's queue.
    let page = home(&bank2).await;
    let job = part(&page, "home-bank-job", "</section>");
    assert_eq!((figure(job, "home-queue-waiting"), figure(job, "home-queue-attention")), ("1".into(), "0".into()));
    assert!(job.contains(&format!("id=\"queue-{}\"", id_of(&c))), "{job}");
    assert!(!page.contains(&a) && !page.contains(&b), "another bank's queue never shows");
    assert!(!page.contains("测试supplier101有限公司") && !page.contains("测试supplier103有限公司"));
    assert_eq!(figure(job, "home-service-value"), "—", "no decision yet");

    // The programme office follows every bank's queue; an applicant has none.
    let all = lianrong_app::application::queue(&t.app, &Actor::system("system")).await.unwrap();
    assert_eq!((all.total, all.items.iter().map(|q| q.working_days).collect::<Vec<_>>()), (3, vec![10, 5, 0]));
    assert!(!home(&w.t1).await.contains("id=\"home-bank-job\""));
}

#[tokio::test]
async fn the_operator_and_the_regulator_see_financing_per_chain_as_a_chart_with_its_table() {
    let t = spawn_app().await;
    let w = world(&t).await;
    t.org_with_admin(107, "regulator", "reg.admin").await;
    let op = t.login("op.admin", PASSWORD).await;
    let regulator = t.login("reg.admin", PASSWORD).await;
    let page = home(&op).await;
    assert!(page.contains("id=\"home-progress-empty\""), "nothing financed yet");

    // One chain: the core and tier 1. Tier 3 belongs to none.
    let (s, chain) =
        op.post("/api/v1/chains", json!({"name": "渝新汽车产业链", "cluster_id": "nev", "pilot": true})).await;
    assert_eq!(s, StatusCode::CREATED, "{chain}");
    let members = format!("/api/v1/chains/{}/members", id_of(&chain));
    for (org, role, tier) in [(&w.core_id, "core", None), (&w.t1_id, "supplier", Some(1))] {
        let (s, m) = op.post(&members, json!({"org_id": org, "role": role, "tier": tier})).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }
    // Tier 1 discounts ¥3,000 of the core's commitment at the bank, which posts it.
    let cid = id_of(&issue(&t, &w).await);
    let transfers = format!("/api/v1/commitments/{cid}/transfers");
    let discount = json!({"transfer_id": "d1", "kind": "discount", "part_id": format!("{cid}/0"),
        "bank_org_id": w.bank_id, "amount_fen": 300_000});
    let (s, d) = w.t1.post(&transfers, discount).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, posted) = w.bank.post(&format!("{transfers}/d1/post"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{posted}");
    // Loans: ¥400 to tier 1 (in the chain), ¥1,000 to tier 3 (in none).
    let p = product(&w.bank, "receivable_financing", "either").await;
    for (applicant, invoice, amount) in [(&w.t1, &w.unconfirmed, 40_000), (&w.t3, &w.t3_invoice, 100_000)] {
        let a = apply(&t, applicant, invoice, amount, &[(&w.bank_id, &p)]).await;
        let path = format!("/api/v1/applications/{}/offers/{}", id_of(&a), a["offers"][0]["id"].as_str().unwrap());
        let (s, d) = w.bank.post(&format!("{path}/decision"), json!({"decision": "approve", "rate_bp": 450})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let (s, loan) = w.bank.post(&format!("{path}/disbursement"), json!({})).await;
        assert_eq!(s, StatusCode::CREATED, "{loan}");
    }

    for (who, api) in [("operator", &op), ("regulator", &regulator)] {
        let page = home(api).await;
        let progress = part(&page, "home-progress", "</section>");
        let table = text_of(part(progress, "home-chain-table", "</table>"));
        assert!(table.contains("渝新汽车产业链 1 ¥400.00 ¥400.00 ¥3,000.00"), "{who}: {table}");
        assert!(table.contains("未入链 1 ¥1,000.00 ¥1,000.00 ¥0.00"), "{who}: {table}");
        assert!(table.find("渝新汽车产业链").unwrap() < table.find("未入链").unwrap(), "most financed first");
        let chart = part(progress, "home-chain-chart", "</svg>");
        assert_eq!(chart.matches("<rect").count(), 9, "three series for two chains, and a legend: {chart}");
        let drawn = text_of(chart);
        assert!(drawn.contains("累计放款") && drawn.contains("贷款余额") && drawn.contains("凭证贴现"), "{drawn}");
        assert!(drawn.contains("¥3,000.00") && drawn.contains("¥1,000.00"), "{drawn}");
        assert!(page.find("id=\"home-progress\"").unwrap() < page.find("机构分布").unwrap(), "{who}: above the tables");
    }
}

/// The menu, grouped by task, shows each kind of organisation the pages it works with: a bank no
/// data-sharing page, a supplier no cluster register, the operator everything.
#[tokio::test]
async fn the_menu_is_grouped_by_task_and_fits_each_kind_of_organisation() {
    let t = spawn_app().await;
    t.org_with_admin(201, "bank", "menu.bank").await;
    t.org_with_admin(202, "supplier", "menu.supplier").await;
    let bank = home(&t.login("menu.bank", PASSWORD).await).await;
    let supplier = home(&t.login("menu.supplier", PASSWORD).await).await;
    let operator = home(&t.login("op.admin", PASSWORD).await).await;
    let has = |page: &str, href: &str| page.contains(&format!("href=\"{href}\" class=\"nav-item"));
    for group in ["工作台", "贸易与确权", "融资", "产业链", "存证与管理"] {
        assert!(operator.contains(&format!("<div class=\"sidebar-title\">{group}</div>")), "{group}");
    }
    assert!(has(&bank, "/applications") && has(&bank, "/orgs") && has(&bank, "/core-library"), "{bank}");
    assert!(!has(&bank, "/submissions") && !has(&bank, "/receivables"), "a bank shares no trade data");
    assert!(has(&supplier, "/submissions") && has(&supplier, "/receivables") && has(&supplier, "/applications"));
    assert!(!has(&supplier, "/clusters") && !has(&supplier, "/orgs"), "a supplier keeps no registers");
    for href in ["/submissions", "/financing", "/penetration", "/clusters", "/orgs", "/audit"] {
        assert!(has(&operator, href), "the operator's menu has {href}");
    }
}
