//! Long lists paged by key: following `next_cursor` reads every item once, in the list's order, exactly
//! as page numbers do; the total is counted once and travels with the cursor; a cursor that the list did
//! not give out is refused in both languages; and a cursor never widens what its bearer may read.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{Api, assert_problem};

const PAGE_SIZE: usize = 37;
/// The demo's parties owe and are owed between ten and a few dozen invoices each.
const OWED_PAGE_SIZE: usize = 3;
/// A core is party to a couple of dozen of the demo's leaves.
const LEAF_PAGE_SIZE: usize = 6;

/// A page's items, and the page as a whole.
async fn page(api: &Api, url: &str) -> (Vec<Value>, Value) {
    let (status, body) = api.get(url).await;
    assert_eq!(status, StatusCode::OK, "{url}: {body}");
    (body["items"].as_array().cloned().unwrap_or_default(), body)
}

/// The whole list read by following each page's cursor, with how many pages that took.
async fn by_cursor(api: &Api, path: &str, size: usize) -> (Vec<Value>, u32) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let first = format!("{path}{sep}page_size={size}");
    let (mut items, mut body) = page(api, &first).await;
    let total = body["total"].as_i64().expect("total");
    let mut pages = 1;
    while let Some(cursor) = body["next_cursor"].as_str().map(str::to_string) {
        assert_eq!(items.len(), pages as usize * size, "{path}: every page but the last is full");
        let (more, next) = page(api, &format!("{first}&after={cursor}")).await;
        pages += 1;
        assert_eq!(next["page"], pages, "{path}: the cursor carries the page number");
        assert_eq!(next["total"], total, "{path}: the first page's total travels with the cursor");
        assert!(!more.is_empty(), "{path}: a cursor is only given when another page follows");
        items.extend(more);
        body = next;
    }
    assert_eq!(items.len() as i64, total, "{path}: the cursor walk reads as many items as were counted");
    (items, pages)
}

/// The whole list read page by page by number.
async fn by_number(api: &Api, path: &str, size: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    for n in 1.. {
        let (more, body) = page(api, &format!("{path}{sep}page_size={size}&page={n}")).await;
        items.extend(more);
        if items.len() as i64 >= body["total"].as_i64().expect("total") {
            break;
        }
    }
    items
}

fn ids(items: &[Value], field: &str) -> Vec<String> {
    items.iter().map(|i| i[field].to_string()).collect()
}

/// Reads `path` both ways and checks they agree, that no item comes twice, and that it took several pages.
async fn walks_agree(api: &Api, path: &str, size: usize, id_field: &str) -> Vec<Value> {
    let (walked, pages) = by_cursor(api, path, size).await;
    assert!(pages >= 3, "{path}: the demo's list spans several pages ({} items)", walked.len());
    let numbered = by_number(api, path, size).await;
    let walked_ids = ids(&walked, id_field);
    assert_eq!(walked_ids, ids(&numbered, id_field), "{path}: by cursor and by number give the same list");
    let mut unique = walked_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), walked_ids.len(), "{path}: no item twice");
    walked
}

fn is_party(item: &Value, uscc: &str) -> bool {
    item["buyer_uscc"] == uscc || item["seller_uscc"] == uscc
}

