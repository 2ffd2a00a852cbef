//! Canonical trade records (the data standard's orders, deliveries, invoices, payments and credit
//! notes), their earlier versions, and the curated-zone partition bookkeeping.

use lianrong_domain::page::{KeyedPage, Seek};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::keyset::{self, KeyColumn, KeyedList};
use crate::{Conn, Result, StoreError, map_write};

/// One current version of a record, as stored. References are comma-joined document numbers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TradeRow {
    pub id: String,
    pub record_type: String,
    pub natural_key: String,
    pub version: i64,
    pub content_sm3: String,
    pub doc_no: String,
    pub invoice_code: String,
    pub doc_date: String,
    pub month: String,
    pub buyer_uscc: String,
    pub buyer_name: Option<String>,
    pub seller_uscc: String,
    pub seller_name: Option<String>,
    pub currency: String,
    pub total_fen: i64,
    pub tax_fen: Option<i64>,
    pub net_fen: Option<i64>,
    pub term_days: Option<i64>,
    pub term_basis: Option<String>,
    pub invoice_kind: Option<String>,
    /// Versions kept before the column existed decode without it.
    #[serde(default)]
    pub invoice_status: Option<String>,
    pub acceptance_status: Option<String>,
    pub accepted_date: Option<String>,
    pub payment_method: Option<String>,
    pub payee_account_sm3: Option<String>,
    pub payee_account_last4: Option<String>,
    pub order_refs: String,
    pub delivery_refs: String,
    pub invoice_refs: String,
    pub remarks: Option<String>,
    pub chain_id: String,
    pub submission_id: String,
    pub channel: String,
    pub file_name: String,
    pub row_no: i64,
    pub submitter_org_id: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "id, record_type, natural_key, version, content_sm3, doc_no, invoice_code, doc_date, month, \
    buyer_uscc, buyer_name, seller_uscc, seller_name, currency, total_fen, tax_fen, net_fen, term_days, term_basis, \
    invoice_kind, acceptance_status, accepted_date, payment_method, payee_account_sm3, payee_account_last4, \
    order_refs, delivery_refs, invoice_refs, remarks, chain_id, submission_id, channel, file_name, row_no, \
    submitter_org_id, created_at_ms, updated_at_ms, invoice_status";
const COLUMN_COUNT: usize = 38;

/// Rows per multi-row INSERT: 38 binds each stays well under SQLite's 32,766 and PostgreSQL's 65,535.
pub const INSERT_BATCH_ROWS_MAX: usize = 400;
/// Keys per lookup of existing records.
pub const LOOKUP_BATCH_KEYS_MAX: usize = 500;

