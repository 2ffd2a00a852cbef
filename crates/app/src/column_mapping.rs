//! An organisation's own column meanings: a header its ERP or finance desk uses that the standard does
//! not know ("客户编码" for the buyer's credit code), or knows differently, told once and applied to its
//! files through every channel. Only the organisation's sharers change it; it never affects another
//! organisation's files.

use lianrong_domain::limits::{COLUMN_MAPPINGS_PER_ORG_MAX, COLUMN_MAPPINGS_PER_REQUEST_MAX};
use lianrong_domain::refusal::Refusal;
use lianrong_domain::trade::header::{self, ColumnMapping, ColumnMeaning, MappingError};
use lianrong_store::StoreError;
use lianrong_store::column_mapping as store;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Actor, Permission};
use crate::{App, audit, now_ms};

/// The app's read views of saved column mappings: plain data, decoded in the store; the API and console show
/// them.
pub use lianrong_store::column_mapping::MappingRow;

/// The meaning code that forgets an organisation's meaning, so the standard's names apply again.
pub const STANDARD: &str = "standard";

/// One change: a header and the meaning code it is given (a field's code, a line column's code,
/// `ignore`, or [`STANDARD`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingChange {
    pub header: String,
    pub meaning: String,
}

/// The actor's organisation's meanings, by header.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<MappingRow>> {
    audit::run(app, actor, Permission::SubmitTrade, "column_mapping.list", "organisation", &actor.org_id, async {
        crate::policy::guard_trade_sharer(actor)?;
        let mut conn = app.db.acquire().await?;
        Ok(store::list(&mut conn, &actor.org_id).await?)
    })
    .await
}

/// An organisation's meanings as the pipeline applies them. A stored header that no longer makes a key
/// (it cannot: keys are checked when written) is skipped rather than stopping the organisation's files.
pub(crate) async fn mapping_of(app: &App, org_id: &str) -> AppResult<ColumnMapping> {
    let mut conn = app.db.acquire().await?;
    let mut mapping = ColumnMapping::new();
    for row in store::list(&mut conn, org_id).await? {
        if let Err(e) = mapping.insert(&row.header, row.meaning) {
            tracing::warn!(org = org_id, header = %row.header, error = ?e, "a stored column meaning was skipped");
        }
    }
    Ok(mapping)
}

/// Applies changes to the actor's organisation's meanings in one transaction, and answers the whole
/// mapping after them. Every change is checked before any is written.
pub async fn change(app: &App, actor: &Actor, changes: &[MappingChange]) -> AppResult<Vec<MappingRow>> {
    let action = "column_mapping.change";
    audit::guard(app, actor, Permission::SubmitTrade, action, "organisation", &actor.org_id).await?;
    if let Err(e) = crate::policy::guard_trade_sharer(actor) {
        audit::refused(app, actor, action, "organisation", &actor.org_id, &e.en).await;
        return Err(e);
    }
    if changes.len() > COLUMN_MAPPINGS_PER_REQUEST_MAX {
        return Err(AppError::invalid(
            "columns",
            "column_mappings_too_many",
            format!("At most {COLUMN_MAPPINGS_PER_REQUEST_MAX} columns per request"),
            format!("每次最多设定 {COLUMN_MAPPINGS_PER_REQUEST_MAX} 列"),
        ));
    }
    let checked = changes.iter().enumerate().map(|(i, c)| check(i, c)).collect::<AppResult<Vec<_>>>()?;
    let by = actor.trail_name();
    let mut tx = app.db.begin_write().await?;
    for (key, c, meaning) in &checked {
        match meaning {
            None => {
                store::delete(&mut tx, &actor.org_id, key).await?;
            }
            Some(m) => {
                let row = MappingRow {
                    org_id: actor.org_id.clone(),
                    header_key: key.clone(),
                    header: c.header.trim().to_string(),
                    meaning: *m,
                    updated_by: by.clone(),
                    updated_at_ms: now_ms(),
                };
                store::upsert(&mut tx, &row).await?;
            }
        }
    }
    if store::count(&mut tx, &actor.org_id).await? > COLUMN_MAPPINGS_PER_ORG_MAX as i64 {
        return Err(AppError::refusal(ErrorKind::Conflict, &MappingError::TooMany));
    }
    let detail: Vec<String> = checked.iter().map(|(_, c, _)| format!("{}={}", c.header.trim(), c.meaning)).collect();
    audit::ok_in(&mut tx, actor, action, "organisation", &actor.org_id, &detail.join("; ")).await?;
    let rows = store::list(&mut tx, &actor.org_id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(rows)
}

/// The refusal of the `i`th change (counted from 0, shown from 1): the domain words it, and the position
/// in the request is put before it so the caller finds the entry.
fn entry_refusal(i: usize, e: &MappingError) -> AppError {
    let mut refused = AppError::refusal(ErrorKind::Invalid, e);
    refused.field = e.field().map(|f| format!("columns[{i}].{f}"));
    refused.en = format!("Column {}: {}", i + 1, refused.en);
    refused.zh = format!("第 {} 项：{}", i + 1, refused.zh);
    refused
}

/// A change's header key and meaning (`None` to return to the standard), or an error naming the entry.
fn check(i: usize, c: &MappingChange) -> AppResult<(String, &MappingChange, Option<ColumnMeaning>)> {
    let key = header::checked_key(c.header.trim()).map_err(|e| entry_refusal(i, &e))?;
    let meaning = c.meaning.trim();
    if meaning == STANDARD {
        return Ok((key, c, None));
    }
    let m = ColumnMeaning::parse(meaning).ok_or_else(|| {
        AppError::invalid(
            &format!("columns[{i}].meaning"),
            "column_meaning_unknown",
            format!(
                "Column '{}': '{meaning}' is not a field of the standard, a line column, 'ignore' or 'standard'",
                c.header.trim()
            ),
            format!("列“{}”：“{meaning}”不是数据标准的字段、发票明细列、ignore 或 standard", c.header.trim()),
        )
    })?;
    Ok((key, c, Some(m)))
}
