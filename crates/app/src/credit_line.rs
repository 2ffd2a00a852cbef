//! Dedicated supply-chain credit lines: a bank grants a core or a
//! supplier a line; use cases that issue commitments or approve financings occupy it inside their own
//! transaction ([`occupy_in`]) and repayment releases it ([`release_in`]). A line is never exceeded, also
//! under concurrent requests: the store compares and changes in one statement, and every movement is an
//! event named by what it is for, so a retried one is recognised rather than counted twice.

use jiff::civil::Date;
use lianrong_domain::credit_line::{self as rules, LineError, LineKind, REFERENCE_CHARS_MAX};
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_store::credit_line::{self as store, Direction, EventRow, LineScope};
use lianrong_store::{Conn, StoreError};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of credit lines: plain data, decoded in the store; the API and console show them.
pub use lianrong_store::credit_line::LineRow;

const OBJECT: &str = "credit_line";

fn not_found() -> AppError {
    AppError::not_found("Credit line", "授信额度")
}

/// A line's refusals are bad requests, except an exceeded line: the request was sound, the line is full
/// (a conflict with its state, which another request may have just changed).
fn line_error(e: LineError) -> AppError {
    let kind = match e {
        LineError::Exceeded { .. } => ErrorKind::Conflict,
        LineError::LimitOutOfBounds
        | LineError::TermOutOfBounds
        | LineError::AmountNotPositive
        | LineError::NotInForce(_)
        | LineError::ReleaseExceedsUse { .. } => ErrorKind::Invalid,
    };
    AppError::refusal(kind, &e)
}

fn date_field(field: &str, text: &str) -> AppResult<Date> {
    Date::strptime("%Y-%m-%d", text.trim())
        .map_err(|_| AppError::invalid(field, "date_invalid", "A date is written YYYY-MM-DD", "日期格式须为YYYY-MM-DD"))
}

fn scope(actor: &Actor) -> LineScope {
    if actor.sees_everything() || actor.system {
        LineScope::All
    } else {
        LineScope::Party { org_id: actor.org_id.clone() }
    }
}

/// A grant as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub borrower_org_id: String,
    pub kind: String,
    pub limit_fen: i64,
    pub valid_from: String,
    pub valid_until: String,
}

/// The bank grants a line to a core (its supply-chain line) or to a supplier.
pub async fn grant(app: &App, actor: &Actor, new: &NewLine) -> AppResult<LineRow> {
    audit::run(
        app,
        actor,
        Permission::ManageCreditLines,
        "credit_line.grant",
        OBJECT,
        &new.borrower_org_id,
        grant_checked(app, actor, new),
    )
    .await
}

async fn grant_checked(app: &App, actor: &Actor, new: &NewLine) -> AppResult<LineRow> {
    let kind = LineKind::parse(&new.kind)?;
    let (from, until) = (date_field("valid_from", &new.valid_from)?, date_field("valid_until", &new.valid_until)?);
    rules::check_grant(new.limit_fen, from, until).map_err(line_error)?;
    let mut tx = app.db.begin_write().await?;
    let borrower = lianrong_store::org::get(&mut tx, &new.borrower_org_id).await.map_err(|e| match e {
        StoreError::NotFound => {
            AppError { field: Some("borrower_org_id".into()), ..AppError::not_found("Organisation", "机构") }
        }
        other => other.into(),
    })?;
    let fits = match kind {
        LineKind::CoreSupplyChain => borrower.kind == OrgKind::Core,
        LineKind::Supplier => borrower.kind == OrgKind::Supplier,
    };
    if !fits {
        return Err(AppError::invalid(
            "borrower_org_id",
            "borrower_kind",
            "A supply-chain line is for a core enterprise, a supplier's line for a supplier",
            "供应链专项授信须授予核心企业，供应商授信须授予供应商",
        ));
    }
    let line = LineRow {
        id: new_id(),
        bank_org_id: actor.org_id.clone(),
        borrower_org_id: borrower.id,
        kind,
        limit_fen: new.limit_fen,
        used_fen: 0,
        valid_from: from,
        valid_until: until,
        granted_by: actor.trail_name(),
        granted_at_ms: now_ms(),
    };
    store::insert(&mut tx, &line).await?;
    let detail = format!("{} fen to {} ({})", line.limit_fen, line.borrower_org_id, kind.code());
    audit::ok_in(&mut tx, actor, "credit_line.grant", OBJECT, &line.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(line)
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<LineRow> {
    policy::require(actor, Permission::ReadCreditLines)?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<LineRow>> {
    policy::require(actor, Permission::ReadCreditLines)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &scope(actor), page).await?)
}

/// Whether a movement happened now or was recorded by an earlier attempt with the same reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    Now,
    Already,
}

