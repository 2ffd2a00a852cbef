//! Four-flow verification as a use case: each buyer–seller pair's records are loaded and every blue
//! invoice judged by `domain::four_flow`; the verdicts replace the pair's earlier ones. It re-runs
//! incrementally: after each submission, for the pairs whose trade it changed.

use lianrong_domain::four_flow::{self as domain, Doc, Verdict};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::trade::{AcceptanceStatus, InvoiceKind, RecordType};
use lianrong_store::StoreError;
use lianrong_store::four_flow::{self as store, PairRecord, VerificationRow};

use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};
use crate::{App, now_ms};

fn refs(s: &str) -> Vec<String> {
    s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

/// A stored record as verification sees it; a record whose stored codes do not parse is skipped (and
/// logged), never a reason to fail the whole pair.
fn doc_of(r: &PairRecord) -> Option<Doc> {
    Some(Doc {
        id: r.id.clone(),
        record_type: RecordType::parse(&r.record_type).ok()?,
        doc_no: r.doc_no.clone(),
        date: jiff::civil::Date::strptime("%Y-%m-%d", &r.doc_date).ok()?,
        total_fen: r.total_fen,
        order_refs: refs(&r.order_refs),
        delivery_refs: refs(&r.delivery_refs),
        invoice_refs: refs(&r.invoice_refs),
        invoice_kind: r.invoice_kind.as_deref().and_then(|k| InvoiceKind::parse(k).ok()),
        acceptance: r.acceptance_status.as_deref().and_then(|k| AcceptanceStatus::parse(k).ok()),
        accepted_date: r.accepted_date.as_deref().and_then(|d| jiff::civil::Date::strptime("%Y-%m-%d", d).ok()),
        term_days: r.term_days,
        term_basis: r.term_basis.as_deref().and_then(|b| lianrong_domain::trade::TermBasis::parse(b).ok()),
        payee_account_sm3: r.payee_account_sm3.clone(),
    })
}

fn row_of(v: &Verdict, buyer: &str, seller: &str, now: i64) -> VerificationRow {
    let evidence = serde_json::json!({
        "orders": v.orders,
        "deliveries": v.deliveries,
        "payments": v.payments,
        "credit_notes": v.credit_notes,
        "reversals": v.reversals,
    });
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
        evidence: evidence.to_string(),
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

/// Verifies the given pairs, each in its own write transaction; answers how many invoices were judged.
pub async fn verify_pairs(app: &App, pairs: &[(String, String)]) -> AppResult<u64> {
    let mut judged = 0u64;
    for (buyer, seller) in pairs {
        let mut tx = app.db.begin_write().await?;
        let records = store::pair_records(&mut tx, buyer, seller).await?;
        let docs: Vec<Doc> = records.iter().filter_map(doc_of).collect();
        if docs.len() != records.len() {
            tracing::warn!(
                buyer,
                seller,
                skipped = records.len() - docs.len(),
                "records with unreadable codes skipped"
            );
        }
        // The pair's fixed repayment accounts (`collection_account`): payments made elsewhere are flagged.
        let fixed: domain::FixedAccounts =
            lianrong_store::collection_account::fixed_accounts_of_pair(&mut tx, buyer, seller)
                .await?
                .into_iter()
                .collect();
        let verdicts = domain::verify_pair(&docs, &fixed);
        let now = now_ms();
        let rows: Vec<VerificationRow> = verdicts.iter().map(|v| row_of(v, buyer, seller, now)).collect();
        store::replace_pair(&mut tx, buyer, seller, &rows).await?;
        tx.commit().await.map_err(StoreError::from)?;
        judged += rows.len() as u64;
    }
    Ok(judged)
}

/// Verifies every pair in the lake (the operator's full re-run, and the benchmark).
pub async fn verify_all(app: &App) -> AppResult<u64> {
    let mut conn = app.db.pool.acquire().await.map_err(StoreError::from)?;
    let pairs = store::pairs(&mut conn).await?;
    drop(conn);
    verify_pairs(app, &pairs).await
}

/// One invoice's verdict, for its two parties (and the operator).
pub async fn get(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<VerificationRow> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.pool.acquire().await.map_err(StoreError::from)?;
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
    let mut conn = app.db.pool.acquire().await.map_err(StoreError::from)?;
    Ok(store::list(&mut conn, &scope, status, page).await?)
}
