//! Four-flow verification (四流合一): for every invoice between one buyer and one seller, link its orders
//! (contract flow), deliveries and their acceptance (goods flow), payments (funds flow) and reversals, by
//! explicit references first and then by amount and date rules, and judge the invoice: verified, partly
//! verified, inconsistent or unverified, with the evidence and every discrepancy named. Pure: the caller
//! loads one pair's documents and stores the verdicts.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;

use crate::labelled_enum;
use crate::trade::{AcceptanceStatus, InvoiceKind, InvoiceStatus, RecordType};

labelled_enum!(
    /// The verdict on one invoice.
    VerificationStatus, "verification_status" {
        Verified => ("verified", "已核验", "Verified"),
        Partly => ("partly_verified", "部分核验", "Partly verified"),
        Inconsistent => ("inconsistent", "不一致", "Inconsistent"),
        Unverified => ("unverified", "未核验", "Unverified"),
    }
);

labelled_enum!(
    /// What was found wrong or missing. Missing links make an invoice partly verified; contradictions
    /// make it inconsistent.
    Discrepancy, "discrepancy" {
        NoOrder => ("no_order", "未找到对应订单", "No order found"),
        NoDelivery => ("no_delivery", "未找到对应发货", "No delivery found"),
        DeliveryPending => ("delivery_pending", "发货尚未验收", "Delivery not yet accepted"),
        DeliveryRejected => ("delivery_rejected", "发货被拒收", "Delivery rejected"),
        AmountMismatch => ("amount_mismatch", "发票金额与验收金额不符", "Invoice amount differs from the accepted goods"),
        InvoiceBeforeDelivery => ("invoice_before_delivery", "开票早于发货", "Invoice dated before its delivery"),
        RedFlushed => ("red_flushed", "发票已被红冲", "Invoice reversed by a red invoice"),
        Voided => ("voided", "发票已作废", "Invoice voided"),
        DuplicateInvoice => ("duplicate_invoice", "同一批货物重复开票", "Another invoice already covers the same goods"),
        Overpaid => ("overpaid", "付款超过发票金额", "Paid more than invoiced"),
        PaymentOtherAccount => ("payment_other_account", "付款进入非约定回款账户", "Payment to an account other than the fixed one"),
        CounterpartyDisagrees => ("counterparty_disagrees", "交易对手方报送的同一单据与此不符", "The counterparty's statement of the same document differs"),
    }
);

impl Discrepancy {
    /// Whether this finding contradicts the trade (inconsistent) rather than leaves a gap (partly).
    pub fn contradicts(self) -> bool {
        !matches!(self, Discrepancy::NoOrder | Discrepancy::NoDelivery | Discrepancy::DeliveryPending)
    }
}

/// How a link was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkMethod {
    /// A reference written on one of the documents.
    Reference,
    /// Same parties, equal amount, plausible dates.
    Inferred,
}

/// One trade document as verification needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub id: String,
    pub record_type: RecordType,
    /// With `doc_no`, what names one document of the pair (empty for fully digital e-invoices and for
    /// documents other than invoices).
    pub invoice_code: String,
    pub doc_no: String,
    pub date: Date,
    pub total_fen: i64,
    pub order_refs: Vec<String>,
    pub delivery_refs: Vec<String>,
    pub invoice_refs: Vec<String>,
    pub invoice_kind: Option<InvoiceKind>,
    /// The invoice's standing at the tax authority when its submitter stated it (live when not).
    pub invoice_status: Option<InvoiceStatus>,
    pub acceptance: Option<AcceptanceStatus>,
    pub accepted_date: Option<Date>,
    pub term_days: Option<i64>,
    pub term_basis: Option<crate::trade::TermBasis>,
    pub payee_account_sm3: Option<String>,
}

/// A linked document with the way it was linked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    pub id: String,
    pub doc_no: String,
    pub method: LinkMethod,
    /// For payments and credit notes: the part of the document applied to this invoice.
    pub applied_fen: i64,
}