#[tokio::test]
async fn a_cursor_reads_each_item_once_in_order_and_never_widens_what_its_bearer_sees() {
    let (t, _) = crate::common::spawn_demo_with_trade().await;
    let core = t.login("core11.finance", lianrong_app::demo::DEMO_PASSWORD).await;
    let supplier = t.login("sup1.t1", lianrong_app::demo::DEMO_PASSWORD).await;
    let operator = t.login("operator", lianrong_app::demo::DEMO_PASSWORD).await;
    let supplier_uscc: String = sqlx::query_scalar(
        "SELECT o.uscc FROM organisation o JOIN app_user u ON u.org_id = o.id WHERE u.login = 'sup1.t1'",
    )
    .fetch_one(&t.app.db.pool)
    .await
    .expect("the supplier's credit code");

    // Trade records: newest document date first, the id breaking ties, on every scope.
    for (api, path) in [(&core, "/api/v1/trade-records"), (&operator, "/api/v1/trade-records?record_type=invoice")] {
        let records = walks_agree(api, path, PAGE_SIZE, "id").await;
        let keys: Vec<(String, String)> = records
            .iter()
            .map(|r| (r["doc_date"].as_str().unwrap_or("").to_string(), r["id"].as_str().unwrap_or("").to_string()))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] > w[1]), "{path}: in (doc_date, id) order, newest first");
    }

    // Receivables: the earliest due date first, those without one last; both sides and each side alone.
    for (api, path) in [
        (&core, "/api/v1/receivables?side=debtor"),
        (&core, "/api/v1/receivables"),
        (&supplier, "/api/v1/receivables?side=creditor"),
    ] {
        let owed = walks_agree(api, path, OWED_PAGE_SIZE, "invoice_id").await;
        let keys: Vec<(String, String)> = owed
            .iter()
            .map(|r| {
                let due = r["due_date"].as_str().unwrap_or("9999-12-31").to_string();
                (due, r["invoice_id"].as_str().unwrap_or("").to_string())
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{path}: by due date, unknown last, then invoice");
        assert!(owed.iter().all(|r| r["outstanding_fen"].as_i64().unwrap_or(0) > 0), "{path}: only what is owed");
    }

    // The verifiable log, newest leaf first: all of it for the operator, a party's own leaves otherwise.
    lianrong_app::log::integrate_all(&t.app).await.expect("the log integrates");
    for api in [&core, &operator] {
        let leaves = walks_agree(api, "/api/v1/log/entries", LEAF_PAGE_SIZE, "leaf_id").await;
        let at: Vec<i64> = leaves.iter().map(|l| l["leaf_index"].as_i64().unwrap_or(-1)).collect();
        assert!(at.windows(2).all(|w| w[0] > w[1]), "the log lists leaves newest first");
    }

    // The audit trail grows while it is read (reads of the lake are audited): the cursor walk still reads
    // what was there at its first page, each event once, newest first.
    let (events, pages) = by_cursor(&operator, "/api/v1/audit-events", PAGE_SIZE).await;
    assert!(pages >= 3, "{} audit events", events.len());
    let mut unique = ids(&events, "id");
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), events.len(), "no audit event twice");

    // A cursor from the core's list, handed to the supplier, moves the start and nothing else: the
    // supplier reads only records it is a party to.
    let (_, first) = page(&core, &format!("/api/v1/trade-records?page_size={PAGE_SIZE}")).await;
    let cursor = first["next_cursor"].as_str().expect("the core's list has a second page").to_string();
    let (borrowed, _) = page(&supplier, &format!("/api/v1/trade-records?page_size=200&after={cursor}")).await;
    assert!(!borrowed.is_empty(), "the supplier has records further down the order");
    assert!(
        borrowed.iter().all(|r| is_party(r, &supplier_uscc)),
        "another organisation's cursor shows nothing of theirs"
    );
    let (_, mine) = page(&supplier, "/api/v1/trade-records?page_size=200").await;
    assert!(mine["items"].as_array().is_some_and(|m| m.iter().all(|r| is_party(r, &supplier_uscc))));

    // Cursors that were not given out, and a cursor with a page number, are refused naming `after`.
    for bad in ["zz", "31", "abc", &"ab".repeat(600)] {
        let (s, b) = supplier.get(&format!("/api/v1/receivables?after={bad}")).await;
        assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_page");
        assert_eq!(b["field"], "after", "{b}");
    }
    let (s, b) = core.get(&format!("/api/v1/trade-records?page=2&after={cursor}")).await;
    assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_page");
    assert_eq!(b["field"], "after", "{b}");

    // The console follows the cursor too: "next" carries it, and the page it opens is page 2 of the
    // same total.
    let html = core.send(Method::GET, "/trade-records?page_size=20", None).await.text().await.unwrap_or_default();
    let next = next_link(&html).expect("a next link on the first page of trade records");
    assert!(next.contains("after="), "next follows the cursor: {next}");
    let second = core.send(Method::GET, &next.replace("&amp;", "&"), None).await.text().await.unwrap_or_default();
    let total = first["total"].as_i64().unwrap_or(0);
    assert!(second.contains(&format!("共 {total} 条 · 第 2 / ")), "page 2 of the same total");
    assert!(second.contains("rel=\"prev\""), "page 2 links back to page 1");
    let bad = core.send(Method::GET, "/trade-records?after=zz", None).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap_or_default().contains("翻页游标"), "the console says what was wrong, in Chinese");
}

/// The `href` of the page's `rel="next"` link.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_string())
}
