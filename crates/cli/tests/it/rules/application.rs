//! `application::apply` and `application::decide`: an application names one subject of the right shape
//! (receivables of its own, a commitment part it holds with that part's own trade, or an order), claims
//! nothing another open application, a registration or a commitment holds, and the pre-check stops an
//! amount the subject does not support. Above `SECOND_APPROVAL_ABOVE_FEN` two different persons approve —
//! a loan in `decide`, a discount when the bank posts it — never the same one twice, never a key.

use lianrong_app::application::{self, Decision, NewApplication, NewOffer};
use lianrong_app::commitment::{self, DiscountDecision};
use lianrong_domain::application::SECOND_APPROVAL_ABOVE_FEN;
use reqwest::StatusCode;
use serde_json::json;

use super::problem::Problem;
use super::table::{Expect, Verdicts, refused, refused_at};
use super::world::{Evidence, Op, World};
use crate::common::ymd;

/// What an application asks.
#[derive(Debug, Clone)]
struct Ask {
    by: &'static str,
    subject: &'static str,
    invoices: Vec<&'static str>,
    part: Option<&'static str>,
    order: Option<&'static str>,
    amount_fen: i64,
    term_days: i64,
    /// (bank, product) pairs.
    offers: Vec<(&'static str, &'static str)>,
}

