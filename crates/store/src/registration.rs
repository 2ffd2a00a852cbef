//! Registrations against double financing. The tables are described in migration 0008; the invariant
//! is that an invoice has at most one row in `registration_claim`, enforced by its primary key.

use sqlx::Row;

use crate::{Conn, Result};

/// The financier (bank) of the active registration that claims this invoice, if any: once a receivable
/// is financed, changing its repayment account needs that bank's consent too.
pub async fn active_financier(conn: &mut Conn, invoice_id: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT r.financier_org_id FROM registration_claim c JOIN registration r ON r.id = c.registration_id \
         WHERE c.invoice_id = $1 AND r.status = 'active' AND r.financier_org_id IS NOT NULL",
    )
    .bind(invoice_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<String>, _>(0)?,
        None => None,
    })
}
