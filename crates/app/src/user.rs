//! Users: each organisation governs its own people. Only its own admins create accounts, grant roles and
//! set passwords; the platform operator onboards an organisation's first account and may suspend any
//! account (audited, and shown to the organisation with who and why), but never sets another
//! organisation's credentials or roles, so no operator account can take over a bank's approvals.

use lianrong_domain::limits::{
    REASON_CHARS_MAX, USER_DISPLAY_NAME_CHARS_MAX, USER_LOGIN_CHARS_MAX, USER_LOGIN_CHARS_MIN,
};
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::password;
use lianrong_domain::role::Role;
use lianrong_domain::text;
use lianrong_store::user::{self as store, Suspension};
use lianrong_store::{Conn, StoreError, org as org_store, session as session_store};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, auth, new_id, now_ms};

/// The app's read views of users: plain data, decoded in the store; the API and console show them.
pub use lianrong_store::user::UserRecord;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: String,
    pub login: String,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<String>,
}

fn parse_login(input: &str) -> AppResult<String> {
    let login = input.trim().to_lowercase();
    let n = login.chars().count();
    let ok_chars = login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !(USER_LOGIN_CHARS_MIN..=USER_LOGIN_CHARS_MAX).contains(&n) || !ok_chars {
        return Err(AppError::invalid(
            "login",
            "invalid_login",
            format!(
                "login must be {USER_LOGIN_CHARS_MIN}-{USER_LOGIN_CHARS_MAX} characters of a-z, 0-9, '.', '_', '-', '@'"
            ),
            format!("登录名须为{USER_LOGIN_CHARS_MIN}-{USER_LOGIN_CHARS_MAX}位，仅限字母、数字及 . _ - @"),
        ));
    }
    Ok(login)
}

pub(crate) fn check_password(pw: &str, login: &str) -> AppResult<()> {
    password::check(pw, login).map_err(|e| AppError::refusal(ErrorKind::Invalid, &e))
}

fn parse_roles(codes: &[String], kind: OrgKind) -> AppResult<Vec<Role>> {
    let mut roles = codes.iter().map(|c| Role::parse(c)).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(AppError::invalid("roles", "roles_required", "at least one role is required", "至少需要一个角色"));
    }
    if let Some(bad) = roles.iter().find(|r| !r.allowed_for(kind)) {
        return Err(AppError::invalid(
            "roles",
            "role_not_allowed",
            format!("role {bad} is not available to an organisation of kind {kind}"),
            format!("“{}”角色不适用于{}类机构", bad.label_zh(), kind.label_zh()),
        ));
    }
    Ok(roles)
}

/// Whether the actor administers users of `org_id`: only its own organisation's admins (the platform's
/// local administrator, `lianrong admin`, acts for any organisation from the machine itself).
pub fn manages_org(actor: &Actor, org_id: &str) -> bool {
    actor.system || (actor.org_id == org_id && actor.has_role(Role::OrgAdmin) && actor.scopes.is_none())
}

/// Whether the actor may onboard `org_id` by creating its first account: the operator's admin, for an
/// organisation that has no account yet.
async fn onboards(app: &App, actor: &Actor, org_id: &str) -> AppResult<bool> {
    if actor.org_kind != OrgKind::Operator || !actor.has_role(Role::OrgAdmin) || actor.scopes.is_some() {
        return Ok(false);
    }
    let mut conn = app.db.acquire().await?;
    Ok(store::count_for_org(&mut conn, org_id).await? == 0)
}

fn not_your_people() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "not_your_organisation",
        "Only the organisation's own administrators manage its users; the operator may only suspend an account",
        "只有该机构自己的管理员可以管理其用户；平台运营方只能停用账户",
    )
}

/// Whether these roles approve financing (a bank's approver, or its admin): what four eyes asks of the
/// second approver.
pub fn approves_financing(roles: &[Role]) -> bool {
    roles.contains(&Role::BankApprover) || roles.contains(&Role::OrgAdmin)
}

/// Since when the user holds an approving role after a change: kept while held, now when gained,
/// none when lost.
fn approver_since(before: Option<i64>, roles: &[Role], now: i64) -> Option<i64> {
    if approves_financing(roles) { Some(before.unwrap_or(now)) } else { None }
}

