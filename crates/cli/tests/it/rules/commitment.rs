//! `commitment::issue` and `commitment::operate`: a core issues against payables it confirmed to the
//! holder, on its own supply-chain line, maturing within a year (flagged beyond six months) and never later
//! than an SME's payables fall due; a holder splits a part exactly, passes it only against verified trade,
//! spends a part once, and a transfer id answers its first request and refuses any other.

use lianrong_app::commitment::{self, NewCommitment};
use reqwest::StatusCode;
use serde_json::json;

use super::problem::Problem;
use super::table::{Expect, Verdicts, refused, refused_at};
use super::world::{Evidence, Op, World};
use crate::common::ymd;

/// Tier 1's sales to the core (¥1,000 each, falling due in about nine months), all confirmed by the core
/// but `unconfirmed`; `to_t2` is the core's payable to tier 2; `backing` already backs a commitment and
/// `registered` is registered for financing. The core has a ¥50,000 line at the bank and a ¥500 one at
/// the second bank; tier 1 has a line of its own.
async fn issue_world() -> World {
    let mut w = World::new().await;
    for key in ["p1", "p2", "p3", "p4", "p5", "p6", "unconfirmed", "backing", "registered"] {
        w.sale(key, "t1", "core", "1000.00", Evidence::Verified).await;
    }
    w.sale("to_t2", "t2", "core", "1000.00", Evidence::Verified).await;
    w.confirm("core", &["p1", "p2", "p3", "p4", "p5", "p6", "backing", "registered", "to_t2"]).await;
    w.line("line", "bank", "core", "core_supply_chain", 5_000_000).await;
    w.line("small_line", "bank2", "core", "core_supply_chain", 50_000).await;
    w.line("t1_line", "bank", "t1", "supplier", 5_000_000).await;
    w.issue("first", &["backing"], 100_000, 90).await;
    w.register("reg", "t1", &["registered"], Some("bank")).await;
    w
}

struct IssueCase {
    name: &'static str,
    by: &'static str,
    holder: &'static str,
    payables: &'static [&'static str],
    face_fen: i64,
    /// Days from the business date to maturity (`None`: a date that is not one).
    maturity: Option<i64>,
    line: &'static str,
    /// The face issued, and the days beyond six months it is flagged with.
    expect: Expect<(i64, Option<i64>)>,
}

