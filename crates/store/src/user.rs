//! Users: each belongs to one organisation; roles are stored as a comma-separated list of codes.

use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::{self, Role};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conn, Result, StoreError, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub org_id: String,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub failed_logins: i64,
    pub first_failure_at_ms: Option<i64>,
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
    /// Set when the platform operator suspended the account (it never sets an account's credentials);
    /// cleared when the organisation's own admin reactivates it.
    pub suspension: Option<Suspension>,
    /// Since when the user has held a role that approves financing (for four eyes: a second approver
    /// must have held it before the application was made).
    pub approver_since_ms: Option<i64>,
}

/// Who suspended an account from outside its organisation, when and why: shown to the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    pub by: String,
    pub reason: String,
    pub at_ms: i64,
}

const COLUMNS: &str = "id, org_id, login, display_name, password_hash, roles, active, failed_logins, \
                       first_failure_at_ms, locked_until_ms, created_at_ms, suspended_by, suspended_reason, \
                       suspended_at_ms, approver_since_ms";

fn from_row(r: &AnyRow) -> Result<UserRecord> {
    let roles_text: String = r.try_get("roles")?;
    let roles = role::parse_list(&roles_text, Role::parse)
        .map_err(|_| StoreError::Corrupt { column: "app_user.roles", value: roles_text.clone() })?;
    Ok(UserRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        roles,
        active: r.try_get::<i64, _>("active")? != 0,
        failed_logins: r.try_get("failed_logins")?,
        first_failure_at_ms: r.try_get("first_failure_at_ms")?,
        locked_until_ms: r.try_get("locked_until_ms")?,
        created_at_ms: r.try_get("created_at_ms")?,
        suspension: match (
            r.try_get::<Option<String>, _>("suspended_by")?,
            r.try_get::<Option<String>, _>("suspended_reason")?,
            r.try_get::<Option<i64>, _>("suspended_at_ms")?,
        ) {
            (Some(by), Some(reason), Some(at_ms)) => Some(Suspension { by, reason, at_ms }),
            _ => None,
        },
        approver_since_ms: r.try_get("approver_since_ms")?,
    })
}

pub async fn insert(conn: &mut Conn, u: &UserRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO app_user (id, org_id, login, display_name, password_hash, roles, active, failed_logins, created_at_ms, \
         approver_since_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
    )
    .bind(&u.id)
    .bind(&u.org_id)
    .bind(&u.login)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(role::join_codes(&u.roles, Role::code))
    .bind(i64::from(u.active))
    .bind(u.created_at_ms)
    .bind(u.approver_since_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<UserRecord> {
    let sql = format!("SELECT {COLUMNS} FROM app_user WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

pub async fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM app_user WHERE login = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(login).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Users of one organisation, or of all when `org_id` is `None` (the operator's view).
pub async fn list(conn: &mut Conn, org_id: Option<&str>, page: PageRequest) -> Result<Page<UserRecord>> {
    let org = org_id.unwrap_or("");
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_user WHERE ($1 = '' OR org_id = $1)")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM app_user WHERE ($1 = '' OR org_id = $1) ORDER BY org_id, login LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// The organisation's own admin sets roles and activity; reactivating clears an operator's suspension.
pub async fn update_roles_active(
    conn: &mut Conn,
    id: &str,
    roles: &[Role],
    active: bool,
    approver_since_ms: Option<i64>,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE app_user SET roles = $2, active = $3, approver_since_ms = $4, \
         suspended_by = CASE WHEN $3 = 1 THEN NULL ELSE suspended_by END, \
         suspended_reason = CASE WHEN $3 = 1 THEN NULL ELSE suspended_reason END, \
         suspended_at_ms = CASE WHEN $3 = 1 THEN NULL ELSE suspended_at_ms END WHERE id = $1",
    )
    .bind(id)
    .bind(role::join_codes(roles, Role::code))
    .bind(i64::from(active))
    .bind(approver_since_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deactivates an account and records who did it and why.
pub async fn suspend(conn: &mut Conn, id: &str, s: &Suspension) -> Result<()> {
    let n = sqlx::query(
        "UPDATE app_user SET active = 0, suspended_by = $2, suspended_reason = $3, suspended_at_ms = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(&s.by)
    .bind(&s.reason)
    .bind(s.at_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// How many accounts an organisation has (the operator creates only the first, at onboarding).
pub async fn count_for_org(conn: &mut Conn, org_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM app_user WHERE org_id = $1").bind(org_id).fetch_one(&mut *conn).await?)
}

pub async fn set_password(conn: &mut Conn, id: &str, password_hash: &str) -> Result<()> {
    let n = sqlx::query(
        "UPDATE app_user SET password_hash = $2, failed_logins = 0, first_failure_at_ms = NULL, locked_until_ms = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Records the throttling state after a login attempt.
pub async fn set_login_state(
    conn: &mut Conn,
    id: &str,
    failed_logins: i64,
    first_failure_at_ms: Option<i64>,
    locked_until_ms: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE app_user SET failed_logins = $2, first_failure_at_ms = $3, locked_until_ms = $4 WHERE id = $1")
        .bind(id)
        .bind(failed_logins)
        .bind(first_failure_at_ms)
        .bind(locked_until_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    crate::count(conn, "SELECT COUNT(*) FROM app_user", &[]).await
}
