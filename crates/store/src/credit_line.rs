//! Credit lines and their occupations (migration 0011). The invariant `0 <= used_fen <= limit_fen` is
//! kept by conditional updates — the comparison and the change are one statement — and backed by a
//! CHECK constraint.

use jiff::civil::Date;
use lianrong_domain::credit_line::LineKind;
use lianrong_domain::page::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, decode, decode_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub id: String,
    pub bank_org_id: String,
    pub borrower_org_id: String,
    pub kind: LineKind,
    pub limit_fen: i64,
    pub used_fen: i64,
    pub valid_from: Date,
    pub valid_until: Date,
    pub granted_by: String,
    pub granted_at_ms: i64,
}

const COLUMNS: &str =
    "id, bank_org_id, borrower_org_id, kind, limit_fen, used_fen, valid_from, valid_until, granted_by, granted_at_ms";

fn from_row(r: &AnyRow) -> Result<LineRow> {
    Ok(LineRow {
        id: r.try_get("id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        borrower_org_id: r.try_get("borrower_org_id")?,
        kind: decode("credit_line.kind", r.try_get("kind")?, LineKind::parse)?,
        limit_fen: r.try_get("limit_fen")?,
        used_fen: r.try_get("used_fen")?,
        valid_from: decode_date("credit_line.valid_from", r.try_get("valid_from")?)?,
        valid_until: decode_date("credit_line.valid_until", r.try_get("valid_until")?)?,
        granted_by: r.try_get("granted_by")?,
        granted_at_ms: r.try_get("granted_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, l: &LineRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO credit_line ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(l.id.clone())
    .bind(l.bank_org_id.clone())
    .bind(l.borrower_org_id.clone())
    .bind(l.kind.code())
    .bind(l.limit_fen)
    .bind(l.used_fen)
    .bind(l.valid_from.to_string())
    .bind(l.valid_until.to_string())
    .bind(l.granted_by.clone())
    .bind(l.granted_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Who may read lines: the operator and regulator all; a bank the lines it granted; a borrower its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineScope {
    All,
    Party { org_id: String },
}

fn scope_binds(scope: &LineScope) -> (i64, String) {
    match scope {
        LineScope::All => (1, String::new()),
        LineScope::Party { org_id } => (0, org_id.clone()),
    }
}

pub async fn get(conn: &mut Conn, scope: &LineScope, id: &str) -> Result<LineRow> {
    let (all, org) = scope_binds(scope);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credit_line WHERE id = $1 AND ($2 = 1 OR bank_org_id = $3 OR borrower_org_id = $3)"
    )))
    .bind(id.to_string())
    .bind(all)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn list(conn: &mut Conn, scope: &LineScope, page: PageRequest) -> Result<Page<LineRow>> {
    let (all, org) = scope_binds(scope);
    let filter = "($1 = 1 OR bank_org_id = $2 OR borrower_org_id = $2)";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM credit_line WHERE {filter}")))
        .bind(all)
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credit_line WHERE {filter} ORDER BY granted_at_ms DESC, id LIMIT $3 OFFSET $4"
    )))
    .bind(all)
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// Which way an event moves the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Occupy,
    Release,
}

impl Direction {
    fn code(self) -> &'static str {
        match self {
            Direction::Occupy => "occupy",
            Direction::Release => "release",
        }
    }
}

/// Moves `amount_fen` on the line in one conditional statement: an occupation only while it fits under
/// the limit, a release only while that much is in use. Answers whether it moved (false: it did not fit).
pub async fn apply(conn: &mut Conn, line_id: &str, direction: Direction, amount_fen: i64) -> Result<bool> {
    let sql = match direction {
        Direction::Occupy => {
            "UPDATE credit_line SET used_fen = used_fen + $1 WHERE id = $2 AND used_fen + $1 <= limit_fen"
        }
        Direction::Release => "UPDATE credit_line SET used_fen = used_fen - $1 WHERE id = $2 AND used_fen >= $1",
    };
    let done =
        sqlx::query(sql).bind(amount_fen).bind(line_id.to_string()).execute(&mut *conn).await.map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// One occupation or release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: String,
    pub line_id: String,
    pub direction: Direction,
    pub amount_fen: i64,
    /// What it is for (a commitment, a loan); with the line and direction, what makes a retry recognised.
    pub reference: String,
    pub at_ms: i64,
    pub by: String,
}

/// Records an occupation or release; a second one with the same line, reference and direction is a
/// `StoreError::Conflict` (the caller's retry).
pub async fn insert_event(conn: &mut Conn, e: &EventRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO credit_line_event (id, line_id, direction, amount_fen, reference, at_ms, by_login) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id.clone())
    .bind(e.line_id.clone())
    .bind(e.direction.code())
    .bind(e.amount_fen)
    .bind(e.reference.clone())
    .bind(e.at_ms)
    .bind(e.by.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// The sum of occupations less releases recorded for a line (equal to `used_fen`: checked by callers).
pub async fn event_balance(conn: &mut Conn, line_id: &str) -> Result<i64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(CASE WHEN direction = 'occupy' THEN amount_fen ELSE -amount_fen END) AS BIGINT) \
         FROM credit_line_event WHERE line_id = $1",
    )
    .bind(line_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n.unwrap_or(0))
}

/// Whether a movement with this line, reference and direction was already recorded (a retry).
pub async fn event_exists(conn: &mut Conn, line_id: &str, reference: &str, direction: Direction) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM credit_line_event WHERE line_id = $1 AND reference = $2 AND direction = $3",
    )
    .bind(line_id.to_string())
    .bind(reference.to_string())
    .bind(direction.code())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}
