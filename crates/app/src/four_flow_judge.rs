//! How four-flow verification turns a pair's stored records into stored verdicts: records decoded into
//! the domain's documents, judged by `domain::four_flow`, and each verdict laid out as its stored row
//! (with the evidence as JSON). Shared by the pair-by-pair path and the one-pass path, so both give the
//! same verdicts.

use lianrong_domain::four_flow::{self as domain, Doc, Link, Verdict};
use lianrong_domain::trade::{AcceptanceStatus, InvoiceKind, RecordType};
use lianrong_store::four_flow::{PairRecord, VerificationRow};

fn refs(s: &str) -> Vec<String> {
    s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

/// Parses a stored `YYYY-MM-DD` date. The stored form is canonical, so the common case is read digit by
/// digit (a million invoices carry several million dates); anything else goes through the general
/// parser, which decides.
fn date_of(s: &str) -> Option<jiff::civil::Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10))
    {
        return jiff::civil::Date::new(y as i16, m as i8, d as i8).ok();
    }
    jiff::civil::Date::strptime("%Y-%m-%d", s).ok()
}

/// A stored record as verification sees it; a record whose stored codes do not parse is skipped (and
/// logged), never a reason to fail the whole pair.
fn doc_of(r: PairRecord) -> Option<Doc> {
    Some(Doc {
        record_type: RecordType::parse(&r.record_type).ok()?,
        date: date_of(&r.doc_date)?,
        total_fen: r.total_fen,
        order_refs: refs(&r.order_refs),
        delivery_refs: refs(&r.delivery_refs),
        invoice_refs: refs(&r.invoice_refs),
        invoice_kind: r.invoice_kind.as_deref().and_then(|k| InvoiceKind::parse(k).ok()),
        invoice_status: r.invoice_status.as_deref().and_then(|k| lianrong_domain::trade::InvoiceStatus::parse(k).ok()),
        acceptance: r.acceptance_status.as_deref().and_then(|k| AcceptanceStatus::parse(k).ok()),
        accepted_date: r.accepted_date.as_deref().and_then(date_of),
        term_days: r.term_days,
        term_basis: r.term_basis.as_deref().and_then(|b| lianrong_domain::trade::TermBasis::parse(b).ok()),
        payee_account_sm3: r.payee_account_sm3,
        invoice_code: r.invoice_code,
        id: r.id,
        doc_no: r.doc_no,
    })
}

/// The evidence stored with a verdict. Its keys, and those of each link, are in alphabetical order, the
/// order the API has always shown (it was built as a `serde_json` object, whose keys are sorted);
/// serialising these structs directly skips building that object for every invoice.
#[derive(serde::Serialize)]
struct Evidence<'a> {
    /// The documents a counterparty's own statement agrees with; absent when none (as it always was).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    corroborated: &'a [String],
    credit_notes: Links<'a>,
    deliveries: Links<'a>,
    orders: Links<'a>,
    payments: Links<'a>,
    reversals: Links<'a>,
}

struct Links<'a>(&'a [Link]);

#[derive(serde::Serialize)]
struct SortedLink<'a> {
    applied_fen: i64,
    doc_no: &'a str,
    id: &'a str,
    method: domain::LinkMethod,
}

impl serde::Serialize for Links<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|l| SortedLink {
            applied_fen: l.applied_fen,
            doc_no: &l.doc_no,
            id: &l.id,
            method: l.method,
        }))
    }
}

