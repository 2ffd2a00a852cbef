//! The console: server-rendered HTML (askama), Chinese by default with an English switch. Every page is
//! rendered inside `templates/base.html`; every label goes through [`Ui::t`]; every form carries the
//! session's CSRF token, checked before anything else happens. No JavaScript and no inline styles, so the
//! Content-Security-Policy can forbid both.

mod api_key;
mod application;
mod audit;
mod chain;
mod cluster;
mod collection_account;
mod commitment;
mod confirmation;
mod consent;
mod core_library;
mod credit_line;
mod financing;
mod form;
mod home;
mod log;
mod login;
mod mailbox;
mod org;
mod penetration;
mod preview;
mod product;
mod registration;
mod standard;
mod submission;
mod trade;
mod user;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, SameSite};
use lianrong_app::{Actor, AppError, AppResult, Permission, policy};
use lianrong_domain::org::OrgKind;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::{ConsoleSession, urlencode};
use crate::state::AppState;

pub use form::{FormData, Pager, Params, QueryData};

/// No scripts at all, styles only from our own stylesheet, forms only to ourselves, never framed.
const CSP: &str =
    "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

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

/// Adds `Max-Age` to a cookie (the builder's own setter wants the `time` crate, which we do not depend on).
pub fn with_max_age(cookie: Cookie<'static>, max_age_s: i64) -> Cookie<'static> {
    let text = format!("{cookie}; Max-Age={max_age_s}");
    Cookie::parse(text).unwrap_or(cookie)
}

/// A redirect target only when it stays on this site: an absolute path, not `//host` nor `/\host`
/// (browsers read a backslash as a slash), and without control characters.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2000
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

/// The chrome of every page: language, who is signed in, the navigation and a flash message.
pub struct Ui {
    pub lang_en: bool,
    pub signed_in: bool,
    pub org_name: String,
    pub org_kind: &'static str,
    pub user_name: String,
    pub csrf: String,
    pub active: &'static str,
    pub nav: Vec<NavItem>,
    pub href_zh: String,
    pub href_en: String,
    pub flash: Option<Flash>,
}

pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: &'static str,
}

pub struct Flash {
    pub error: bool,
    pub message: String,
}

impl Ui {
    /// The page chrome for someone not signed in (login and error pages).
    pub fn anonymous(lang_en: bool, path: &str) -> Ui {
        Ui {
            lang_en,
            signed_in: false,
            org_name: String::new(),
            org_kind: "",
            user_name: String::new(),
            csrf: String::new(),
            active: "",
            nav: Vec::new(),
            href_zh: lang_href("zh", path),
            href_en: lang_href("en", path),
            flash: None,
        }
    }

    /// The label in the reader's language.
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        if self.lang_en { en } else { zh }
    }

    pub fn error(mut self, e: &AppError) -> Ui {
        self.flash = Some(Flash { error: true, message: e.message(self.lang_en).to_string() });
        self
    }

    /// A success message named by a fixed code in the query (`?ok=created`): never text from the URL.
    pub fn done(mut self, code: &str) -> Ui {
        if let Some((zh, en)) = done_message(code) {
            self.flash = Some(Flash { error: false, message: self.t(zh, en).to_string() });
        }
        self
    }
}

