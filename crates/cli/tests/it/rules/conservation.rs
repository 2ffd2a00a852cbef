//! Money conservation: whatever a commitment's holders do with it — split to the fen, pass down tiers,
//! discount at a bank that posts or voids, retry, or try what is refused — the fen of its live parts add
//! up to its face, and each holder holds what the operations gave it (read through `commitment::get`, by
//! the issuer and by each holder).

use std::collections::BTreeMap;

use lianrong_app::commitment;
use lianrong_domain::commitment::PartState;

use super::table::Verdicts;
use super::world::{Evidence, Op, World};

/// Every scenario's commitment: ¥10,000.
const FACE: i64 = 1_000_000;

/// One operation of a scenario: who, as which transfer id, what.
type Step = (&'static str, &'static str, Op);

struct Case {
    name: &'static str,
    /// Operations that succeed, in order.
    ops: &'static [Step],
    /// Operations tried afterwards that are refused (whatever the code) and must change nothing.
    refused: &'static [Step],
    /// What each party holds (held or pending at a bank) at the end.
    held: &'static [(&'static str, i64)],
}

const T2: &[&str] = &["t2_trade"];
const T3: &[&str] = &["t3_trade"];

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "issued and untouched", ops: &[], refused: &[], held: &[("t1", FACE)] },
    Case { name: "split to the fen", ops: &[("t1", "s", Op::Split("c/0", &[999_999, 1]))], refused: &[], held: &[("t1", FACE)] },
    Case { name: "split into ten and one split again", ops: &[
        ("t1", "s", Op::Split("c/0", &[100_000; 10])),
        ("t1", "s2", Op::Split("s/9", &[33_333, 33_333, 33_334])),
    ], refused: &[], held: &[("t1", FACE)] },
    Case { name: "split, then a part passed to tier 2", ops: &[
        ("t1", "s", Op::Split("c/0", &[700_000, 300_000])),
        ("t1", "x", Op::Transfer("s/1", "t2", 300_000, T2)),
    ], refused: &[], held: &[("t1", 700_000), ("t2", 300_000)] },
    Case { name: "some of the issued part passed without splitting first", ops: &[
        ("t1", "x", Op::Transfer("c/0", "t2", 250_001, T2)),
    ], refused: &[], held: &[("t1", 749_999), ("t2", 250_001)] },
    Case { name: "down two tiers", ops: &[
        ("t1", "x", Op::Transfer("c/0", "t2", 400_000, T2)),
        ("t2", "y", Op::Transfer("x/0", "t3", 150_000, T3)),
    ], refused: &[], held: &[("t1", 600_000), ("t2", 250_000), ("t3", 150_000)] },
    Case { name: "a retried transfer is counted once", ops: &[
        ("t1", "x", Op::Transfer("c/0", "t2", 300_000, T2)),
        ("t1", "x", Op::Transfer("c/0", "t2", 300_000, T2)),
    ], refused: &[], held: &[("t1", 700_000), ("t2", 300_000)] },
    Case { name: "a discount pending at the bank stays live", ops: &[
        ("t1", "d", Op::Discount("c/0", "bank", 400_000)),
    ], refused: &[], held: &[("t1", FACE)] },
    Case { name: "a posted discount passes to the bank", ops: &[
        ("t1", "d", Op::Discount("c/0", "bank", 400_000)),
        ("bank.officer", "", Op::Post("d")),
    ], refused: &[], held: &[("t1", 600_000), ("bank", 400_000)] },
    Case { name: "a voided discount returns to its holder", ops: &[
        ("t1", "d", Op::Discount("c/0", "bank", 400_000)),
        ("bank.officer", "", Op::Void("d")),
    ], refused: &[], held: &[("t1", FACE)] },
    Case { name: "refused operations change nothing", ops: &[
        ("t1", "s", Op::Split("c/0", &[500_000, 500_000])),
    ], refused: &[
        ("t1", "r1", Op::Split("s/0", &[250_000, 250_001])),
        ("t1", "r2", Op::Split("c/0", &[500_000, 500_000])),
        ("t1", "r3", Op::Transfer("s/0", "stranger", 100_000, T2)),
        ("t1", "r4", Op::Transfer("s/1", "t2", 500_001, T2)),
        ("t1", "s", Op::Split("s/0", &[250_000, 250_000])),
        ("t2", "r5", Op::Split("s/0", &[250_000, 250_000])),
    ], held: &[("t1", FACE)] },
];

