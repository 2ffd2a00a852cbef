//! Receivables: the verified invoices still owed, with their due dates, ageing, statutory late interest
//! and any breach of the SME payment regulation's 60-day limit. Derived from the four-flow verdicts; a
//! receivable is visible to its creditor (seller) and debtor (buyer).

use std::collections::HashMap;

use jiff::civil::Date;
use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};
use lianrong_domain::receivable::{self as rules, AgeingBucket};
use lianrong_store::StoreError;
use lianrong_store::four_flow::{self as store, VerificationRow};
use lianrong_store::trade::DocNames;

use lianrong_domain::confirmation::{ConfirmationStatus, Ineligibility};
use lianrong_domain::four_flow::VerificationStatus;

use crate::App;
use crate::confirmation::ConfirmationState;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};

/// Which receivables a list shows (owed to the caller, by it, or both): query vocabulary, kept in the store.
pub use lianrong_store::four_flow::Side;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receivable {
    pub verdict: VerificationRow,
    /// The invoice's number as its parties know it.
    pub invoice_no: String,
    /// The parties as people recognise them: the platform's name for a registered organisation, else the
    /// name the record gives, else the credit code.
    pub buyer_name: String,
    pub seller_name: String,
    pub overdue_days: i64,
    pub ageing: Option<AgeingBucket>,
    /// Statutory late interest to today at the default 0.05 % a day (no agreed rate is recorded yet).
    pub late_interest_fen: i64,
    /// Days by which the due date passes the 60 days a large buyer may take to pay an SME.
    pub sme_breach_days: Option<i64>,
    /// The core's path: a request to the debtor, its signed confirmation, or its own sharing of the
    /// invoice. `None` when confirmation was never asked.
    pub confirmation: Option<ConfirmationState>,
    /// The data-only ("four no's") path: empty when the data alone prove the receivable, else why not.
    pub data_only_ineligibility: Vec<Ineligibility>,
    /// The reference of the active registration against double financing that claims it, if any.
    pub registration_reference: Option<String>,
}

impl Receivable {
    pub fn data_only_eligible(&self) -> bool {
        self.data_only_ineligibility.is_empty()
    }

    pub fn confirmed(&self) -> bool {
        self.confirmation.as_ref().is_some_and(|c| c.status == ConfirmationStatus::Confirmed)
    }

    /// What may be financed on this receivable: what is outstanding, and for a confirmed receivable no
    /// more than the debtor confirmed.
    pub fn financeable_fen(&self) -> i64 {
        match self.confirmation.as_ref().filter(|c| c.status == ConfirmationStatus::Confirmed) {
            Some(c) => self.verdict.outstanding_fen.min(c.amount_fen.unwrap_or(self.verdict.outstanding_fen)),
            None => self.verdict.outstanding_fen,
        }
    }
}

/// A verdict's stored date; one that does not read is an error, never a missing date.
fn date(column: &str, s: &Option<String>) -> AppResult<Option<Date>> {
    s.as_deref().map(|d| crate::clock::stored_date(column, d)).transpose()
}

pub fn parse_side(side: Option<&str>) -> AppResult<Side> {
    match side.unwrap_or("both") {
        "creditor" => Ok(Side::Creditor),
        "debtor" => Ok(Side::Debtor),
        "both" | "" => Ok(Side::Both),
        other => Err(AppError::invalid(
            "side",
            "side_unknown",
            format!("side must be creditor, debtor or both, not '{}'", other.chars().take(20).collect::<String>()),
            "side 须为 creditor（应收）、debtor（应付）或 both",
        )),
    }
}

pub async fn list(app: &App, actor: &Actor, side: Side, seek: impl Into<Seek>) -> AppResult<KeyedPage<Receivable>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let KeyedPage { page: Page { items, page, page_size, total }, next } =
        store::receivables(&mut conn, &scope, side, &seek.into()).await?;
    let items = enrich(&mut conn, items, app.today()).await?;
    Ok(KeyedPage { page: Page { items, page, page_size, total }, next })
}