/// Tier 1 applies with its receivables at the bank's receivables product for 90 days.
fn receivables(invoices: &[&'static str], amount_fen: i64) -> Ask {
    Ask {
        by: "t1",
        subject: "receivables",
        invoices: invoices.to_vec(),
        part: None,
        order: None,
        amount_fen,
        term_days: 90,
        offers: vec![("bank", "pr")],
    }
}

/// Tier 1 applies to discount a part of commitment `c` at the bank's discount product for 60 days.
fn part(part: &'static str, amount_fen: i64) -> Ask {
    Ask {
        subject: "commitment_part",
        part: Some(part),
        term_days: 60,
        offers: vec![("bank", "pd")],
        ..receivables(&[], amount_fen)
    }
}

/// Tier 1 applies with the order of sale `key`.
fn order(key: &'static str, amount_fen: i64) -> Ask {
    Ask { subject: "order", order: Some(key), ..receivables(&[], amount_fen) }
}

impl Ask {
    fn by(self, by: &'static str) -> Ask {
        Ask { by, ..self }
    }
    fn subject(self, subject: &'static str) -> Ask {
        Ask { subject, ..self }
    }
    fn invoices(self, invoices: &[&'static str]) -> Ask {
        Ask { invoices: invoices.to_vec(), ..self }
    }
    fn term(self, term_days: i64) -> Ask {
        Ask { term_days, ..self }
    }
    fn offers(self, offers: &[(&'static str, &'static str)]) -> Ask {
        Ask { offers: offers.to_vec(), ..self }
    }

    fn new_application(&self, w: &World) -> NewApplication {
        NewApplication {
            subject: self.subject.into(),
            invoice_ids: w.ids(&self.invoices),
            commitment_id: self.part.map(|_| w.id("c")),
            part_id: self.part.map(|p| w.part(p)),
            order_id: self.order.map(|o| w.id(&format!("{o}.order"))),
            amount_fen: self.amount_fen,
            term_days: self.term_days,
            purpose: "支付原材料货款".into(),
            offers: self
                .offers
                .iter()
                .map(|(bank, product)| NewOffer { bank_org_id: w.id(bank), product_id: w.id(product) })
                .collect(),
            consent_until: ymd(90),
        }
    }
}

/// The first offer's state, and the first blocking finding of its pre-check.
type Applied = (&'static str, Option<String>);

struct Case {
    name: &'static str,
    ask: Ask,
    expect: Expect<Applied>,
}

/// The bank's pre-check let the application through to its officer.
fn reviewed() -> Expect<Applied> {
    Ok(("pending_review", None))
}

/// The pre-check stopped it with `finding`.
fn stopped(finding: &str) -> Expect<Applied> {
    Ok(("precheck_failed", Some(finding.into())))
}

/// Rows run in order: the part `c/0` is held pending at the bank from the row that applies with it.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let case = |name, ask, expect| Case { name, ask, expect };
    vec![
        case("a verified receivable within the advance ratio", receivables(&["r1"], 800_000), reviewed()),
        case("a fen above what the receivable supports", receivables(&["r2"], 800_001), stopped("above_advance_limit")),
        case("two receivables support their sum", receivables(&["r3", "r4"], 1_600_000), reviewed()),
        case("a product that does not finance receivables", receivables(&["r5"], 100_000).offers(&[("bank", "pd")]), stopped("product_kind_mismatch")),
        case("no invoices", receivables(&[], 100_000), refused_at("invoice_count", "invoice_ids")),
        case("an unknown subject", receivables(&["r6"], 100_000).subject("bananas"), refused_at("unknown_value", "subject")),
        case("a receivable another application claims", receivables(&["claimed"], 100_000), refused("already_applied")),
        case("a claimed receivable among free ones", receivables(&["r6", "claimed"], 100_000), refused("already_applied")),
        case("a receivable registered for financing", receivables(&["registered"], 100_000), refused("already_registered")),
        case("a receivable backing a commitment", receivables(&["backing"], 100_000), refused("backs_commitment")),
        case("the debtor applies with its payable", receivables(&["r6"], 100_000).by("core"), refused_at("not_your_receivable", "invoice_ids[0]")),
        case("another creditor's receivable", receivables(&["others"], 100_000), refused_at("not_found", "invoice_ids[0]")),
        case("a part with an invoice that is not its trade", part("c/0", 500_000).invoices(&["r6"]), refused_at("invoice_not_of_subject", "invoice_ids[0]")),
        case("an order with an invoice", order("r6", 100_000).invoices(&["r6"]), refused_at("invoice_not_of_subject", "invoice_ids[0]")),
        case("an order at a receivables product", order("r6", 100_000), stopped("product_kind_mismatch")),
        case("an order subject naming no order", receivables(&[], 100_000).subject("order"), refused_at("field_required", "order_id")),
        case("a part subject naming no part", receivables(&[], 100_000).subject("commitment_part"), refused_at("field_required", "part_id")),
        case("a part at two banks", part("c/0", 500_000).offers(&[("bank", "pd"), ("bank2", "pr2")]), refused_at("one_bank_per_part", "offers")),
        case("a term running past the commitment's maturity", part("c/0", 500_000).term(100), stopped("term_beyond_maturity")),
        case("a fen above what the part supports", part("c/0", 800_001), stopped("above_advance_limit")),
        case("the part it holds, at its bank", part("c/0", 500_000), reviewed()),
        case("the part again, now pending at the bank", part("c/0", 500_000), refused_at("part_not_held", "part_id")),
        case("no bank", receivables(&["r6"], 100_000).offers(&[]), refused_at("offer_count", "offers")),
        case("the same bank twice", receivables(&["r6"], 100_000).offers(&[("bank", "pr"), ("bank", "pr")]), refused_at("bank_twice", "offers")),
        case("another bank's product", receivables(&["r6"], 100_000).offers(&[("bank", "pr2")]), refused_at("product_not_of_bank", "offers[0].product_id")),
        case("a zero amount", receivables(&["r6"], 0), refused_at("amount_not_positive", "amount_fen")),
        case("a term of no days", receivables(&["r6"], 100_000).term(0), refused_at("term_out_of_bounds", "term_days")),
    ]
}

/// Tier 1's verified sales to the core of ¥10,000 each (`backing`, confirmed, backs commitment `c` of
/// ¥10,000 maturing in 90 days; `registered` is registered; `claimed` is in an open application), tier
/// 2's `others`; each bank publishes a receivables product, the bank also a discount product.
async fn apply_world() -> World {
    let mut w = World::new().await;
    for key in ["r1", "r2", "r3", "r4", "r5", "r6", "claimed", "registered", "backing"] {
        w.sale(key, "t1", "core", "10000.00", Evidence::Verified).await;
    }
    w.sale("others", "t2", "core", "10000.00", Evidence::Verified).await;
    w.product("pr", "bank", "receivable_financing", "either").await;
    w.product("pd", "bank", "commitment_discount", "confirmed").await;
    w.product("pr2", "bank2", "receivable_financing", "either").await;
    w.confirm("core", &["backing"]).await;
    w.line("line", "bank", "core", "core_supply_chain", 5_000_000).await;
    w.issue("c", &["backing"], 1_000_000, 90).await;
    w.register("reg", "t1", &["registered"], Some("bank")).await;
    w.apply("setup", "t1", &["claimed"], 500_000, "bank", "pr").await;
    w
}

/// The first offer's state and first blocking finding.
fn applied(v: &application::ApplicationView) -> Applied {
    let offer = &v.offers[0];
    let blocking = offer.findings.iter().find(|f| f.blocking);
    (offer.state.code(), blocking.map(|f| f.code.clone()))
}

#[tokio::test]
async fn apply_subjects_claims_and_what_a_subject_supports() {
    let w = apply_world().await;
    let mut verdicts = Verdicts::new("application::apply");
    for c in cases() {
        let got = application::apply(&w.app, &w.actor(c.ask.by), &c.ask.new_application(&w)).await;
        verdicts.judge(c.name, &got, &c.expect, applied);
    }
    verdicts.finish();
}

/// What a bank's person or key does with an offer or a pending discount.
#[derive(Debug, Clone, Copy)]
enum Act {
    Approve(i64),
    /// An amount other than asked, at a rate.
    ApproveAmount(i64, i64),
    Reject(&'static str),
    /// Posts the pending discount `disc` of commitment `c`.
    PostDiscount,
}

struct Step {
    name: &'static str,
    by: &'static str,
    /// The application (its first offer) decided; unused for a discount.
    application: &'static str,
    act: Act,
    /// The offer's (or the discount's) state after the step.
    expect: Expect<&'static str>,
}

const RATE: i64 = 450;

/// Steps run in order: the first approval of `big` is the one the second approvers answer.
#[rustfmt::skip]
const STEPS: &[Step] = &[
    Step { name: "a fen above the threshold waits for a second approver", by: "officer", application: "big", act: Act::Approve(RATE), expect: Ok("awaiting_second") },
    Step { name: "the first approver approves again", by: "officer", application: "big", act: Act::Approve(RATE), expect: refused("same_approver") },
    Step { name: "an API key decides", by: "bank.key", application: "big", act: Act::Approve(RATE), expect: refused("forbidden") },
    Step { name: "an officer without the approver role", by: "officer2", application: "big", act: Act::Approve(RATE), expect: refused("forbidden") },
    Step { name: "an approver appointed after the application", by: "approver.late", application: "big", act: Act::Approve(RATE), expect: refused("approver_too_recent") },
    Step { name: "a second approver rejects without a reason", by: "approver", application: "big", act: Act::Reject(""), expect: refused_at("reason_required", "reason") },
    Step { name: "another approver signs", by: "approver", application: "big", act: Act::Approve(RATE), expect: Ok("approved") },
    Step { name: "an approved offer decided again", by: "approver", application: "big", act: Act::Approve(RATE), expect: refused("offer_not_open") },
    Step { name: "exactly the threshold needs one approver", by: "officer", application: "edge", act: Act::Approve(RATE), expect: Ok("approved") },
    Step { name: "a rate outside the product's", by: "officer", application: "small", act: Act::Approve(700), expect: refused_at("rate_out_of_range", "rate_bp") },
    Step { name: "more than was asked", by: "officer", application: "small", act: Act::ApproveAmount(500_001, RATE), expect: refused_at("amount_out_of_bounds", "amount_fen") },
    Step { name: "a rejection with its reason", by: "officer", application: "small", act: Act::Reject("超出我行行业限额"), expect: Ok("rejected") },
    Step { name: "an API key posts a large discount", by: "bank.key", application: "", act: Act::PostDiscount, expect: refused("keys_cannot_approve") },
    Step { name: "a person posts it first", by: "officer", application: "", act: Act::PostDiscount, expect: Ok("awaiting_second") },
    Step { name: "the same person posts it again", by: "officer", application: "", act: Act::PostDiscount, expect: Ok("awaiting_second") },
    Step { name: "an approver appointed after the discount", by: "approver.late", application: "", act: Act::PostDiscount, expect: refused("approver_too_recent") },
    Step { name: "another approver posts it", by: "approver", application: "", act: Act::PostDiscount, expect: Ok("posted") },
];

/// Tier 1 applied at the bank with ¥2,000,000 receivables for a fen above the threshold (`big`) and for
/// the threshold (`edge`), and with ¥10,000 for ¥5,000 (`small`); it also holds a ¥1,500,000 commitment
/// and asked the bank to discount all of it (`disc`). The bank's people: two officers, an approver, an
/// approver appointed after all that, and an API key.
async fn four_eyes_world() -> World {
    let mut w = World::new().await;
    for (key, yuan) in [("big", "2000000.00"), ("edge", "2000000.00"), ("small", "10000.00"), ("p", "2000000.00")] {
        w.sale(key, "t1", "core", yuan, Evidence::Verified).await;
    }
    w.product("pr", "bank", "receivable_financing", "either").await;
    w.person("officer", "bank", "bank_officer").await;
    w.person("officer2", "bank", "bank_officer").await;
    w.person("approver", "bank", "bank_approver").await;
    w.apply("big", "t1", &["big"], SECOND_APPROVAL_ABOVE_FEN + 1, "bank", "pr").await;
    w.apply("edge", "t1", &["edge"], SECOND_APPROVAL_ABOVE_FEN, "bank", "pr").await;
    w.apply("small", "t1", &["small"], 500_000, "bank", "pr").await;
    w.confirm("core", &["p"]).await;
    w.line("line", "bank", "core", "core_supply_chain", 500_000_000).await;
    w.issue("c", &["p"], 150_000_000, 90).await;
    w.operate("t1", "c", "disc", Op::Discount("c/0", "bank", 150_000_000)).await.expect("discount asked");
    // Appointed after every request above was made.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    w.person("approver.late", "bank", "bank_approver").await;
    w.api_key("bank.key", "bank", &["commitment:write"]).await;
    w
}

async fn act(w: &World, s: &Step) -> lianrong_app::AppResult<&'static str> {
    let actor = w.actor(s.by);
    let decision = match s.act {
        Act::Approve(rate) => Decision { approve: true, amount_fen: None, rate_bp: Some(rate), reason: String::new() },
        Act::ApproveAmount(amount, rate) => {
            Decision { approve: true, amount_fen: Some(amount), rate_bp: Some(rate), reason: String::new() }
        }
        Act::Reject(reason) => Decision { approve: false, amount_fen: None, rate_bp: None, reason: reason.into() },
        Act::PostDiscount => {
            return Ok(match commitment::decide_discount(&w.app, &actor, &w.id("c"), "disc", true).await? {
                DiscountDecision::Done(outcome) => outcome.transfer.state.code(),
                DiscountDecision::AwaitingSecondApprover(_) => "awaiting_second",
            });
        }
    };
    let offer = w.id(&format!("{}.offer", s.application));
    let view = application::decide(&w.app, &actor, &w.id(s.application), &offer, &decision).await?;
    Ok(view.offers.iter().find(|o| o.id == offer).expect("the bank's offer").state.code())
}

#[tokio::test]
async fn decide_four_eyes_above_the_threshold() {
    let w = four_eyes_world().await;
    let mut verdicts = Verdicts::new("application::decide and discount posts, four eyes");
    for s in STEPS {
        let got = act(&w, s).await;
        verdicts.judge(s.name, &got, &s.expect, |state| *state);
    }
    verdicts.finish();
}

/// The API's problem document for one refusal, whole: the first approver of a large offer approves it
/// again over the API.
#[tokio::test]
async fn the_problem_document_of_the_same_approver_twice_is_pinned() {
    let mut w = World::new().await;
    w.sale("big", "t1", "core", "2000000.00", Evidence::Verified).await;
    w.product("pr", "bank", "receivable_financing", "either").await;
    let officer = w.person("officer", "bank", "bank_officer").await;
    let id = w.apply("big", "t1", &["big"], SECOND_APPROVAL_ABOVE_FEN + 1, "bank", "pr").await;
    let offer = w.id("big.offer");
    let first = Decision { approve: true, amount_fen: None, rate_bp: Some(RATE), reason: String::new() };
    application::decide(&w.app, &officer, &id, &offer, &first).await.expect("first approval");
    let api = w.sign_in("officer").await;
    let path = format!("/api/v1/applications/{id}/offers/{offer}/decision");
    let (status, body) = api.post(&path, json!({"decision": "approve", "rate_bp": RATE})).await;
    let problem = Problem {
        status: StatusCode::FORBIDDEN,
        code: "same_approver",
        field: None,
        en: "The second approval must come from another person than the first",
        zh: "复核审批须由首次审批人以外的人员作出",
        reference: None,
    };
    problem.assert_answered(status, &body);
}
