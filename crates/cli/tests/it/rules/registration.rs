//! `registration::register`, `release` and `set_certificate`: a creditor registers its own receivable —
//! invoices owed by one debtor, still outstanding, each claimed once (`already_registered` otherwise) —
//! for a financier that is a bank; a financed registration is released by its financier only
//! (`financier_releases` refuses the creditor), one without a financier by its creditor; the registry's
//! certificate number is letters, digits and hyphens.

use lianrong_app::registration::{self, NewRegistration};
use lianrong_domain::limits::REGISTRY_CERTIFICATE_NO_CHARS_MAX;
use reqwest::StatusCode;
use serde_json::json;

use super::problem::Problem;
use super::table::{Expect, Verdicts, refused, refused_at};
use super::world::{Evidence, World};
use crate::common::today;

/// Tier 1's verified sales to the core (`i1` … `i7`, ¥100, ¥200, … ¥700), one paid in full (`paid`) and
/// one to the second core (`other_debtor`); tier 2's sale to the core (`others`).
async fn world() -> World {
    let mut w = World::new().await;
    for n in 1..=7 {
        w.sale(&format!("i{n}"), "t1", "core", &format!("{n}00.00"), Evidence::Verified).await;
    }
    w.sale("paid", "t1", "core", "50.00", Evidence::Paid).await;
    w.sale("other_debtor", "t1", "core2", "100.00", Evidence::Verified).await;
    w.sale("others", "t2", "core", "100.00", Evidence::Verified).await;
    w
}

struct Case {
    name: &'static str,
    by: &'static str,
    invoices: &'static [&'static str],
    financier: Option<&'static str>,
    kind: Option<&'static str>,
    term_months: Option<i64>,
    /// The amount registered.
    expect: Expect<i64>,
}

/// Rows run in order after `first` registered `i1` and `i2` for the bank.
#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "one invoice for its financier", by: "t1", invoices: &["i3"], financier: Some("bank"), kind: None, term_months: None, expect: Ok(30_000) },
    Case { name: "two invoices of one debtor, no financier yet", by: "t1", invoices: &["i4", "i5"], financier: None, kind: None, term_months: None, expect: Ok(90_000) },
    Case { name: "an invoice already registered", by: "t1", invoices: &["i1"], financier: Some("bank2"), kind: None, term_months: None, expect: refused("already_registered") },
    Case { name: "overlapping a registration by one invoice", by: "t1", invoices: &["i6", "i2"], financier: None, kind: None, term_months: None, expect: refused("already_registered") },
    Case { name: "the same invoice named twice is registered once", by: "t1", invoices: &["i6", "i6"], financier: None, kind: None, term_months: None, expect: Ok(60_000) },
    Case { name: "no invoices", by: "t1", invoices: &[], financier: None, kind: None, term_months: None, expect: refused_at("invoice_ids_required", "invoice_ids") },
    Case { name: "the debtor registers its payable", by: "core", invoices: &["i7"], financier: None, kind: None, term_months: None, expect: refused_at("forbidden", "invoice_ids") },
    Case { name: "the financier registers the creditor's invoice", by: "bank", invoices: &["i7"], financier: None, kind: None, term_months: None, expect: refused_at("not_found", "invoice_ids") },
    Case { name: "another creditor's invoice", by: "t1", invoices: &["others"], financier: None, kind: None, term_months: None, expect: refused_at("not_found", "invoice_ids") },
    Case { name: "invoices owed by two debtors", by: "t1", invoices: &["i7", "other_debtor"], financier: None, kind: None, term_months: None, expect: refused_at("mixed_parties", "invoice_ids") },
    Case { name: "an invoice paid in full", by: "t1", invoices: &["paid"], financier: None, kind: None, term_months: None, expect: refused_at("nothing_outstanding", "invoice_ids") },
    Case { name: "a financier that is not a bank", by: "t1", invoices: &["i7"], financier: Some("core"), kind: None, term_months: None, expect: refused_at("financier_not_bank", "financier_org_id") },
    Case { name: "a term of no months", by: "t1", invoices: &["i7"], financier: None, kind: None, term_months: Some(0), expect: refused_at("term_months_out_of_range", "term_months") },
    Case { name: "a term beyond thirty years", by: "t1", invoices: &["i7"], financier: None, kind: None, term_months: Some(361), expect: refused_at("term_months_out_of_range", "term_months") },
    Case { name: "an unknown kind", by: "t1", invoices: &["i7"], financier: None, kind: Some("mortgage"), term_months: None, expect: refused_at("unknown_value", "kind") },
    Case { name: "factoring for thirty years", by: "t1", invoices: &["i7"], financier: Some("bank2"), kind: Some("factoring"), term_months: Some(360), expect: Ok(70_000) },
];

#[tokio::test]
async fn register_claims_each_invoice_once() {
    let mut w = world().await;
    let first = w.register("first", "t1", &["i1", "i2"], Some("bank")).await;
    let mut verdicts = Verdicts::new("registration::register");
    for c in CASES {
        let new = NewRegistration {
            invoice_ids: w.ids(c.invoices),
            financier_org_id: c.financier.map(|f| w.id(f)),
            kind: c.kind.map(String::from),
            term_months: c.term_months,
            note: None,
        };
        let got = registration::register(&w.app, &w.actor(c.by), new).await;
        verdicts.judge(c.name, &got, &c.expect, |r| r.row.amount_fen);
        if let Err(e) = &got
            && e.code == "already_registered"
        {
            assert_eq!(e.reference(), Some(first.as_str()), "{}: the refusal names the first registration", c.name);
        }
    }
    verdicts.finish();
}