/// One organisation's receivables (by credit code) on one side, inside the caller's transaction: what a
/// bank reads through that organisation's data consent (the caller has checked the consent).
pub(crate) async fn list_in(
    conn: &mut lianrong_store::Conn,
    uscc: &str,
    side: Side,
    seek: &Seek,
    today: Date,
) -> AppResult<KeyedPage<Receivable>> {
    let scope = lianrong_store::trade::TradeScope::Party { uscc: uscc.to_string() };
    let KeyedPage { page: Page { items, page, page_size, total }, next } =
        store::receivables(conn, &scope, side, seek).await?;
    let items = enrich(conn, items, today).await?;
    Ok(KeyedPage { page: Page { items, page, page_size, total }, next })
}

/// One invoice's receivable with its credit paths, for its two parties (and the operator).
pub async fn get(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<Receivable> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let v = store::get(&mut conn, &scope, invoice_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Receivable", "应收账款"),
        other => other.into(),
    })?;
    enrich(&mut conn, vec![v], app.today()).await?.pop().ok_or_else(AppError::internal)
}

/// Verdicts become receivables: ageing, late interest and the SME rule as of the business date `today`,
/// the confirmation state and data-only eligibility.
async fn enrich(
    conn: &mut lianrong_store::Conn,
    rows: Vec<VerificationRow>,
    today: Date,
) -> AppResult<Vec<Receivable>> {
    // Size classes of the parties, for the SME rule, and their names (parties not on the platform are
    // unknown to it).
    let mut parties: HashMap<String, Option<(lianrong_domain::org::SizeClass, String)>> = HashMap::new();
    for r in &rows {
        for uscc in [&r.buyer_uscc, &r.seller_uscc] {
            parties.entry(uscc.clone()).or_insert(None);
        }
    }
    let codes: Vec<String> = parties.keys().cloned().collect();
    for o in lianrong_store::org::find_by_usccs(conn, &codes).await? {
        parties.insert(o.uscc.clone(), Some((o.size_class, o.name)));
    }
    let sizes: HashMap<&str, Option<lianrong_domain::org::SizeClass>> =
        parties.iter().map(|(u, o)| (u.as_str(), o.as_ref().map(|(s, _)| *s))).collect();
    let ids: Vec<String> = rows.iter().map(|v| v.invoice_id.clone()).collect();
    let mut docs: HashMap<String, DocNames> =
        lianrong_store::trade::doc_nos(conn, &ids).await?.into_iter().map(|d| (d.id.clone(), d)).collect();
    let mut confirmations = crate::confirmation::states(conn, &ids).await?;
    let mut registrations: HashMap<String, String> =
        lianrong_store::registration::active_references(conn, &ids).await?.into_iter().collect();
    rows.into_iter()
        .map(|v| {
            let due = date("verification.due_date", &v.due_date)?;
            let overdue = due.map(|d| rules::overdue_days(d, today)).unwrap_or(0);
            let large = |u: &str| sizes.get(u).copied().flatten().is_some_and(|s| !s.is_sme());
            let sme = |u: &str| sizes.get(u).copied().flatten().is_some_and(|s| s.is_sme());
            let breach = match (date("verification.delivered_date", &v.delivered_date)?, due) {
                (Some(delivered), Some(due)) => {
                    rules::sme_term_breach(large(&v.buyer_uscc), sme(&v.seller_uscc), delivered, due)
                }
                _ => None,
            };
            let status = VerificationStatus::parse(&v.status).unwrap_or(VerificationStatus::Unverified);
            let discrepancies = v.discrepancies.split(',').filter(|d| !d.is_empty()).count();
            let doc = docs.remove(&v.invoice_id);
            let name = |uscc: &str, recorded: Option<String>| {
                parties.get(uscc).cloned().flatten().map(|(_, n)| n).or(recorded).unwrap_or_else(|| uscc.to_string())
            };
            Ok(Receivable {
                invoice_no: doc.as_ref().map(|d| d.doc_no.clone()).unwrap_or_default(),
                buyer_name: name(&v.buyer_uscc, doc.as_ref().and_then(|d| d.buyer_name.clone())),
                seller_name: name(&v.seller_uscc, doc.and_then(|d| d.seller_name)),
                confirmation: confirmations.remove(&v.invoice_id),
                registration_reference: registrations.remove(&v.invoice_id),
                data_only_ineligibility: lianrong_domain::confirmation::data_only_ineligibility(
                    status,
                    discrepancies,
                    v.outstanding_fen,
                    due.is_some(),
                    overdue,
                ),
                overdue_days: overdue,
                ageing: due.map(|d| rules::ageing(d, today)),
                late_interest_fen: rules::late_interest_fen(v.outstanding_fen, overdue, None),
                sme_breach_days: breach,
                verdict: v,
            })
        })
        .collect()
}

