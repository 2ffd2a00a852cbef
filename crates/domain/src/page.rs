//! Pagination: every list is paged, with a default and a maximum page size.

use std::borrow::Cow;

use crate::limits::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use crate::refusal::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("page must be 1 or more")]
    Page,
    #[error("page_size must be between 1 and {max}")]
    PageSize { max: u32 },
}

impl Refusal for PageError {
    fn code(&self) -> &'static str {
        "invalid_page"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(match self {
            PageError::Page => "page",
            PageError::PageSize { .. } => "page_size",
        }))
    }

    fn zh(&self) -> String {
        match self {
            PageError::Page => "页码须为1或以上".to_string(),
            PageError::PageSize { max } => format!("每页条数须在1到{max}之间"),
        }
    }
}

impl PageRequest {
    pub fn new(page: Option<u32>, page_size: Option<u32>) -> Result<PageRequest, PageError> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(PAGE_SIZE_DEFAULT);
        if page == 0 || page > 1_000_000 {
            return Err(PageError::Page);
        }
        if page_size == 0 || page_size > PAGE_SIZE_MAX {
            return Err(PageError::PageSize { max: PAGE_SIZE_MAX });
        }
        Ok(PageRequest { page, page_size })
    }

    pub fn first() -> PageRequest {
        PageRequest { page: 1, page_size: PAGE_SIZE_DEFAULT }
    }

    pub fn all_small() -> PageRequest {
        PageRequest { page: 1, page_size: PAGE_SIZE_MAX }
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }
}

/// One page of a list with the total count, so clients can show "page 2 of 7".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            page_size: self.page_size,
            total: self.total,
        }
    }

    pub fn pages(&self) -> i64 {
        if self.total == 0 { 1 } else { (self.total + i64::from(self.page_size) - 1) / i64::from(self.page_size) }
    }
}
