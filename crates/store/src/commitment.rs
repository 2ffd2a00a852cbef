//! Digital payment commitments (migration 0012): the commitment, its parts, its transfers and what
//! backs them. A part changes only in state, and only by a conditional update from the state it was read
//! in, so two requests racing to spend one part cannot both succeed — on either database.

use jiff::civil::Date;
use lianrong_domain::commitment::{CommitmentState, Part, PartState, Request, TransferKind, TransferState};
use lianrong_domain::page::{Page, PageRequest};
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::dialect::placeholder;
use crate::dialect::placeholders;
use crate::{Conn, Result, StoreError, decode, decode_date, decode_json, decode_opt_date, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentRow {
    pub id: String,
    pub issuer_org_id: String,
    pub first_holder_org_id: String,
    pub bank_org_id: String,
    pub credit_line_id: String,
    pub face_fen: i64,
    pub settled_fen: i64,
    pub issue_date: Date,
    pub maturity_date: Date,
    pub latest_due_date: Option<Date>,
    pub beyond_principle_days: Option<i64>,
    /// `outstanding` until settled, then `settled`.
    pub state: CommitmentState,
    pub issued_by: String,
    pub issued_at_ms: i64,
    pub log_leaf_id: Option<i64>,
    pub settlement_reference: Option<String>,
    pub settled_at_ms: Option<i64>,
}

const COLUMNS: &str = "id, issuer_org_id, first_holder_org_id, bank_org_id, credit_line_id, face_fen, settled_fen, \
    issue_date, maturity_date, latest_due_date, beyond_principle_days, state, issued_by, issued_at_ms, log_leaf_id, \
    settlement_reference, settled_at_ms";

fn commitment_row(r: &AnyRow) -> Result<CommitmentRow> {
    Ok(CommitmentRow {
        id: r.try_get("id")?,
        issuer_org_id: r.try_get("issuer_org_id")?,
        first_holder_org_id: r.try_get("first_holder_org_id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        credit_line_id: r.try_get("credit_line_id")?,
        face_fen: r.try_get("face_fen")?,
        settled_fen: r.try_get("settled_fen")?,
        issue_date: decode_date("commitment.issue_date", r.try_get("issue_date")?)?,
        maturity_date: decode_date("commitment.maturity_date", r.try_get("maturity_date")?)?,
        latest_due_date: decode_opt_date("commitment.latest_due_date", r.try_get("latest_due_date")?)?,
        beyond_principle_days: r.try_get("beyond_principle_days")?,
        state: decode("commitment.state", r.try_get("state")?, CommitmentState::parse)?,
        issued_by: r.try_get("issued_by")?,
        issued_at_ms: r.try_get("issued_at_ms")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
        settlement_reference: r.try_get("settlement_reference")?,
        settled_at_ms: r.try_get("settled_at_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, c: &CommitmentRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO commitment ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17)"
    )))
    .bind(c.id.clone())
    .bind(c.issuer_org_id.clone())
    .bind(c.first_holder_org_id.clone())
    .bind(c.bank_org_id.clone())
    .bind(c.credit_line_id.clone())
    .bind(c.face_fen)
    .bind(c.settled_fen)
    .bind(c.issue_date.to_string())
    .bind(c.maturity_date.to_string())
    .bind(c.latest_due_date.map(|d| d.to_string()))
    .bind(c.beyond_principle_days)
    .bind(c.state.code())
    .bind(c.issued_by.clone())
    .bind(c.issued_at_ms)
    .bind(c.log_leaf_id)
    .bind(c.settlement_reference.clone())
    .bind(c.settled_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn set_log_leaf_id(conn: &mut Conn, id: &str, log_leaf_id: u64) -> Result<()> {
    sqlx::query("UPDATE commitment SET log_leaf_id = $1 WHERE id = $2")
        .bind(log_leaf_id as i64)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks the commitment settled, once: answers false when it already was.
pub async fn set_settled(conn: &mut Conn, id: &str, settled_fen: i64, reference: &str, at_ms: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE commitment SET state = 'settled', settled_fen = $1, settlement_reference = $2, settled_at_ms = $3 \
         WHERE id = $4 AND state = 'outstanding'",
    )
    .bind(settled_fen)
    .bind(reference.to_string())
    .bind(at_ms)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// Who may see a commitment: the operator and regulator all; otherwise its issuer, its bank, and every
/// organisation that holds or ever held a part of it or was offered one (a discount's bank); what a
/// holder sees inside is narrowed by the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitmentScope {
    All,
    Party { org_id: String },
}

fn scope_binds(scope: &CommitmentScope) -> (i64, String) {
    match scope {
        CommitmentScope::All => (1, String::new()),
        CommitmentScope::Party { org_id } => (0, org_id.clone()),
    }
}

const VISIBLE: &str = "($1 = 1 OR c.issuer_org_id = $2 OR c.bank_org_id = $2 OR EXISTS (SELECT 1 FROM \
    commitment_part p WHERE p.commitment_id = c.id AND p.holder_org_id = $2) OR EXISTS (SELECT 1 FROM \
    commitment_transfer t WHERE t.commitment_id = c.id AND t.counterparty_org_id = $2))";

/// The commitment itself, unscoped: for use cases that have already decided the caller may act.
pub async fn get(conn: &mut Conn, id: &str) -> Result<CommitmentRow> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM commitment WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(commitment_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn get_scoped(conn: &mut Conn, scope: &CommitmentScope, id: &str) -> Result<CommitmentRow> {
    let (all, org) = scope_binds(scope);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM commitment c WHERE {VISIBLE} AND c.id = $3",
        COLUMNS = prefixed("c")
    )))
    .bind(all)
    .bind(org)
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(commitment_row).transpose()?.ok_or(StoreError::NotFound)
}

fn prefixed(alias: &str) -> String {
    COLUMNS.split(", ").map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Which commitments a list shows, for one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every one the caller may see.
    Any,
    Issued,
    Held,
    Backed,
}

pub async fn list(
    conn: &mut Conn,
    scope: &CommitmentScope,
    role: Role,
    page: PageRequest,
) -> Result<Page<CommitmentRow>> {
    let (all, org) = scope_binds(scope);
    let filter = match role {
        Role::Any => VISIBLE.to_string(),
        Role::Issued => format!("{VISIBLE} AND c.issuer_org_id = $2"),
        Role::Backed => format!("{VISIBLE} AND c.bank_org_id = $2"),
        Role::Held => format!(
            "{VISIBLE} AND EXISTS (SELECT 1 FROM commitment_part h WHERE h.commitment_id = c.id \
             AND h.holder_org_id = $2)"
        ),
    };
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM commitment c WHERE {filter}")))
        .bind(all)
        .bind(org.clone())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM commitment c WHERE {filter} ORDER BY c.issued_at_ms DESC, c.id LIMIT $3 OFFSET $4",
        prefixed("c")
    )))
    .bind(all)
    .bind(org)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(commitment_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

// ---------------------------------------------------------------------------------------------------
// Backing

/// Claims `invoice_ids` for a commitment; an invoice already backing one is a `Conflict`.
pub async fn insert_backing(conn: &mut Conn, commitment_id: &str, invoices: &[(String, i64)]) -> Result<()> {
    for (invoice_id, outstanding_fen) in invoices {
        sqlx::query("INSERT INTO commitment_backing (invoice_id, commitment_id, outstanding_fen) VALUES ($1, $2, $3)")
            .bind(invoice_id.clone())
            .bind(commitment_id.to_string())
            .bind(*outstanding_fen)
            .execute(&mut *conn)
            .await
            .map_err(map_write)?;
    }
    Ok(())
}

/// Which of `invoice_ids` already back a commitment: (invoice id, commitment id).
pub async fn backing_of(conn: &mut Conn, invoice_ids: &[String]) -> Result<Vec<(String, String)>> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT invoice_id, commitment_id FROM commitment_backing WHERE invoice_id IN {}",
        placeholders(conn, 1, invoice_ids.len())
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in invoice_ids {
        q = q.bind(id.clone());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

pub async fn backing(conn: &mut Conn, commitment_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT invoice_id, outstanding_fen FROM commitment_backing WHERE commitment_id = $1 ORDER BY invoice_id",
    )
    .bind(commitment_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

// ---------------------------------------------------------------------------------------------------
// Parts

const PART_COLUMNS: &str = "id, holder_org_id, amount_fen, parent_id, made_by, state, spent_by";

fn part_row(r: &AnyRow) -> Result<Part> {
    Ok(Part {
        id: r.try_get("id")?,
        holder: r.try_get("holder_org_id")?,
        amount_fen: r.try_get("amount_fen")?,
        parent: r.try_get("parent_id")?,
        made_by: r.try_get("made_by")?,
        state: decode("commitment_part.state", r.try_get("state")?, PartState::parse)?,
        spent_by: r.try_get("spent_by")?,
    })
}

pub async fn insert_part(conn: &mut Conn, commitment_id: &str, p: &Part, at_ms: i64) -> Result<()> {
    insert_parts(conn, commitment_id, &[p], at_ms).await
}

/// Inserts the parts an operation made, in one statement.
pub async fn insert_parts(conn: &mut Conn, commitment_id: &str, parts: &[&Part], at_ms: i64) -> Result<()> {
    if parts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO commitment_part (commitment_id, id, holder_org_id, amount_fen, parent_id, made_by, state, \
         spent_by, created_at_ms) VALUES {}",
        crate::dialect::value_rows(conn, parts.len(), 9)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for p in parts {
        q = q
            .bind(commitment_id.to_string())
            .bind(p.id.clone())
            .bind(p.holder.clone())
            .bind(p.amount_fen)
            .bind(p.parent.clone())
            .bind(p.made_by.clone())
            .bind(p.state.code())
            .bind(p.spent_by.clone())
            .bind(at_ms);
    }
    q.execute(&mut *conn).await.map_err(map_write)?;
    Ok(())
}

pub async fn part(conn: &mut Conn, commitment_id: &str, id: &str) -> Result<Option<Part>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PART_COLUMNS} FROM commitment_part WHERE commitment_id = $1 AND id = $2"
    )))
    .bind(commitment_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(part_row).transpose()
}