/// One counterparty's receivables by ageing bucket (`unknown` when no term is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterpartyTotal {
    pub counterparty_uscc: String,
    pub counterparty_name: Option<String>,
    pub invoices: i64,
    pub outstanding_fen: i64,
    /// (bucket code, invoices, outstanding fen).
    pub buckets: Vec<(String, i64, i64)>,
}

/// Whether figures that exist per side are asked for the creditor's side (`true`) or the debtor's;
/// both sides at once is refused, naming what was asked for.
fn one_side(side: Side, what_en: &str, what_zh: &str) -> AppResult<bool> {
    match side {
        Side::Creditor => Ok(true),
        Side::Debtor => Ok(false),
        Side::Both => Err(AppError::invalid(
            "side",
            "side_required",
            format!("{what_en} are per side: choose creditor or debtor"),
            format!("{what_zh}须指定方向：creditor（应收）或 debtor（应付）"),
        )),
    }
}

/// The caller's receivables (creditor) or payables (debtor) per counterparty and ageing bucket.
pub async fn totals(app: &App, actor: &Actor, side: Side) -> AppResult<Vec<CounterpartyTotal>> {
    policy::require(actor, Permission::ReadTrade)?;
    let creditor = one_side(side, "Totals", "汇总")?;
    let mut conn = app.db.acquire().await?;
    let uscc = lianrong_store::org::get(&mut conn, &actor.org_id).await?.uscc;
    let today = app.today();
    let back = |days: i64| {
        today.checked_sub(jiff::Span::new().days(days)).map(|d| d.to_string()).unwrap_or_else(|_| "0000-00-00".into())
    };
    let (d30, d60, d90, d180) = (back(30), back(60), back(90), back(180));
    let today_s = today.to_string();
    let rows = store::receivable_totals(&mut conn, &uscc, creditor, [&today_s, &d30, &d60, &d90, &d180]).await?;
    let mut out: Vec<CounterpartyTotal> = Vec::new();
    for (counterparty, bucket, n, owed) in rows {
        if out.last().is_none_or(|t| t.counterparty_uscc != counterparty) {
            let name = lianrong_store::org::find_by_uscc(&mut conn, &counterparty).await?.map(|o| o.name);
            out.push(CounterpartyTotal {
                counterparty_uscc: counterparty.clone(),
                counterparty_name: name,
                invoices: 0,
                outstanding_fen: 0,
                buckets: Vec::new(),
            });
        }
        if let Some(t) = out.last_mut() {
            t.invoices += n;
            t.outstanding_fen += owed;
            t.buckets.push((bucket, n, owed));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------
// What a home page leads with

/// Receivables examined for what may be financed now, the earliest due first: enough for any supplier's
/// open ledger, and a bound on the work a home page does for an organisation with a very long one.
pub const FINANCEABLE_EXAMINED_MAX: i64 = 1_000;

/// What the caller could finance today with the receivables owed to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Financeable {
    /// Receivables a bank could finance now, and what they support (for a confirmed one, no more than
    /// the debtor confirmed).
    pub receivables: i64,
    pub amount_fen: i64,
    /// Receivables owed to the caller with something outstanding, and how many were examined: fewer
    /// when there are more than [`FINANCEABLE_EXAMINED_MAX`].
    pub outstanding: i64,
    pub examined: i64,
}

/// The caller's receivables that may be financed now: confirmed by the debtor or proven by the data
/// alone, and not yet financed or about to be (registered, backing a payment commitment, or claimed by
/// an open application), exactly what an application would accept. Only a core or a supplier is owed.
pub async fn financeable_now(app: &App, actor: &Actor) -> AppResult<Financeable> {
    if !actor.submits_trade_data() {
        return Err(AppError::forbidden(
            "Only cores and suppliers finance receivables owed to them",
            "只有核心企业和供应商可以凭应收账款融资",
        ));
    }
    let mut out = Financeable::default();
    let mut seek = Seek::from(PageRequest::all_small());
    loop {
        let KeyedPage { page, next } = list(app, actor, Side::Creditor, seek).await?;
        out.outstanding = page.total;
        out.examined += page.items.len() as i64;
        let ids: Vec<String> = page.items.iter().map(|r| r.verdict.invoice_id.clone()).collect();
        let taken = taken_for_financing(app, &ids).await?;
        for r in page.items.iter().filter(|r| (r.confirmed() || r.data_only_eligible()) && r.financeable_fen() > 0) {
            if r.registration_reference.is_none() && !taken.contains(&r.verdict.invoice_id) {
                out.receivables += 1;
                out.amount_fen = out.amount_fen.saturating_add(r.financeable_fen());
            }
        }
        match next {
            Some(cursor) if out.examined < FINANCEABLE_EXAMINED_MAX => {
                seek = Seek::after(PageRequest::all_small(), cursor)
            }
            _ => return Ok(out),
        }
    }
}

/// Which of these invoices are already on their way to financing elsewhere: backing a payment
/// commitment (financed through it) or claimed by an open application.
async fn taken_for_financing(app: &App, invoice_ids: &[String]) -> AppResult<std::collections::HashSet<String>> {
    let mut conn = app.db.acquire().await?;
    let mut taken: std::collections::HashSet<String> =
        lianrong_store::commitment::backing_of(&mut conn, invoice_ids).await?.into_iter().map(|(i, _)| i).collect();
    taken.extend(lianrong_store::application::claimed(&mut conn, invoice_ids).await?);
    Ok(taken)
}

/// Outstanding receivables or payables by when they fall due, as of the business date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FallingDue {
    /// The window after today that counts as due soon.
    pub within_days: i64,
    pub overdue: i64,
    pub overdue_fen: i64,
    pub due_soon: i64,
    pub due_soon_fen: i64,
}

/// The caller's receivables (creditor) or payables (debtor) already overdue, and those falling due from
/// today to `within_days` ahead: what a core's finance staff must pay next.
pub async fn falling_due(app: &App, actor: &Actor, side: Side, within_days: i64) -> AppResult<FallingDue> {
    policy::require(actor, Permission::ReadTrade)?;
    let creditor = one_side(side, "Falling-due figures", "到期统计")?;
    let mut conn = app.db.acquire().await?;
    let uscc = lianrong_store::org::get(&mut conn, &actor.org_id).await?.uscc;
    let today = app.today();
    let horizon = app.day_in(within_days);
    let ((overdue, overdue_fen), (due_soon, due_soon_fen)) =
        store::due_totals(&mut conn, &uscc, creditor, &today.to_string(), &horizon.to_string()).await?;
    Ok(FallingDue { within_days, overdue, overdue_fen, due_soon, due_soon_fen })
}
