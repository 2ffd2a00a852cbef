//! `confirmation`: a creditor asks its debtor to confirm receivables once each; only the debtor decides
//! (a creditor cannot confirm its own receivable, here or by importing the central bank platform's
//! result: `creditor_cannot_confirm`), each request once, a rejection with its reason; only the creditor
//! withdraws a request, and only while it waits.

use lianrong_app::confirmation::{self, DecisionInput};
use lianrong_domain::confirmation::Decision;
use reqwest::StatusCode;
use serde_json::json;

use super::problem::Problem;
use super::table::{Expect, Seen, Verdicts, refused, refused_at};
use super::world::{Evidence, UNLISTED, World};
use crate::common::ymd;

/// Tier 1's sales to the core (`c1` … `c8`), one to a buyer not on the platform (`unlisted`), tier 2's
/// sale to the core (`others`); the core confirmed `c5` unasked.
async fn world() -> World {
    let mut w = World::new().await;
    for n in 1..=8 {
        w.sale(&format!("c{n}"), "t1", "core", "100.00", Evidence::Verified).await;
    }
    w.sale("unlisted", "t1", UNLISTED, "100.00", Evidence::InvoiceOnly).await;
    w.sale("others", "t2", "core", "100.00", Evidence::Verified).await;
    w.confirm("core", &["c5"]).await;
    w
}

struct Request {
    name: &'static str,
    by: &'static str,
    invoices: &'static [&'static str],
    /// How many requests were made.
    expect: Expect<usize>,
}

#[rustfmt::skip]
const REQUESTS: &[Request] = &[
    Request { name: "one receivable", by: "t1", invoices: &["c1"], expect: Ok(1) },
    Request { name: "a batch", by: "t1", invoices: &["c2", "c3"], expect: Ok(2) },
    Request { name: "nothing named", by: "t1", invoices: &[], expect: refused_at("empty", "invoice_ids") },
    Request { name: "the same receivable twice", by: "t1", invoices: &["c4", "c4"], expect: refused_at("duplicate", "invoice_ids[1]") },
    Request { name: "a receivable already asked about", by: "t1", invoices: &["c4", "c1"], expect: refused_at("already_requested", "invoice_ids[1]") },
    Request { name: "a receivable its debtor confirmed", by: "t1", invoices: &["c5"], expect: refused_at("already_confirmed", "invoice_ids[0]") },
    Request { name: "the debtor asks about its payable", by: "core", invoices: &["c4"], expect: refused_at("not_your_receivable", "invoice_ids[0]") },
    Request { name: "another creditor's receivable", by: "t1", invoices: &["others"], expect: refused_at("not_found", "invoice_ids[0]") },
    Request { name: "a debtor not on the platform", by: "t1", invoices: &["unlisted"], expect: refused_at("debtor_not_on_platform", "invoice_ids[0]") },
    Request { name: "a bank asks", by: "bank", invoices: &["c4"], expect: refused("forbidden") },
];

#[tokio::test]
async fn request_each_receivable_once() {
    let w = world().await;
    let mut verdicts = Verdicts::new("confirmation::request");
    for r in REQUESTS {
        let got = confirmation::request(&w.app, &w.actor(r.by), &w.ids(r.invoices)).await;
        verdicts.judge(r.name, &got, &r.expect, Vec::len);
    }
    verdicts.finish();
}

/// Tier 1 asked the core about `c6`, `c7` and `c8`; each request is named as its invoice with `?`.
async fn asked() -> World {
    let mut w = world().await;
    let asked = confirmation::request(&w.app, &w.actor("t1"), &w.ids(&["c6", "c7", "c8"])).await.expect("asked");
    for (key, c) in ["c6?", "c7?", "c8?"].into_iter().zip(&asked) {
        w.name(key, &c.id);
    }
    w
}

struct Decide {
    name: &'static str,
    by: &'static str,
    request: &'static str,
    decision: Decision,
    reason: Option<&'static str>,
    signature: Option<&'static str>,
    /// The request's status after it.
    expect: Expect<&'static str>,
}

const CONFIRM: Decision = Decision::Confirm;
const REJECT: Decision = Decision::Reject;

#[rustfmt::skip]
const DECISIONS: &[Decide] = &[
    Decide { name: "the creditor confirms its own receivable", by: "t1", request: "c6?", decision: CONFIRM, reason: None, signature: None, expect: refused_at("not_the_debtor", "decisions[0]") },
    Decide { name: "a stranger decides", by: "stranger", request: "c6?", decision: CONFIRM, reason: None, signature: None, expect: refused_at("not_found", "decisions[0]") },
    Decide { name: "a bank decides", by: "bank", request: "c6?", decision: CONFIRM, reason: None, signature: None, expect: refused("forbidden") },
    Decide { name: "a rejection without a reason", by: "core", request: "c6?", decision: REJECT, reason: Some("  "), signature: None, expect: refused_at("reason_required", "decisions[0].reason") },
    Decide { name: "a signature when the platform signs", by: "core", request: "c6?", decision: CONFIRM, reason: None, signature: Some("00ff"), expect: refused_at("signature_not_expected", "decisions[0].signature") },
    Decide { name: "the debtor confirms", by: "core", request: "c6?", decision: CONFIRM, reason: None, signature: None, expect: Ok("confirmed") },
    Decide { name: "the debtor decides it again", by: "core", request: "c6?", decision: REJECT, reason: Some("重复"), signature: None, expect: refused_at("already_decided", "decisions[0]") },
    Decide { name: "the debtor rejects with its reason", by: "core", request: "c7?", decision: REJECT, reason: Some("发票金额与我司对账单不一致"), signature: None, expect: Ok("rejected") },
];