fn from_row(r: &AnyRow) -> Result<TradeRow> {
    Ok(TradeRow {
        id: r.try_get("id")?,
        record_type: r.try_get("record_type")?,
        natural_key: r.try_get("natural_key")?,
        version: r.try_get("version")?,
        content_sm3: r.try_get("content_sm3")?,
        doc_no: r.try_get("doc_no")?,
        invoice_code: r.try_get("invoice_code")?,
        doc_date: r.try_get("doc_date")?,
        month: r.try_get("month")?,
        buyer_uscc: r.try_get("buyer_uscc")?,
        buyer_name: r.try_get("buyer_name")?,
        seller_uscc: r.try_get("seller_uscc")?,
        seller_name: r.try_get("seller_name")?,
        currency: r.try_get("currency")?,
        total_fen: r.try_get("total_fen")?,
        tax_fen: r.try_get("tax_fen")?,
        net_fen: r.try_get("net_fen")?,
        term_days: r.try_get("term_days")?,
        term_basis: r.try_get("term_basis")?,
        invoice_kind: r.try_get("invoice_kind")?,
        invoice_status: r.try_get("invoice_status")?,
        acceptance_status: r.try_get("acceptance_status")?,
        accepted_date: r.try_get("accepted_date")?,
        payment_method: r.try_get("payment_method")?,
        payee_account_sm3: r.try_get("payee_account_sm3")?,
        payee_account_last4: r.try_get("payee_account_last4")?,
        order_refs: r.try_get("order_refs")?,
        delivery_refs: r.try_get("delivery_refs")?,
        invoice_refs: r.try_get("invoice_refs")?,
        remarks: r.try_get("remarks")?,
        chain_id: r.try_get("chain_id")?,
        submission_id: r.try_get("submission_id")?,
        channel: r.try_get("channel")?,
        file_name: r.try_get("file_name")?,
        row_no: r.try_get("row_no")?,
        submitter_org_id: r.try_get("submitter_org_id")?,
        created_at_ms: r.try_get("created_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

use crate::dialect::placeholders;

macro_rules! bind_row {
    ($q:expr, $r:expr) => {
        $q.bind($r.id.clone())
            .bind($r.record_type.clone())
            .bind($r.natural_key.clone())
            .bind($r.version)
            .bind($r.content_sm3.clone())
            .bind($r.doc_no.clone())
            .bind($r.invoice_code.clone())
            .bind($r.doc_date.clone())
            .bind($r.month.clone())
            .bind($r.buyer_uscc.clone())
            .bind($r.buyer_name.clone())
            .bind($r.seller_uscc.clone())
            .bind($r.seller_name.clone())
            .bind($r.currency.clone())
            .bind($r.total_fen)
            .bind($r.tax_fen)
            .bind($r.net_fen)
            .bind($r.term_days)
            .bind($r.term_basis.clone())
            .bind($r.invoice_kind.clone())
            .bind($r.acceptance_status.clone())
            .bind($r.accepted_date.clone())
            .bind($r.payment_method.clone())
            .bind($r.payee_account_sm3.clone())
            .bind($r.payee_account_last4.clone())
            .bind($r.order_refs.clone())
            .bind($r.delivery_refs.clone())
            .bind($r.invoice_refs.clone())
            .bind($r.remarks.clone())
            .bind($r.chain_id.clone())
            .bind($r.submission_id.clone())
            .bind($r.channel.clone())
            .bind($r.file_name.clone())
            .bind($r.row_no)
            .bind($r.submitter_org_id.clone())
            .bind($r.created_at_ms)
            .bind($r.updated_at_ms)
            .bind($r.invoice_status.clone())
    };
}

/// Inserts new records, many per statement. A natural key already present is a conflict (the caller
/// looked them up first in the same transaction).
pub async fn insert_batch(conn: &mut Conn, rows: &[TradeRow]) -> Result<()> {
    for chunk in rows.chunks(INSERT_BATCH_ROWS_MAX) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| placeholders(conn, i * COLUMN_COUNT + 1, COLUMN_COUNT)).collect();
        let sql = format!("INSERT INTO trade_record ({COLUMNS}) VALUES {}", values.join(", "));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = bind_row!(q, r);
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

/// What the lake already holds under a natural key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub natural_key: String,
    pub id: String,
    pub version: i64,
    pub content_sm3: String,
    pub submission_id: String,
    pub file_name: String,
    pub row_no: i64,
    pub month: String,
    pub chain_id: String,
}

/// Looks up the records held under these natural keys (at most [`LOOKUP_BATCH_KEYS_MAX`] per query).
pub async fn existing(conn: &mut Conn, keys: &[&str]) -> Result<Vec<Existing>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(LOOKUP_BATCH_KEYS_MAX) {
        let sql = format!(
            "SELECT {EXISTING_COLUMNS} FROM trade_record WHERE natural_key IN {}",
            placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in chunk {
            q = q.bind(k.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(existing_of(&r)?);
        }
    }
    Ok(out)
}

const EXISTING_COLUMNS: &str =
    "natural_key, id, version, content_sm3, submission_id, file_name, row_no, month, chain_id";

fn existing_of(r: &AnyRow) -> Result<Existing> {
    Ok(Existing {
        natural_key: r.try_get("natural_key")?,
        id: r.try_get("id")?,
        version: r.try_get("version")?,
        content_sm3: r.try_get("content_sm3")?,
        submission_id: r.try_get("submission_id")?,
        file_name: r.try_get("file_name")?,
        row_no: r.try_get("row_no")?,
        month: r.try_get("month")?,
        chain_id: r.try_get("chain_id")?,
    })
}

/// Replaces a record with a new version, keeping the old one in the history.
pub async fn supersede(conn: &mut Conn, new: &TradeRow, now_ms: i64) -> Result<()> {
    let old = get_unscoped(conn, &new.id).await?;
    if old.version + 1 != new.version {
        return Err(StoreError::Conflict { constraint: "trade_record.version".into() });
    }
    let data = serde_json::to_string(&old)
        .map_err(|e| StoreError::Corrupt { column: "trade_record", value: e.to_string() })?;
    sqlx::query(
        "INSERT INTO trade_record_version (record_id, version, content_sm3, data, submission_id, row_no, channel, \
         superseded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(old.id.clone())
    .bind(old.version)
    .bind(old.content_sm3.clone())
    .bind(data)
    .bind(old.submission_id.clone())
    .bind(old.row_no)
    .bind(old.channel.clone())
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    // Every column but id and created_at_ms takes the new version's value; the version guard makes a
    // concurrent change of the same record fail rather than be lost.
    let names: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
    let sets: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !matches!(**n, "id" | "created_at_ms"))
        .map(|(i, n)| format!("{n} = ${}", i + 1))
        .collect();
    let sql = format!("UPDATE trade_record SET {} WHERE id = $1 AND version = ${}", sets.join(", "), COLUMN_COUNT + 1);
    let mut q = sqlx::query(AssertSqlSafe(sql));
    q = bind_row!(q, new);
    let done = q.bind(old.version).execute(&mut *conn).await.map_err(map_write)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict { constraint: "trade_record.version".into() });
    }
    Ok(())
}

/// The current version of each of these records, for a writer that compares a restatement with what it
/// replaces (no scope: the caller holds the records' ids from its own statements' natural keys).
pub async fn current(conn: &mut Conn, ids: &[&str]) -> Result<Vec<TradeRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_BATCH_KEYS_MAX) {
        let sql = format!("SELECT {COLUMNS} FROM trade_record WHERE id IN {}", placeholders(conn, 1, chunk.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(from_row(&r)?);
        }
    }
    Ok(out)
}

async fn get_unscoped(conn: &mut Conn, id: &str) -> Result<TradeRow> {
    let r = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM trade_record WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// Which records a query may return: a record is visible to its two parties (by credit code).
#[derive(Debug, Clone)]
pub enum TradeScope {
    /// The operator as the lake's custodian (each read audited by the app).
    All,
    Party {
        uscc: String,
    },
}

fn scope_binds(scope: &TradeScope) -> (i64, String) {
    match scope {
        TradeScope::All => (1, String::new()),
        TradeScope::Party { uscc } => (0, uscc.clone()),
    }
}

#[derive(Debug, Clone, Default)]
pub struct TradeFilter {
    pub record_type: Option<String>,
    pub submission_id: Option<String>,
    pub doc_no: Option<String>,
}

/// The records the scope may read that pass the filter, newest document date first, paged by key: a
/// party's records are read as seller, then as buyer but not seller, each through its own index.
pub async fn list(
    conn: &mut Conn,
    scope: &TradeScope,
    filter: &TradeFilter,
    seek: &Seek,
) -> Result<KeyedPage<TradeRow>> {
    let mut binds = Vec::new();
    let arms = match scope {
        TradeScope::All => vec!["1 = 1"],
        TradeScope::Party { uscc } => {
            binds.push(uscc.clone());
            vec!["seller_uscc = $1", "buyer_uscc = $1 AND seller_uscc <> $1"]
        }
    };
    // Only the filters given are written into the query: an unfiltered count then reads the party's
    // index alone, where a condition on another column would visit every record's row.
    let mut conditions = Vec::new();
    for (column, value) in
        [("record_type", &filter.record_type), ("submission_id", &filter.submission_id), ("doc_no", &filter.doc_no)]
    {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            binds.push(v.clone());
            conditions.push(format!("{column} = ${}", binds.len()));
        }
    }
    let filter_sql = if conditions.is_empty() { "1 = 1".to_string() } else { conditions.join(" AND ") };
    let list = KeyedList {
        from: "trade_record",
        columns: COLUMNS,
        key: &[KeyColumn::Text("doc_date"), KeyColumn::Text("id")],
        descending: true,
        arms,
        filter: &filter_sql,
        binds,
    };
    keyset::fetch(conn, &list, seek, from_row).await
}

pub async fn get(conn: &mut Conn, scope: &TradeScope, id: &str) -> Result<TradeRow> {
    let (all, uscc) = scope_binds(scope);
    let r = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM trade_record WHERE id = $3 AND ($1 = 1 OR buyer_uscc = $2 OR seller_uscc = $2)"
    )))
    .bind(all)
    .bind(uscc)
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// An earlier version of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub version: i64,
    pub content_sm3: String,
    pub data: String,
    pub submission_id: String,
    pub row_no: i64,
    pub channel: String,
    pub superseded_at_ms: i64,
}

