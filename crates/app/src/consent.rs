//! Data authorisation (数据授权): an owner of trade data — a supplier, or a core — lets one bank use
//! named categories of it (receivables, verified trade totals, raw records, the reference score) for a
//! stated purpose until a date, and revokes it whenever it likes. A bank reads only through a live
//! consent that covers the category: every read is checked, counted and audited in the same transaction
//! (an audit record naming the consent, the category and the bank's user, and a `consent_read` row the
//! owner sees), and the consent row is locked against a concurrent revocation, so a revocation that has
//! committed stops the very next read. Grants and revocations are leaves of the verifiable log.
//!
//! Other use cases (the data room, financing applications) call [`require`] or [`require_in`] before
//! they show a bank an owner's data, and [`record_read_in`] when they do.

use jiff::civil::Date;
use lianrong_domain::consent::{self as rules, Category, ConsentError, ConsentState};
use lianrong_domain::consent::{APPLICATION_ID_CHARS_MAX, PURPOSE_CHARS_MAX};
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};
use lianrong_domain::role::parse_list;
use lianrong_domain::text;
use lianrong_store::consent::{self as store, ConsentRow, ConsentScope};
use lianrong_store::four_flow::Side;
use lianrong_store::trade::TradeRow;
use lianrong_store::{Conn, StoreError};
use serde_json::json;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::receivable::Receivable;
use crate::{App, audit, new_id, now_ms};

/// The app's read views of reads made under a consent: plain data, decoded in the store; the API and console
/// show them.
pub use lianrong_store::consent::ReadRow;

const OBJECT: &str = "consent";

fn not_found() -> AppError {
    AppError::not_found("Consent", "数据授权")
}

/// A consent's categories and term are the owner's to correct: every refusal is a bad request.
fn consent_error(e: ConsentError) -> AppError {
    AppError::refusal(ErrorKind::Invalid, &e)
}

fn scope(actor: &Actor) -> ConsentScope {
    if actor.sees_everything() || actor.system {
        ConsentScope::All
    } else {
        ConsentScope::Party { org_id: actor.org_id.clone() }
    }
}

/// The refusal of a read that no live consent covers: the bank may not see this data (403).
fn no_consent(category: Category, why_en: &str, why_zh: &str) -> AppError {
    AppError {
        field: Some("category".into()),
        ..AppError::new(
            ErrorKind::Forbidden,
            "no_consent",
            format!("No live consent lets your bank read this organisation's {}: {why_en}", category.label_en()),
            format!("没有有效的数据授权允许贵行读取该机构的“{}”：{why_zh}", category.label_zh()),
        )
    }
}

/// Why a consent does not let its bank read `category` on `today`, if it does not.
fn refusal(c: &ConsentRow, category: Category, today: Date) -> Option<AppError> {
    let until = c.valid_until;
    match rules::state_on(c.stored_state == ConsentState::Revoked, until, today) {
        ConsentState::Revoked => Some(no_consent(category, "the owner revoked the consent", "授权方已撤销授权")),
        ConsentState::Expired => Some(no_consent(
            category,
            &format!("the consent expired after {}", c.valid_until),
            &format!("授权已于{}到期", c.valid_until),
        )),
        ConsentState::Granted if !c.covers(category) => {
            Some(no_consent(category, "the consent does not cover this category", "该授权不包含此类数据"))
        }
        ConsentState::Granted => None,
    }
}

/// A consent with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub row: ConsentRow,
    /// Granted, revoked, or expired (after `valid_until`), on today.
    pub state: ConsentState,
    pub owner_name: String,
    pub bank_name: String,
    /// Reads made through it so far.
    pub reads: i64,
}

/// A consent with its state on `today` (the app's business date).
async fn view(conn: &mut Conn, row: ConsentRow, today: Date) -> AppResult<Consent> {
    let until = row.valid_until;
    let state = rules::state_on(row.stored_state == ConsentState::Revoked, until, today);
    let owner_name = lianrong_store::org::get(conn, &row.owner_org_id).await?.name;
    let bank_name = lianrong_store::org::get(conn, &row.bank_org_id).await?.name;
    let reads = store::reads(conn, &row.id, PageRequest::first()).await?.total;
    Ok(Consent { row, state, owner_name, bank_name, reads })
}

