//! Four-flow verification as a use case: each buyer–seller pair's records are loaded and every blue
//! invoice judged by `domain::four_flow`; the verdicts replace the pair's earlier ones. It re-runs
//! incrementally: after each submission, for the pairs whose trade it changed.

use lianrong_domain::four_flow::{self as domain, Doc, Link, Verdict};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::trade::{AcceptanceStatus, InvoiceKind, RecordType};
use lianrong_store::StoreError;
use lianrong_store::four_flow::{self as store, PairRecord};

use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};
use crate::{App, now_ms};

/// The app's read views of four-flow verdicts: plain data, decoded in the store; the API and console show
/// them.
pub use lianrong_store::four_flow::VerificationRow;

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

fn row_of(v: &Verdict, buyer: &str, seller: &str, now: i64) -> VerificationRow {
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

/// What one pair's verification reads from the database, as the database answered it.
struct PairInput {
    buyer: String,
    seller: String,
    records: String,
    stored: String,
    fixed: domain::FixedAccounts,
}

/// Reads one pair inside the caller's write transaction.
async fn read_pair(conn: &mut lianrong_store::Conn, buyer: &str, seller: &str) -> AppResult<PairInput> {
    let records = store::pair_records_json(conn, buyer, seller).await?;
    let stored = store::pair_verdicts_json(conn, buyer, seller).await?;
    // The pair's fixed repayment accounts (`collection_account`): payments made elsewhere are flagged.
    let fixed: domain::FixedAccounts =
        lianrong_store::collection_account::fixed_accounts_of_pair(conn, buyer, seller).await?.into_iter().collect();
    Ok(PairInput { buyer: buyer.to_string(), seller: seller.to_string(), records, stored, fixed })
}

/// Judges one pair and works out which verdicts changed: pure computation, run on a blocking thread.
fn judge_pair(input: PairInput, now: i64) -> AppResult<(store::PairChanges, u64)> {
    let records = store::parse_pair_records(&input.records)?;
    drop(input.records);
    let total = records.len();
    let docs: Vec<Doc> = records.into_iter().filter_map(doc_of).collect();
    if docs.len() != total {
        tracing::warn!(
            buyer = input.buyer,
            seller = input.seller,
            skipped = total - docs.len(),
            "records with unreadable codes skipped"
        );
    }
    let verdicts = domain::verify_pair(&docs, &input.fixed);
    drop(docs);
    let rows: Vec<VerificationRow> = verdicts.iter().map(|v| row_of(v, &input.buyer, &input.seller, now)).collect();
    let stored = store::parse_verdicts(&input.stored)?;
    Ok((store::pair_changes(&rows, stored), rows.len() as u64))
}

/// How much record data (as the database answered it, about 150 bytes a record) one write transaction
/// reads before it commits (at least one pair's): enough that commits are rare, little enough that other
/// writers wait well under SQLite's busy timeout.
const BYTES_PER_TRANSACTION: usize = 32 << 20;

/// Verifies the given pairs; answers how many invoices were judged. Each pair is read, judged and
/// written inside one write transaction, so a submission that changes the pair meanwhile is judged
/// after it, never overwritten by older verdicts. Consecutive pairs share a transaction up to
/// `BYTES_PER_TRANSACTION` of records, and the work is pipelined over the two halves of the machine:
/// while a blocking thread judges one pair, the connection reads the next, then writes the previous
/// pair's changes while the next is judged.
pub async fn verify_pairs(app: &App, pairs: &[(String, String)]) -> AppResult<u64> {
    let mut judged = 0u64;
    let mut tx: Option<lianrong_store::Tx> = None;
    let mut in_tx = 0usize;
    let mut judging: Option<tokio::task::JoinHandle<AppResult<(store::PairChanges, u64)>>> = None;
    // Where the time goes, for the log: reading, waiting for judging, writing.
    let mut spent = [std::time::Duration::ZERO; 3];
    for (buyer, seller) in pairs {
        let conn = match &mut tx {
            Some(tx) => tx,
            None => tx.insert(app.db.begin_write().await?),
        };
        let t = std::time::Instant::now();
        let input = read_pair(conn, buyer, seller).await?;
        spent[0] += t.elapsed();
        in_tx += input.records.len();
        let now = now_ms();
        let next = tokio::task::spawn_blocking(move || judge_pair(input, now));
        if let Some(previous) = judging.replace(next) {
            judged += write_judged(conn, previous, &mut spent).await?;
        }
        // The transaction ends once its pair is written; the one just read stays in it.
        if in_tx >= BYTES_PER_TRANSACTION
            && let Some(current) = judging.take()
        {
            judged += write_judged(conn, current, &mut spent).await?;
            if let Some(done) = tx.take() {
                done.commit().await.map_err(StoreError::from)?;
            }
            in_tx = 0;
        }
    }
    if let (Some(mut open), Some(last)) = (tx.take(), judging.take()) {
        judged += write_judged(&mut open, last, &mut spent).await?;
        open.commit().await.map_err(StoreError::from)?;
    }
    tracing::debug!(
        pairs = pairs.len(),
        judged,
        read_ms = spent[0].as_millis() as u64,
        waited_ms = spent[1].as_millis() as u64,
        written_ms = spent[2].as_millis() as u64,
        "four-flow verification"
    );
    Ok(judged)
}

async fn write_judged(
    conn: &mut lianrong_store::Conn,
    judging: tokio::task::JoinHandle<AppResult<(store::PairChanges, u64)>>,
    spent: &mut [std::time::Duration; 3],
) -> AppResult<u64> {
    let t = std::time::Instant::now();
    let (changes, judged) = judging.await.map_err(|e| {
        tracing::error!(error = %e, "four-flow verification thread failed");
        AppError::internal()
    })??;
    spent[1] += t.elapsed();
    let t = std::time::Instant::now();
    store::write_changes(conn, &changes).await?;
    spent[2] += t.elapsed();
    Ok(judged)
}

/// Verifies every pair in the lake (the operator's full re-run, and the benchmark).
pub async fn verify_all(app: &App) -> AppResult<u64> {
    let mut conn = app.db.acquire().await?;
    let pairs = store::pairs(&mut conn).await?;
    drop(conn);
    verify_pairs(app, &pairs).await
}

/// One invoice's verdict, for its two parties (and the operator).
pub async fn get(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<VerificationRow> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &scope, invoice_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Verification", "核验结果"),
        other => other.into(),
    })
}

pub async fn list(
    app: &App,
    actor: &Actor,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<VerificationRow>> {
    policy::require(actor, Permission::ReadTrade)?;
    if let Some(s) = status {
        lianrong_domain::four_flow::VerificationStatus::parse(s)?;
    }
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &scope, status, page).await?)
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
