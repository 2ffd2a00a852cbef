//! Users and roles.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::user::UserRecord;
use lianrong_app::user::{self as app, NewUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub org_id: String,
    pub login: String,
    pub display_name: String,
    /// org_admin, finance_staff, bank_officer, bank_approver, operator_staff, auditor.
    pub roles: Vec<String>,
    pub active: bool,
    pub created_at: String,
    /// When the platform operator suspended the account: who, why and when (RFC 3339).
    pub suspended_by: Option<String>,
    pub suspended_reason: Option<String>,
    pub suspended_at: Option<String>,
}

impl From<UserRecord> for UserDto {
    fn from(u: UserRecord) -> Self {
        UserDto {
            id: u.id,
            org_id: u.org_id,
            login: u.login,
            display_name: u.display_name,
            roles: u.roles.iter().map(|r| r.code().to_string()).collect(),
            active: u.active,
            created_at: rfc3339(u.created_at_ms),
            suspended_by: u.suspension.as_ref().map(|s| s.by.clone()),
            suspended_reason: u.suspension.as_ref().map(|s| s.reason.clone()),
            suspended_at: u.suspension.as_ref().map(|s| rfc3339(s.at_ms)),
        }
    }
}

page_dto!(UserPage, UserDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    /// Defaults to the caller's organisation; the operator's admin creates only the first account of an
    /// organisation that has none (onboarding).
    pub org_id: Option<String>,
    pub login: String,
    pub display_name: String,
    /// At least 10 characters mixing three of: lower case, upper case, digits, symbols.
    pub password: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserDto {
    pub roles: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordDto {
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionDto {
    /// Why the account is suspended (shown to its organisation).
    pub reason: String,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "user", params(PageParams),
    description = "Users of the caller's organisation (all users for the operator's managers).",
    responses((status = 200, body = UserPage), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<UserPage>> {
    Ok(Json(UserPage::from_page(app::list(&s.app, &actor, p.request()?).await?, UserDto::from)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "user", params(("id" = String, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "user", request_body = NewUserDto,
    responses((status = 201, body = UserDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewUserDto>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    let org_id = b.org_id.unwrap_or_else(|| actor.org_id.clone());
    let rec = app::create(
        &s.app,
        &actor,
        NewUser { org_id, login: b.login, display_name: b.display_name, password: b.password, roles: b.roles },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rec.into())))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "user", params(("id" = String, Path)), request_body = UpdateUserDto,
    responses((status = 200, body = UserDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<UpdateUserDto>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(app::update(&s.app, &actor, &id, b.roles, b.active).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "user", params(("id" = String, Path)), request_body = PasswordDto,
    description = "Sets a new password (the organisation's own admin only). Ends the user's sessions.",
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reset_password(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PasswordDto>,
) -> ApiResult<StatusCode> {
    app::reset_password(&s.app, &actor, &id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/suspension", tag = "user", params(("id" = String, Path)), request_body = SuspensionDto,
    description = "Suspends an account: its organisation's admin, or the platform operator (who never sets another \
        organisation's credentials or roles). Ends the user's sessions; only the organisation's own admin reactivates it.",
    responses((status = 200, body = UserDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn suspend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SuspensionDto>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(app::suspend(&s.app, &actor, &id, &b.reason).await?.into()))
}