/// A consent as the owner gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewConsent {
    pub bank_org_id: String,
    /// Category codes: receivables, trade_totals, raw_records, reference_score.
    pub categories: Vec<String>,
    pub purpose: String,
    pub application_id: Option<String>,
    /// `YYYY-MM-DD`: after today, at most twelve months ahead.
    pub valid_until: String,
}

/// The owner (a core or supplier's admin or finance staff) lets a bank use named categories of its data.
pub async fn grant(app: &App, actor: &Actor, new: &NewConsent) -> AppResult<Consent> {
    let result = audit::run(
        app,
        actor,
        Permission::GrantConsent,
        "consent.grant",
        OBJECT,
        &new.bank_org_id,
        grant_checked(app, actor, new),
    )
    .await;
    let row = result?;
    let mut conn = app.db.acquire().await?;
    view(&mut conn, row, app.today()).await
}

async fn grant_checked(app: &App, actor: &Actor, new: &NewConsent) -> AppResult<ConsentRow> {
    let mut tx = app.db.begin_write().await?;
    let row = grant_in(&mut tx, app.today(), actor, new).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Grants a consent inside the caller's write transaction (an application grants its banks' consents
/// in the same transaction as its claims and offers).
pub(crate) async fn grant_in(
    tx: &mut lianrong_store::Conn,
    today: jiff::civil::Date,
    actor: &Actor,
    new: &NewConsent,
) -> AppResult<ConsentRow> {
    let categories = parse_list(&new.categories.join(","), Category::parse)
        .map_err(|e| AppError::from(e).with_field("categories"))?;
    let categories = rules::check_categories(&categories).map_err(consent_error)?;
    let purpose = text::bounded("purpose", &new.purpose, PURPOSE_CHARS_MAX)?;
    let application_id = text::optional("application_id", new.application_id.as_deref(), APPLICATION_ID_CHARS_MAX)?;
    let valid_until = Date::strptime("%Y-%m-%d", new.valid_until.trim()).map_err(|_| {
        AppError::invalid("valid_until", "date_invalid", "A date is written YYYY-MM-DD", "日期格式须为YYYY-MM-DD")
    })?;
    rules::check_valid_until(valid_until, today).map_err(consent_error)?;
    // The bank: an organisation the owner cannot see is answered as missing; one it sees that is no bank
    // is refused by name.
    let bank_missing = || AppError { field: Some("bank_org_id".into()), ..AppError::not_found("Bank", "银行") };
    let bank = match lianrong_store::org::get(&mut *tx, new.bank_org_id.trim()).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => return Err(bank_missing()),
        Err(e) => return Err(e.into()),
    };
    if bank.kind != OrgKind::Bank {
        if !lianrong_store::org::visible(&mut *tx, &policy::org_scope(actor), &bank.id).await? {
            return Err(bank_missing());
        }
        return Err(AppError::invalid(
            "bank_org_id",
            "not_a_bank",
            "Data is authorised to a bank (a financial institution) only",
            "数据只能授权给银行业金融机构",
        ));
    }
    let row = ConsentRow {
        id: new_id(),
        owner_org_id: actor.org_id.clone(),
        bank_org_id: bank.id,
        categories,
        purpose,
        application_id,
        valid_until,
        stored_state: ConsentState::Granted,
        granted_by: actor.trail_name(),
        granted_at_ms: now_ms(),
        revoked_by: None,
        revoked_at_ms: None,
    };
    store::insert(&mut *tx, &row).await?;
    let codes: Vec<&str> = row.categories.iter().map(|c| c.code()).collect();
    crate::log::append(
        &mut *tx,
        crate::log::LeafKind::Consent,
        &row.id,
        &[&row.owner_org_id, &row.bank_org_id],
        &json!({"action": "grant", "owner_org_id": row.owner_org_id, "bank_org_id": row.bank_org_id,
            "categories": codes, "valid_until": row.valid_until.to_string()}),
        row.granted_at_ms,
    )
    .await?;
    let detail = format!("to {} for {} until {}", row.bank_org_id, codes.join(","), row.valid_until);
    audit::ok_in(&mut *tx, actor, "consent.grant", OBJECT, &row.id, &detail).await?;
    Ok(row)
}