#[rustfmt::skip]
const ISSUES: &[IssueCase] = &[
    IssueCase { name: "within six months", by: "core", holder: "t1", payables: &["p1"], face_fen: 100_000, maturity: Some(90), line: "line", expect: Ok((100_000, None)) },
    IssueCase { name: "beyond six months is flagged, not refused", by: "core", holder: "t1", payables: &["p2"], face_fen: 100_000, maturity: Some(200), line: "line", expect: Ok((100_000, Some(200))) },
    IssueCase { name: "a face below its backing", by: "core", holder: "t1", payables: &["p3"], face_fen: 50_000, maturity: Some(90), line: "line", expect: Ok((50_000, None)) },
    IssueCase { name: "two payables back one face", by: "core", holder: "t1", payables: &["p4", "p5"], face_fen: 200_000, maturity: Some(90), line: "line", expect: Ok((200_000, None)) },
    IssueCase { name: "beyond a year", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(366), line: "line", expect: refused_at("maturity_too_far", "maturity_date") },
    IssueCase { name: "later than the SME's payables fall due", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(300), line: "line", expect: refused_at("stretches_sme_term", "maturity_date") },
    IssueCase { name: "maturing the day it is issued", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(0), line: "line", expect: refused_at("maturity_not_after_issue", "maturity_date") },
    IssueCase { name: "maturity that is not a date", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: None, line: "line", expect: refused_at("date_invalid", "maturity_date") },
    IssueCase { name: "a zero face", by: "core", holder: "t1", payables: &["p6"], face_fen: 0, maturity: Some(90), line: "line", expect: refused_at("face_out_of_bounds", "face_fen") },
    IssueCase { name: "a face a fen above its backing", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_001, maturity: Some(90), line: "line", expect: refused_at("face_out_of_bounds", "face_fen") },
    IssueCase { name: "backing not confirmed", by: "core", holder: "t1", payables: &["unconfirmed"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused_at("not_confirmed", "invoice_ids[0]") },
    IssueCase { name: "backing owed to another supplier", by: "core", holder: "t1", payables: &["to_t2"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused_at("not_payable_to_holder", "invoice_ids[0]") },
    IssueCase { name: "backing that already backs a commitment", by: "core", holder: "t1", payables: &["p6", "backing"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused("payable_already_backs") },
    IssueCase { name: "backing registered for financing", by: "core", holder: "t1", payables: &["registered"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused("already_registered") },
    IssueCase { name: "no backing", by: "core", holder: "t1", payables: &[], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused_at("backing_count", "invoice_ids") },
    IssueCase { name: "issued to a bank", by: "core", holder: "bank", payables: &["p6"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused_at("holder_not_supplier", "holder_org_id") },
    IssueCase { name: "on a line with too little room", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(90), line: "small_line", expect: refused_at("line_exceeded", "amount_fen") },
    IssueCase { name: "on the supplier's line", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(90), line: "t1_line", expect: refused_at("not_found", "credit_line_id") },
    IssueCase { name: "on no line", by: "core", holder: "t1", payables: &["p6"], face_fen: 100_000, maturity: Some(90), line: "nobody", expect: refused_at("not_found", "credit_line_id") },
    IssueCase { name: "a supplier issues", by: "t1", holder: "t2", payables: &["p6"], face_fen: 100_000, maturity: Some(90), line: "line", expect: refused("forbidden") },
];

#[tokio::test]
async fn issue_maturities_backing_and_lines() {
    let w = issue_world().await;
    let mut verdicts = Verdicts::new("commitment::issue");
    for c in ISSUES {
        let new = NewCommitment {
            holder_org_id: w.id(c.holder),
            invoice_ids: w.ids(c.payables),
            face_fen: c.face_fen,
            maturity_date: c.maturity.map_or_else(|| "in six months".into(), ymd),
            credit_line_id: w.id(c.line),
        };
        let got = commitment::issue(&w.app, &w.actor(c.by), &new).await;
        verdicts.judge(c.name, &got, &c.expect, |v| (v.commitment.face_fen, v.commitment.beyond_principle_days));
    }
    verdicts.finish();
    // Refused issues occupied nothing: the line holds the setup's commitment and the four issued above.
    let line = lianrong_app::credit_line::get(&w.app, &w.actor("core"), &w.id("line")).await.unwrap();
    assert_eq!(line.used_fen, 100_000 + 100_000 + 100_000 + 50_000 + 200_000);
}

/// A commitment of ¥10,000 issued to tier 1, which split it into `setup/0` (¥6,000), `setup/1` (¥3,000)
/// and `setup/2` (¥1,000); tier 2 sold tier 1 ¥5,000 of verified trade (`t2_trade`) and ¥5,000 on an
/// invoice alone (`t2_unverified`).
async fn operate_world() -> World {
    let mut w = World::new().await;
    w.sale("p1", "t1", "core", "10000.00", Evidence::Verified).await;
    w.sale("t2_trade", "t2", "t1", "5000.00", Evidence::Verified).await;
    w.sale("t2_unverified", "t2", "t1", "5000.00", Evidence::InvoiceOnly).await;
    w.confirm("core", &["p1"]).await;
    w.line("line", "bank", "core", "core_supply_chain", 5_000_000).await;
    w.issue("c", &["p1"], 1_000_000, 120).await;
    w.operate("t1", "c", "setup", Op::Split("c/0", &[600_000, 300_000, 100_000])).await.expect("setup split");
    w
}

struct OperateCase {
    name: &'static str,
    by: &'static str,
    transfer_id: &'static str,
    op: Op,
    /// The transfer's state, and whether it answered an earlier attempt with the same id.
    expect: Expect<(&'static str, bool)>,
}

const POSTED: Expect<(&str, bool)> = Ok(("posted", false));
const T2_TRADE: &[&str] = &["t2_trade"];

/// Rows run in order on one commitment: the transfer `pass` is made once, then repeated and reused.
#[rustfmt::skip]
const OPERATIONS: &[OperateCase] = &[
    OperateCase { name: "split amounts a fen over the part", by: "t1", transfer_id: "x", op: Op::Split("setup/0", &[300_000, 300_001]), expect: refused_at("amounts_do_not_add_up", "amounts_fen") },
    OperateCase { name: "split amounts a fen short of the part", by: "t1", transfer_id: "x", op: Op::Split("setup/0", &[300_000, 299_999]), expect: refused_at("amounts_do_not_add_up", "amounts_fen") },
    OperateCase { name: "a split with an empty part", by: "t1", transfer_id: "x", op: Op::Split("setup/0", &[600_000, 0]), expect: refused_at("amount_not_positive", "amount_fen") },
    OperateCase { name: "a split into one part", by: "t1", transfer_id: "x", op: Op::Split("setup/0", &[600_000]), expect: refused_at("split_count", "amounts_fen") },
    OperateCase { name: "a split of the part already split", by: "t1", transfer_id: "x", op: Op::Split("c/0", &[500_000, 500_000]), expect: refused_at("part_not_held", "part_id") },
    OperateCase { name: "a split of a part that does not exist", by: "t1", transfer_id: "x", op: Op::Split("nope/0", &[1, 1]), expect: refused_at("part_not_found", "part_id") },
    OperateCase { name: "a stranger splits", by: "stranger", transfer_id: "x", op: Op::Split("setup/0", &[300_000, 300_000]), expect: refused("not_found") },
    OperateCase { name: "a transfer to a party without trade with the holder", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "stranger", 100_000, T2_TRADE), expect: refused_at("no_verified_trade", "invoice_ids[0]") },
    OperateCase { name: "a transfer naming no trade", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "t2", 100_000, &[]), expect: refused_at("no_verified_trade", "invoice_ids") },
    OperateCase { name: "a transfer against unverified trade", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "t2", 100_000, &["t2_unverified"]), expect: refused_at("trade_not_verified", "invoice_ids[0]") },
    OperateCase { name: "a transfer a fen beyond the verified trade", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "t2", 500_001, T2_TRADE), expect: refused_at("exceeds_verified_trade", "amount_fen") },
    OperateCase { name: "a transfer a fen beyond the part", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "t2", 600_001, T2_TRADE), expect: refused_at("amount_exceeds_part", "amount_fen") },
    OperateCase { name: "a transfer to its own holder", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "t1", 100_000, T2_TRADE), expect: refused_at("self_transfer", "to_org_id") },
    OperateCase { name: "a transfer to a bank", by: "t1", transfer_id: "x", op: Op::Transfer("setup/0", "bank", 100_000, T2_TRADE), expect: refused_at("not_a_supplier", "to_org_id") },
    OperateCase { name: "a discount at a supplier", by: "t1", transfer_id: "x", op: Op::Discount("setup/2", "t2", 100_000), expect: refused_at("not_a_bank", "bank_org_id") },
    OperateCase { name: "a transfer id with a space", by: "t1", transfer_id: "x 1", op: Op::Split("setup/0", &[300_000, 300_000]), expect: refused_at("transfer_id_invalid", "transfer_id") },
    OperateCase { name: "tier 1 pays tier 2 against its invoice", by: "t1", transfer_id: "pass", op: Op::Transfer("setup/1", "t2", 300_000, T2_TRADE), expect: POSTED },
    OperateCase { name: "the same transfer again is answered, not repeated", by: "t1", transfer_id: "pass", op: Op::Transfer("setup/1", "t2", 300_000, T2_TRADE), expect: Ok(("posted", true)) },
    OperateCase { name: "the same id for another amount", by: "t1", transfer_id: "pass", op: Op::Transfer("setup/1", "t2", 200_000, T2_TRADE), expect: refused_at("transfer_id_reused", "transfer_id") },
    OperateCase { name: "the same id for a split", by: "t1", transfer_id: "pass", op: Op::Split("setup/0", &[300_000, 300_000]), expect: refused_at("transfer_id_reused", "transfer_id") },
    OperateCase { name: "the same request by another holder", by: "t2", transfer_id: "pass", op: Op::Transfer("setup/1", "t2", 300_000, T2_TRADE), expect: refused_at("transfer_id_reused", "transfer_id") },
    OperateCase { name: "the part passed on, spent again", by: "t1", transfer_id: "pass-again", op: Op::Transfer("setup/1", "t2", 300_000, T2_TRADE), expect: refused_at("part_not_held", "part_id") },
    OperateCase { name: "tier 2 splits tier 1's part", by: "t2", transfer_id: "y", op: Op::Split("setup/0", &[300_000, 300_000]), expect: refused_at("not_holder", "part_id") },
    OperateCase { name: "tier 1 discounts a part at the bank", by: "t1", transfer_id: "disc", op: Op::Discount("setup/2", "bank", 100_000), expect: Ok(("pending", false)) },
    OperateCase { name: "a part pending at the bank, passed on", by: "t1", transfer_id: "z", op: Op::Transfer("setup/2", "t2", 1, T2_TRADE), expect: refused_at("part_not_held", "part_id") },
    OperateCase { name: "tier 2 splits what it received", by: "t2", transfer_id: "t2-split", op: Op::Split("pass/0", &[1, 299_999]), expect: POSTED },
];