/// The verdict on one invoice with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub invoice_id: String,
    pub status: VerificationStatus,
    pub orders: Vec<Link>,
    pub deliveries: Vec<Link>,
    pub payments: Vec<Link>,
    pub credit_notes: Vec<Link>,
    /// Red invoices that reverse this one (amounts positive).
    pub reversals: Vec<Link>,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub credited_fen: i64,
    pub reversed_fen: i64,
    pub discrepancies: Vec<Discrepancy>,
    /// The invoice and the linked documents whose counterparty shared the same document and agrees with
    /// it (ids of the statements verification used), sorted.
    pub corroborated: Vec<String>,
    /// The earliest delivery of the goods invoiced, when one is linked.
    pub delivered: Option<Date>,
    /// When payment falls due under the invoice's term (or its order's), by `receivable::due_date`.
    pub due: Option<Date>,
}

/// How far apart inferred links may be: goods are invoiced within this many days of delivery, and paid
/// within this many days of the invoice.
pub const INFER_INVOICE_AFTER_DELIVERY_DAYS_MAX: i64 = 90;
pub const INFER_PAYMENT_AFTER_INVOICE_DAYS_MAX: i64 = 365;

fn days_between(a: Date, b: Date) -> i64 {
    b.since(a).map(|s| i64::from(s.get_days())).unwrap_or(i64::MAX)
}

/// The SM3 digests of the fixed repayment accounts (回款账户) bound to receivables, by invoice record id.
/// A payment to any other account than its invoice's fixed one is flagged; an invoice with no fixed
/// account accepts payment anywhere.
pub type FixedAccounts = HashMap<String, String>;

/// Verifies every blue invoice between one buyer and one seller, against the repayment accounts fixed
/// for its receivables.
pub fn verify_pair(docs: &[Doc], fixed_accounts: &FixedAccounts) -> Vec<Verdict> {
    let statements = Statements::of(docs);
    let mut verdicts = verify_documents(docs, &statements, fixed_accounts);
    for v in &mut verdicts {
        statements.compare(v);
    }
    verdicts
}

/// Each party owns its own statements: when buyer and seller both share one document (the same type,
/// invoice code and number), both records are kept. Verification reads one statement per document —
/// the first shared, so that a later statement never moves what others rely on — and compares the
/// others with it: agreement corroborates it, a difference in amount, date or kind is a named
/// discrepancy (`counterparty_disagrees`).
#[derive(Debug, Default)]
struct Statements<'a> {
    /// Statements that repeat a document already read (not verified themselves).
    repeated: HashSet<&'a str>,
    /// The statement read for each document whose other statements all agree with it.
    agreed: HashSet<&'a str>,
    /// The statement read for each document that another statement contradicts.
    disputed: HashSet<&'a str>,
}

impl<'a> Statements<'a> {
    fn of(docs: &'a [Doc]) -> Statements<'a> {
        let mut first: HashMap<(RecordType, &str, &str), &Doc> = HashMap::with_capacity(docs.len());
        let mut later: Vec<&Doc> = Vec::new();
        for d in docs {
            match first.entry((d.record_type, d.invoice_code.as_str(), d.doc_no.as_str())) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(d);
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    // Ids grow with time: the earlier statement is read, whatever order they came in.
                    if d.id < e.get().id {
                        later.push(e.insert(d));
                    } else {
                        later.push(d);
                    }
                }
            }
        }
        let mut s = Statements::default();
        for d in later {
            let Some(read) = first.get(&(d.record_type, d.invoice_code.as_str(), d.doc_no.as_str())) else {
                continue;
            };
            s.repeated.insert(d.id.as_str());
            let standing = |s: Option<InvoiceStatus>| s.unwrap_or(InvoiceStatus::Live);
            let agrees = read.total_fen == d.total_fen
                && read.date == d.date
                && read.invoice_kind == d.invoice_kind
                && standing(read.invoice_status) == standing(d.invoice_status);
            if agrees {
                s.agreed.insert(read.id.as_str());
            } else {
                s.disputed.insert(read.id.as_str());
            }
        }
        for id in &s.disputed {
            s.agreed.remove(id);
        }
        s
    }

    /// Adds to a verdict what the counterparties' statements say of its invoice and linked documents.
    fn compare(&self, v: &mut Verdict) {
        if self.agreed.is_empty() && self.disputed.is_empty() {
            return;
        }
        let linked = std::iter::once(v.invoice_id.as_str()).chain(
            [&v.orders, &v.deliveries, &v.payments, &v.credit_notes, &v.reversals]
                .into_iter()
                .flat_map(|links| links.iter().map(|l| l.id.as_str())),
        );
        let (mut agreed, mut disputed) = (Vec::new(), false);
        for id in linked {
            disputed |= self.disputed.contains(id);
            if self.agreed.contains(id) {
                agreed.push(id.to_string());
            }
        }
        agreed.sort();
        agreed.dedup();
        v.corroborated = agreed;
        if disputed && !v.discrepancies.contains(&Discrepancy::CounterpartyDisagrees) {
            v.discrepancies.push(Discrepancy::CounterpartyDisagrees);
            v.discrepancies.sort();
            v.status = VerificationStatus::Inconsistent;
        }
    }
}