pub async fn create(app: &App, actor: &Actor, input: NewUser) -> AppResult<UserRecord> {
    audit::guard(app, actor, Permission::ManageUsers, "user.create", "organisation", &input.org_id).await?;
    if !manages_org(actor, &input.org_id) && !onboards(app, actor, &input.org_id).await? {
        audit::refused(app, actor, "user.create", "organisation", &input.org_id, "foreign organisation").await;
        return Err(not_your_people());
    }
    let login = parse_login(&input.login)?;
    let display_name = text::bounded("display_name", &input.display_name, USER_DISPLAY_NAME_CHARS_MAX)?;
    check_password(&input.password, &login)?;
    let org = {
        let mut conn = app.db.acquire().await?;
        org_store::get(&mut conn, &input.org_id).await.map_err(|_| AppError::not_found("Organisation", "机构"))?
    };
    let roles = parse_roles(&input.roles, org.kind)?;
    let password_hash = auth::hash_password(&input.password).await?;
    let now = now_ms();
    let rec = UserRecord {
        approver_since_ms: approver_since(None, &roles, now),
        id: new_id(),
        org_id: org.id.clone(),
        login,
        display_name,
        password_hash,
        roles,
        active: true,
        failed_logins: 0,
        first_failure_at_ms: None,
        locked_until_ms: None,
        created_at_ms: now,
        suspension: None,
    };
    let mut tx = app.db.begin_write().await?;
    store::insert(&mut tx, &rec).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "login_taken",
            format!("The login {} is already taken", rec.login),
            format!("登录名 {} 已被使用", rec.login),
        )
        .with_field("login"),
        other => other.into(),
    })?;
    audit::ok_in(&mut tx, actor, "user.create", "user", &rec.id, &rec.login).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(rec)
}

/// Users the actor may see: its own organisation's, or everyone's for the operator's managers.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<UserRecord>> {
    policy::require(actor, Permission::ReadUsers)?;
    let all = actor.system || (actor.org_kind == OrgKind::Operator && policy::allows(actor, Permission::CreateOrg));
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, if all { None } else { Some(&actor.org_id) }, page).await?)
}

async fn get_managed(app: &App, actor: &Actor, id: &str, action: &str) -> AppResult<UserRecord> {
    let mut conn = app.db.acquire().await?;
    let user = store::get(&mut conn, id).await.map_err(|_| AppError::not_found("User", "用户"))?;
    if !manages_org(actor, &user.org_id) {
        audit::refused(app, actor, action, "user", id, "foreign organisation").await;
        // The operator sees every user, so it is told why; anyone else learns nothing about the account.
        return Err(if sees_all_users(actor) { not_your_people() } else { AppError::not_found("User", "用户") });
    }
    Ok(user)
}

fn sees_all_users(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Operator && policy::allows(actor, Permission::CreateOrg)
}

