//! A small world built in-process through the use cases, as `lianrong_app::demo` builds its own: the
//! platform of `common::platform()` (its operator and `op.admin`), a fixed cast of organisations, and the
//! trade, confirmations, lines, commitments, products and registrations a table needs, each named by a
//! short key so that a row reads as what it means ("p1", "line", "t2_trade"). The cast acts as their
//! administrators would (no password to hash); people who must be persons (approvers, a login over HTTP)
//! and API keys are made on demand.

use std::collections::BTreeMap;

use lianrong_app::commitment::{self, Operation, Outcome};
use lianrong_app::{Actor, App, AppResult};
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::role::Role;
use serde_json::{Map, Value, json};

use crate::common::{Api, PASSWORD, code, einvoice, platform, serve_app, ymd};

/// The cast: key, number of its credit code, kind and size class.
const CAST: &[(&str, u32, &str, &str)] = &[
    ("core", 100, "core", "large"),
    ("t1", 101, "supplier", "small"),
    ("t2", 102, "supplier", "small"),
    ("t3", 103, "supplier", "small"),
    ("bank", 104, "bank", "large"),
    ("bank2", 105, "bank", "large"),
    ("stranger", 106, "supplier", "small"),
    ("core2", 107, "core", "large"),
];

/// Days from the business date back to the issue of the world's invoices (ordered 9 days earlier,
/// delivered 5, accepted 4): on a year's term they fall due about nine months ahead.
const ISSUED_DAYS: i64 = -88;

/// A buyer that is not on the platform.
pub const UNLISTED: &str = "unlisted";

/// How well a sale is evidenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Order, accepted delivery and invoice: four-flow verified, owed in full.
    Verified,
    /// The invoice alone: owed, not verified.
    InvoiceOnly,
    /// Verified, and paid in full.
    Paid,
}