/// Earlier versions, newest first (the caller has checked the record is visible).
pub async fn versions(conn: &mut Conn, record_id: &str) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(
        "SELECT version, content_sm3, data, submission_id, row_no, channel, superseded_at_ms \
         FROM trade_record_version WHERE record_id = $1 ORDER BY version DESC",
    )
    .bind(record_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionRow {
                version: r.try_get("version")?,
                content_sm3: r.try_get("content_sm3")?,
                data: r.try_get("data")?,
                submission_id: r.try_get("submission_id")?,
                row_no: r.try_get("row_no")?,
                channel: r.try_get("channel")?,
                superseded_at_ms: r.try_get("superseded_at_ms")?,
            })
        })
        .collect()
}

/// The next `limit` current records of one curated partition after id `after_id`, in id order, so a
/// partition of any size is read in bounded chunks.
pub async fn partition_rows(
    conn: &mut Conn,
    record_type: &str,
    chain_id: &str,
    month: &str,
    after_id: &str,
    limit: i64,
) -> Result<Vec<TradeRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM trade_record WHERE record_type = $1 AND chain_id = $2 AND month = $3 AND id > $4 \
         ORDER BY id LIMIT $5"
    )))
    .bind(record_type.to_string())
    .bind(chain_id.to_string())
    .bind(month.to_string())
    .bind(after_id.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Count and sum of amounts per record type, for the lake's overview and for reconciling the curated zone.
pub async fn totals(conn: &mut Conn, scope: &TradeScope) -> Result<Vec<(String, i64, i64)>> {
    let (all, uscc) = scope_binds(scope);
    let rows = sqlx::query(
        "SELECT record_type, COUNT(*) AS n, CAST(COALESCE(SUM(total_fen), 0) AS BIGINT) AS total FROM trade_record \
         WHERE ($1 = 1 OR buyer_uscc = $2 OR seller_uscc = $2) GROUP BY record_type ORDER BY record_type",
    )
    .bind(all)
    .bind(uscc)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("record_type")?, r.try_get("n")?, r.try_get("total")?))).collect()
}