fn done_message(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "created" => ("已创建。", "Created."),
        "updated" => ("已保存。", "Saved."),
        "password_reset" => {
            ("密码已重置，该用户的会话已全部退出。", "Password reset; the user's sessions have been ended.")
        }
        "suspended" => (
            "账户已停用，其会话已全部退出；该机构可看到停用原因。",
            "Account suspended and its sessions ended; its organisation sees why.",
        ),
        "revoked" => ("API密钥已吊销。", "API key revoked."),
        "member_added" => ("成员已加入产业链。", "Member added to the chain."),
        "applied" => ("入库申请已提交，等待平台审核。", "Application submitted; awaiting the operator's decision."),
        "admit" => ("已准予入库。", "Admitted to the library."),
        "suspend" => ("已暂停该条目。", "Entry suspended."),
        "reinstate" => ("已恢复该条目。", "Entry reinstated."),
        "withdraw" => ("该条目已退出核心企业库。", "Entry withdrawn from the library."),
        "removed" => ("已删除。", "Removed."),
        "bound" => ("回款账户已绑定。", "Repayment account bound."),
        "proposed" => {
            ("变更申请已提出，待其他各方同意后生效。", "Change proposed; it applies once the other parties consent.")
        }
        "consented" => ("已同意该变更申请。", "Consent given."),
        "change_withdrawn" => ("变更申请已撤回。", "Change request withdrawn."),
        "declined" => ("已拒绝该变更申请。", "Change request declined."),
        "requested" => ("确权申请已发送给债务人。", "Confirmation asked of the debtors."),
        "confirmed" => (
            "已签名确认所选应收账款，确权记录已写入存证日志。",
            "Signed and confirmed; each confirmation is now a leaf of the verifiable log.",
        ),
        "rejected" => ("已拒绝所选确权申请。", "The chosen requests are rejected."),
        "withdrawn" => ("确权申请已撤回。", "Request withdrawn."),
        "registered" => ("应收账款已登记。", "The receivable is registered."),
        "applied_financing" => (
            "融资申请已提交：已完成自动预审，所选银行获得本次申请的数据授权。",
            "Application submitted: pre-checked, and the chosen banks have consent to read your data for it.",
        ),
        "decided" => ("决定已记录。", "Decision recorded."),
        "disbursed" => (
            "已放款：登记、授信占用与存证已在同一步完成。",
            "Disbursed: the registration, line occupation and log leaf were made in the same step.",
        ),
        "repayment_recorded" => ("还款已登记。", "Repayment recorded."),
        "issued" => (
            "债权凭证已开立，已占用供应链授信额度并写入存证日志。",
            "Commitment issued: the line is occupied and the issue is a log leaf.",
        ),
        "split" => ("已拆分。", "Split done."),
        "transferred" => ("已转让给供应商。", "Passed to the supplier."),
        "discount_asked" => ("贴现申请已提交，待银行确认。", "Discount asked; waiting for the bank."),
        "discount_posted" => ("贴现已确认，凭证份额归银行所有。", "Discount posted; the part is the bank's."),
        "discount_voided" => ("贴现已撤销，份额退回持有人。", "Discount voided; the part went back to its holder."),
        "discount_first_approval" => (
            "已记录您的审批；该笔贴现金额超过100万元，须由另一位审批人复核后记账。",
            "Your approval is recorded; above ¥1,000,000 another approver must post the discount.",
        ),
        "settled" => ("已到期兑付，各持有人按份额足额兑付。", "Settled: every holder paid its parts exactly."),
        "published" => ("产品已发布到产品目录。", "The product is published in the catalogue."),
        "product_withdrawn" => {
            ("产品已撤回（含其产业链专属版本）。", "The product is withdrawn (with its chain variants).")
        }
        "released" => {
            ("登记已注销，相关发票可再次登记。", "Registration released; its invoices may be registered again.")
        }
        "processing" => (
            "文件已接收并安全保存，仍在处理中；请稍后刷新本页查看结果。",
            "The file is received and stored safely and is still being processed; refresh this page shortly.",
        ),
        "mapped" => (
            "列映射已保存，以下预览已按新映射重新读取；此后本机构经任一渠道报送的文件均按此映射识别。",
            "The column meanings are saved and the preview below reads the file with them; every later file of our organisation, through any channel, is read the same way.",
        ),
        "uploaded" => {
            ("文件已接收并处理完毕，结果如下。", "The file was received and processed; the outcome is below.")
        }
        _ => return None,
    })
}

fn lang_href(lang: &str, path: &str) -> String {
    format!("/lang/{lang}?next={}", urlencode(path))
}