/// What a holder asks of a part (parts are named as [`World::part`] reads them).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Split(&'static str, &'static [i64]),
    /// Part, recipient, fen, the invoices of the trade it pays.
    Transfer(&'static str, &'static str, i64, &'static [&'static str]),
    /// Part, bank, fen.
    Discount(&'static str, &'static str, i64),
    /// The bank posts the pending discount with this transfer id …
    Post(&'static str),
    /// … or voids it.
    Void(&'static str),
}

pub struct World {
    pub app: App,
    /// Each organisation's id and credit code.
    orgs: BTreeMap<&'static str, (String, String)>,
    /// Who acts: the cast as their administrators, and the persons and keys made since.
    actors: BTreeMap<String, Actor>,
    /// Invoices, orders, lines, commitments, parts, products and registrations by key.
    named: BTreeMap<String, String>,
    serial: u64,
}

impl World {
    /// A fresh platform with the cast; `nobody` names an id that exists nowhere.
    pub async fn new() -> World {
        let app = platform().await;
        let system = Actor::system("system");
        let mut w = World { app, orgs: BTreeMap::new(), actors: BTreeMap::new(), named: BTreeMap::new(), serial: 1000 };
        for (key, n, kind, size) in CAST {
            let new = lianrong_app::org::NewOrg {
                uscc: code(*n),
                name: format!("规则测试{key}有限公司"),
                kind: (*kind).into(),
                size_class: (*size).into(),
                region_code: None,
            };
            let org = lianrong_app::org::create(&w.app, &system, new).await.expect("org of the cast");
            w.actors.insert((*key).into(), admin(&org.id, org.kind, key, vec![Role::OrgAdmin]));
            w.orgs.insert(key, (org.id, org.uscc));
        }
        let op = lianrong_app::user::find_by_login(&w.app, "op.admin").await.unwrap().expect("op.admin");
        let roles = vec![Role::OrgAdmin, Role::OperatorStaff];
        w.actors.insert("operator".into(), admin(&op.org_id, OrgKind::Operator, "operator", roles));
        w.actors.insert("system".into(), system);
        w.named.insert("nobody".into(), "no-such-id".into());
        w
    }

    /// The id of an organisation of the cast or of something named.
    pub fn id(&self, key: &str) -> String {
        match self.orgs.get(key) {
            Some((id, _)) => id.clone(),
            None => self.named.get(key).cloned().unwrap_or_else(|| panic!("nothing in the world is called {key}")),
        }
    }

    /// The ids of several named things.
    pub fn ids(&self, keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| self.id(k)).collect()
    }

    /// A part: named (`c/0`, the part a commitment was issued as) or literal (`split-1/0`).
    pub fn part(&self, key: &str) -> String {
        self.named.get(key).cloned().unwrap_or_else(|| key.to_string())
    }

    /// The credit code of an organisation of the cast, or of the [`UNLISTED`] buyer.
    pub fn uscc(&self, key: &str) -> String {
        match self.orgs.get(key) {
            Some((_, uscc)) => uscc.clone(),
            None if key == UNLISTED => code(300),
            None => panic!("no organisation is called {key}"),
        }
    }

    pub fn actor(&self, key: &str) -> Actor {
        self.actors.get(key).cloned().unwrap_or_else(|| panic!("nobody called {key} acts in the world"))
    }

    /// Names `id` as `key` (a later name replaces an earlier one).
    pub fn name(&mut self, key: &str, id: &str) {
        self.named.insert(key.to_string(), id.to_string());
    }

    /// A person of `party` with `role`, logged in (password [`PASSWORD`]), acting as the session would.
    pub async fn person(&mut self, login: &str, party: &str, role: &str) -> Actor {
        let new = lianrong_app::user::NewUser {
            org_id: self.id(party),
            login: login.into(),
            display_name: format!("{role} {login}"),
            password: PASSWORD.into(),
            roles: vec![role.into()],
        };
        lianrong_app::user::create(&self.app, &Actor::system("system"), new).await.expect("person");
        let session = lianrong_app::auth::login(&self.app, login, PASSWORD).await.expect("login");
        self.actors.insert(login.into(), session.actor.clone());
        session.actor
    }

    /// Serves the world over HTTP and signs `login` (a [`World::person`]) in, as a client of the API would.
    pub async fn sign_in(&self, login: &str) -> Api {
        serve_app(self.app.clone()).await.login(login, PASSWORD).await
    }

    /// A new person of `party` with `role`, signed in over HTTP.
    pub async fn over_http(&mut self, login: &str, party: &str, role: &str) -> Api {
        self.person(login, party, role).await;
        self.sign_in(login).await
    }

    /// An API key of `party` with `scopes`, acting as a request bearing it would.
    pub async fn api_key(&mut self, key: &str, party: &str, scopes: &[&str]) -> Actor {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let created = lianrong_app::api_key::create(&self.app, &self.actor(party), key, &scopes).await.expect("key");
        let actor = lianrong_app::auth::resolve_api_key(&self.app, &created.plaintext).await.expect("key resolves");
        self.actors.insert(key.into(), actor.clone());
        actor
    }

    /// `seller` shares a sale to `buyer` of `yuan`, on a year's term, as its ERP would; names the invoice
    /// `key` and its order `key.order`.
    pub async fn sale(&mut self, key: &str, seller: &str, buyer: &str, yuan: &str, evidence: Evidence) -> String {
        self.serial += 1;
        let no = einvoice(ISSUED_DAYS, self.serial);
        let (po, dn) = (format!("PO-{no}"), format!("DN-{no}"));
        let (b, s) = (self.uscc(buyer), self.uscc(seller));
        let mut records =
            vec![json!({"record_type": "invoice", "invoice_no": no, "issue_date": ymd(ISSUED_DAYS), "buyer_uscc": b,
                "seller_uscc": s, "total_amount": yuan, "order_refs": po, "delivery_refs": dn})];
        if evidence != Evidence::InvoiceOnly {
            records.push(json!({"record_type": "order", "order_no": po, "order_date": ymd(ISSUED_DAYS - 9),
                "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "term_days": "365"}));
            records.push(json!({"record_type": "delivery", "delivery_no": dn, "delivery_date": ymd(ISSUED_DAYS - 5),
                "order_refs": po, "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan,
                "acceptance_status": "accepted", "accepted_date": ymd(ISSUED_DAYS - 4)}));
        }
        if evidence == Evidence::Paid {
            records.push(json!({"record_type": "payment", "payment_no": format!("PAY-{no}"), "payment_date": ymd(-10),
                "buyer_uscc": b, "seller_uscc": s, "total_amount": yuan, "invoice_refs": no}));
        }
        let records: Vec<Map<String, Value>> = records.into_iter().filter_map(|r| r.as_object().cloned()).collect();
        let count = records.len() as u64;
        let seller_actor = self.actor(seller);
        let report = lianrong_app::submission::submit_records(&self.app, &seller_actor, Vec::new(), "rules", records)
            .await
            .expect("sale shared");
        assert_eq!(report.accepted, count, "sale {key}: {:?}", report.row_errors);
        let invoice = self.record(seller, &no).await;
        self.name(key, &invoice);
        if evidence != Evidence::InvoiceOnly {
            let order = self.record(seller, &po).await;
            self.name(&format!("{key}.order"), &order);
        }
        invoice
    }

    /// The id of the trade record numbered `doc_no`, as `party` sees it.
    async fn record(&self, party: &str, doc_no: &str) -> String {
        let filter = lianrong_app::trade::TradeFilter { doc_no: Some(doc_no.into()), ..Default::default() };
        let page = lianrong_app::trade::list(&self.app, &self.actor(party), filter, PageRequest::all_small())
            .await
            .expect("trade records");
        page.page.items.first().unwrap_or_else(|| panic!("no record {doc_no}")).id.clone()
    }

    /// The debtor confirms these payables unasked (as it would by uploading them).
    pub async fn confirm(&self, debtor: &str, invoices: &[&str]) {
        let inputs: Vec<lianrong_app::confirmation::PayableInput> = invoices
            .iter()
            .map(|k| lianrong_app::confirmation::PayableInput { invoice_id: self.id(k), signature_hex: None })
            .collect();
        lianrong_app::confirmation::confirm_payables(&self.app, &self.actor(debtor), &inputs).await.expect("confirmed");
    }

    /// `bank` grants `borrower` a line of `kind`, in force from a month ago for two years.
    pub async fn line(&mut self, key: &str, bank: &str, borrower: &str, kind: &str, limit_fen: i64) -> String {
        let new = lianrong_app::credit_line::NewLine {
            borrower_org_id: self.id(borrower),
            kind: kind.into(),
            limit_fen,
            valid_from: ymd(-30),
            valid_until: ymd(730),
        };
        let line = lianrong_app::credit_line::grant(&self.app, &self.actor(bank), &new).await.expect("line");
        self.name(key, &line.id);
        line.id
    }

    /// The core issues tier 1 a commitment on its `line`, maturing in `days`; names it `key` and the part
    /// it was issued as `key/0`.
    pub async fn issue(&mut self, key: &str, payables: &[&str], face_fen: i64, days: i64) -> String {
        let new = commitment::NewCommitment {
            holder_org_id: self.id("t1"),
            invoice_ids: self.ids(payables),
            face_fen,
            maturity_date: ymd(days),
            credit_line_id: self.id("line"),
        };
        let issued = commitment::issue(&self.app, &self.actor("core"), &new).await.expect("commitment issued");
        let id = issued.commitment.id;
        self.name(key, &id);
        self.name(&format!("{key}/0"), &format!("{id}/0"));
        id
    }

    /// `by` operates on commitment `c` as transfer `transfer_id`; a bank's post or void is answered as
    /// the decision's outcome (a post waiting for a second approver answers its pending discount).
    pub async fn operate(&self, by: &str, c: &str, transfer_id: &str, op: Op) -> AppResult<Outcome> {
        let (actor, id) = (self.actor(by), self.id(c));
        let operation = match op {
            Op::Split(part, amounts) => Operation::Split { part_id: self.part(part), amounts_fen: amounts.to_vec() },
            Op::Transfer(part, to, amount_fen, invoices) => Operation::Transfer {
                part_id: self.part(part),
                to_org_id: self.id(to),
                amount_fen,
                invoice_ids: self.ids(invoices),
            },
            Op::Discount(part, bank, amount_fen) => {
                Operation::Discount { part_id: self.part(part), bank_org_id: self.id(bank), amount_fen }
            }
            Op::Post(discount) | Op::Void(discount) => {
                let post = matches!(op, Op::Post(_));
                let decided = commitment::decide_discount(&self.app, &actor, &id, discount, post).await?;
                return Ok(match decided {
                    commitment::DiscountDecision::Done(outcome) => outcome,
                    commitment::DiscountDecision::AwaitingSecondApprover(transfer) => {
                        Outcome { transfer, repeated: false }
                    }
                });
            }
        };
        commitment::operate(&self.app, &actor, &id, transfer_id, &operation).await
    }

    /// `bank` publishes a product of `kind` for `evidence`: ¥100 to ¥5,000,000, 7 to 360 days, 3.5 % to
    /// 6 %, advancing 80 %.
    pub async fn product(&mut self, key: &str, bank: &str, kind: &str, evidence: &str) -> String {
        let new = lianrong_app::product::NewProduct {
            name: format!("规则测试产品{key}"),
            description: None,
            kind: kind.into(),
            eligible_chain_ids: Vec::new(),
            eligible_tiers: Vec::new(),
            evidence: evidence.into(),
            amount_min_fen: 10_000,
            amount_max_fen: 500_000_000,
            term_min_days: 7,
            term_max_days: 360,
            rate_min_bp: 350,
            rate_max_bp: 600,
            advance_ratio_bp: 8_000,
            fee_bp: 10,
            fee_fixed_fen: 0,
            parent_product_id: None,
        };
        let actor = self.actor(bank);
        let p = lianrong_app::product::create(&self.app, &actor, &new).await.expect("product");
        lianrong_app::product::publish(&self.app, &actor, &p.row.id).await.expect("published");
        self.name(key, &p.row.id);
        p.row.id
    }

    /// `creditor` registers these invoices, financed by `financier` when named; answers the reference.
    pub async fn register(&mut self, key: &str, creditor: &str, invoices: &[&str], financier: Option<&str>) -> String {
        let new = lianrong_app::registration::NewRegistration {
            invoice_ids: self.ids(invoices),
            financier_org_id: financier.map(|f| self.id(f)),
            ..Default::default()
        };
        let r = lianrong_app::registration::register(&self.app, &self.actor(creditor), new).await.expect("registered");
        self.name(key, &r.row.id);
        r.row.reference
    }

    /// `by` applies with `invoices` for `amount_fen` over 90 days at `bank`'s `product`; answers its id.
    pub async fn apply(
        &mut self,
        key: &str,
        by: &str,
        invoices: &[&str],
        amount_fen: i64,
        bank: &str,
        product: &str,
    ) -> String {
        let new = lianrong_app::application::NewApplication {
            subject: "receivables".into(),
            invoice_ids: self.ids(invoices),
            commitment_id: None,
            part_id: None,
            order_id: None,
            amount_fen,
            term_days: 90,
            purpose: "支付原材料货款".into(),
            offers: vec![lianrong_app::application::NewOffer {
                bank_org_id: self.id(bank),
                product_id: self.id(product),
            }],
            consent_until: ymd(90),
        };
        let a = lianrong_app::application::apply(&self.app, &self.actor(by), &new).await.expect("applied");
        assert_eq!(a.application.state.code(), "open", "application {key}: {:?}", a.offers);
        self.name(key, &a.application.id);
        self.name(&format!("{key}.offer"), &a.offers[0].id);
        a.application.id
    }
}

/// An organisation's administrator as the demo makes one: no session, a login for the trail.
fn admin(org_id: &str, kind: OrgKind, key: &str, roles: Vec<Role>) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        org_kind: kind,
        org_name: format!("规则测试{key}有限公司"),
        user_id: None,
        login: Some(format!("{key}.rules")),
        display_name: Some(format!("{key} admin")),
        api_key_id: None,
        roles,
        scopes: None,
        system: false,
    }
}