#[tokio::test]
async fn decide_only_the_debtor_once() {
    let w = asked().await;
    let mut verdicts = Verdicts::new("confirmation::decide");
    for d in DECISIONS {
        let input = DecisionInput {
            confirmation_id: w.id(d.request),
            decision: d.decision,
            reason: d.reason.map(String::from),
            signature_hex: d.signature.map(String::from),
        };
        let got = confirmation::decide(&w.app, &w.actor(d.by), &[input]).await;
        verdicts.judge(d.name, &got, &d.expect, |decided| decided[0].status.code());
    }
    verdicts.finish();
}

struct Withdraw {
    name: &'static str,
    by: &'static str,
    request: &'static str,
    expect: Expect<&'static str>,
}

#[rustfmt::skip]
const WITHDRAWALS: &[Withdraw] = &[
    Withdraw { name: "the debtor withdraws the creditor's request", by: "core", request: "c8?", expect: refused("forbidden") },
    Withdraw { name: "a stranger withdraws it", by: "stranger", request: "c8?", expect: refused("not_found") },
    Withdraw { name: "the creditor withdraws a decided request", by: "t1", request: "c6?", expect: refused("already_decided") },
    Withdraw { name: "the creditor withdraws its waiting request", by: "t1", request: "c8?", expect: Ok("withdrawn") },
    Withdraw { name: "the creditor withdraws it again", by: "t1", request: "c8?", expect: refused("already_decided") },
];

#[tokio::test]
async fn withdraw_only_the_creditor_while_it_waits() {
    let w = asked().await;
    let confirm = DecisionInput { confirmation_id: w.id("c6?"), decision: CONFIRM, reason: None, signature_hex: None };
    confirmation::decide(&w.app, &w.actor("core"), &[confirm]).await.expect("c6 confirmed");
    let mut verdicts = Verdicts::new("confirmation::withdraw");
    for r in WITHDRAWALS {
        let got = confirmation::withdraw(&w.app, &w.actor(r.by), &w.id(r.request)).await;
        verdicts.judge(r.name, &got, &r.expect, |c| c.status.code());
    }
    verdicts.finish();
}

struct Import {
    name: &'static str,
    by: &'static str,
    debtor: &'static str,
    creditor: &'static str,
    /// The invoice the row names (`None`: a number the platform does not know).
    invoice: Option<&'static str>,
    /// Accepted, or the row's issue.
    expect: Expect<()>,
}

#[rustfmt::skip]
const IMPORTS: &[Import] = &[
    Import { name: "the creditor imports its own receivable's confirmation", by: "t1", debtor: "core", creditor: "t1", invoice: Some("c2"), expect: refused_at("creditor_cannot_confirm", "debtor_uscc") },
    Import { name: "a third party imports another debtor's", by: "t2", debtor: "core", creditor: "t1", invoice: Some("c2"), expect: refused_at("not_your_payable", "debtor_uscc") },
    Import { name: "the debtor imports an invoice the platform does not know", by: "core", debtor: "core", creditor: "t1", invoice: None, expect: refused_at("unknown_receivable", "invoice_no") },
    Import { name: "the debtor imports its payable's confirmation", by: "core", debtor: "core", creditor: "t1", invoice: Some("c2"), expect: Ok(()) },
    Import { name: "the operator imports for any debtor", by: "operator", debtor: "core", creditor: "t1", invoice: Some("c3"), expect: Ok(()) },
];

/// The invoice number of the sale `key`, as its creditor's records give it.
async fn invoice_no(w: &World, key: &str) -> String {
    lianrong_app::trade::get(&w.app, &w.actor("t1"), &w.id(key)).await.expect("the invoice").row.doc_no
}

#[tokio::test]
async fn import_the_platform_result_only_as_the_debtor_or_the_operator() {
    let w = world().await;
    let mut verdicts = Verdicts::new("registration::import_confirmations");
    for i in IMPORTS {
        let no = match i.invoice {
            Some(key) => invoice_no(&w, key).await,
            None => "26509999999999999999".into(),
        };
        let csv = format!(
            "债务人统一社会信用代码,债权人统一社会信用代码,发票号码,金额,确认结果,确认日期,平台编号\n{},{},{no},100.00,已确认,{},ZZ-{no}\n",
            w.uscc(i.debtor),
            w.uscc(i.creditor),
            ymd(-1),
        );
        let report =
            lianrong_app::registration::import_confirmations(&w.app, &w.actor(i.by), "确权结果.csv", csv.into_bytes())
                .await;
        let got = match report {
            Ok(r) if r.accepted == 1 => Ok(()),
            Ok(r) => Err(r.issues.first().map_or_else(
                || Seen { code: "no_issue".into(), field: None, message: format!("{r:?}") },
                |issue| Seen { code: issue.code.clone(), field: issue.field.clone(), message: issue.en.clone() },
            )),
            Err(e) => Err(Seen::from(&e)),
        };
        verdicts.judge_seen(i.name, got, &i.expect);
    }
    verdicts.finish();
}

/// The API's problem document for one refusal, whole: the creditor confirms its own receivable.
#[tokio::test]
async fn the_problem_document_of_a_creditor_confirming_is_pinned() {
    let mut w = asked().await;
    let creditor = w.over_http("t1.finance", "t1", "finance_staff").await;
    let path = format!("/api/v1/confirmations/{}/decision", w.id("c6?"));
    let (status, body) = creditor.post(&path, json!({"decision": "confirm"})).await;
    let problem = Problem {
        status: StatusCode::FORBIDDEN,
        code: "not_the_debtor",
        field: Some("decisions[0]"),
        en: "Only the debtor confirms or rejects a receivable",
        zh: "只有债务人可以确认或拒绝应收账款",
        reference: None,
    };
    problem.assert_answered(status, &body);
}
