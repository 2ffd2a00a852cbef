//! The console's request context: the signed-in session, checked before any page is built, and the
//! page's own address. A request without a session is sent to the login page; the session's refusals
//! come from `auth` as values and are rendered here.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use lianrong_app::{Actor, AppError, AppResult, Permission, policy};

use super::form::Params;
use super::nav::nav_for;
use super::page::{Ui, error_in, error_page, lang_href};
use crate::auth::{ConsoleSession, SessionRefused};
use crate::error::status_of;
use crate::state::AppState;

/// A console request: the signed-in session and the page's own address (for the language switch).
pub struct Ctx {
    pub session: ConsoleSession,
    path: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = ConsoleSession::from_parts(parts, state).await.map_err(refusal_page)?;
        let path = if parts.method == Method::GET {
            parts.uri.path_and_query().map_or("/home", |p| p.as_str()).to_string()
        } else {
            page_of_action(parts.uri.path()).to_string()
        };
        Ok(Ctx { session, path })
    }
}

/// The page a form posts from, so that switching language after a failed POST lands on a page (GET).
fn page_of_action(path: &str) -> &str {
    // Registration forms post to sub-paths of the list, which is their page.
    if path.starts_with("/registrations/") {
        return "/registrations";
    }
    ["/transition", "/revoke", "/password", "/members", "/publish", "/withdraw"]
        .iter()
        .find_map(|suffix| path.strip_suffix(suffix))
        .unwrap_or(path)
}

impl Ctx {
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }

    pub fn lang_en(&self) -> bool {
        self.session.lang_en
    }

    pub fn allows(&self, p: Permission) -> bool {
        policy::allows(&self.session.actor, p)
    }

    pub fn ui(&self, active: &'static str) -> Ui {
        let a = &self.session.actor;
        let lang_en = self.session.lang_en;
        Ui {
            lang_en,
            signed_in: true,
            org_name: a.org_name.clone(),
            org_kind: a.org_kind.label(lang_en),
            user_name: a.display_name.clone().or_else(|| a.login.clone()).unwrap_or_default(),
            csrf: self.session.csrf_token.clone(),
            active,
            nav: nav_for(a, lang_en),
            href_zh: lang_href("zh", &self.path),
            href_en: lang_href("en", &self.path),
            flash: None,
        }
    }

    /// Checks the form's CSRF token: `Some` 403 page when it is wrong, to be answered before anything
    /// is changed.
    pub fn csrf_refusal(&self, form: &Params) -> Option<Response> {
        self.session.check_csrf(form.get("csrf_token")).err().map(|e| self.fail(&e))
    }

    /// An error as a page inside the console's chrome.
    pub fn fail(&self, e: &AppError) -> Response {
        error_in(self.ui(""), status_of(e.kind), e.message(self.lang_en()).to_string())
    }

    pub fn respond(&self, r: AppResult<Response>) -> Response {
        r.unwrap_or_else(|e| self.fail(&e))
    }
}

/// A refused session as the console answers it: the redirect to the login page, or the error as a page.
fn refusal_page(refused: SessionRefused) -> Response {
    match refused {
        SessionRefused::Login(redirect) => redirect,
        SessionRefused::Failed { error, lang_en } => error_page(status_of(error.kind), &error, lang_en),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_posts_offer_the_page_they_came_from() {
        assert_eq!(page_of_action("/core-library/abc/transition"), "/core-library/abc");
        assert_eq!(page_of_action("/users/u1/password"), "/users/u1");
        assert_eq!(page_of_action("/orgs"), "/orgs");
    }
}