pub async fn parts(conn: &mut Conn, commitment_id: &str) -> Result<Vec<Part>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PART_COLUMNS} FROM commitment_part WHERE commitment_id = $1 ORDER BY created_at_ms, id"
    )))
    .bind(commitment_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(part_row).collect()
}

/// Moves a part from the state it was read in to its new one. False when it is no longer in `from`
/// (another request spent it first): the caller refuses and rolls back.
pub async fn update_part(
    conn: &mut Conn,
    commitment_id: &str,
    part_id: &str,
    from: PartState,
    to: PartState,
    spent_by: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE commitment_part SET state = $1, spent_by = $2 WHERE commitment_id = $3 AND id = $4 AND state = $5",
    )
    .bind(to.code())
    .bind(spent_by.map(str::to_string))
    .bind(commitment_id.to_string())
    .bind(part_id.to_string())
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// The fen of the parts a transfer made (its outputs must sum to the part it spent): the parts named
/// `output_ids` that were made by `transfer_id`. Read by primary key, so the cost does not grow with the
/// number of parts the commitment has.
pub async fn made_fen(conn: &mut Conn, commitment_id: &str, transfer_id: &str, output_ids: &[String]) -> Result<i64> {
    if output_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM commitment_part WHERE id IN {} AND commitment_id = {} \
         AND made_by = {}",
        placeholders(conn, 1, output_ids.len()),
        placeholder(conn, output_ids.len() + 1),
        placeholder(conn, output_ids.len() + 2),
    );
    let mut q = sqlx::query_scalar::<_, Option<i64>>(AssertSqlSafe(sql));
    for id in output_ids {
        q = q.bind(id.clone());
    }
    let n = q.bind(commitment_id.to_string()).bind(transfer_id.to_string()).fetch_one(&mut *conn).await?;
    Ok(n.unwrap_or(0))
}

