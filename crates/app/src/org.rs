//! Organisations: creation by the operator (credit code verified), the directory as each actor may see
//! it, and the operator's exception list for real legacy codes that fail the check.

use lianrong_domain::limits::{NOTE_CHARS_MAX, ORG_NAME_CHARS_MAX};
use lianrong_domain::org::{OrgKind, RegionCode, SizeClass};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::text;
use lianrong_domain::uscc::{Uscc, UsccError};
use lianrong_store::StoreError;
use lianrong_store::org as store;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of organisations and credit-code exceptions, and their filter: plain data, decoded in
/// the store; the API and console show them.
pub use lianrong_store::org::{OrgFilter, OrgRecord, UsccException};

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub size_class: String,
    /// Defaults to the division code inside the credit code (positions 3–8).
    pub region_code: Option<String>,
}

pub(crate) fn uscc_error(e: &UsccError) -> AppError {
    AppError::refusal(ErrorKind::Invalid, e)
}

/// Parses a credit code; a code that fails only the check is accepted when the operator listed it.
async fn parse_uscc(conn: &mut lianrong_store::Conn, input: &str) -> AppResult<(Uscc, bool)> {
    match Uscc::parse(input) {
        Ok(u) => Ok((u, true)),
        Err(e @ UsccError::Check { .. }) => {
            let formatted = Uscc::parse_format(input).map_err(|e| uscc_error(&e))?;
            if store::exception_exists(conn, formatted.as_str()).await? {
                Ok((formatted, false))
            } else {
                Err(uscc_error(&e))
            }
        }
        Err(e) => Err(uscc_error(&e)),
    }
}

pub async fn create(app: &App, actor: &Actor, input: NewOrg) -> AppResult<OrgRecord> {
    audit::run(app, actor, Permission::CreateOrg, "organisation.create", "organisation", input.uscc.trim(), async {
        let name = text::bounded("name", &input.name, ORG_NAME_CHARS_MAX)?;
        let kind = OrgKind::parse(&input.kind)?;
        let size_class = SizeClass::parse(&input.size_class)?;
        let mut tx = app.db.begin_write().await?;
        let (uscc, verified) = parse_uscc(&mut tx, &input.uscc).await?;
        let region = match input.region_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => RegionCode::parse(r),
            None => RegionCode::parse(uscc.region_code()),
        }
        .map_err(|e| AppError::refusal(ErrorKind::Invalid, &e))?;
        if let Some(existing) = store::find_by_uscc(&mut tx, uscc.as_str()).await? {
            return Err(AppError::conflict(
                "organisation_exists",
                format!("An organisation with credit code {uscc} already exists: {}", existing.name),
                format!("统一社会信用代码为{uscc}的机构已存在：{}", existing.name),
            )
            .with_field("uscc"));
        }
        let rec = OrgRecord {
            id: new_id(),
            uscc: uscc.to_string(),
            uscc_verified: verified,
            name,
            kind,
            size_class,
            sme: size_class.is_sme(),
            region_code: region.as_str().to_string(),
            created_at_ms: now_ms(),
        };
        store::insert(&mut tx, &rec).await?;
        audit::ok_in(&mut tx, actor, "organisation.create", "organisation", &rec.id, &rec.uscc).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(rec)
    })
    .await
}

/// One organisation's directory entry, if the actor may see it; otherwise `not_found`.
pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<OrgRecord> {
    policy::require(actor, Permission::ReadDirectory)?;
    let mut conn = app.db.acquire().await?;
    if !store::visible(&mut conn, &policy::org_scope(actor), id).await? {
        return Err(AppError::not_found("Organisation", "机构"));
    }
    store::get(&mut conn, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Organisation", "机构"),
        other => other.into(),
    })
}

pub async fn list(app: &App, actor: &Actor, filter: OrgFilter, page: PageRequest) -> AppResult<Page<OrgRecord>> {
    policy::require(actor, Permission::ReadDirectory)?;
    let filter = OrgFilter { query: text::optional("q", filter.query.as_deref(), 100)?, ..filter };
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &policy::org_scope(actor), &filter, page).await?)
}

pub async fn add_uscc_exception(app: &App, actor: &Actor, uscc: &str, note: &str) -> AppResult<UsccException> {
    audit::guard(app, actor, Permission::ManageUsccExceptions, "uscc_exception.create", "uscc_exception", uscc.trim())
        .await?;
    let code = Uscc::parse_format(uscc).map_err(|e| uscc_error(&e))?;
    if code.check_verifies() {
        return Err(AppError::invalid(
            "uscc",
            "exception_not_needed",
            format!("{code} passes the check; only codes that fail it need an exception"),
            format!("{code} 校验通过，只有未通过校验的代码才需要列入例外"),
        ));
    }
    let note = text::bounded("note", note, NOTE_CHARS_MAX)?;
    let rec = UsccException {
        uscc: code.to_string(),
        note,
        created_by_user_id: actor.user_id.clone().unwrap_or_else(|| "system".into()),
        created_at_ms: now_ms(),
    };
    let mut tx = app.db.begin_write().await?;
    store::insert_exception(&mut tx, &rec).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "exception_exists",
            format!("{code} is already on the exception list"),
            format!("{code} 已在例外清单中"),
        ),
        other => other.into(),
    })?;
    audit::ok_in(&mut tx, actor, "uscc_exception.create", "uscc_exception", &rec.uscc, &rec.note).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(rec)
}

pub async fn list_uscc_exceptions(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<UsccException>> {
    // The exception list is the operator's working data; the regulator may inspect it.
    if !(actor.sees_everything() || actor.system) {
        policy::require(actor, Permission::ManageUsccExceptions)?;
    }
    let mut conn = app.db.acquire().await?;
    Ok(store::list_exceptions(&mut conn, page).await?)
}
