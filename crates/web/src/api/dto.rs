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

/// Instants in the API are RFC 3339 UTC strings.
pub(crate) use lianrong_app::rfc3339_utc as rfc3339;