fn verify_documents(docs: &[Doc], statements: &Statements<'_>, fixed_accounts: &FixedAccounts) -> Vec<Verdict> {
    let of = |t: RecordType| -> Vec<&Doc> {
        docs.iter().filter(|d| d.record_type == t && !statements.repeated.contains(d.id.as_str())).collect()
    };
    let (orders, deliveries, invoices, payments, credits) = (
        of(RecordType::Order),
        of(RecordType::Delivery),
        of(RecordType::Invoice),
        of(RecordType::Payment),
        of(RecordType::CreditNote),
    );
    let order_by_no: HashMap<&str, &Doc> = orders.iter().map(|d| (d.doc_no.as_str(), *d)).collect();
    let delivery_by_no: HashMap<&str, &Doc> = deliveries.iter().map(|d| (d.doc_no.as_str(), *d)).collect();
    let delivery_by_id: HashMap<&str, &Doc> = deliveries.iter().map(|d| (d.id.as_str(), *d)).collect();
    let mut deliveries_of_order: HashMap<&str, Vec<&Doc>> = HashMap::new();
    for d in &deliveries {
        for no in &d.order_refs {
            deliveries_of_order.entry(no.as_str()).or_default().push(d);
        }
    }
    // Deliveries by amount, in date order, for inferred links.
    let mut deliveries_by_amount: HashMap<i64, Vec<&Doc>> = HashMap::new();
    for d in &deliveries {
        deliveries_by_amount.entry(d.total_fen).or_default().push(d);
    }
    for list in deliveries_by_amount.values_mut() {
        list.sort_by(|a, b| (a.date, &a.doc_no).cmp(&(b.date, &b.doc_no)));
    }
    let goods = Goods {
        order_by_no: &order_by_no,
        delivery_by_no: &delivery_by_no,
        of_order: &deliveries_of_order,
        by_amount: &deliveries_by_amount,
    };
    let (mut blue, red): (Vec<&Doc>, Vec<&Doc>) =
        invoices.iter().partition(|d| d.invoice_kind != Some(InvoiceKind::Red));
    // Earlier invoices claim goods first, so a later duplicate is the one flagged.
    blue.sort_by(|a, b| (a.date, &a.doc_no).cmp(&(b.date, &b.doc_no)));
    let mut claimed_deliveries: HashMap<String, String> = HashMap::new();
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(blue.len());
    for inv in &blue {
        let mut v = Verdict {
            invoice_id: inv.id.clone(),
            status: VerificationStatus::Unverified,
            orders: Vec::new(),
            deliveries: Vec::new(),
            payments: Vec::new(),
            credit_notes: Vec::new(),
            reversals: Vec::new(),
            invoiced_fen: inv.total_fen,
            paid_fen: 0,
            credited_fen: 0,
            reversed_fen: 0,
            discrepancies: Vec::new(),
            corroborated: Vec::new(),
            delivered: None,
            due: None,
        };
        link_goods(inv, &goods, &claimed_deliveries, &mut v);
        for d in &v.deliveries {
            if let Some(first) = claimed_deliveries.get(&d.id) {
                if first != &inv.id && !v.discrepancies.contains(&Discrepancy::DuplicateInvoice) {
                    v.discrepancies.push(Discrepancy::DuplicateInvoice);
                }
            } else {
                claimed_deliveries.insert(d.id.clone(), inv.id.clone());
            }
        }
        verdicts.push(v);
    }
    apply_reversals(&red, &blue, &mut verdicts);
    apply_settlements(&payments, &credits, &blue, fixed_accounts, &mut verdicts);
    let order_by_id: HashMap<&str, &Doc> = orders.iter().map(|d| (d.id.as_str(), *d)).collect();
    for (inv, v) in blue.iter().zip(verdicts.iter_mut()) {
        judge(inv, &delivery_by_id, v);
        dates(inv, &delivery_by_id, &order_by_id, v);
    }
    verdicts
}

