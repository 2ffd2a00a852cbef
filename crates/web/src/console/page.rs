//! What every console page is made of, whoever asks: the chrome (`Ui`, with the language switch and the
//! flash message), rendering a template under the Content-Security-Policy, redirects, the error page,
//! choices for selects, and the few formats every page shares. It knows no request and no page of its
//! own, so every page module, the form extractors and the request context can build on it.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::Cookie;
use lianrong_app::AppError;

use super::nav::NavGroup;
use crate::auth::urlencode;
use crate::error::status_of;

/// No scripts at all, styles only from our own stylesheet, forms only to ourselves, never framed.
pub(super) const CSP: &str =
    "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

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
    pub nav: Vec<NavGroup>,
    pub href_zh: String,
    pub href_en: String,
    pub flash: Option<Flash>,
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

pub(super) fn lang_href(lang: &str, path: &str) -> String {
    format!("/lang/{lang}?next={}", urlencode(path))
}

/// The status a page re-rendered after a failed POST answers with: that of the error, else 200.
pub fn status_for(failed: Option<&AppError>) -> StatusCode {
    failed.map_or(StatusCode::OK, |e| status_of(e.kind))
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

/// An error as a page inside the given chrome.
pub(super) fn error_in(ui: Ui, status: StatusCode, message: String) -> Response {
    render(status, &ErrorPage { ui, status, message })
}

/// An error as an HTML page, for callers without a session (unknown paths, failed session look-ups).
pub fn error_page(status: StatusCode, e: &AppError, lang_en: bool) -> Response {
    error_in(Ui::anonymous(lang_en, "/home"), status, e.message(lang_en).to_string())
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
}