pub(crate) fn row_of(v: &Verdict, buyer: &str, seller: &str, now: i64) -> VerificationRow {
    let evidence = Evidence {
        corroborated: &v.corroborated,
        credit_notes: Links(&v.credit_notes),
        deliveries: Links(&v.deliveries),
        orders: Links(&v.orders),
        payments: Links(&v.payments),
        reversals: Links(&v.reversals),
    };
    VerificationRow {
        invoice_id: v.invoice_id.clone(),
        buyer_uscc: buyer.to_string(),
        seller_uscc: seller.to_string(),
        status: v.status.code().to_string(),
        invoiced_fen: v.invoiced_fen,
        paid_fen: v.paid_fen,
        credited_fen: v.credited_fen,
        reversed_fen: v.reversed_fen,
        discrepancies: v.discrepancies.iter().map(|d| d.code()).collect::<Vec<_>>().join(","),
        // Links hold only strings and integers, which always serialise.
        evidence: serde_json::to_string(&evidence).unwrap_or_default(),
        verified_at_ms: now,
        delivered_date: v.delivered.map(|d| d.to_string()),
        due_date: v.due.map(|d| d.to_string()),
        outstanding_fen: lianrong_domain::receivable::outstanding_fen(
            v.invoiced_fen,
            v.paid_fen,
            v.credited_fen,
            v.reversed_fen,
        ),
    }
}

/// Judges one pair's records: the verdicts as stored rows. Both the pair path and the one-pass path
/// come here, with the records in the same order (by type, number, then id — the order the pair index
/// gives), because the links a rule finds first (an order's deliveries, say) are listed in that order.
pub(crate) fn judge_records(
    buyer: &str,
    seller: &str,
    mut records: Vec<PairRecord>,
    fixed: &domain::FixedAccounts,
    now: i64,
) -> Vec<VerificationRow> {
    records.sort_unstable_by(|a, b| (&a.record_type, &a.doc_no, &a.id).cmp(&(&b.record_type, &b.doc_no, &b.id)));
    let total = records.len();
    let docs: Vec<Doc> = records.into_iter().filter_map(doc_of).collect();
    if docs.len() != total {
        tracing::warn!(buyer, seller, skipped = total - docs.len(), "records with unreadable codes skipped");
    }
    let verdicts = domain::verify_pair(&docs, fixed);
    drop(docs);
    verdicts.iter().map(|v| row_of(v, buyer, seller, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lianrong_domain::four_flow::{Discrepancy, LinkMethod, VerificationStatus};

    #[test]
    fn stored_dates_parse_as_the_general_parser_does() {
        for s in [
            "2026-05-17",
            "2024-02-29",
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-5-1",
            "20260517",
            "",
            "2026-05-1x",
        ] {
            assert_eq!(date_of(s), jiff::civil::Date::strptime("%Y-%m-%d", s).ok(), "{s}");
        }
    }

    #[test]
    fn evidence_is_written_as_the_sorted_json_object_it_always_was() {
        let link = |id: &str, method| Link { id: id.into(), doc_no: format!("N{id}"), method, applied_fen: 7 };
        let v = Verdict {
            invoice_id: "i1".into(),
            status: VerificationStatus::Partly,
            orders: vec![link("o1", LinkMethod::Reference)],
            deliveries: vec![link("d1", LinkMethod::Inferred), link("d2", LinkMethod::Reference)],
            payments: vec![link("p\"1", LinkMethod::Inferred)],
            credit_notes: vec![],
            reversals: vec![link("r1", LinkMethod::Reference)],
            invoiced_fen: 10,
            paid_fen: 7,
            credited_fen: 0,
            reversed_fen: 7,
            discrepancies: vec![Discrepancy::DeliveryPending, Discrepancy::Overpaid],
            corroborated: vec![],
            delivered: None,
            due: None,
        };
        let mut expected = serde_json::json!({
            "orders": v.orders,
            "deliveries": v.deliveries,
            "payments": v.payments,
            "credit_notes": v.credit_notes,
            "reversals": v.reversals,
        });
        let row = row_of(&v, "B", "S", 1);
        assert_eq!(row.evidence, expected.to_string());
        assert_eq!(row.discrepancies, "delivery_pending,overpaid");
        // A counterparty's agreeing statement is named, in its sorted place.
        let v = Verdict { corroborated: vec!["i1".into()], ..v };
        expected["corroborated"] = serde_json::json!(["i1"]);
        assert_eq!(row_of(&v, "B", "S", 1).evidence, expected.to_string());
    }
}
