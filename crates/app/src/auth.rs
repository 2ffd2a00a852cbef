//! Authentication: passwords (argon2id), console sessions, login throttling and API-key resolution.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use lianrong_domain::limits::{
    LOGIN_FAILURE_WINDOW_MS, LOGIN_FAILURES_MAX, LOGIN_LOCK_MS, SESSION_IDLE_MS, SESSION_LIFETIME_MS,
};
use lianrong_store::session::SessionRecord;
use lianrong_store::{api_key as key_store, org as org_store, session as session_store, user as user_store};
use subtle::ConstantTimeEq;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::Actor;
use crate::{App, audit, now_ms, random_bytes, sm3_hex};

/// Hashes a password with argon2id on a blocking thread (it takes tens of milliseconds by design).
pub async fn hash_password(password: &str) -> AppResult<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(pw.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|_| AppError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let pw = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A hash of a throw-away password, verified against when the login is unknown, so that unknown and
/// known logins take the same time.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> &'static str {
    DUMMY_HASH.get_or_init(|| async { hash_password("unknown-login-Placeholder#1").await.unwrap_or_default() }).await
}

/// A new console session: the token goes in the cookie, the CSRF token in every form.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

fn invalid_credentials() -> AppError {
    AppError::unauthenticated("invalid_credentials", "Wrong login or password", "登录名或密码错误")
}

fn locked(until_ms: i64, now: i64) -> AppError {
    let secs = u32::try_from((until_ms - now).max(0) / 1000 + 1).unwrap_or(u32::MAX);
    AppError {
        retry_after_s: Some(secs),
        ..AppError::new(
            ErrorKind::TooManyRequests,
            "login_throttled",
            format!("Too many failed logins; try again in {} minutes", secs.div_ceil(60)),
            format!("登录失败次数过多，请{}分钟后再试", secs.div_ceil(60)),
        )
    }
}

/// Checks a login and password and opens a session. After `LOGIN_FAILURES_MAX` failures within the
/// window the account is locked for `LOGIN_LOCK_MS`, even for the right password.
pub async fn login(app: &App, login: &str, password: &str) -> AppResult<NewSession> {
    let now = now_ms();
    let login = login.trim().to_lowercase();
    if login.is_empty() || login.len() > 200 || password.len() > 1024 {
        return Err(invalid_credentials());
    }
    let mut conn = app.db.acquire().await?;
    let Some(user) = user_store::find_by_login(&mut conn, &login).await? else {
        verify_password(password, dummy_hash().await).await;
        return Err(invalid_credentials());
    };
    if let Some(until) = user.locked_until_ms
        && until > now
    {
        return Err(locked(until, now));
    }
    if !verify_password(password, &user.password_hash).await {
        let in_window = user.first_failure_at_ms.is_some_and(|t| now - t < LOGIN_FAILURE_WINDOW_MS);
        let (failures, first) =
            if in_window { (user.failed_logins + 1, user.first_failure_at_ms) } else { (1, Some(now)) };
        let lock = (failures >= LOGIN_FAILURES_MAX).then_some(now + LOGIN_LOCK_MS);
        user_store::set_login_state(&mut conn, &user.id, if lock.is_some() { 0 } else { failures }, first, lock)
            .await?;
        tracing::warn!(login = %login, failures, locked = lock.is_some(), "failed login");
        return Err(match lock {
            Some(until) => locked(until, now),
            None => invalid_credentials(),
        });
    }
    if !user.active {
        return Err(AppError::unauthenticated("account_disabled", "This account is disabled", "该账号已停用"));
    }
    user_store::set_login_state(&mut conn, &user.id, 0, None, None).await?;
    let org = org_store::get(&mut conn, &user.org_id).await?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let csrf_token = hex::encode(random_bytes::<24>()?);
    session_store::delete_expired(&mut conn, now).await?;
    session_store::insert(
        &mut conn,
        &SessionRecord {
            token_hash: sm3_hex(token.as_bytes()),
            user_id: user.id.clone(),
            csrf_token: csrf_token.clone(),
            created_at_ms: now,
            last_seen_at_ms: now,
            expires_at_ms: now + SESSION_LIFETIME_MS,
        },
    )
    .await?;
    let actor = user_actor(&user, &org);
    let rec = audit::record(&actor, "login", "user", &user.id, "ok", "");
    lianrong_store::audit::insert(&mut conn, &rec).await?;
    Ok(NewSession { token, csrf_token, actor })
}