/// The pair's orders and deliveries, indexed for linking.
struct Goods<'a> {
    order_by_no: &'a HashMap<&'a str, &'a Doc>,
    delivery_by_no: &'a HashMap<&'a str, &'a Doc>,
    of_order: &'a HashMap<&'a str, Vec<&'a Doc>>,
    by_amount: &'a HashMap<i64, Vec<&'a Doc>>,
}

/// Orders and deliveries of one invoice: its own references, then the deliveries of its orders, then an
/// unclaimed delivery of the same amount shortly before it.
fn link_goods(inv: &Doc, g: &Goods<'_>, claimed: &HashMap<String, String>, v: &mut Verdict) {
    let link = |d: &Doc, method| Link { id: d.id.clone(), doc_no: d.doc_no.clone(), method, applied_fen: d.total_fen };
    let mut seen: HashSet<&str> = HashSet::new();
    for no in &inv.delivery_refs {
        if let Some(d) = g.delivery_by_no.get(no.as_str())
            && seen.insert(d.id.as_str())
        {
            v.deliveries.push(link(d, LinkMethod::Reference));
        }
    }
    for no in &inv.order_refs {
        if let Some(o) = g.order_by_no.get(no.as_str()) {
            v.orders.push(link(o, LinkMethod::Reference));
        }
        if inv.delivery_refs.is_empty() {
            for d in g.of_order.get(no.as_str()).into_iter().flatten() {
                if seen.insert(d.id.as_str()) {
                    v.deliveries.push(link(d, LinkMethod::Reference));
                }
            }
        }
    }
    if v.deliveries.is_empty() {
        let candidate = g.by_amount.get(&inv.total_fen).into_iter().flatten().find(|d| {
            !claimed.contains_key(&d.id)
                && (0..=INFER_INVOICE_AFTER_DELIVERY_DAYS_MAX).contains(&days_between(d.date, inv.date))
        });
        if let Some(d) = candidate {
            v.deliveries.push(link(d, LinkMethod::Inferred));
        }
    }
    if v.orders.is_empty() {
        let mut order_nos: Vec<&String> = v
            .deliveries
            .iter()
            .filter_map(|l| g.delivery_by_no.get(l.doc_no.as_str()))
            .flat_map(|d| d.order_refs.iter())
            .collect();
        order_nos.dedup();
        for no in order_nos {
            if let Some(o) = g.order_by_no.get(no.as_str()) {
                v.orders.push(link(o, LinkMethod::Reference));
            }
        }
    }
}

/// Red invoices reverse the blue invoices they name.
fn apply_reversals(red: &[&Doc], blue: &[&Doc], verdicts: &mut [Verdict]) {
    for r in red {
        for no in &r.invoice_refs {
            if let Some(i) = blue.iter().position(|b| &b.doc_no == no) {
                verdicts[i].reversed_fen += r.total_fen.abs();
                verdicts[i].reversals.push(Link {
                    id: r.id.clone(),
                    doc_no: r.doc_no.clone(),
                    method: LinkMethod::Reference,
                    applied_fen: r.total_fen.abs(),
                });
                break;
            }
        }
    }
}