/// The fen in live (held or pending) parts of a commitment.
pub async fn live_fen(conn: &mut Conn, commitment_id: &str) -> Result<i64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM commitment_part WHERE commitment_id = $1 \
         AND state IN ('held', 'pending')",
    )
    .bind(commitment_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n.unwrap_or(0))
}

/// One held part with what it belongs to, for a holder's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub commitment: CommitmentRow,
    pub part: Part,
}

/// The parts `holder_org_id` holds now (held or pending at a bank), newest commitments first.
pub async fn holdings(conn: &mut Conn, holder_org_id: &str, limit: i64) -> Result<Vec<Holding>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {}, p.id AS part_id, p.holder_org_id, p.amount_fen, p.parent_id, p.made_by, p.state AS part_state, \
         p.spent_by FROM commitment_part p JOIN commitment c ON c.id = p.commitment_id \
         WHERE p.holder_org_id = $1 AND p.state IN ('held', 'pending') \
         ORDER BY c.maturity_date, c.id, p.id LIMIT $2",
        prefixed("c")
    )))
    .bind(holder_org_id.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Holding {
                commitment: commitment_row(r)?,
                part: Part {
                    id: r.try_get("part_id")?,
                    holder: r.try_get("holder_org_id")?,
                    amount_fen: r.try_get("amount_fen")?,
                    parent: r.try_get("parent_id")?,
                    made_by: r.try_get("made_by")?,
                    state: decode("commitment_part.state", r.try_get("part_state")?, PartState::parse)?,
                    spent_by: r.try_get("spent_by")?,
                },
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Transfers

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub commitment_id: String,
    pub id: String,
    pub kind: TransferKind,
    pub state: TransferState,
    pub actor_org_id: String,
    pub by_login: String,
    pub request: Request,
    pub input_part_id: Option<String>,
    /// The parts the transfer made.
    pub outputs: Vec<String>,
    /// What settlement paid: (part id, holder, fen).
    pub payouts: Vec<(String, String, i64)>,
    /// The recipient of a transfer, the bank of a discount.
    pub counterparty_org_id: Option<String>,
    pub at_ms: i64,
    pub log_leaf_id: Option<i64>,
}

/// A request as stored JSON: compared when a transfer id comes again, and named in the transfer's log
/// leaf (so the shape is fixed: sorted keys, `op` naming the operation).
pub fn request_json(r: &Request) -> Value {
    match r {
        Request::Split { part_id, amounts_fen } => {
            json!({"op": "split", "part_id": part_id, "amounts_fen": amounts_fen})
        }
        Request::Transfer { part_id, to, amount_fen } => {
            json!({"op": "transfer", "part_id": part_id, "to": to, "amount_fen": amount_fen})
        }
        Request::Discount { part_id, bank, amount_fen } => {
            json!({"op": "discount", "part_id": part_id, "bank": bank, "amount_fen": amount_fen})
        }
        Request::Post { transfer_id } => json!({"op": "post", "transfer_id": transfer_id}),
        Request::Void { transfer_id } => json!({"op": "void", "transfer_id": transfer_id}),
        Request::Settle => json!({"op": "settle"}),
    }
}

fn request_from_json(v: &Value) -> Option<Request> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| v.get(k).and_then(Value::as_i64);
    Some(match v.get("op")?.as_str()? {
        "split" => Request::Split {
            part_id: s("part_id")?,
            amounts_fen: v.get("amounts_fen")?.as_array()?.iter().map(Value::as_i64).collect::<Option<_>>()?,
        },
        "transfer" => Request::Transfer { part_id: s("part_id")?, to: s("to")?, amount_fen: n("amount_fen")? },
        "discount" => Request::Discount { part_id: s("part_id")?, bank: s("bank")?, amount_fen: n("amount_fen")? },
        "post" => Request::Post { transfer_id: s("transfer_id")? },
        "void" => Request::Void { transfer_id: s("transfer_id")? },
        "settle" => Request::Settle,
        _ => return None,
    })
}

