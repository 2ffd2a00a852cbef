//! Pagination: every list is paged, with a default and a maximum page size.

use std::borrow::Cow;

use crate::limits::{PAGE_CURSOR_CHARS_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
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
    #[error("after is not a cursor this list gave out; start again from the first page")]
    Cursor,
    #[error("give either page or after, not both")]
    PageAndCursor,
}

impl Refusal for PageError {
    fn code(&self) -> &'static str {
        "invalid_page"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(match self {
            PageError::Page => "page",
            PageError::PageSize { .. } => "page_size",
            PageError::Cursor | PageError::PageAndCursor => "after",
        }))
    }

    fn zh(&self) -> String {
        match self {
            PageError::Page => "页码须为1或以上".to_string(),
            PageError::PageSize { max } => format!("每页条数须在1到{max}之间"),
            PageError::Cursor => "翻页游标（after）无效，请从第一页重新开始".to_string(),
            PageError::PageAndCursor => "页码（page）与翻页游标（after）只能给出其一".to_string(),
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

/// Where a list paged by key resumes: the sort key of the last item served, the number of the page that
/// follows, and the total counted on the first page. Deep pages then cost what the first costs: the store
/// seeks to the key through an index instead of skipping rows, and does not count again. The total is
/// carried for display only; a client that alters it misleads nobody but itself, and the key only moves
/// the start inside what the caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Vec<String>,
    pub page: u32,
    pub total: i64,
}

/// At most how many sort-key values a cursor holds: a list's order is a unique key, or a key and a
/// unique id that breaks its ties. The list that reads a cursor checks it holds that list's key.
pub const CURSOR_KEYS_MAX: usize = 2;

/// Separates the cursor's fields before it is written as hex, so that any text in a key survives.
const CURSOR_FIELD_SEPARATOR: char = '\u{1f}';

impl Cursor {
    /// The cursor as an opaque, URL-safe string (lower-case hex of its fields).
    pub fn encode(&self) -> String {
        let mut plain = format!("{}{CURSOR_FIELD_SEPARATOR}{}", self.page, self.total);
        for k in &self.key {
            plain.push(CURSOR_FIELD_SEPARATOR);
            plain.push_str(k);
        }
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a cursor a list gave out.
    pub fn decode(text: &str) -> Result<Cursor, PageError> {
        if text.is_empty() || text.len() > PAGE_CURSOR_CHARS_MAX || !text.len().is_multiple_of(2) {
            return Err(PageError::Cursor);
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or(PageError::Cursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| PageError::Cursor)?;
        let mut fields = plain.split(CURSOR_FIELD_SEPARATOR);
        let page = fields.next().and_then(|p| p.parse::<u32>().ok()).ok_or(PageError::Cursor)?;
        let total = fields.next().and_then(|t| t.parse::<i64>().ok()).ok_or(PageError::Cursor)?;
        let key: Vec<String> = fields.map(str::to_string).collect();
        // Page 1 is never after a cursor; deeper pages have no bound, as reading them costs nothing extra.
        if page < 2 || total < 0 || !(1..=CURSOR_KEYS_MAX).contains(&key.len()) {
            return Err(PageError::Cursor);
        }
        Ok(Cursor { key, page, total })
    }
}

/// A page of a list that can be paged by key: by number (the first page, or a jump that skips rows) or
/// after a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seek {
    pub page: PageRequest,
    pub after: Option<Cursor>,
}

impl Seek {
    /// `after` is the cursor text a client hands back.
    pub fn new(page: Option<u32>, page_size: Option<u32>, after: Option<&str>) -> Result<Seek, PageError> {
        let after = after.filter(|a| !a.is_empty());
        if page.is_some() && after.is_some() {
            return Err(PageError::PageAndCursor);
        }
        let mut request = PageRequest::new(page, page_size)?;
        let after = after.map(Cursor::decode).transpose()?;
        if let Some(c) = &after {
            request.page = c.page;
        }
        Ok(Seek { page: request, after })
    }

    /// The page after `cursor`, with the page size of `page`; for callers that walk a whole list.
    pub fn after(page: PageRequest, cursor: Cursor) -> Seek {
        Seek { page: PageRequest { page: cursor.page, page_size: page.page_size }, after: Some(cursor) }
    }
}

impl From<PageRequest> for Seek {
    fn from(page: PageRequest) -> Seek {
        Seek { page, after: None }
    }
}

/// A page of a list paged by key, with the cursor of the page that follows when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedPage<T> {
    pub page: Page<T>,
    pub next: Option<Cursor>,
}

impl<T> KeyedPage<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> KeyedPage<U> {
        KeyedPage { page: self.page.map(f), next: self.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_whatever_its_key_holds() {
        let c = Cursor { key: vec!["2026-12-07".into(), "TR-一二三|\u{1f}x".into()], page: 9000, total: 450_000 };
        let text = c.encode();
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        // The separator inside a key adds a field, so a key holding it is refused rather than misread.
        assert_eq!(Cursor::decode(&text), Err(PageError::Cursor));
        let c = Cursor { key: vec!["2026-12-07".into(), "TR-一二三".into()], page: 9000, total: 450_000 };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn a_cursor_that_was_not_given_out_is_refused() {
        for bad in ["", "zz", "abc", &"a".repeat(PAGE_CURSOR_CHARS_MAX + 2), "31", "ff00"] {
            assert_eq!(Cursor::decode(bad), Err(PageError::Cursor), "{bad}");
        }
        let page_one = Cursor { key: vec!["a".into(), "b".into()], page: 1, total: 3 };
        assert_eq!(Cursor::decode(&page_one.encode()), Err(PageError::Cursor));
        let negative = Cursor { key: vec!["a".into(), "b".into()], page: 2, total: -1 };
        assert_eq!(Cursor::decode(&negative.encode()), Err(PageError::Cursor));
        let long = Cursor { key: vec!["a".into(), "b".into(), "c".into()], page: 2, total: 3 };
        assert_eq!(Cursor::decode(&long.encode()), Err(PageError::Cursor));
        let short = Cursor { key: vec!["a".into()], page: 2, total: 3 };
        assert_eq!(Cursor::decode(&short.encode()), Ok(short));
    }

    #[test]
    fn a_seek_takes_a_page_number_or_a_cursor_but_not_both() {
        let c = Cursor { key: vec!["k".into(), "id".into()], page: 7, total: 400 }.encode();
        assert_eq!(Seek::new(Some(2), None, Some(&c)), Err(PageError::PageAndCursor));
        let s = Seek::new(None, Some(20), Some(&c)).unwrap();
        assert_eq!((s.page.page, s.page.page_size, s.after.map(|a| a.total)), (7, 20, Some(400)));
        assert_eq!(Seek::new(Some(3), None, Some("")).unwrap().after, None);
    }
}