/// Payments and credit notes settle the invoices they name, in date order up to each invoice's amount;
/// a payment naming none settles the earliest open invoice of exactly its amount.
fn apply_settlements(
    payments: &[&Doc],
    credits: &[&Doc],
    blue: &[&Doc],
    fixed_accounts: &FixedAccounts,
    verdicts: &mut [Verdict],
) {
    let index: HashMap<&str, usize> = blue.iter().enumerate().map(|(i, b)| (b.doc_no.as_str(), i)).collect();
    // Invoices by amount, in date order (as `blue` is), for payments that name none.
    let mut by_amount: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, b) in blue.iter().enumerate() {
        by_amount.entry(b.total_fen).or_default().push(i);
    }
    let mut sorted: Vec<&&Doc> = payments.iter().chain(credits.iter()).collect();
    sorted.sort_by(|a, b| (a.date, &a.doc_no).cmp(&(b.date, &b.doc_no)));
    for p in sorted {
        let is_credit = p.record_type == RecordType::CreditNote;
        let mut targets: Vec<usize> = p.invoice_refs.iter().filter_map(|no| index.get(no.as_str()).copied()).collect();
        let mut method = LinkMethod::Reference;
        if targets.is_empty() && !is_credit {
            let open = |i: usize| verdicts[i].paid_fen == 0 && verdicts[i].reversed_fen == 0;
            if let Some(i) = by_amount.get(&p.total_fen).into_iter().flatten().copied().find(|&i| {
                open(i) && (0..=INFER_PAYMENT_AFTER_INVOICE_DAYS_MAX).contains(&days_between(blue[i].date, p.date))
            }) {
                targets.push(i);
                method = LinkMethod::Inferred;
            }
        }
        let mut left = p.total_fen;
        let last = targets.len().saturating_sub(1);
        for (k, i) in targets.iter().copied().enumerate() {
            let v = &mut verdicts[i];
            let open = (v.invoiced_fen - v.reversed_fen - v.paid_fen - v.credited_fen).max(0);
            // The last named invoice takes whatever is left, so an overpayment shows where it landed.
            let applied = if k == last { left } else { left.min(open) };
            left -= applied;
            let link = Link { id: p.id.clone(), doc_no: p.doc_no.clone(), method, applied_fen: applied };
            if is_credit {
                v.credited_fen += applied;
                v.credit_notes.push(link);
            } else {
                v.paid_fen += applied;
                v.payments.push(link);
                if let (Some(fixed), Some(paid_to)) = (fixed_accounts.get(&blue[i].id), p.payee_account_sm3.as_deref())
                    && fixed != paid_to
                    && !v.discrepancies.contains(&Discrepancy::PaymentOtherAccount)
                {
                    v.discrepancies.push(Discrepancy::PaymentOtherAccount);
                }
            }
        }
    }
}

/// The delivery and due dates: the term is the invoice's own, else its order's; it counts from the
/// earliest linked delivery, the latest acceptance, or the invoice, as the term's basis says.
fn dates(inv: &Doc, delivery_by_id: &HashMap<&str, &Doc>, order_by_id: &HashMap<&str, &Doc>, v: &mut Verdict) {
    let linked: Vec<&Doc> = v.deliveries.iter().filter_map(|l| delivery_by_id.get(l.id.as_str()).copied()).collect();
    v.delivered = linked.iter().map(|d| d.date).min();
    let accepted = linked.iter().filter_map(|d| d.accepted_date).max();
    let order = v.orders.iter().find_map(|l| order_by_id.get(l.id.as_str()).copied());
    let (term, basis) = match (inv.term_days, order) {
        (Some(t), _) => (Some(t), inv.term_basis),
        (None, Some(o)) => (o.term_days, o.term_basis),
        (None, None) => (None, None),
    };
    v.due = crate::receivable::due_date(basis, term, v.delivered, accepted, Some(inv.date));
}

