//! What the API's modules share in their answers: the page every list endpoint returns and the form of
//! instants. It sits below them and names none of them, so the modules need not reach up to `api/mod.rs`,
//! which names them all.

/// A page of items as every list endpoint answers it.
macro_rules! page_dto {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// 1-based page number.
            pub page: u32,
            pub page_size: u32,
            /// Items across all pages.
            pub total: i64,
        }

        impl $name {
            pub fn from_page<T>(p: lianrong_domain::page::Page<T>, f: impl FnMut(T) -> $item) -> $name {
                let p = p.map(f);
                $name { items: p.items, page: p.page, page_size: p.page_size, total: p.total }
            }
        }
    };
}
pub(crate) use page_dto;

/// A page of a list paged by key: as [`page_dto`], with the cursor that asks for the next page.
macro_rules! keyed_page_dto {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// 1-based page number.
            pub page: u32,
            pub page_size: u32,
            /// Items across all pages, counted when the first page was read.
            pub total: i64,
            /// Pass as `after` to read the next page (absent on the last page). Reading on by cursor
            /// costs the same at any depth; `page=n` skips rows and slows down as n grows.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_keyed<T>(p: lianrong_domain::page::KeyedPage<T>, f: impl FnMut(T) -> $item) -> $name {
                let lianrong_domain::page::KeyedPage { page, next } = p.map(f);
                $name {
                    items: page.items,
                    page: page.page,
                    page_size: page.page_size,
                    total: page.total,
                    next_cursor: next.map(|c| c.encode()),
                }
            }
        }
    };
}
pub(crate) use keyed_page_dto;

/// Instants in the API are RFC 3339 UTC strings.
pub(crate) use lianrong_app::rfc3339_utc as rfc3339;