const TRANSFER_COLUMNS: &str = "commitment_id, id, kind, state, actor_org_id, by_login, request, input_part_id, \
    outputs, payouts, counterparty_org_id, at_ms, log_leaf_id";

fn transfer_row(r: &AnyRow) -> Result<TransferRow> {
    Ok(TransferRow {
        commitment_id: r.try_get("commitment_id")?,
        id: r.try_get("id")?,
        kind: decode("commitment_transfer.kind", r.try_get("kind")?, TransferKind::parse)?,
        state: decode("commitment_transfer.state", r.try_get("state")?, TransferState::parse)?,
        actor_org_id: r.try_get("actor_org_id")?,
        by_login: r.try_get("by_login")?,
        request: decode_json("commitment_transfer.request", r.try_get("request")?, request_from_json)?,
        input_part_id: r.try_get("input_part_id")?,
        outputs: decode_json("commitment_transfer.outputs", r.try_get("outputs")?, |v| {
            serde_json::from_value(v.clone()).ok()
        })?,
        payouts: decode_json("commitment_transfer.payouts", r.try_get("payouts")?, |v| {
            serde_json::from_value(v.clone()).ok()
        })?,
        counterparty_org_id: r.try_get("counterparty_org_id")?,
        at_ms: r.try_get("at_ms")?,
        log_leaf_id: r.try_get("log_leaf_id")?,
    })
}