/// A curated partition and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRow {
    pub record_type: String,
    pub chain_id: String,
    pub month: String,
    pub changes: i64,
    pub published_changes: i64,
    pub rows_total: i64,
    pub published_at_ms: Option<i64>,
}

impl PartitionRow {
    pub fn stale(&self) -> bool {
        self.changes != self.published_changes
    }
}

/// Records, inside the submission's transaction, that it changed a partition; answers the partition's
/// change number after this change. On PostgreSQL the row stays locked until the transaction ends, so
/// change numbers follow commit order.
pub async fn touch_partition(conn: &mut Conn, record_type: &str, chain_id: &str, month: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO curated_partition (record_type, chain_id, month, changes) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (record_type, chain_id, month) DO UPDATE SET changes = curated_partition.changes + 1 \
         RETURNING changes",
    )
    .bind(record_type.to_string())
    .bind(chain_id.to_string())
    .bind(month.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

const PARTITION_COLUMNS: &str = "record_type, chain_id, month, changes, published_changes, rows_total, published_at_ms";

/// One partition's state, locked for update on PostgreSQL (SQLite's write transaction already is).
pub async fn partition_for_update(
    conn: &mut Conn,
    record_type: &str,
    chain_id: &str,
    month: &str,
) -> Result<PartitionRow> {
    let lock = crate::for_update(conn);
    let r = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PARTITION_COLUMNS} FROM curated_partition WHERE record_type = $1 AND chain_id = $2 AND month = $3{lock}"
    )))
    .bind(record_type.to_string())
    .bind(chain_id.to_string())
    .bind(month.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    partition_from_row(&r)
}