/// Occupies `amount_fen` of the line for `reference`, inside the caller's write transaction (which
/// rolls back with the refusal). Refused with `line_exceeded` when it does not fit, whatever else runs
/// at the same time, and with `line_not_in_force` outside the line's validity on the business date
/// `today`.
pub async fn occupy_in(
    conn: &mut Conn,
    line_id: &str,
    amount_fen: i64,
    reference: &str,
    by: &str,
    today: Date,
) -> AppResult<Moved> {
    move_in(conn, line_id, Direction::Occupy, amount_fen, reference, by, today).await
}

/// Releases `amount_fen` of the line for `reference` (repayment), inside the caller's transaction.
pub async fn release_in(
    conn: &mut Conn,
    line_id: &str,
    amount_fen: i64,
    reference: &str,
    by: &str,
) -> AppResult<Moved> {
    // A release is owed whatever the date (a repayment after the line lapsed still frees it), so the
    // date is not judged.
    move_in(conn, line_id, Direction::Release, amount_fen, reference, by, Date::MIN).await
}

async fn move_in(
    conn: &mut Conn,
    line_id: &str,
    direction: Direction,
    amount_fen: i64,
    reference: &str,
    by: &str,
    today: Date,
) -> AppResult<Moved> {
    let reference = lianrong_domain::text::bounded("reference", reference, REFERENCE_CHARS_MAX)?;
    let line = store::get(conn, &LineScope::All, line_id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    // A retry is answered before anything is judged: the first attempt's outcome stands.
    if store::event_exists(conn, line_id, &reference, direction).await? {
        return Ok(Moved::Already);
    }
    let (from, until) = (line.valid_from, line.valid_until);
    // The pure checks give the precise refusal; the conditional update below is what guarantees it.
    match direction {
        Direction::Occupy => rules::check_occupy(line.limit_fen, line.used_fen, amount_fen, today, from, until),
        Direction::Release => rules::check_release(line.used_fen, amount_fen),
    }
    .map_err(line_error)?;
    let event = EventRow {
        id: new_id(),
        line_id: line_id.to_string(),
        direction,
        amount_fen,
        reference,
        at_ms: now_ms(),
        by: by.to_string(),
    };
    match store::insert_event(conn, &event).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return Ok(Moved::Already),
        Err(e) => return Err(e.into()),
    }
    if !store::apply(conn, line_id, direction, amount_fen).await? {
        // Another request took the room between the read above and this update.
        let available = store::get(conn, &LineScope::All, line_id).await.map(|l| l.limit_fen - l.used_fen).unwrap_or(0);
        return Err(line_error(LineError::Exceeded { asked: amount_fen, available }));
    }
    let balance = store::event_balance(conn, line_id).await?;
    let after = store::get(conn, &LineScope::All, line_id).await?;
    if balance != after.used_fen {
        tracing::error!(line_id, balance, used = after.used_fen, "credit line out of balance with its events");
        return Err(AppError::new(
            ErrorKind::Internal,
            "line_out_of_balance",
            "The credit line's use does not match its recorded movements; nothing was changed",
            "授信额度占用与其记录不符，操作未生效",
        ));
    }
    Ok(Moved::Now)
}

/// Occupies a line in a transaction of its own, for the platform acting on a bank's behalf (and for the
/// concurrency test that proves the line holds).
pub async fn occupy(app: &App, actor: &Actor, line_id: &str, amount_fen: i64, reference: &str) -> AppResult<Moved> {
    if !actor.system {
        policy::require(actor, Permission::ManageCreditLines)?;
        get(app, actor, line_id).await?;
    }
    let mut tx = app.db.begin_write().await?;
    let moved = occupy_in(&mut tx, line_id, amount_fen, reference, &actor.trail_name(), app.today()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(moved)
}