/// Records a transfer; its id already used on this commitment is a `Conflict` (a concurrent retry).
pub async fn insert_transfer(conn: &mut Conn, t: &TransferRow) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO commitment_transfer ({TRANSFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13)"
    )))
    .bind(t.commitment_id.clone())
    .bind(t.id.clone())
    .bind(t.kind.code())
    .bind(t.state.code())
    .bind(t.actor_org_id.clone())
    .bind(t.by_login.clone())
    .bind(request_json(&t.request).to_string())
    .bind(t.input_part_id.clone())
    .bind(json!(t.outputs).to_string())
    .bind(json!(t.payouts).to_string())
    .bind(t.counterparty_org_id.clone())
    .bind(t.at_ms)
    .bind(t.log_leaf_id)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn transfer(conn: &mut Conn, commitment_id: &str, id: &str) -> Result<Option<TransferRow>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TRANSFER_COLUMNS} FROM commitment_transfer WHERE commitment_id = $1 AND id = $2"
    )))
    .bind(commitment_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(transfer_row).transpose()
}

pub async fn transfers(conn: &mut Conn, commitment_id: &str) -> Result<Vec<TransferRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TRANSFER_COLUMNS} FROM commitment_transfer WHERE commitment_id = $1 ORDER BY at_ms, id"
    )))
    .bind(commitment_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(transfer_row).collect()
}

/// Moves a pending discount to posted or voided, once.
pub async fn resolve_transfer(conn: &mut Conn, commitment_id: &str, id: &str, to: TransferState) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE commitment_transfer SET state = $1 WHERE commitment_id = $2 AND id = $3 AND state = 'pending'",
    )
    .bind(to.code())
    .bind(commitment_id.to_string())
    .bind(id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_transfer_log_leaf_id(conn: &mut Conn, commitment_id: &str, id: &str, log_leaf_id: u64) -> Result<()> {
    sqlx::query("UPDATE commitment_transfer SET log_leaf_id = $1 WHERE commitment_id = $2 AND id = $3")
        .bind(log_leaf_id as i64)
        .bind(commitment_id.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Discounts waiting for `bank_org_id` to post or void them, oldest first.
pub async fn pending_for_bank(conn: &mut Conn, bank_org_id: &str, limit: i64) -> Result<Vec<TransferRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TRANSFER_COLUMNS} FROM commitment_transfer WHERE counterparty_org_id = $1 AND kind = 'discount' \
         AND state = 'pending' ORDER BY at_ms, id LIMIT $2"
    )))
    .bind(bank_org_id.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(transfer_row).collect()
}

// ---------------------------------------------------------------------------------------------------
// Basis: the verified trade a transfer pays