#[tokio::test]
async fn operate_splits_transfers_and_transfer_ids() {
    let w = operate_world().await;
    let mut verdicts = Verdicts::new("commitment::operate");
    for c in OPERATIONS {
        let got = w.operate(c.by, "c", c.transfer_id, c.op).await;
        verdicts.judge(c.name, &got, &c.expect, |o| (o.transfer.state.code(), o.repeated));
    }
    verdicts.finish();
}

/// The API's problem document for one refusal, whole: a split that does not add up to its part.
#[tokio::test]
async fn the_problem_document_of_a_split_that_does_not_add_up_is_pinned() {
    let mut w = operate_world().await;
    let t1 = w.over_http("t1.finance", "t1", "finance_staff").await;
    let body = json!({"transfer_id": "x", "kind": "split", "part_id": "setup/0", "amounts_fen": [300_000, 300_001]});
    let (status, body) = t1.post(&format!("/api/v1/commitments/{}/transfers", w.id("c")), body).await;
    let problem = Problem {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "amounts_do_not_add_up",
        field: Some("amounts_fen"),
        en: "the amounts add up to 600001 fen, the part holds 600000 fen",
        zh: "拆分金额合计600001分，与份额金额600000分不符",
        reference: None,
    };
    problem.assert_answered(status, &body);
}
