//! `GET /api/v1/me`: who the caller is, as the platform sees it.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::ApiActor;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    pub org_id: String,
    pub org_name: String,
    /// operator, core, supplier, bank, service_institution or regulator.
    pub org_kind: String,
    pub user_id: Option<String>,
    pub login: Option<String>,
    pub api_key_id: Option<String>,
    pub roles: Vec<String>,
    /// Present for API keys only.
    pub scopes: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = MeDto), (status = 401, body = crate::error::Problem)))]
pub async fn me(ApiActor(actor): ApiActor) -> Json<MeDto> {
    Json(MeDto {
        org_id: actor.org_id,
        org_name: actor.org_name,
        org_kind: actor.org_kind.code().into(),
        user_id: actor.user_id,
        login: actor.login,
        api_key_id: actor.api_key_id,
        roles: actor.roles.iter().map(|r| r.code().to_string()).collect(),
        scopes: actor.scopes.map(|s| s.iter().map(|x| x.code().to_string()).collect()),
    })
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginDto {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// Send this in `X-CSRF-Token` with every state-changing request made with the session cookie.
    pub csrf_token: String,
    pub me: MeDto,
}

/// Logs in for scripts and tests: sets the session cookie like the console's login form does. A JSON
/// body cannot be sent cross-site without a CORS preflight, which this API never grants, so this
/// endpoint needs no CSRF token of its own.
#[utoipa::path(post, path = "/api/v1/session", tag = "me", request_body = LoginDto,
    responses((status = 200, body = SessionDto), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)), security(()))]
pub async fn login(
    axum::extract::State(s): axum::extract::State<crate::state::AppState>,
    jar: axum_extra::extract::cookie::CookieJar,
    crate::extract::ApiJson(b): crate::extract::ApiJson<LoginDto>,
) -> crate::error::ApiResult<(axum_extra::extract::cookie::CookieJar, Json<SessionDto>)> {
    let new = lianrong_app::auth::login(&s.app, &b.login, &b.password).await?;
    let jar = jar.add(crate::auth::session_cookie(&s, new.token));
    let actor = new.actor;
    let me = MeDto {
        org_id: actor.org_id,
        org_name: actor.org_name,
        org_kind: actor.org_kind.code().into(),
        user_id: actor.user_id,
        login: actor.login,
        api_key_id: None,
        roles: actor.roles.iter().map(|r| r.code().to_string()).collect(),
        scopes: None,
    };
    Ok((jar, Json(SessionDto { csrf_token: new.csrf_token, me })))
}

/// Ends the session of the cookie sent.
#[utoipa::path(delete, path = "/api/v1/session", tag = "me", responses((status = 204)))]
pub async fn logout(
    axum::extract::State(s): axum::extract::State<crate::state::AppState>,
    jar: axum_extra::extract::cookie::CookieJar,
) -> crate::error::ApiResult<(axum_extra::extract::cookie::CookieJar, axum::http::StatusCode)> {
    if let Some(c) = jar.get(crate::auth::SESSION_COOKIE) {
        lianrong_app::auth::logout(&s.app, c.value()).await?;
    }
    Ok((jar.remove(crate::auth::removal(&s)), axum::http::StatusCode::NO_CONTENT))
}
