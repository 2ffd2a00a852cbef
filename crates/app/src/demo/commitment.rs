//! The demo world's payment commitments: in the first chain, one of the chain's banks grants the core
//! of the demo tier-1 supplier (`sup1.t1`) a supply-chain line; the core confirms two of its payables
//! to that supplier and issues a commitment against them; tier 1 splits it and passes a part to a tier-2
//! supplier it buys from (the demo login `sup1.t2` when they trade), which passes some on to tier 3;
//! the tier-3 holder applies to the bank to discount its part (granting consent for the application),
//! and the application waits in the bank's queue for its officer. Every bank of the demo publishes a
//! catalogue of products. Everything goes through the same use cases as the console, with the same
//! checks.

use jiff::civil::Date;
use lianrong_domain::chain::MemberRole;
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::PageRequest;
use lianrong_domain::role::Role;
use lianrong_store::chain::{self as chain_store, ChainScope};
use lianrong_store::four_flow::Side;

use crate::commitment::{self, NewCommitment, Operation};
use crate::confirmation::{self, PayableInput};
use crate::error::AppResult;
use crate::policy::Actor;
use crate::{App, receivable};

/// The line the demo bank grants the core, in fen (¥50,000,000).
const DEMO_LINE_FEN: i64 = 5_000_000_000;
/// Verified invoices one demo transfer names as the trade it pays.
const BASIS_INVOICES: usize = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitmentSummary {
    pub products: usize,
    pub issued: usize,
    pub face_fen: i64,
    pub transfers: usize,
    pub discounts_pending: usize,
}

fn actor(org_id: &str, kind: OrgKind, roles: Vec<Role>) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        org_kind: kind,
        org_name: String::new(),
        user_id: None,
        login: Some("demo.finance".into()),
        display_name: Some("演示财务".into()),
        api_key_id: None,
        roles,
        scopes: None,
        system: false,
    }
}

async fn org_of_login(app: &App, login: &str) -> AppResult<Option<String>> {
    let mut conn = app.db.acquire().await?;
    Ok(lianrong_store::user::find_by_login(&mut conn, login).await?.map(|u| u.org_id))
}

fn date_of(text: &Option<String>) -> Option<Date> {
    text.as_deref().and_then(|d| Date::strptime("%Y-%m-%d", d).ok())
}

/// The verified invoices `holder`'s suppliers issued to it, grouped by seller: (seller org id, invoice
/// ids, invoiced fen). The seller named `prefer` comes first when it is one of them.
async fn sellers_to(app: &App, holder: &Actor, prefer: Option<&str>) -> AppResult<Vec<(String, Vec<String>, i64)>> {
    let owed = receivable::list(app, holder, Side::Debtor, PageRequest::all_small()).await?.page;
    let mut by_seller: Vec<(String, Vec<String>, i64)> = Vec::new();
    let mut conn = app.db.acquire().await?;
    for r in owed.items.iter().filter(|r| r.verdict.status == VerificationStatus::Verified.code()) {
        let Some(seller) = lianrong_store::org::find_by_uscc(&mut conn, &r.verdict.seller_uscc).await? else {
            continue;
        };
        match by_seller.iter_mut().find(|(s, _, _)| *s == seller.id) {
            Some((_, ids, fen)) if ids.len() < BASIS_INVOICES => {
                ids.push(r.verdict.invoice_id.clone());
                *fen += r.verdict.invoiced_fen;
            }
            Some(_) => {}
            None => by_seller.push((seller.id, vec![r.verdict.invoice_id.clone()], r.verdict.invoiced_fen)),
        }
    }
    by_seller.sort_by_key(|(s, _, fen)| (Some(s.as_str()) != prefer, -fen));
    Ok(by_seller)
}

