//! Form bodies and query strings as ordered name–value pairs (checkbox lists repeat a name, which typed
//! serde forms cannot hold), with rejections answered as HTML pages; and the pager under every table.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use lianrong_app::{AppError, AppResult, ErrorKind};
use lianrong_domain::page::{KeyedPage, Page, PageRequest, Seek};

use super::page::error_page;
use crate::auth::{lang_en, urlencode};

/// Name–value pairs in the order they came.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The first value of `name`, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, when it is not blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (a checkbox list).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a checkbox list holds `value`.
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }

    /// A single checkbox: present and not blank.
    pub fn checked(&self, name: &str) -> bool {
        self.opt(name).is_some()
    }

    /// The page asked for (`page`, `page_size`); a malformed number is an error, not a silent page 1.
    pub fn page(&self) -> AppResult<PageRequest> {
        let number = |name: &str| -> AppResult<Option<u32>> {
            match self.opt(name) {
                None => Ok(None),
                Some(v) => v.parse::<u32>().map(Some).map_err(|_| {
                    AppError::invalid(
                        name,
                        "invalid_page",
                        format!("{name} must be a whole number"),
                        format!("{name} 须为正整数"),
                    )
                }),
            }
        };
        Ok(PageRequest::new(number("page")?, number("page_size")?)?)
    }

    /// The page asked for of a list paged by key: `page` as above, or `after` a cursor the list gave out.
    pub fn seek(&self) -> AppResult<Seek> {
        let page = self.page()?;
        let numbered = self.opt("page").map(|_| page.page);
        Ok(Seek::new(numbered, Some(page.page_size), self.opt("after"))?)
    }
}

fn bad_request(lang: bool, en: String, zh: String) -> Response {
    let e = AppError::new(ErrorKind::Invalid, "bad_request", en, zh);
    error_page(StatusCode::BAD_REQUEST, &e, lang)
}

/// A url-encoded form body.
pub struct FormData(pub Params);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_en(&CookieJar::from_headers(req.headers()));
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(FormData(Params(pairs))),
            Err(r) => Err(bad_request(
                lang,
                format!("The form could not be read: {}", r.body_text()),
                "无法读取表单，请返回页面后重新提交".to_string(),
            )),
        }
    }
}

/// The query string.
pub struct QueryData(pub Params);

impl<S: Send + Sync> FromRequestParts<S> for QueryData {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_en(&CookieJar::from_headers(&parts.headers));
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => Ok(QueryData(Params(pairs))),
            Err(r) => Err(bad_request(
                lang,
                format!("Invalid query string: {}", r.body_text()),
                "页面地址中的查询参数无效".to_string(),
            )),
        }
    }
}

/// "第 2 / 7 页" with links to the neighbouring pages, keeping the list's filters.
pub struct Pager {
    pub page: u32,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `filters` are the list's other query parameters; blank ones are left out of the links.
    pub fn new<T>(p: &Page<T>, base: &str, filters: &[(&str, &str)]) -> Pager {
        let pages = p.pages();
        let href = |n: u32| link(base, filters, &format!("page={n}"));
        Pager {
            page: p.page,
            pages,
            total: p.total,
            prev: (p.page > 1).then(|| href(p.page - 1)),
            next: (i64::from(p.page) < pages).then(|| href(p.page + 1)),
        }
    }

    /// A list paged by key: "next" follows the cursor (as fast at any depth), "previous" asks for the page
    /// by number.
    pub fn keyed<T>(p: &KeyedPage<T>, base: &str, filters: &[(&str, &str)]) -> Pager {
        let mut pager = Pager::new(&p.page, base, filters);
        pager.next = p.next.as_ref().map(|c| link(base, filters, &format!("after={}", c.encode())));
        pager
    }
}

/// A link to `base` with the list's non-blank filters and `paging` (`page=3`, `after=…`).
fn link(base: &str, filters: &[(&str, &str)], paging: &str) -> String {
    let mut q: Vec<String> =
        filters.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
    q.push(paging.to_string());
    format!("{base}?{}", q.join("&"))
}
