//! Logging in and out. The login form has no session yet, so its CSRF token is a random value kept in a
//! short-lived SameSite=Strict cookie and repeated in the form (double submit): a cross-site page can
//! neither read the cookie nor make the browser send it, so it cannot log a victim into its own account.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use lianrong_app::{AppError, auth};

use super::ctx::Ctx;
use super::form::{FormData, QueryData};
use super::page::{Ui, local_path, render, see_other, with_max_age};
use crate::auth::{SESSION_COOKIE, lang_en, removal, session_cookie};
use crate::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "lr_login_csrf";
/// Long enough to type a password, short enough that a stale tab asks again.
const LOGIN_CSRF_MAX_AGE_S: i64 = 20 * 60;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ui: Ui,
    csrf: String,
    next: String,
    login: String,
}

fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn csrf_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let c = Cookie::build((LOGIN_CSRF_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .path("/login")
        .build();
    with_max_age(c, LOGIN_CSRF_MAX_AGE_S)
}

/// The login page with a fresh token (in the cookie and the form), and the error of the last try if any.
fn login_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    next: &str,
    login: &str,
    failed: Option<&AppError>,
) -> Response {
    let lang = lang_en(&jar);
    let token = new_token();
    let here = match local_path(next) {
        Some(n) => format!("/login?next={}", crate::auth::urlencode(n)),
        None => "/login".to_string(),
    };
    let mut ui = Ui::anonymous(lang, &here);
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let page = LoginPage {
        ui,
        csrf: token.clone(),
        next: local_path(next).unwrap_or("").to_string(),
        login: login.to_string(),
    };
    (jar.add(csrf_cookie(state, token)), render(status, &page)).into_response()
}

pub async fn page(State(state): State<AppState>, jar: CookieJar, QueryData(q): QueryData) -> Response {
    // Someone already signed in goes straight on.
    if let Some(c) = jar.get(SESSION_COOKIE)
        && auth::resolve_session(&state.app, c.value()).await.is_ok()
    {
        return see_other(local_path(q.get("next")).unwrap_or("/home"));
    }
    login_page(&state, jar, StatusCode::OK, q.get("next"), "", None)
}

fn stale_form() -> AppError {
    AppError::forbidden(
        "The login form has expired or was not sent from this site; please try again",
        "登录表单已过期或并非来自本站，请重新登录",
    )
}

pub async fn submit(State(state): State<AppState>, jar: CookieJar, FormData(f): FormData) -> Response {
    let next = f.get("next").to_string();
    let login = f.get("login").trim().to_string();
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if !auth::csrf_matches(&expected, f.get("csrf_token")) {
        return login_page(&state, jar, StatusCode::FORBIDDEN, &next, &login, Some(&stale_form()));
    }
    match auth::login(&state.app, &login, f.get("password")).await {
        Ok(session) => {
            let jar =
                jar.add(session_cookie(&state, session.token)).remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login"));
            (jar, see_other(local_path(&next).unwrap_or("/home"))).into_response()
        }
        Err(e) => {
            let status = crate::error::status_of(e.kind);
            let mut resp = login_page(&state, jar, status, &next, &login, Some(&e));
            if let Some(v) = e.retry_after_s.and_then(|s| s.to_string().parse().ok()) {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx, jar: CookieJar, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    if let Some(c) = jar.get(SESSION_COOKIE)
        && let Err(e) = auth::logout(&state.app, c.value()).await
    {
        return ctx.fail(&e);
    }
    (jar.add(removal(&state)), see_other("/login")).into_response()
}