/// Tier 1's three most recent sales to its core (order, accepted delivery, invoice, on 90 days), shared
/// as its ERP would: the core confirms them, issues its commitment against the first two and leaves the
/// third for a visitor to issue against. (The demo's year of trade is mostly paid by now, and what is
/// left the demo login keeps to ask about.)
async fn recent_sales(app: &App, t1: &Actor) -> AppResult<()> {
    let owed = receivable::list(app, t1, Side::Creditor, PageRequest::all_small()).await?.page;
    let Some(any) = owed.items.first() else { return Ok(()) };
    let (buyer, seller) = (any.verdict.buyer_uscc.clone(), any.verdict.seller_uscc.clone());
    // Dated a month before the business date, on 90 days: owed, verified and falling due about two
    // months ahead, whichever day the demo is built.
    let today = app.today();
    let day = |back: i64| crate::clock::plus_days(today, -back);
    let (ordered, delivered, accepted, issued) = (day(35), day(31), day(30), day(27));
    let mut records = Vec::new();
    for (n, yuan) in [(1, "600000.00"), (2, "400000.00"), (3, "300000.00")] {
        let (po, dn) = (format!("PO-DEMO-C{n}"), format!("DN-DEMO-C{n}"));
        // A fully digital e-invoice number begins with its year of issue.
        let inv = format!("{:02}50{:016}", issued.year() % 100, 9_990_000_000u64 + n);
        let rows = [
            serde_json::json!({"record_type": "order", "order_no": po, "order_date": ordered.to_string(), "buyer_uscc": buyer,
                "seller_uscc": seller, "total_amount": yuan, "term_days": "90"}),
            serde_json::json!({"record_type": "delivery", "delivery_no": dn, "delivery_date": delivered.to_string(), "order_refs": po,
                "buyer_uscc": buyer, "seller_uscc": seller, "total_amount": yuan, "acceptance_status": "accepted",
                "accepted_date": accepted.to_string()}),
            serde_json::json!({"record_type": "invoice", "invoice_no": inv, "issue_date": issued.to_string(), "buyer_uscc": buyer,
                "seller_uscc": seller, "total_amount": yuan, "order_refs": po, "delivery_refs": dn}),
        ];
        records.extend(rows.into_iter().filter_map(|r| r.as_object().cloned()));
    }
    let month = ordered.strftime("%Y-%m").to_string();
    let body = serde_json::to_vec(&serde_json::json!({"source": format!("ERP {month}"), "records": records}))
        .unwrap_or_default();
    let name = format!("ERP 同步 {month}（演示：最近三笔销售）");
    crate::submission::submit_records(app, t1, body, &name, records).await?;
    Ok(())
}

pub async fn load(app: &App) -> AppResult<CommitmentSummary> {
    let mut summary = CommitmentSummary::default();
    let mut conn = app.db.acquire().await?;
    let mut chains = chain_store::list(&mut conn, &ChainScope::All, PageRequest::all_small()).await?.items;
    chains.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
    let Some(first) = chains.first() else { return Ok(summary) };
    let members = chain_store::list_members(&mut conn, &first.id, None, PageRequest::all_small()).await?.items;
    drop(conn);
    let (Some(t1_id), Some(bank)) =
        (org_of_login(app, "sup1.t1").await?, members.iter().find(|m| m.role == MemberRole::Bank))
    else {
        return Ok(summary);
    };
    let banks: Vec<&lianrong_store::chain::MemberRecord> =
        members.iter().filter(|m| m.role == MemberRole::Bank).collect();
    let products = publish_products(app, &banks).await?;
    summary.products = products.len();
    let t1 = actor(&t1_id, OrgKind::Supplier, vec![Role::OrgAdmin]);
    let today = app.today();
    recent_sales(app, &t1).await?;
    // The core's payables to tier 1 that fall due at least a fortnight from now and were never asked
    // about: the demo login keeps its other receivables to ask about itself.
    let owed = receivable::list(app, &t1, Side::Creditor, PageRequest::all_small()).await?.page;
    let mut open: Vec<&receivable::Receivable> = owed
        .items
        .iter()
        .filter(|r| {
            r.confirmation.is_none()
                && r.registration_reference.is_none()
                && r.verdict.outstanding_fen > 0
                && r.verdict.status == VerificationStatus::Verified.code()
                && date_of(&r.verdict.due_date).is_some_and(|d| d > today.saturating_add(jiff::Span::new().days(14)))
        })
        .collect();
    open.sort_by(|a, b| {
        b.verdict.due_date.cmp(&a.verdict.due_date).then(a.verdict.invoice_id.cmp(&b.verdict.invoice_id))
    });
    let Some(core_uscc) = open.first().map(|r| r.verdict.buyer_uscc.clone()) else { return Ok(summary) };
    let mut conn = app.db.acquire().await?;
    let Some(core) = lianrong_store::org::find_by_uscc(&mut conn, &core_uscc).await? else { return Ok(summary) };
    drop(conn);
    let backing: Vec<&receivable::Receivable> =
        open.iter().filter(|r| r.verdict.buyer_uscc == core_uscc).take(2).copied().collect();
    if backing.is_empty() {
        return Ok(summary);
    }
    let core_actor = actor(&core.id, OrgKind::Core, vec![Role::FinanceStaff]);
    let bank_actor = actor(&bank.org_id, OrgKind::Bank, vec![Role::BankOfficer]);
    let line = crate::credit_line::grant(
        app,
        &bank_actor,
        &crate::credit_line::NewLine {
            borrower_org_id: core.id.clone(),
            kind: "core_supply_chain".into(),
            limit_fen: DEMO_LINE_FEN,
            valid_from: today.to_string(),
            valid_until: today.saturating_add(jiff::Span::new().years(2)).to_string(),
        },
    )
    .await?;
    let inputs: Vec<PayableInput> = open
        .iter()
        .filter(|r| r.verdict.buyer_uscc == core_uscc)
        .take(3)
        .map(|r| PayableInput { invoice_id: r.verdict.invoice_id.clone(), signature_hex: None })
        .collect();
    confirmation::confirm_payables(app, &core_actor, &inputs).await?;
    let face_fen: i64 = backing.iter().map(|r| r.verdict.outstanding_fen).sum();
    // No later than the payables fall due (the core is large, the supplier an SME), and within the
    // six months of principle.
    let latest_due = backing.iter().filter_map(|r| date_of(&r.verdict.due_date)).max().unwrap_or(today);
    let maturity = latest_due.min(today.saturating_add(jiff::Span::new().days(180)));
    let issued = commitment::issue(
        app,
        &core_actor,
        &NewCommitment {
            holder_org_id: t1_id.clone(),
            invoice_ids: backing.iter().map(|r| r.verdict.invoice_id.clone()).collect(),
            face_fen,
            maturity_date: maturity.to_string(),
            credit_line_id: line.id.clone(),
        },
    )
    .await?;
    summary.issued += 1;
    summary.face_fen += face_fen;
    let id = issued.commitment.id.clone();
    // Tier 1 keeps 60 % and splits off 40 % to pass down.
    let down = face_fen * 2 / 5;
    let split = Operation::Split { part_id: format!("{id}/0"), amounts_fen: vec![down, face_fen - down] };
    commitment::operate(app, &t1, &id, "demo-split-1", &split).await?;
    summary.transfers += 1;
    let mut holder = t1;
    let mut part = "demo-split-1/0".to_string();
    let mut part_fen = down;
    for (n, login) in ["sup1.t2", "sup1.t3"].iter().enumerate() {
        let prefer = org_of_login(app, login).await?;
        let Some((to, invoices, invoiced)) = sellers_to(app, &holder, prefer.as_deref()).await?.into_iter().next()
        else {
            break;
        };
        let amount_fen = (part_fen / 2).min(invoiced);
        if amount_fen <= 0 {
            break;
        }
        let tid = format!("demo-transfer-{}", n + 1);
        let op =
            Operation::Transfer { part_id: part.clone(), to_org_id: to.clone(), amount_fen, invoice_ids: invoices };
        commitment::operate(app, &holder, &id, &tid, &op).await?;
        summary.transfers += 1;
        holder = actor(&to, OrgKind::Supplier, vec![Role::OrgAdmin]);
        part = format!("{tid}/0");
        part_fen = amount_fen;
    }
    // The last holder down the chain applies to the bank to discount 80 % of what it received (the
    // product's advance ratio); the officer decides.
    let discount_product = products.iter().find(|(b, k, _)| *b == bank.org_id && *k == "commitment_discount");
    if holder.org_id != t1_id
        && let Some((_, _, product_id)) = discount_product
    {
        let days = lianrong_domain::loan::days_between(today, maturity);
        let new = crate::application::NewApplication {
            subject: "commitment_part".into(),
            invoice_ids: Vec::new(),
            commitment_id: Some(id.clone()),
            part_id: Some(part),
            order_id: None,
            amount_fen: part_fen * 4 / 5,
            term_days: days.max(1),
            purpose: "债权凭证贴现，补充流动资金".into(),
            offers: vec![crate::application::NewOffer {
                bank_org_id: bank.org_id.clone(),
                product_id: product_id.clone(),
            }],
            consent_until: today.saturating_add(jiff::Span::new().days(90)).to_string(),
        };
        crate::application::apply(app, &holder, &new).await?;
        summary.discounts_pending += 1;
    }
    Ok(summary)
}