/// The verdict from the links found.
fn judge(inv: &Doc, delivery_by_id: &HashMap<&str, &Doc>, v: &mut Verdict) {
    let add = |d: Discrepancy, v: &mut Verdict| {
        if !v.discrepancies.contains(&d) {
            v.discrepancies.push(d);
        }
    };
    if v.orders.is_empty() {
        add(Discrepancy::NoOrder, v);
    }
    let linked: Vec<&Doc> = v.deliveries.iter().filter_map(|l| delivery_by_id.get(l.id.as_str()).copied()).collect();
    if linked.is_empty() {
        add(Discrepancy::NoDelivery, v);
    } else {
        if linked.iter().any(|d| d.acceptance == Some(AcceptanceStatus::Rejected)) {
            add(Discrepancy::DeliveryRejected, v);
        } else if linked.iter().any(|d| matches!(d.acceptance, Some(AcceptanceStatus::Pending) | None)) {
            add(Discrepancy::DeliveryPending, v);
        }
        let delivered: i64 = linked.iter().map(|d| d.total_fen).sum();
        if delivered != inv.total_fen {
            add(Discrepancy::AmountMismatch, v);
        }
        if linked.iter().any(|d| inv.date < d.date) {
            add(Discrepancy::InvoiceBeforeDelivery, v);
        }
    }
    // The tax authority's word counts even before the red invoice reaches the lake.
    if (v.reversed_fen >= v.invoiced_fen && v.invoiced_fen > 0) || inv.invoice_status == Some(InvoiceStatus::RedFlushed)
    {
        add(Discrepancy::RedFlushed, v);
    }
    if inv.invoice_status == Some(InvoiceStatus::Voided) {
        add(Discrepancy::Voided, v);
    }
    if v.paid_fen + v.credited_fen + v.reversed_fen > v.invoiced_fen {
        add(Discrepancy::Overpaid, v);
    }
    v.discrepancies.sort();
    let nothing_linked = v.orders.is_empty() && v.deliveries.is_empty() && v.payments.is_empty();
    v.status = if v.discrepancies.iter().any(|d| d.contradicts()) {
        VerificationStatus::Inconsistent
    } else if nothing_linked {
        VerificationStatus::Unverified
    } else if v.discrepancies.is_empty() {
        VerificationStatus::Verified
    } else {
        VerificationStatus::Partly
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn doc(id: &str, t: RecordType, no: &str, d: Date, fen: i64) -> Doc {
        Doc {
            id: id.into(),
            record_type: t,
            invoice_code: String::new(),
            doc_no: no.into(),
            date: d,
            total_fen: fen,
            order_refs: vec![],
            delivery_refs: vec![],
            invoice_refs: vec![],
            invoice_kind: None,
            invoice_status: None,
            acceptance: None,
            accepted_date: None,
            term_days: None,
            term_basis: None,
            payee_account_sm3: None,
        }
    }

    fn fixed(invoice_id: &str, account_sm3: &str) -> FixedAccounts {
        FixedAccounts::from([(invoice_id.to_string(), account_sm3.to_string())])
    }

    fn trade() -> Vec<Doc> {
        let order = doc("o1", RecordType::Order, "PO1", date(2026, 3, 1), 10_000);
        let mut delivery = doc("d1", RecordType::Delivery, "DN1", date(2026, 3, 5), 10_000);
        delivery.order_refs = vec!["PO1".into()];
        delivery.acceptance = Some(AcceptanceStatus::Accepted);
        let mut invoice = doc("i1", RecordType::Invoice, "INV1", date(2026, 3, 10), 10_000);
        invoice.order_refs = vec!["PO1".into()];
        invoice.invoice_kind = Some(InvoiceKind::Blue);
        vec![order, delivery, invoice]
    }

    fn only(v: Vec<Verdict>) -> Verdict {
        assert_eq!(v.len(), 1);
        v.into_iter().next().unwrap()
    }

    #[test]
    fn a_counterpartys_agreeing_statement_corroborates_and_a_differing_one_is_a_discrepancy() {
        // The buyer shares the same invoice and order as the seller, with the same content.
        let mut docs = trade();
        let mut buyers_invoice = docs[2].clone();
        buyers_invoice.id = "i9".into();
        let mut buyers_order = docs[0].clone();
        buyers_order.id = "o9".into();
        docs.extend([buyers_invoice.clone(), buyers_order]);
        let v = verify_pair(&docs, &FixedAccounts::new());
        assert_eq!(v.len(), 1, "one document, one verdict: {v:?}");
        assert_eq!((v[0].invoice_id.as_str(), v[0].status), ("i1", VerificationStatus::Verified));
        assert_eq!(v[0].corroborated, vec!["i1".to_string(), "o1".to_string()]);
        // The counterparty's statement of the invoice says ¥1 less: the verdict is inconsistent.
        let mut docs = trade();
        buyers_invoice.total_fen -= 100;
        docs.push(buyers_invoice);
        let v = verify_pair(&docs, &FixedAccounts::new());
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].invoice_id.as_str(), v[0].status), ("i1", VerificationStatus::Inconsistent));
        assert!(v[0].discrepancies.contains(&Discrepancy::CounterpartyDisagrees), "{v:?}");
        assert!(v[0].corroborated.is_empty());
    }

    #[test]
    fn the_first_statement_of_a_document_is_read_whatever_order_they_come_in() {
        let mut docs = trade();
        let mut earlier = docs[2].clone();
        earlier.id = "i0".into();
        docs.push(earlier);
        docs.reverse();
        let v = verify_pair(&docs, &FixedAccounts::new());
        assert_eq!((v.len(), v[0].invoice_id.as_str()), (1, "i0"));
        assert_eq!(v[0].corroborated, vec!["i0".to_string()]);
    }

    #[test]
    fn a_consistent_trade_is_verified_with_its_evidence() {
        let mut docs = trade();
        let mut pay = doc("p1", RecordType::Payment, "PAY1", date(2026, 4, 1), 4_000);
        pay.invoice_refs = vec!["INV1".into()];
        docs.push(pay);
        let v = only(verify_pair(&docs, &FixedAccounts::new()));
        assert_eq!(v.status, VerificationStatus::Verified, "{v:?}");
        assert_eq!((v.orders[0].id.as_str(), v.deliveries[0].id.as_str()), ("o1", "d1"));
        assert_eq!((v.paid_fen, v.payments[0].method), (4_000, LinkMethod::Reference));
    }

    #[test]
    fn each_discrepancy_is_named() {
        // An invoice before its delivery, for more than was accepted.
        let mut docs = trade();
        docs[2].date = date(2026, 3, 2);
        docs[2].total_fen = 11_000;
        let v = only(verify_pair(&docs, &FixedAccounts::new()));
        assert_eq!(v.status, VerificationStatus::Inconsistent);
        assert_eq!(v.discrepancies, vec![Discrepancy::AmountMismatch, Discrepancy::InvoiceBeforeDelivery]);

        // A delivery never accepted leaves the invoice partly verified; a rejected one makes it inconsistent.
        let mut docs = trade();
        docs[1].acceptance = Some(AcceptanceStatus::Pending);
        assert_eq!(only(verify_pair(&docs, &FixedAccounts::new())).status, VerificationStatus::Partly);
        docs[1].acceptance = Some(AcceptanceStatus::Rejected);
        assert_eq!(only(verify_pair(&docs, &FixedAccounts::new())).discrepancies, vec![Discrepancy::DeliveryRejected]);

        // Paid to another account than the fixed one.
        let mut docs = trade();
        let mut pay = doc("p1", RecordType::Payment, "PAY1", date(2026, 4, 1), 10_000);
        pay.invoice_refs = vec!["INV1".into()];
        pay.payee_account_sm3 = Some("other".into());
        docs.push(pay);
        assert_eq!(
            only(verify_pair(&docs, &fixed("i1", "fixed"))).discrepancies,
            vec![Discrepancy::PaymentOtherAccount]
        );
        assert_eq!(only(verify_pair(&docs, &fixed("i1", "other"))).status, VerificationStatus::Verified);
        assert_eq!(
            only(verify_pair(&docs, &fixed("another-invoice", "fixed"))).status,
            VerificationStatus::Verified,
            "another receivable's fixed account does not bind this one"
        );
    }

    #[test]
    fn red_flushed_and_duplicated_invoices_are_caught() {
        let mut docs = trade();
        let mut red = doc("r1", RecordType::Invoice, "RED1", date(2026, 3, 20), -10_000);
        red.invoice_kind = Some(InvoiceKind::Red);
        red.invoice_refs = vec!["INV1".into()];
        docs.push(red);
        let verdicts = verify_pair(&docs, &FixedAccounts::new());
        assert_eq!(verdicts.len(), 1, "red invoices are evidence, not invoices to verify");
        assert_eq!(verdicts[0].discrepancies, vec![Discrepancy::RedFlushed]);
        assert_eq!(verdicts[0].reversed_fen, 10_000);

        let mut docs = trade();
        let mut dup = docs[2].clone();
        dup.id = "i2".into();
        dup.doc_no = "INV2".into();
        dup.date = date(2026, 3, 11);
        docs.push(dup);
        let verdicts = verify_pair(&docs, &FixedAccounts::new());
        assert_eq!(verdicts[0].status, VerificationStatus::Verified);
        assert_eq!(verdicts[1].discrepancies, vec![Discrepancy::DuplicateInvoice]);
    }

    #[test]
    fn links_are_inferred_by_amount_and_date_when_no_reference_is_written() {
        let mut docs = trade();
        docs[2].order_refs.clear();
        let mut pay = doc("p1", RecordType::Payment, "PAY1", date(2026, 5, 1), 10_000);
        pay.payee_account_sm3 = None;
        docs.push(pay);
        let v = only(verify_pair(&docs, &FixedAccounts::new()));
        assert_eq!(v.deliveries[0].method, LinkMethod::Inferred);
        assert_eq!(v.orders[0].id, "o1", "the order comes through the delivery's reference");
        assert_eq!((v.paid_fen, v.payments[0].method), (10_000, LinkMethod::Inferred));
        assert_eq!(v.status, VerificationStatus::Verified);

        // A lone invoice is unverified.
        let lone = vec![docs[2].clone()];
        let v = only(verify_pair(&lone, &FixedAccounts::new()));
        assert_eq!(v.status, VerificationStatus::Unverified);
        assert_eq!(v.discrepancies, vec![Discrepancy::NoOrder, Discrepancy::NoDelivery]);
    }

    #[test]
    fn the_due_date_follows_the_orders_term_from_delivery() {
        let mut docs = trade();
        docs[0].term_days = Some(60);
        let v = only(verify_pair(&docs, &FixedAccounts::new()));
        assert_eq!((v.delivered, v.due), (Some(date(2026, 3, 5)), Some(date(2026, 5, 4))));
        docs[2].term_days = Some(30);
        docs[2].term_basis = Some(crate::trade::TermBasis::Invoice);
        assert_eq!(
            only(verify_pair(&docs, &FixedAccounts::new())).due,
            Some(date(2026, 4, 9)),
            "the invoice's own term wins"
        );
    }

    #[test]
    fn overpayment_lands_on_the_last_named_invoice() {
        let mut docs = trade();
        let mut pay = doc("p1", RecordType::Payment, "PAY1", date(2026, 4, 1), 15_000);
        pay.invoice_refs = vec!["INV1".into()];
        docs.push(pay);
        let v = only(verify_pair(&docs, &FixedAccounts::new()));
        assert_eq!(v.discrepancies, vec![Discrepancy::Overpaid]);
        assert_eq!(v.paid_fen, 15_000);
    }
}