/// Suspends an account: its own organisation's admin, or the platform operator (for a compromised or
/// departed account). The account cannot log in and its sessions end; the organisation sees who
/// suspended it and why, and only its own admin can reactivate it.
pub async fn suspend(app: &App, actor: &Actor, id: &str, reason: &str) -> AppResult<UserRecord> {
    const ACTION: &str = "user.suspend";
    let may = actor.scopes.is_none() && (policy::allows(actor, Permission::ManageUsers) || actor.is_operator_manager());
    if !may {
        let e = policy::require(actor, Permission::ManageUsers).err().unwrap_or_else(not_your_people);
        audit::refused(app, actor, ACTION, "user", id, &e.en).await;
        return Err(e);
    }
    let reason = text::bounded("reason", reason, REASON_CHARS_MAX)?;
    let mut conn = app.db.acquire().await?;
    let user = store::get(&mut conn, id).await.map_err(|_| AppError::not_found("User", "用户"))?;
    drop(conn);
    if !manages_org(actor, &user.org_id) && !actor.is_operator_manager() {
        audit::refused(app, actor, ACTION, "user", id, "foreign organisation").await;
        return Err(AppError::not_found("User", "用户"));
    }
    if actor.user_id.as_deref() == Some(id) {
        return Err(AppError::invalid("reason", "self_lockout", "You cannot suspend yourself", "不能停用自己"));
    }
    let suspension = Suspension {
        by: format!("{}（{}）", actor.login.clone().unwrap_or_default(), actor.org_name),
        reason,
        at_ms: now_ms(),
    };
    let mut tx = app.db.begin_write().await?;
    store::suspend(&mut tx, id, &suspension).await?;
    session_store::delete_for_user(&mut tx, id).await?;
    let detail = format!("{} of organisation {}: {}", user.login, user.org_id, suspension.reason);
    audit::ok_in(&mut tx, actor, ACTION, "user", id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(UserRecord { active: false, suspension: Some(suspension), ..user })
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<UserRecord> {
    policy::require(actor, Permission::ReadUsers)?;
    let all = sees_all_users(actor);
    let mut conn = app.db.acquire().await?;
    let user = store::get(&mut conn, id).await.map_err(|_| AppError::not_found("User", "用户"))?;
    if !all && user.org_id != actor.org_id {
        return Err(AppError::not_found("User", "用户"));
    }
    Ok(user)
}

/// Changes a user's roles and whether it may log in. An admin cannot lock itself out.
pub async fn update(app: &App, actor: &Actor, id: &str, roles: Vec<String>, active: bool) -> AppResult<UserRecord> {
    audit::run(app, actor, Permission::ManageUsers, "user.update", "user", id, async {
        let user = get_managed(app, actor, id, "user.update").await?;
        let mut conn = app.db.acquire().await?;
        let org = org_store::get(&mut conn, &user.org_id).await?;
        let roles = parse_roles(&roles, org.kind)?;
        if actor.user_id.as_deref() == Some(id) && (!active || !roles.contains(&Role::OrgAdmin)) {
            return Err(AppError::invalid(
                "roles",
                "self_lockout",
                "You cannot remove your own admin role or disable yourself",
                "不能移除自己的管理员角色或停用自己",
            ));
        }
        drop(conn);
        let mut tx = app.db.begin_write().await?;
        let approver_since_ms = approver_since(user.approver_since_ms, &roles, now_ms());
        store::update_roles_active(&mut tx, id, &roles, active, approver_since_ms).await?;
        if !active {
            session_store::delete_for_user(&mut tx, id).await?;
        }
        let detail = format!("roles={} active={active}", lianrong_domain::role::join_codes(&roles, Role::code));
        audit::ok_in(&mut tx, actor, "user.update", "user", id, &detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let suspension = if active { None } else { user.suspension.clone() };
        Ok(UserRecord { roles, active, suspension, approver_since_ms, ..user })
    })
    .await
}

/// Sets a new password (by the organisation's own admin, or the platform's local administrator). Ends the
/// user's sessions.
pub async fn reset_password(app: &App, actor: &Actor, id: &str, new_password: &str) -> AppResult<()> {
    audit::run(app, actor, Permission::ManageUsers, "user.reset_password", "user", id, async {
        let user = get_managed(app, actor, id, "user.reset_password").await?;
        check_password(new_password, &user.login)?;
        let hash = auth::hash_password(new_password).await?;
        let mut tx = app.db.begin_write().await?;
        store::set_password(&mut tx, id, &hash).await?;
        session_store::delete_for_user(&mut tx, id).await?;
        audit::ok_in(&mut tx, actor, "user.reset_password", "user", id, "").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    })
    .await
}

pub async fn find_by_login(app: &App, login: &str) -> AppResult<Option<UserRecord>> {
    let mut conn = app.db.acquire().await?;
    Ok(store::find_by_login(&mut conn, &login.trim().to_lowercase()).await?)
}

/// Four eyes by person: the second approver is a user account (never a key or the platform) other than
/// the first approver's, that held an approving role (bank approver or admin) before `asked_at_ms`, when
/// the application or discount was made; so an admin cannot create or promote a second login to approve
/// alone.
pub(crate) async fn second_approver_checked(
    conn: &mut Conn,
    actor: &Actor,
    first_user_id: Option<&str>,
    asked_at_ms: i64,
) -> AppResult<()> {
    let Some(user_id) = actor.user_id.as_deref() else {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "keys_cannot_approve",
            "Only a person approves: an API key or the platform cannot",
            "审批须由具体人员作出，API密钥或系统不能审批",
        ));
    };
    if first_user_id.is_none_or(|f| f == user_id) {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "same_approver",
            "The second approval must come from another person than the first",
            "复核审批须由首次审批人以外的人员作出",
        ));
    }
    let user = store::get(conn, user_id).await?;
    if !approves_financing(&user.roles) {
        return Err(AppError::forbidden("The second approval needs the approver role", "复核审批须由审批人作出"));
    }
    if user.approver_since_ms.is_none_or(|since| since > asked_at_ms) {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "approver_too_recent",
            "The second approver must have held the approver role before this was asked for",
            "复核审批人须在申请提出之前已具有审批人角色",
        ));
    }
    Ok(())
}