/// Partitions whose file is behind the database.
pub async fn stale_partitions(conn: &mut Conn, limit: i64) -> Result<Vec<PartitionRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PARTITION_COLUMNS} FROM curated_partition WHERE changes <> published_changes \
         ORDER BY record_type, chain_id, month LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(partition_from_row).collect()
}

fn partition_from_row(r: &AnyRow) -> Result<PartitionRow> {
    Ok(PartitionRow {
        record_type: r.try_get("record_type")?,
        chain_id: r.try_get("chain_id")?,
        month: r.try_get("month")?,
        changes: r.try_get("changes")?,
        published_changes: r.try_get("published_changes")?,
        rows_total: r.try_get("rows_total")?,
        published_at_ms: r.try_get("published_at_ms")?,
    })
}

/// Records that the partition's file now reflects change number `published_changes` with `rows_total`
/// rows (call it in the transaction that read the partition's state for update).
pub async fn mark_published(
    conn: &mut Conn,
    p: &PartitionRow,
    published_changes: i64,
    rows_total: i64,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE curated_partition SET published_changes = $4, rows_total = $5, published_at_ms = $6 \
         WHERE record_type = $1 AND chain_id = $2 AND month = $3",
    )
    .bind(p.record_type.clone())
    .bind(p.chain_id.clone())
    .bind(p.month.clone())
    .bind(published_changes)
    .bind(rows_total)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Invoiced volume and count between every buyer and seller (red invoices net against blue ones). An
/// invoice both parties shared counts once: the first statement of it, as four-flow reads it.
pub async fn invoice_edges(conn: &mut Conn) -> Result<Vec<(String, String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT buyer_uscc, seller_uscc, CAST(SUM(total_fen) AS BIGINT) AS volume, COUNT(*) AS n FROM trade_record t \
         WHERE record_type = 'invoice' AND NOT EXISTS (SELECT 1 FROM trade_record e WHERE e.buyer_uscc = t.buyer_uscc \
         AND e.seller_uscc = t.seller_uscc AND e.record_type = 'invoice' AND e.doc_no = t.doc_no \
         AND e.invoice_code = t.invoice_code AND e.id < t.id) GROUP BY buyer_uscc, seller_uscc",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("buyer_uscc")?, r.try_get("seller_uscc")?, r.try_get("volume")?, r.try_get("n")?)))
        .collect()
}

/// How a record names itself: its document number and both parties' names as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocNames {
    pub id: String,
    pub doc_no: String,
    pub buyer_name: Option<String>,
    pub seller_name: Option<String>,
}

/// The document number and the parties' names as recorded for each of these records (ids not found are
/// left out), for lists that show invoice numbers and counterparties people recognise.
pub async fn doc_nos(conn: &mut Conn, ids: &[String]) -> Result<Vec<DocNames>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let marks = placeholders(conn, 1, chunk.len());
        let sql = format!("SELECT id, doc_no, buyer_name, seller_name FROM trade_record WHERE id IN {marks}");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(DocNames {
                id: r.try_get("id")?,
                doc_no: r.try_get("doc_no")?,
                buyer_name: r.try_get("buyer_name")?,
                seller_name: r.try_get("seller_name")?,
            });
        }
    }
    Ok(out)
}

/// The records in which `seller_uscc` is the seller (its sales: orders received, deliveries, invoices
/// issued, payments received), newest first: what a data consent's raw-records category covers.
pub async fn list_sold(conn: &mut Conn, seller_uscc: &str, seek: &Seek) -> Result<KeyedPage<TradeRow>> {
    let list = KeyedList {
        from: "trade_record",
        columns: COLUMNS,
        key: &[KeyColumn::Text("doc_date"), KeyColumn::Text("id")],
        descending: true,
        arms: vec!["seller_uscc = $1"],
        filter: "1 = 1",
        binds: vec![seller_uscc.to_string()],
    };
    keyset::fetch(conn, &list, seek, from_row).await
}