/// Each bank of the first chain publishes three products: receivable financing, commitment discount and
/// data-only credit. Answers (bank org id, kind, product id).
async fn publish_products(
    app: &App,
    banks: &[&lianrong_store::chain::MemberRecord],
) -> AppResult<Vec<(String, &'static str, String)>> {
    let mut out = Vec::new();
    for (n, bank) in banks.iter().enumerate() {
        let officer = actor(&bank.org_id, OrgKind::Bank, vec![Role::BankOfficer]);
        let spread = n as i64 * 15;
        for (kind, evidence, name, rate_min, advance) in [
            ("receivable_financing", "either", "链融通·应收账款融资", 350, 8_000),
            ("commitment_discount", "confirmed", "融信贴·债权凭证贴现", 300, 9_500),
            ("data_only_credit", "data_verified", "数信贷·四无数据信用贷", 420, 7_000),
        ] {
            let new = crate::product::NewProduct {
                name: format!("{name}（{}）", bank.org_name),
                description: Some("面向产业链上下游中小供应商，线上申请、自动预审".into()),
                kind: kind.into(),
                eligible_chain_ids: Vec::new(),
                eligible_tiers: Vec::new(),
                evidence: evidence.into(),
                amount_min_fen: 10_000,
                amount_max_fen: 1_000_000_000,
                term_min_days: 7,
                term_max_days: 365,
                rate_min_bp: rate_min + spread,
                rate_max_bp: rate_min + spread + 250,
                advance_ratio_bp: advance,
                fee_bp: 10,
                fee_fixed_fen: 0,
                parent_product_id: None,
            };
            let p = crate::product::create(app, &officer, &new).await?;
            crate::product::publish(app, &officer, &p.row.id).await?;
            out.push((bank.org_id.clone(), kind, p.row.id));
        }
    }
    Ok(out)
}