/// The owner revokes a consent; from the moment this commits, no read goes through it.
pub async fn revoke(app: &App, actor: &Actor, id: &str) -> AppResult<Consent> {
    let result =
        audit::run(app, actor, Permission::GrantConsent, "consent.revoke", OBJECT, id, revoke_checked(app, actor, id))
            .await;
    let row = result?;
    let mut conn = app.db.acquire().await?;
    view(&mut conn, row, app.today()).await
}

async fn revoke_checked(app: &App, actor: &Actor, id: &str) -> AppResult<ConsentRow> {
    let mut tx = app.db.begin_write().await?;
    let scope = ConsentScope::Party { org_id: actor.org_id.clone() };
    let current = store::get(&mut tx, &scope, id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if current.owner_org_id != actor.org_id {
        return Err(not_found());
    }
    let at = now_ms();
    if !store::revoke(&mut tx, id, &actor.trail_name(), at).await? {
        return Err(
            AppError::conflict("already_revoked", "The consent is already revoked", "该授权已撤销").with_field("state")
        );
    }
    crate::log::append(
        &mut tx,
        crate::log::LeafKind::Consent,
        id,
        &[&current.owner_org_id, &current.bank_org_id],
        &json!({"action": "revoke", "owner_org_id": current.owner_org_id, "bank_org_id": current.bank_org_id}),
        at,
    )
    .await?;
    audit::ok_in(&mut tx, actor, "consent.revoke", OBJECT, id, "revoked").await?;
    let row = store::get(&mut tx, &ConsentScope::All, id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// One consent, for its owner and its bank (the operator and the regulator see all).
pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<Consent> {
    policy::require(actor, Permission::ReadConsents)?;
    let mut conn = app.db.acquire().await?;
    let row = store::get(&mut conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    view(&mut conn, row, app.today()).await
}

/// The consents the caller gave (an owner) or was given (a bank).
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<Consent>> {
    policy::require(actor, Permission::ReadConsents)?;
    let mut conn = app.db.acquire().await?;
    let Page { items, page, page_size, total } = store::list(&mut conn, &scope(actor), page).await?;
    let today = app.today();
    let mut out = Vec::with_capacity(items.len());
    for row in items {
        out.push(view(&mut conn, row, today).await?);
    }
    Ok(Page { items: out, page, page_size, total })
}

/// The reads a bank made through a consent: the owner's view of who read what when.
pub async fn reads(app: &App, actor: &Actor, id: &str, page: PageRequest) -> AppResult<Page<ReadRow>> {
    let consent = get(app, actor, id).await?;
    let mut conn = app.db.acquire().await?;
    Ok(store::reads(&mut conn, &consent.row.id, page).await?)
}

/// The banks an owner may authorise (banks are public institutions).
pub async fn banks(app: &App, actor: &Actor) -> AppResult<Vec<lianrong_store::org::OrgRecord>> {
    crate::registration::banks(app, actor).await
}

/// Inside the caller's transaction: the live consent from `owner_org_id` to the bank of `bank_actor`
/// that covers `category` on `today`, locked against a concurrent revocation until the transaction
/// ends. Refused `no_consent` (403) when there is none — the caller audits that refusal (`audit::refused`)
/// after rolling back, and records each read it then makes with [`record_read_in`].
pub async fn require_in(
    conn: &mut Conn,
    bank_actor: &Actor,
    owner_org_id: &str,
    category: Category,
    today: Date,
) -> AppResult<ConsentRow> {
    policy::require(bank_actor, Permission::UseConsent)?;
    if bank_actor.org_kind != OrgKind::Bank {
        return Err(no_consent(category, "only a bank reads through a consent", "只有银行可凭授权读取数据"));
    }
    let today_s = today.to_string();
    match store::live_for(conn, owner_org_id, &bank_actor.org_id, category, &today_s).await? {
        Some(c) => Ok(c),
        None => Err(no_consent(
            category,
            "none was granted, or it was revoked, has expired or does not cover this category",
            "未获授权，或授权已撤销、已到期、不含此类数据",
        )),
    }
}

/// [`require_in`] in a transaction of its own, auditing a refusal: for a caller that only needs to know
/// (reads that follow must still be recorded with [`record_read_in`]).
pub async fn require(
    app: &App,
    bank_actor: &Actor,
    owner_org_id: &str,
    category: Category,
    today: Date,
) -> AppResult<ConsentRow> {
    let result: AppResult<ConsentRow> = async {
        let mut tx = app.db.begin_read().await?;
        let c = require_in(&mut tx, bank_actor, owner_org_id, category, today).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(c)
    }
    .await;
    if let Err(e) = &result {
        let detail = format!("{} of {owner_org_id}: {}: {}", category.code(), e.code, e.en);
        audit::refused(app, bank_actor, "consent.require", OBJECT, owner_org_id, &detail).await;
    }
    result
}

/// Records a read through `consent` of `items` items of `category` by `actor`, inside the caller's
/// transaction: a `consent_read` row for the owner and an audit record naming the consent, the category
/// and the reader.
pub async fn record_read_in(
    conn: &mut Conn,
    actor: &Actor,
    consent: &ConsentRow,
    category: Category,
    items: i64,
) -> AppResult<()> {
    let read = ReadRow {
        id: new_id(),
        consent_id: consent.id.clone(),
        category,
        reader_org_id: actor.org_id.clone(),
        reader_user_id: actor.user_id.clone(),
        reader: actor.trail_name(),
        items,
        at_ms: now_ms(),
    };
    store::insert_read(conn, &read).await?;
    let detail = format!(
        "consent {} category {} by {} of {}: {items} item(s)",
        consent.id,
        category.code(),
        read.reader,
        consent.owner_org_id
    );
    let action = format!("consent.read.{}", category.code());
    audit::ok_in(conn, actor, &action, OBJECT, &consent.id, &detail).await?;
    Ok(())
}

/// Reads `category` through consent `id` as its bank: checks, runs `fetch` with the owner's credit code,
/// records the read, all in one transaction; refusals are audited.
async fn read_through<T, F>(app: &App, actor: &Actor, id: &str, category: Category, fetch: F) -> AppResult<T>
where
    F: AsyncFnOnce(&mut Conn, &str) -> AppResult<(T, i64)>,
{
    let action = format!("consent.read.{}", category.code());
    audit::guard(app, actor, Permission::UseConsent, &action, OBJECT, id).await?;
    let result = async {
        let mut tx = app.db.begin_write().await?;
        let consent = store::get_for_bank(&mut tx, id, &actor.org_id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
        if let Some(e) = refusal(&consent, category, app.today()) {
            return Err(e);
        }
        let owner_uscc = lianrong_store::org::get(&mut tx, &consent.owner_org_id).await?.uscc;
        let (out, items) = fetch(&mut tx, &owner_uscc).await?;
        record_read_in(&mut tx, actor, &consent, category, items).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(out)
    }
    .await;
    if let Err(e) = &result {
        audit::refused(app, actor, &action, OBJECT, id, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}

/// A receivable as a bank reads it through a consent: the derived figures with the invoice number and
/// the debtor's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentedReceivable {
    pub receivable: Receivable,
    pub invoice_no: String,
    pub debtor_name: Option<String>,
}

/// The owner's receivables (owed to it), through consent `id` covering `receivables`.
pub async fn receivables(
    app: &App,
    actor: &Actor,
    id: &str,
    seek: impl Into<Seek>,
) -> AppResult<KeyedPage<ConsentedReceivable>> {
    let today = app.today();
    let seek = seek.into();
    read_through(app, actor, id, Category::Receivables, async |conn: &mut Conn, uscc: &str| {
        let KeyedPage { page: Page { items, page, page_size, total }, next } =
            crate::receivable::list_in(conn, uscc, Side::Creditor, &seek, today).await?;
        let mut out = Vec::with_capacity(items.len());
        for r in items {
            out.push(ConsentedReceivable {
                invoice_no: r.invoice_no.clone(),
                debtor_name: (r.buyer_name != r.verdict.buyer_uscc).then(|| r.buyer_name.clone()),
                receivable: r,
            });
        }
        let n = i64::try_from(out.len()).unwrap_or(i64::MAX);
        Ok((KeyedPage { page: Page { items: out, page, page_size, total }, next }, n))
    })
    .await
}

/// The owner's invoiced trade with one buyer, judged by four-flow verification: derived figures only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TradeTotal {
    pub counterparty_uscc: String,
    pub counterparty_name: Option<String>,
    pub invoices: i64,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    /// Invoices (and their invoiced amount) whose four flows all agree.
    pub verified_invoices: i64,
    pub verified_fen: i64,
    pub partly_verified_invoices: i64,
    pub inconsistent_invoices: i64,
    pub unverified_invoices: i64,
}

/// The owner's verified trade totals per buyer, through consent `id` covering `trade_totals`.
pub async fn trade_totals(app: &App, actor: &Actor, id: &str) -> AppResult<Vec<TradeTotal>> {
    read_through(app, actor, id, Category::TradeTotals, async |conn: &mut Conn, uscc: &str| {
        let rows = lianrong_store::four_flow::seller_totals(conn, uscc).await?;
        let mut out: Vec<TradeTotal> = Vec::new();
        for (buyer, status, n, invoiced, paid, owed) in rows {
            if out.last().is_none_or(|t| t.counterparty_uscc != buyer) {
                let name = lianrong_store::org::find_by_uscc(conn, &buyer).await?.map(|o| o.name);
                out.push(TradeTotal {
                    counterparty_uscc: buyer.clone(),
                    counterparty_name: name,
                    ..Default::default()
                });
            }
            if let Some(t) = out.last_mut() {
                t.invoices += n;
                t.invoiced_fen += invoiced;
                t.paid_fen += paid;
                t.outstanding_fen += owed;
                match VerificationStatus::parse(&status).unwrap_or(VerificationStatus::Unverified) {
                    VerificationStatus::Verified => {
                        t.verified_invoices += n;
                        t.verified_fen += invoiced;
                    }
                    VerificationStatus::Partly => t.partly_verified_invoices += n,
                    VerificationStatus::Inconsistent => t.inconsistent_invoices += n,
                    VerificationStatus::Unverified => t.unverified_invoices += n,
                }
            }
        }
        let n = i64::try_from(out.len()).unwrap_or(i64::MAX);
        Ok((out, n))
    })
    .await
}

/// The owner's raw trade records as seller (its sales), through consent `id` covering `raw_records` —
/// refused `no_consent` unless that category was ticked.
pub async fn records(app: &App, actor: &Actor, id: &str, seek: impl Into<Seek>) -> AppResult<KeyedPage<TradeRow>> {
    let seek = seek.into();
    read_through(app, actor, id, Category::RawRecords, async |conn: &mut Conn, uscc: &str| {
        let rows = lianrong_store::trade::list_sold(conn, uscc, &seek).await?;
        let n = i64::try_from(rows.page.items.len()).unwrap_or(i64::MAX);
        Ok((rows, n))
    })
    .await
}

/// The reference score through consent `id`: the category is accepted when consents are given, but the
/// rating model does not exist yet, so a covered read is answered `score_not_available` (and is not
/// counted as a read).
pub async fn reference_score(app: &App, actor: &Actor, id: &str) -> AppResult<()> {
    let category = Category::ReferenceScore;
    let action = format!("consent.read.{}", category.code());
    audit::guard(app, actor, Permission::UseConsent, &action, OBJECT, id).await?;
    let result = async {
        let mut conn = app.db.acquire().await?;
        let consent = store::get_for_bank(&mut conn, id, &actor.org_id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
        if let Some(e) = refusal(&consent, category, app.today()) {
            return Err(e);
        }
        Err(AppError::new(
            ErrorKind::Unavailable,
            "score_not_available",
            "The reference score is not available yet: the credit-rating reference model is still to come",
            "参考评分暂未提供：信用评级参考模型尚在建设中",
        )
        .with_field("category"))
    }
    .await;
    if let Err(e) = &result {
        audit::refused(app, actor, &action, OBJECT, id, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}