struct Release {
    name: &'static str,
    by: &'static str,
    registration: &'static str,
    reason: &'static str,
    /// The registration's status after it.
    expect: Expect<String>,
}

fn released() -> Expect<String> {
    Ok("released".into())
}

#[rustfmt::skip]
fn releases() -> Vec<Release> {
    let row = |name, by, registration, reason, expect| Release { name, by, registration, reason, expect };
    vec![
        row("the creditor releases a financed registration", "t1", "financed", "融资已结清", refused("financier_releases")),
        row("the debtor releases it", "core", "financed", "融资已结清", refused("forbidden")),
        row("another bank releases it", "bank2", "financed", "融资已结清", refused("not_found")),
        row("a stranger releases it", "stranger", "financed", "融资已结清", refused("not_found")),
        row("the financier releases without a reason", "bank", "financed", " ", refused_at("invalid_text", "reason")),
        row("the financier releases it", "bank", "financed", "融资已结清", released()),
        row("the financier releases it again", "bank", "financed", "融资已结清", refused("already_released")),
        row("a bank releases a registration it does not finance", "bank", "own", "登记有误", refused("not_found")),
        row("the creditor releases one without a financier", "t1", "own", "登记有误", released()),
    ]
}

#[tokio::test]
async fn release_by_the_financier_or_the_creditor_alone() {
    let mut w = world().await;
    w.register("financed", "t1", &["i1"], Some("bank")).await;
    w.register("own", "t1", &["i2"], None).await;
    let mut verdicts = Verdicts::new("registration::release");
    for r in releases() {
        let got = registration::release(&w.app, &w.actor(r.by), &w.id(r.registration), r.reason).await;
        verdicts.judge(r.name, &got, &r.expect, |reg| reg.row.status.clone());
    }
    verdicts.finish();
}

struct Certificate {
    name: &'static str,
    by: &'static str,
    number: String,
    /// The number recorded.
    expect: Expect<Option<String>>,
}

#[rustfmt::skip]
fn certificates() -> Vec<Certificate> {
    let longest = "Z".repeat(REGISTRY_CERTIFICATE_NO_CHARS_MAX);
    let row = |name, by, number: &str, expect| Certificate { name, by, number: number.into(), expect };
    let recorded = |n: &str| Ok(Some(n.to_string()));
    let invalid = || refused_at("invalid_certificate_no", "registry_certificate_no");
    vec![
        row("the creditor records the registry's number", "t1", "ZDW-0001-ABC", recorded("ZDW-0001-ABC")),
        row("the financier records it, trimmed", "bank", " ZDW0002 ", recorded("ZDW0002")),
        row("the longest number", "t1", &longest, recorded(&longest)),
        row("a character too long", "t1", &format!("{longest}Z"), invalid()),
        row("no number", "t1", "", invalid()),
        row("only spaces", "t1", "   ", invalid()),
        row("Chinese characters", "t1", "中登0001", invalid()),
        row("a space inside", "t1", "ZDW 0001", invalid()),
        row("a slash", "t1", "ZDW/0001", invalid()),
        row("the debtor records it", "core", "ZDW0003", refused("forbidden")),
        row("a stranger records it", "stranger", "ZDW0003", refused("not_found")),
    ]
}

#[tokio::test]
async fn certificate_numbers_are_letters_digits_and_hyphens() {
    let mut w = world().await;
    w.register("financed", "t1", &["i1"], Some("bank")).await;
    let mut verdicts = Verdicts::new("registration::set_certificate");
    for c in certificates() {
        let got = registration::set_certificate(&w.app, &w.actor(c.by), &w.id("financed"), &c.number).await;
        verdicts.judge(c.name, &got, &c.expect, |r| r.row.registry_certificate_no.clone());
    }
    verdicts.finish();
}

/// The API's problem document for one refusal, whole: the creditor releases a registration its bank
/// finances.
#[tokio::test]
async fn the_problem_document_of_a_release_by_the_creditor_is_pinned() {
    let mut w = world().await;
    let reference = w.register("financed", "t1", &["i1"], Some("bank")).await;
    assert_eq!(reference, format!("LR-REG-{}-000001", today().year()));
    let creditor = w.over_http("t1.finance", "t1", "finance_staff").await;
    let path = format!("/api/v1/registrations/{}/release", w.id("financed"));
    let (status, body) = creditor.post(&path, json!({"reason": "融资已结清"})).await;
    let problem = Problem {
        status: StatusCode::FORBIDDEN,
        code: "financier_releases",
        field: None,
        en: &format!(
            "Registration {reference} protects its financier's money; only the financier releases it (the platform \
             does when the loan is repaid)"
        ),
        zh: &format!("登记 {reference} 保障资金方的融资，只能由资金方注销（融资结清时平台自动注销）"),
        reference: Some(&reference),
    };
    problem.assert_answered(status, &body);
}
