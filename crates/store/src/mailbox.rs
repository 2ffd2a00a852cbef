//! The designated mailbox: the senders each organisation registered, and the receipts of received
//! messages. Every query names the organisation, so one organisation never reads another's rows.

use lianrong_domain::mailbox::ReceiptOutcome;
use lianrong_domain::page::{Page, PageRequest};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, decode, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRecord {
    pub org_id: String,
    /// Lower-cased.
    pub address: String,
    /// Login of the user (or `system`) who registered it.
    pub created_by: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRecord {
    pub id: String,
    pub org_id: String,
    pub submission_id: Option<String>,
    pub sender: String,
    pub subject: String,
    pub message_id: String,
    pub outcome: ReceiptOutcome,
    pub summary_zh: String,
    pub summary_en: String,
    pub mailed: bool,
    pub created_at_ms: i64,
}

fn sender_from_row(r: &AnyRow) -> Result<SenderRecord> {
    Ok(SenderRecord {
        org_id: r.try_get("org_id")?,
        address: r.try_get("address")?,
        created_by: r.try_get("created_by")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

pub async fn insert_sender(conn: &mut Conn, s: &SenderRecord) -> Result<()> {
    sqlx::query("INSERT INTO mailbox_sender (org_id, address, created_by, created_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(&s.org_id)
        .bind(&s.address)
        .bind(&s.created_by)
        .bind(s.created_at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

pub async fn delete_sender(conn: &mut Conn, org_id: &str, address: &str) -> Result<()> {
    let n = sqlx::query("DELETE FROM mailbox_sender WHERE org_id = $1 AND address = $2")
        .bind(org_id)
        .bind(address)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn sender_registered(conn: &mut Conn, org_id: &str, address: &str) -> Result<bool> {
    let n = crate::count(
        conn,
        "SELECT COUNT(*) FROM mailbox_sender WHERE org_id = $1 AND address = $2",
        &[org_id, address],
    )
    .await?;
    Ok(n > 0)
}

pub async fn count_senders(conn: &mut Conn, org_id: &str) -> Result<i64> {
    crate::count(conn, "SELECT COUNT(*) FROM mailbox_sender WHERE org_id = $1", &[org_id]).await
}

pub async fn list_senders(conn: &mut Conn, org_id: &str, page: PageRequest) -> Result<Page<SenderRecord>> {
    let total = count_senders(conn, org_id).await?;
    let rows = sqlx::query(
        "SELECT org_id, address, created_by, created_at_ms FROM mailbox_sender WHERE org_id = $1 \
         ORDER BY address LIMIT $2 OFFSET $3",
    )
    .bind(org_id)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(sender_from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

const RECEIPT_COLUMNS: &str = "id, org_id, submission_id, sender, subject, message_id, outcome, summary_zh, summary_en, \
                               mailed, created_at_ms";

fn receipt_from_row(r: &AnyRow) -> Result<ReceiptRecord> {
    Ok(ReceiptRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        submission_id: r.try_get("submission_id")?,
        sender: r.try_get("sender")?,
        subject: r.try_get("subject")?,
        message_id: r.try_get("message_id")?,
        outcome: decode("mailbox_receipt.outcome", r.try_get("outcome")?, ReceiptOutcome::parse)?,
        summary_zh: r.try_get("summary_zh")?,
        summary_en: r.try_get("summary_en")?,
        mailed: r.try_get::<i64, _>("mailed")? != 0,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

pub async fn insert_receipt(conn: &mut Conn, r: &ReceiptRecord) -> Result<()> {
    let sql = format!(
        "INSERT INTO mailbox_receipt ({RECEIPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.submission_id)
        .bind(&r.sender)
        .bind(&r.subject)
        .bind(&r.message_id)
        .bind(r.outcome.code())
        .bind(&r.summary_zh)
        .bind(&r.summary_en)
        .bind(i64::from(r.mailed))
        .bind(r.created_at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(())
}

pub async fn mark_receipt_mailed(conn: &mut Conn, id: &str) -> Result<()> {
    let n = sqlx::query("UPDATE mailbox_receipt SET mailed = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn list_receipts(conn: &mut Conn, org_id: &str, page: PageRequest) -> Result<Page<ReceiptRecord>> {
    let total = crate::count(conn, "SELECT COUNT(*) FROM mailbox_receipt WHERE org_id = $1", &[org_id]).await?;
    let sql = format!(
        "SELECT {RECEIPT_COLUMNS} FROM mailbox_receipt WHERE org_id = $1 \
         ORDER BY created_at_ms DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(receipt_from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}