fn nav_for(actor: &Actor, lang_en: bool) -> Vec<NavItem> {
    let t = |zh: &'static str, en: &'static str| if lang_en { en } else { zh };
    let mut nav = vec![
        NavItem { key: "home", href: "/home", label: t("工作台", "Home") },
        NavItem { key: "library", href: "/core-library", label: t("核心企业库", "Core library") },
        NavItem { key: "chains", href: "/chains", label: t("产业链", "Chains") },
        NavItem { key: "orgs", href: "/orgs", label: t("机构名录", "Organisations") },
        NavItem { key: "clusters", href: "/clusters", label: t("产业集群", "Clusters") },
    ];
    nav.push(NavItem { key: "log", href: "/log", label: t("存证日志", "Verifiable log") });
    // The data lake: those who share trade data, and the operator who keeps it.
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator) {
        nav.push(NavItem { key: "submissions", href: "/submissions", label: t("数据报送", "Data sharing") });
    }
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator) {
        nav.push(NavItem { key: "receivables", href: "/receivables", label: t("应收账款", "Receivables") });
    }
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "confirmations", href: "/confirmations", label: t("确权", "Confirmation") });
    }
    if actor.org_kind != OrgKind::Regulator {
        nav.push(NavItem { key: "credit_lines", href: "/credit-lines", label: t("授信额度", "Credit lines") });
    }
    nav.push(NavItem { key: "commitments", href: "/commitments", label: t("债权凭证", "Commitments") });
    if actor.org_kind != OrgKind::Regulator {
        nav.push(NavItem { key: "applications", href: "/applications", label: t("融资申请", "Applications") });
    }
    nav.push(NavItem { key: "loans", href: "/loans", label: t("融资台账", "Loans") });
    if matches!(actor.org_kind, OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "financing", href: "/financing", label: t("融资统计", "Financing") });
    }
    nav.push(NavItem { key: "products", href: "/products", label: t("产品目录", "Products") });
    let consents = match actor.org_kind {
        OrgKind::Core | OrgKind::Supplier => t("我的授权", "My consents"),
        OrgKind::Bank => t("客户授权", "Consents received"),
        _ => t("数据授权", "Consents"),
    };
    nav.push(NavItem { key: "consents", href: "/consents", label: consents });
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "penetration", href: "/penetration", label: t("信用穿透", "Credit reach") });
    }
    nav.push(NavItem { key: "registrations", href: "/registrations", label: t("登记", "Registrations") });
    if policy::allows(actor, Permission::ReadUsers) {
        nav.push(NavItem { key: "users", href: "/users", label: t("用户管理", "Users") });
    }
    if policy::allows(actor, Permission::ManageApiKeys) {
        nav.push(NavItem { key: "api_keys", href: "/api-keys", label: t("API密钥", "API keys") });
    }
    if policy::allows(actor, Permission::ReadMailbox) {
        nav.push(NavItem { key: "mailbox", href: "/mailbox", label: t("定点邮箱", "Mailbox") });
    }
    if policy::allows(actor, Permission::ReadAudit) {
        nav.push(NavItem { key: "audit", href: "/audit", label: t("审计日志", "Audit log") });
    }
    nav
}

/// A console request: the signed-in session and the page's own address (for the language switch).
pub struct Ctx {
    pub session: ConsoleSession,
    path: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = ConsoleSession::from_request_parts(parts, state).await?;
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
        let page = ErrorPage {
            ui: self.ui(""),
            status: crate::error::status_of(e.kind),
            message: e.message(self.lang_en()).to_string(),
        };
        render(page.status, &page)
    }

    pub fn respond(&self, r: AppResult<Response>) -> Response {
        r.unwrap_or_else(|e| self.fail(&e))
    }
}

/// The status a page re-rendered after a failed POST answers with: that of the error, else 200.
pub fn status_for(failed: Option<&AppError>) -> StatusCode {
    failed.map_or(StatusCode::OK, |e| crate::error::status_of(e.kind))
}

/// Renders a template; a rendering failure is logged and answered with a bare 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "console template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error / 系统内部错误").into_response()
        }
    }
}

pub fn see_other(target: &str) -> Response {
    Redirect::to(target).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ui: Ui,
    status: StatusCode,
    message: String,
}

impl ErrorPage {
    fn code(&self) -> u16 {
        self.status.as_u16()
    }
}

/// An error as an HTML page, for callers without a session (unknown paths, failed session look-ups).
pub fn error_page(status: StatusCode, e: &AppError, lang_en: bool) -> Response {
    let page = ErrorPage { ui: Ui::anonymous(lang_en, "/home"), status, message: e.message(lang_en).to_string() };
    render(status, &page)
}

/// One choice of a select or one box of a checkbox list.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    /// Choices from `(code, label)` pairs; `selected` says which codes are chosen.
    pub fn list<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>, selected: impl Fn(&str) -> bool) -> Vec<Opt> {
        items
            .into_iter()
            .map(|(value, label)| Opt { value: value.to_string(), label: label.to_string(), selected: selected(value) })
            .collect()
    }
}

/// `display_time` for an optional instant; a dash when there is none.
pub fn time_or_dash(at_ms: Option<i64>) -> String {
    at_ms.map_or_else(|| "—".to_string(), lianrong_app::display_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(local_path("/core-library?page=2"), Some("/core-library?page=2"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("/\\evil.example/"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path(""), None);
        assert_eq!(local_path("/a\r\nSet-Cookie: x"), None);
    }

    #[test]
    fn failed_posts_offer_the_page_they_came_from() {
        assert_eq!(page_of_action("/core-library/abc/transition"), "/core-library/abc");
        assert_eq!(page_of_action("/users/u1/password"), "/users/u1");
        assert_eq!(page_of_action("/orgs"), "/orgs");
    }
}