/// Tier 2 sold tier 1, and tier 3 tier 2, ¥50,000 of verified trade each; tier 1 sold the core one
/// confirmed payable per scenario, each backing that scenario's commitment.
async fn world() -> World {
    let mut w = World::new().await;
    w.sale("t2_trade", "t2", "t1", "50000.00", Evidence::Verified).await;
    w.sale("t3_trade", "t3", "t2", "50000.00", Evidence::Verified).await;
    let keys: Vec<String> = (0..CASES.len()).map(|n| format!("p{n}")).collect();
    for k in &keys {
        w.sale(k, "t1", "core", "10000.00", Evidence::Verified).await;
    }
    w.confirm("core", &keys.iter().map(String::as_str).collect::<Vec<_>>()).await;
    w.line("line", "bank", "core", "core_supply_chain", 100_000_000).await;
    w.person("bank.officer", "bank", "bank_officer").await;
    w
}

/// What a scenario came to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Figures {
    /// Operations that were refused though they should pass, or passed though they should be refused.
    steps_gone_wrong: Vec<String>,
    /// The commitment's live fen as its view reports it, and the sum of its held and pending parts.
    live_fen: i64,
    parts_live_fen: i64,
    invariant_broken: Option<String>,
    /// What each party holds live, in the issuer's view of the whole tree and in the party's own view.
    held_in_issuer_view: BTreeMap<String, i64>,
    held_in_own_view: BTreeMap<String, i64>,
}

/// What a scenario must come to: every part accounted for, each party holding `held`.
fn conserved(held: &[(&str, i64)]) -> Figures {
    let held: BTreeMap<String, i64> = held.iter().map(|(p, f)| ((*p).to_string(), *f)).collect();
    Figures {
        steps_gone_wrong: Vec::new(),
        live_fen: FACE,
        parts_live_fen: FACE,
        invariant_broken: None,
        held_in_issuer_view: held.clone(),
        held_in_own_view: held,
    }
}

/// Runs a scenario's operations on commitment `c`; answers what went other than the scenario says.
async fn run(w: &World, c: &str, case: &Case) -> Vec<String> {
    let mut wrong = Vec::new();
    for (by, id, op) in case.ops {
        if let Err(e) = w.operate(by, c, id, *op).await {
            wrong.push(format!("{id} refused: {}", e.code));
        }
    }
    for (by, id, op) in case.refused {
        if w.operate(by, c, id, *op).await.is_ok() {
            wrong.push(format!("{id} was not refused"));
        }
    }
    wrong
}

/// What commitment `c` came to, read by its issuer and by each party of `held`.
async fn figures(w: &World, c: &str, steps_gone_wrong: Vec<String>, held: &[(&str, i64)]) -> Figures {
    let view = commitment::get(&w.app, &w.actor("core"), &w.id(c)).await.expect("the issuer's view");
    let live: Vec<_> = view.parts.iter().filter(|p| matches!(p.state, PartState::Held | PartState::Pending)).collect();
    let mut held_in_issuer_view = BTreeMap::new();
    let mut held_in_own_view = BTreeMap::new();
    for (party, _) in held {
        let id = w.id(party);
        held_in_issuer_view
            .insert(party.to_string(), live.iter().filter(|p| p.holder == id).map(|p| p.amount_fen).sum());
        let own = commitment::get(&w.app, &w.actor(party), &w.id(c)).await.expect("the holder's view");
        held_in_own_view.insert(party.to_string(), own.held_by_caller_fen + own.pending_by_caller_fen);
    }
    Figures {
        steps_gone_wrong,
        live_fen: view.live_fen,
        parts_live_fen: live.iter().map(|p| p.amount_fen).sum(),
        invariant_broken: view.invariant_broken,
        held_in_issuer_view,
        held_in_own_view,
    }
}

#[tokio::test]
async fn the_live_parts_of_a_commitment_always_add_up_to_its_face() {
    let mut w = world().await;
    let mut verdicts = Verdicts::new("commitment conservation");
    for (n, case) in CASES.iter().enumerate() {
        let c = format!("c{n}");
        w.issue(&c, &[&format!("p{n}")], FACE, 120).await;
        // The scenario's parts are named `c/0` whichever commitment it runs on.
        let issued = w.part(&format!("{c}/0"));
        w.name("c/0", &issued);
        let wrong = run(&w, &c, case).await;
        let got = figures(&w, &c, wrong, case.held).await;
        verdicts.judge_seen(case.name, Ok(got), &Ok(conserved(case.held)));
    }
    verdicts.finish();
}