/// One line of an invoice as its submitter stated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub record_id: String,
    pub line_no: i64,
    pub goods_name: String,
    pub specification: Option<String>,
    pub unit: Option<String>,
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
    pub net_fen: i64,
    pub tax_fen: Option<i64>,
    pub tax_rate: Option<String>,
    pub tax_class_code: Option<String>,
    /// The digest of the whole set of lines this one belongs to, to tell a restatement from a repeat.
    pub lines_sm3: String,
    pub submission_id: String,
    pub row_no: i64,
    pub created_at_ms: i64,
}

const LINE_COLUMNS: &str = "record_id, line_no, goods_name, specification, unit, quantity, unit_price, net_fen, \
    tax_fen, tax_rate, tax_class_code, lines_sm3, submission_id, row_no, created_at_ms";
const LINE_COLUMN_COUNT: usize = 15;

fn line_from_row(r: &AnyRow) -> Result<LineRow> {
    Ok(LineRow {
        record_id: r.try_get("record_id")?,
        line_no: r.try_get("line_no")?,
        goods_name: r.try_get("goods_name")?,
        specification: r.try_get("specification")?,
        unit: r.try_get("unit")?,
        quantity: r.try_get("quantity")?,
        unit_price: r.try_get("unit_price")?,
        net_fen: r.try_get("net_fen")?,
        tax_fen: r.try_get("tax_fen")?,
        tax_rate: r.try_get("tax_rate")?,
        tax_class_code: r.try_get("tax_class_code")?,
        lines_sm3: r.try_get("lines_sm3")?,
        submission_id: r.try_get("submission_id")?,
        row_no: r.try_get("row_no")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

/// The current lines of one record, in line order. The caller has checked that the viewer may see the
/// record.
pub async fn lines(conn: &mut Conn, record_id: &str) -> Result<Vec<LineRow>> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM trade_line WHERE record_id = $1 AND superseded_at_ms IS NULL ORDER BY line_no"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(record_id.to_string()).fetch_all(&mut *conn).await?;
    rows.iter().map(line_from_row).collect()
}

/// The digest of each record's current set of lines, for the records that have lines.
pub async fn lines_sm3(conn: &mut Conn, record_ids: &[&str]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in record_ids.chunks(LOOKUP_BATCH_KEYS_MAX) {
        let sql = format!(
            "SELECT DISTINCT record_id, lines_sm3 FROM trade_line WHERE superseded_at_ms IS NULL AND record_id IN {}",
            placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push((r.try_get(0)?, r.try_get(1)?));
        }
    }
    Ok(out)
}

/// Supersedes a record's current lines and writes its new ones (all of one record).
pub async fn replace_lines(conn: &mut Conn, record_id: &str, rows: &[LineRow], now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE trade_line SET superseded_at_ms = $1 WHERE record_id = $2 AND superseded_at_ms IS NULL")
        .bind(now_ms)
        .bind(record_id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    // 15 binds a row: 400 rows stay well under both engines' bind limits.
    for chunk in rows.chunks(INSERT_BATCH_ROWS_MAX) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| placeholders(conn, i * LINE_COLUMN_COUNT + 1, LINE_COLUMN_COUNT)).collect();
        let sql = format!("INSERT INTO trade_line ({LINE_COLUMNS}) VALUES {}", values.join(", "));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.record_id.clone())
                .bind(r.line_no)
                .bind(r.goods_name.clone())
                .bind(r.specification.clone())
                .bind(r.unit.clone())
                .bind(r.quantity.clone())
                .bind(r.unit_price.clone())
                .bind(r.net_fen)
                .bind(r.tax_fen)
                .bind(r.tax_rate.clone())
                .bind(r.tax_class_code.clone())
                .bind(r.lines_sm3.clone())
                .bind(r.submission_id.clone())
                .bind(r.row_no)
                .bind(r.created_at_ms);
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

// The bulk path (after `bind_row!`, which it uses).
pub mod stage;
