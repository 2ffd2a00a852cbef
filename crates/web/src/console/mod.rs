//! The console: server-rendered HTML (askama), Chinese by default with an English switch. Every page is
//! rendered inside `templates/base.html`; every label goes through [`page::Ui::t`]; every form carries the
//! session's CSRF token, checked before anything else happens. No JavaScript and no inline styles, so the
//! Content-Security-Policy can forbid both.
//!
//! This file only lists the modules and the routes. What pages share sits in modules below them, which
//! name no page: `page` (the chrome, rendering, the error page), `nav` (the menu), `form` (form bodies,
//! query strings, the pager), `ctx` (the signed-in request), `label` (labels and formats of codes) and
//! `chart` (bar charts as inline SVG).
//! Pages import from those, never from this file, so imports point one way: down.

mod api_key;
mod application;
mod audit;
mod chain;
mod chart;
mod cluster;
mod collection_account;
mod commitment;
mod confirmation;
mod consent;
mod core_library;
mod credit_line;
mod ctx;
mod financing;
mod form;
mod home;
mod home_jobs;
mod label;
mod log;
mod login;
mod mailbox;
mod nav;
mod org;
mod org_lookup;
pub(crate) mod page;
mod penetration;
mod preview;
mod product;
mod registration;
mod standard;
mod submission;
mod trade;
mod user;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, SameSite};
use lianrong_app::AppError;
use tower_http::set_header::SetResponseHeaderLayer;

use ctx::Ctx;
use form::QueryData;
use page::{CSP, error_page, local_path, with_max_age};

use crate::state::AppState;

/// The one stylesheet, compiled into the binary so the console works offline.
const CONSOLE_CSS: &str = include_str!("../../static/console.css");

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/static/console.css", get(stylesheet))
        .route("/lang/{lang}", get(switch_language))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/home", get(home::page))
        .route("/orgs", get(org::list).post(org::create))
        .route("/orgs/{id}", get(org::detail))
        .route("/users", get(user::list).post(user::create))
        .route("/users/{id}", get(user::detail).post(user::update))
        .route("/users/{id}/password", post(user::reset_password))
        .route("/users/{id}/suspension", post(user::suspend))
        .route("/api-keys", get(api_key::list).post(api_key::create))
        .route("/api-keys/{id}/revoke", post(api_key::revoke))
        .route("/chains", get(chain::list).post(chain::create))
        .route("/chains/{id}", get(chain::detail))
        .route("/chains/{id}/members", post(chain::add_member))
        .route("/core-library", get(core_library::list).post(core_library::apply))
        .route("/core-library/{id}", get(core_library::detail))
        .route("/core-library/{id}/transition", post(core_library::transition))
        .route("/clusters", get(cluster::list))
        .route("/audit", get(audit::list))
        .route("/mailbox", get(mailbox::page).post(mailbox::change))
        .route("/mailbox/receipts", get(mailbox::receipts))
        .route("/log", get(log::list))
        .route("/log/{leaf_index}", get(log::detail))
        .route("/log/leaves/{leaf_id}", get(log::by_id))
        // The data lake: submissions and their reports, the records they became, the data standard.
        .route("/submissions", get(submission::list).post(submission::upload).layer(submission::upload_limit()))
        .route("/submissions/preview", post(submission::preview).layer(submission::upload_limit()))
        .route("/submissions/preview/{token}", get(preview::page).post(preview::confirm))
        .route("/submissions/{id}", get(submission::report))
        .route("/submissions/{id}/raw", get(submission::raw))
        .route("/trade-records", get(trade::list))
        .route("/trade-records/{id}", get(trade::detail))
        .route("/standard", get(standard::page))
        .route("/standard/templates/{name}", get(standard::template))
        .route("/penetration", get(penetration::page))
        .route("/receivables/{invoice_id}/account", get(collection_account::page).post(collection_account::act))
        .route("/receivables", get(confirmation::receivables))
        .route("/receivables/confirmation-requests", axum::routing::post(confirmation::request))
        .route("/receivables/payables-confirmations", axum::routing::post(confirmation::confirm_payables))
        .route("/credit-lines", get(credit_line::page).post(credit_line::grant))
        .route("/commitments", get(commitment::list).post(commitment::issue))
        .route("/commitments/{id}", get(commitment::detail).post(commitment::act))
        .route("/financing", get(financing::page))
        .route("/applications", get(application::list).post(application::apply))
        .route("/applications/{id}", get(application::detail).post(application::act))
        .route("/loans", get(application::loan_list))
        .route("/loans/{id}", get(application::loan_detail).post(application::repay))
        .route("/products", get(product::page).post(product::create))
        .route("/products/{id}", get(product::detail).post(product::update))
        .route("/products/{id}/publish", post(product::publish))
        .route("/products/{id}/withdraw", post(product::withdraw))
        .route("/consents", get(consent::page).post(consent::grant))
        .route("/consents/{id}", get(consent::detail))
        .route("/consents/{id}/revoke", post(consent::revoke))
        .route("/confirmations", get(confirmation::confirmations).post(confirmation::decide))
        .route("/confirmations/order-requests", post(confirmation::request_order))
        // Registration of receivables against double financing.
        .route("/registrations", get(registration::page).post(registration::register))
        .route("/registrations/export", get(registration::export))
        .route("/registrations/import", post(registration::import).layer(registration::import_limit()))
        .route("/registrations/{id}/release", post(registration::release))
        .route("/registrations/{id}/certificate", post(registration::certificate))
        .route_layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        // Pages show one organisation's data: never keep them in shared or browser caches.
        .route_layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

async fn root(_ctx: Ctx) -> Redirect {
    Redirect::to("/home")
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=600")], CONSOLE_CSS)
        .into_response()
}

/// How long the language choice is remembered.
const LANG_COOKIE_MAX_AGE_DAYS: i64 = 365;

async fn switch_language(
    Path(lang): Path<String>,
    QueryData(q): QueryData,
    jar: axum_extra::extract::CookieJar,
) -> Response {
    if lang != "zh" && lang != "en" {
        let e = AppError::not_found("Language", "语言");
        return error_page(StatusCode::NOT_FOUND, &e, crate::auth::lang_en(&jar));
    }
    let cookie =
        Cookie::build((crate::auth::LANG_COOKIE, lang)).path("/").http_only(true).same_site(SameSite::Lax).build();
    let target = local_path(q.get("next")).unwrap_or("/home").to_string();
    (jar.add(with_max_age(cookie, LANG_COOKIE_MAX_AGE_DAYS * 24 * 3600)), Redirect::to(&target)).into_response()
}
