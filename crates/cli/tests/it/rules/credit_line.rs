//! `credit_line::grant`: a bank grants a core its supply-chain line or a supplier its own line, with a
//! positive limit up to the platform's largest and a validity window that ends after it starts and runs
//! at most five years; every other grant is refused by code.

use lianrong_app::credit_line::{self, NewLine};
use lianrong_domain::credit_line::{LIMIT_FEN_MAX, TERM_DAYS_MAX};
use reqwest::StatusCode;
use serde_json::json;

use super::problem::Problem;
use super::table::{Expect, Verdicts, refused, refused_at};
use super::world::World;
use crate::common::ymd;

/// A date as a row gives it: days from the business date, or text as a caller might send it.
#[derive(Debug, Clone, Copy)]
enum Day {
    In(i64),
    Text(&'static str),
}

impl Day {
    fn text(self) -> String {
        match self {
            Day::In(days) => ymd(days),
            Day::Text(t) => t.to_string(),
        }
    }
}

struct Case {
    name: &'static str,
    by: &'static str,
    borrower: &'static str,
    kind: &'static str,
    limit_fen: i64,
    from: Day,
    until: Day,
    /// The line's limit and use when granted.
    expect: Expect<(i64, i64)>,
}

const CORE: &str = "core_supply_chain";
const SUPPLIER: &str = "supplier";

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "a bank grants a core its supply-chain line", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(-30), until: Day::In(365), expect: Ok((100_000, 0)) },
    Case { name: "a bank grants a supplier its own line", by: "bank", borrower: "t1", kind: SUPPLIER, limit_fen: 5_000, from: Day::In(0), until: Day::In(180), expect: Ok((5_000, 0)) },
    Case { name: "the platform's largest limit", by: "bank2", borrower: "core", kind: CORE, limit_fen: LIMIT_FEN_MAX, from: Day::In(0), until: Day::In(30), expect: Ok((LIMIT_FEN_MAX, 0)) },
    Case { name: "a term of exactly five years", by: "bank", borrower: "core2", kind: CORE, limit_fen: 1, from: Day::In(0), until: Day::In(TERM_DAYS_MAX), expect: Ok((1, 0)) },
    Case { name: "a zero limit", by: "bank", borrower: "core", kind: CORE, limit_fen: 0, from: Day::In(0), until: Day::In(365), expect: refused_at("limit_out_of_bounds", "limit_fen") },
    Case { name: "a negative limit", by: "bank", borrower: "core", kind: CORE, limit_fen: -1, from: Day::In(0), until: Day::In(365), expect: refused_at("limit_out_of_bounds", "limit_fen") },
    Case { name: "a fen above the platform's largest limit", by: "bank", borrower: "core", kind: CORE, limit_fen: LIMIT_FEN_MAX + 1, from: Day::In(0), until: Day::In(365), expect: refused_at("limit_out_of_bounds", "limit_fen") },
    // The field a term refusal names is pinned by `a_term_refusal_names_a_date_field` below.
    Case { name: "valid until before valid from", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(30), until: Day::In(-30), expect: refused("term_out_of_bounds") },
    Case { name: "a line that ends the day it starts", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(0), expect: refused("term_out_of_bounds") },
    Case { name: "a day beyond five years", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(TERM_DAYS_MAX + 1), expect: refused("term_out_of_bounds") },
    Case { name: "a start that is not a date", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::Text("31.12."), until: Day::In(365), expect: refused_at("date_invalid", "valid_from") },
    Case { name: "an end that is not a date", by: "bank", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::Text(""), expect: refused_at("date_invalid", "valid_until") },
    Case { name: "an unknown borrower", by: "bank", borrower: "nobody", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused_at("not_found", "borrower_org_id") },
    Case { name: "a supplier's line to a core", by: "bank", borrower: "core", kind: SUPPLIER, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused_at("borrower_kind", "borrower_org_id") },
    Case { name: "a supply-chain line to a supplier", by: "bank", borrower: "t1", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused_at("borrower_kind", "borrower_org_id") },
    Case { name: "a line to another bank", by: "bank", borrower: "bank2", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused_at("borrower_kind", "borrower_org_id") },
    Case { name: "an unknown kind of line", by: "bank", borrower: "core", kind: "overdraft", limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused_at("unknown_value", "kind") },
    Case { name: "a core grants itself a line", by: "core", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused("forbidden") },
    Case { name: "a supplier grants a line", by: "t1", borrower: "t1", kind: SUPPLIER, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused("forbidden") },
    Case { name: "the operator's staff grant a line", by: "operator", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused("forbidden") },
    Case { name: "the bank's API key grants a line", by: "bank.key", borrower: "core", kind: CORE, limit_fen: 100_000, from: Day::In(0), until: Day::In(365), expect: refused("forbidden") },
];

fn new_line(w: &World, c: &Case) -> NewLine {
    NewLine {
        borrower_org_id: w.id(c.borrower),
        kind: c.kind.into(),
        limit_fen: c.limit_fen,
        valid_from: c.from.text(),
        valid_until: c.until.text(),
    }
}

#[tokio::test]
async fn grant_limits_and_validity_windows() {
    let mut w = World::new().await;
    w.api_key("bank.key", "bank", &["commitment:write", "trade:read"]).await;
    let mut verdicts = Verdicts::new("credit_line::grant");
    for c in CASES {
        let got = credit_line::grant(&w.app, &w.actor(c.by), &new_line(&w, c)).await;
        verdicts.judge(c.name, &got, &c.expect, |line| (line.limit_fen, line.used_fen));
        if let Ok(line) = &got {
            assert_eq!(line.bank_org_id, w.id(c.by), "{}: the line is the granting bank's", c.name);
        }
    }
    verdicts.finish();
}

/// A term refused names a date, so that a form marks the date the granter must change.
#[tokio::test]
async fn a_term_refusal_names_a_date_field() {
    let w = World::new().await;
    let case = &CASES[7];
    let e = credit_line::grant(&w.app, &w.actor(case.by), &new_line(&w, case)).await.unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("term_out_of_bounds", Some("valid_until")), "{}", case.name);
}

/// The API's problem document for one refusal, whole: a supplier's line asked for a core.
#[tokio::test]
async fn the_problem_document_of_a_grant_to_the_wrong_kind_is_pinned() {
    let mut w = World::new().await;
    let officer = w.over_http("bank.officer", "bank", "bank_officer").await;
    let body = json!({"borrower_org_id": w.id("core"), "kind": SUPPLIER, "limit_fen": 100_000,
        "valid_from": ymd(0), "valid_until": ymd(365)});
    let (status, body) = officer.post("/api/v1/credit-lines", body).await;
    let problem = Problem {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "borrower_kind",
        field: Some("borrower_org_id"),
        en: "A supply-chain line is for a core enterprise, a supplier's line for a supplier",
        zh: "供应链专项授信须授予核心企业，供应商授信须授予供应商",
        reference: None,
    };
    problem.assert_answered(status, &body);
}