pub async fn insert_basis(
    conn: &mut Conn,
    commitment_id: &str,
    transfer_id: &str,
    allocations: &[(String, i64)],
) -> Result<()> {
    if allocations.is_empty() {
        return Ok(());
    }
    // A transfer names at most a few dozen invoices: one statement.
    let sql = format!(
        "INSERT INTO commitment_basis (commitment_id, transfer_id, invoice_id, amount_fen) VALUES {}",
        crate::dialect::value_rows(conn, allocations.len(), 4)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (invoice_id, amount_fen) in allocations {
        q = q.bind(commitment_id.to_string()).bind(transfer_id.to_string()).bind(invoice_id.clone()).bind(*amount_fen);
    }
    q.execute(&mut *conn).await.map_err(map_write)?;
    Ok(())
}

pub async fn basis(conn: &mut Conn, commitment_id: &str, transfer_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT invoice_id, amount_fen FROM commitment_basis WHERE commitment_id = $1 AND transfer_id = $2 \
         ORDER BY invoice_id",
    )
    .bind(commitment_id.to_string())
    .bind(transfer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// One person's approval of a pending discount above the four-eyes threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountApproval {
    pub user_id: String,
    pub approver: String,
    pub at_ms: i64,
}

/// The approvals recorded for a pending discount, oldest first.
pub async fn discount_approvals(
    conn: &mut Conn,
    commitment_id: &str,
    transfer_id: &str,
) -> Result<Vec<DiscountApproval>> {
    let rows = sqlx::query(
        "SELECT user_id, approver, at_ms FROM discount_approval WHERE commitment_id = $1 AND transfer_id = $2 \
         ORDER BY at_ms, user_id",
    )
    .bind(commitment_id.to_string())
    .bind(transfer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok(DiscountApproval { user_id: r.try_get(0)?, approver: r.try_get(1)?, at_ms: r.try_get(2)? }))
        .collect()
}

pub async fn insert_discount_approval(
    conn: &mut Conn,
    commitment_id: &str,
    transfer_id: &str,
    a: &DiscountApproval,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO discount_approval (commitment_id, transfer_id, user_id, approver, at_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(commitment_id.to_string())
    .bind(transfer_id.to_string())
    .bind(a.user_id.clone())
    .bind(a.approver.clone())
    .bind(a.at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

/// Locks the verdicts of `invoice_ids` until the transaction ends, so that two transfers cannot both
/// use the same invoice's last fen as their basis. SQLite's write transaction already runs alone.
/// What a transfer decides its trade basis on, for each named invoice that has a verdict, in one read:
/// the invoice's four-flow facts and the fen of it that transfers have already used. On PostgreSQL the
/// verdicts are locked (in invoice order, so two transfers naming the same invoices cannot deadlock)
/// until the transfer commits, so that two transfers cannot both spend the same room; SQLite's writers
/// take turns already.
pub async fn basis_room(
    conn: &mut Conn,
    invoice_ids: &[String],
) -> Result<Vec<(crate::registration::InvoiceFacts, i64)>> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    let lock = if crate::is_sqlite(conn) { "" } else { " FOR UPDATE OF v" };
    let sql = format!(
        "SELECT v.invoice_id, t.doc_no, v.seller_uscc, v.buyer_uscc, v.status, v.outstanding_fen, v.invoiced_fen, \
         v.due_date, CAST(COALESCE((SELECT SUM(b.amount_fen) FROM commitment_basis b WHERE b.invoice_id = \
         v.invoice_id), 0) AS BIGINT) AS used_fen FROM verification v JOIN trade_record t ON t.id = v.invoice_id \
         WHERE v.invoice_id IN {} ORDER BY v.invoice_id{lock}",
        placeholders(conn, 1, invoice_ids.len())
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in invoice_ids {
        q = q.bind(id.clone());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let facts = crate::registration::InvoiceFacts {
                invoice_id: r.try_get("invoice_id")?,
                invoice_no: r.try_get("doc_no")?,
                seller_uscc: r.try_get("seller_uscc")?,
                buyer_uscc: r.try_get("buyer_uscc")?,
                status: r.try_get("status")?,
                outstanding_fen: r.try_get("outstanding_fen")?,
                invoiced_fen: r.try_get("invoiced_fen")?,
                due_date: r.try_get("due_date")?,
            };
            Ok((facts, r.try_get("used_fen")?))
        })
        .collect()
}

pub async fn lock_invoices(conn: &mut Conn, invoice_ids: &[String]) -> Result<()> {
    if invoice_ids.is_empty() || crate::is_sqlite(conn) {
        return Ok(());
    }
    let sql = format!(
        "SELECT invoice_id FROM verification WHERE invoice_id IN {} ORDER BY invoice_id FOR UPDATE",
        placeholders(conn, 1, invoice_ids.len())
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in invoice_ids {
        q = q.bind(id.clone());
    }
    q.fetch_all(&mut *conn).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Programme statistics

/// Commitment figures for one chain and one supplier tier, for the operator's financing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTierFigures {
    pub chain_id: String,
    pub chain_name: String,
    /// The supplier's tier in the chain; `None` for holders outside it.
    pub tier: Option<i64>,
    /// Suppliers of this tier that received a part by issue or transfer.
    pub holders: i64,
    /// Fen they received by issue or transfer (splits and change move nothing between holders).
    pub received_fen: i64,
    /// Fen they hold now.
    pub held_fen: i64,
    /// Fen they discounted at banks (posted): financing they obtained from their parts.
    pub discounted_fen: i64,
}

/// Per chain (the chain of which the issuer is a core) and supplier tier. A discounted part (now the
/// bank's) counts under the tier of the supplier that discounted it.
pub async fn figures_by_chain_tier(conn: &mut Conn) -> Result<Vec<ChainTierFigures>> {
    let rows = sqlx::query(
        "SELECT chain_id, chain_name, tier, \
           COUNT(DISTINCT CASE WHEN received = 1 THEN holder END) AS holders, \
           CAST(COALESCE(SUM(CASE WHEN received = 1 THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS received_fen, \
           CAST(COALESCE(SUM(CASE WHEN bank_part = 0 AND state = 'held' THEN amount_fen ELSE 0 END), 0) AS BIGINT) \
             AS held_fen, \
           CAST(COALESCE(SUM(CASE WHEN bank_part = 1 THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS discounted_fen \
         FROM (SELECT ch.id AS chain_id, ch.name AS chain_name, p.holder_org_id AS holder, p.amount_fen, p.state, \
             CASE WHEN t.kind = 'discount' AND p.holder_org_id = t.counterparty_org_id THEN 1 ELSE 0 END AS bank_part, \
             CASE WHEN p.made_by IS NULL OR (t.kind = 'transfer' AND p.holder_org_id = t.counterparty_org_id) \
               THEN 1 ELSE 0 END AS received, \
             CASE WHEN t.kind = 'discount' AND p.holder_org_id = t.counterparty_org_id THEN d.tier ELSE h.tier END \
               AS tier \
           FROM commitment_part p \
           JOIN commitment c ON c.id = p.commitment_id \
           JOIN chain_member cm ON cm.org_id = c.issuer_org_id AND cm.role = 'core' \
           JOIN chain ch ON ch.id = cm.chain_id \
           LEFT JOIN commitment_transfer t ON t.commitment_id = p.commitment_id AND t.id = p.made_by \
           LEFT JOIN chain_member h ON h.chain_id = cm.chain_id AND h.org_id = p.holder_org_id AND h.role = 'supplier' \
           LEFT JOIN chain_member d ON d.chain_id = cm.chain_id AND d.org_id = t.actor_org_id AND d.role = 'supplier' \
         ) x GROUP BY chain_id, chain_name, tier ORDER BY chain_name, tier",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChainTierFigures {
                chain_id: r.try_get("chain_id")?,
                chain_name: r.try_get("chain_name")?,
                tier: r.try_get("tier")?,
                holders: r.try_get("holders")?,
                received_fen: r.try_get("received_fen")?,
                held_fen: r.try_get("held_fen")?,
                discounted_fen: r.try_get("discounted_fen")?,
            })
        })
        .collect()
}