fn user_actor(user: &user_store::UserRecord, org: &org_store::OrgRecord) -> Actor {
    Actor {
        org_id: org.id.clone(),
        org_kind: org.kind,
        org_name: org.name.clone(),
        user_id: Some(user.id.clone()),
        login: Some(user.login.clone()),
        display_name: Some(user.display_name.clone()),
        api_key_id: None,
        roles: user.roles.clone(),
        scopes: None,
        system: false,
    }
}

fn session_expired() -> AppError {
    AppError::unauthenticated(
        "session_expired",
        "Your session has expired; please log in again",
        "会话已过期，请重新登录",
    )
}

/// Resolves a session cookie to its actor and CSRF token; idle or old sessions are ended.
pub async fn resolve_session(app: &App, token: &str) -> AppResult<(Actor, String)> {
    let now = now_ms();
    if token.is_empty() || token.len() > 100 {
        return Err(session_expired());
    }
    let hash = sm3_hex(token.as_bytes());
    let mut conn = app.db.acquire().await?;
    let Some(s) = session_store::find(&mut conn, &hash).await? else {
        return Err(session_expired());
    };
    if now > s.expires_at_ms || now - s.last_seen_at_ms > SESSION_IDLE_MS {
        session_store::delete(&mut conn, &hash).await?;
        return Err(session_expired());
    }
    let user = user_store::get(&mut conn, &s.user_id).await?;
    if !user.active {
        session_store::delete(&mut conn, &hash).await?;
        return Err(AppError::unauthenticated("account_disabled", "This account is disabled", "该账号已停用"));
    }
    let org = org_store::get(&mut conn, &user.org_id).await?;
    // Touch at most once a minute: the idle timeout needs minute precision, not a write per request.
    if now - s.last_seen_at_ms > 60_000 {
        session_store::touch(&mut conn, &hash, now).await?;
    }
    Ok((user_actor(&user, &org), s.csrf_token))
}

pub async fn logout(app: &App, token: &str) -> AppResult<()> {
    let mut conn = app.db.acquire().await?;
    session_store::delete(&mut conn, &sm3_hex(token.as_bytes())).await?;
    Ok(())
}

/// Compares a presented CSRF token with the session's in constant time.
pub fn csrf_matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

fn invalid_key() -> AppError {
    AppError::unauthenticated(
        "invalid_api_key",
        "The API key is not valid or has been revoked",
        "API密钥无效或已被吊销",
    )
}

/// Splits `lrk_<prefix>_<secret>`.
pub(crate) fn split_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("lrk_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12 && !secret.is_empty() && secret.len() <= 100).then_some((prefix, secret))
}

/// Resolves an API key presented as a bearer token to its organisation's actor with the key's scopes.
pub async fn resolve_api_key(app: &App, presented: &str) -> AppResult<Actor> {
    let Some((prefix, secret)) = split_key(presented.trim()) else {
        return Err(invalid_key());
    };
    let mut conn = app.db.acquire().await?;
    let Some(key) = key_store::find_by_prefix(&mut conn, prefix).await? else {
        return Err(invalid_key());
    };
    let matches: bool = sm3_hex(secret.as_bytes()).as_bytes().ct_eq(key.secret_hash.as_bytes()).into();
    if !matches || key.revoked_at_ms.is_some() {
        return Err(invalid_key());
    }
    let org = org_store::get(&mut conn, &key.org_id).await?;
    let now = now_ms();
    if key.last_used_at_ms.is_none_or(|t| now - t > 60_000) {
        key_store::mark_used(&mut conn, &key.id, now).await?;
    }
    Ok(Actor {
        org_id: org.id,
        org_kind: org.kind,
        org_name: org.name,
        user_id: None,
        login: None,
        display_name: Some(key.name),
        api_key_id: Some(key.id),
        roles: Vec::new(),
        scopes: Some(key.scopes),
        system: false,
    })
}
