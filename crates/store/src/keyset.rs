//! Lists paged by key. A page after a cursor seeks to the cursor's sort key through an index and reads
//! one page, so page 9,000 costs what page 1 costs; paging by offset instead reads and throws away every
//! row before the page. The total is counted once, on the first page, and travels in the cursor.
//!
//! A list is read as one or more disjoint *arms*, each a range of one index (a supplier's records as
//! seller, then as buyer but not seller): each arm yields its first rows past the key in key order and
//! the arms are merged. An `OR` across two columns would instead make the database read every matching
//! row and sort them before it could answer.

use lianrong_domain::page::{Cursor, KeyedPage, Page, PageError, Seek};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError};

/// One column of a list's sort key, with its type: the cursor carries it as text, the database compares
/// it as what it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyColumn {
    Text(&'static str),
    Int(&'static str),
}

impl KeyColumn {
    fn expr(self) -> &'static str {
        match self {
            KeyColumn::Text(e) | KeyColumn::Int(e) => e,
        }
    }
}

/// What a keyed list reads. Every fragment refers to the list's text binds as `$1`…`$n`.
pub(crate) struct KeyedList<'a> {
    /// The `FROM` clause (a table, or a join whose first table the arms select by).
    pub from: &'static str,
    pub columns: &'static str,
    /// One or two sort-key columns; together they are unique, so that a key names one position.
    pub key: &'static [KeyColumn],
    pub descending: bool,
    /// Disjoint conditions, each the leading columns of an index that ends with the key.
    pub arms: Vec<&'a str>,
    /// What every arm's rows must also satisfy.
    pub filter: &'a str,
    pub binds: Vec<String>,
}

/// The name each key column is selected as, to merge the arms and to make the next cursor.
const SEEK_ALIASES: [&str; 2] = ["seek_k0", "seek_k1"];

impl KeyedList<'_> {
    fn sql(&self, after: bool) -> String {
        let n = self.binds.len();
        let keys: Vec<&str> = self.key.iter().map(|k| k.expr()).collect();
        let (cmp, dir) = if self.descending { ("<", "DESC") } else { (">", "ASC") };
        let seek = if after {
            let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${}", n + i)).collect();
            format!(" AND ({}) {cmp} ({})", keys.join(", "), marks.join(", "))
        } else {
            String::new()
        };
        // Placeholders after the list's binds: the key (after a cursor), then for several arms each arm's
        // limit, then the page's limit and offset. PostgreSQL wants them numbered without gaps.
        let first = if after { n + keys.len() + 1 } else { n + 1 };
        let (inner_limit, outer_limit, offset) =
            if self.arms.len() > 1 { (first, first + 1, first + 2) } else { (0, first, first + 1) };
        let selected: Vec<String> = keys.iter().zip(SEEK_ALIASES).map(|(k, a)| format!("{k} AS {a}")).collect();
        let ordered = |names: &[&str]| names.iter().map(|k| format!("{k} {dir}")).collect::<Vec<_>>().join(", ");
        let arm = |cond: &str, limit: usize| {
            format!(
                "SELECT {}, {} FROM {} WHERE ({cond}) AND ({}){seek} ORDER BY {} LIMIT ${limit}",
                self.columns,
                selected.join(", "),
                self.from,
                self.filter,
                ordered(&keys)
            )
        };
        match self.arms.as_slice() {
            [only] => format!("{} OFFSET ${offset}", arm(only, outer_limit)),
            arms => {
                let parts: Vec<String> = arms
                    .iter()
                    .enumerate()
                    .map(|(i, cond)| format!("SELECT * FROM ({}) arm{i}", arm(cond, inner_limit)))
                    .collect();
                format!(
                    "{} ORDER BY {} LIMIT ${outer_limit} OFFSET ${offset}",
                    parts.join(" UNION ALL "),
                    ordered(&SEEK_ALIASES[..keys.len()])
                )
            }
        }
    }

    async fn count(&self, conn: &mut Conn) -> Result<i64> {
        let parts: Vec<String> = self
            .arms
            .iter()
            .map(|cond| format!("(SELECT COUNT(*) FROM {} WHERE ({cond}) AND ({}))", self.from, self.filter))
            .collect();
        let mut q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!("SELECT {}", parts.join(" + "))));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.fetch_one(&mut *conn).await?)
    }

    /// The cursor's key as this list's columns read it; a key of another shape is the caller's error.
    fn check(&self, cursor: &Cursor) -> Result<()> {
        let fits = cursor.key.len() == self.key.len()
            && self.key.iter().zip(&cursor.key).all(|(k, v)| match k {
                KeyColumn::Text(_) => true,
                KeyColumn::Int(_) => v.parse::<i64>().is_ok(),
            });
        if fits { Ok(()) } else { Err(StoreError::Page(PageError::Cursor)) }
    }

    /// The key of a row the list read, as a cursor carries it.
    fn key_of(&self, row: &AnyRow) -> Result<Vec<String>> {
        self.key
            .iter()
            .zip(SEEK_ALIASES)
            .map(|(k, alias)| {
                Ok(match k {
                    KeyColumn::Text(_) => row.try_get::<String, _>(alias)?,
                    KeyColumn::Int(_) => row.try_get::<i64, _>(alias)?.to_string(),
                })
            })
            .collect()
    }
}

/// One page of `list` at `seek`, decoded by `decode`, with the cursor of the next page when there is one.
pub(crate) async fn fetch<T>(
    conn: &mut Conn,
    list: &KeyedList<'_>,
    seek: &Seek,
    decode: impl Fn(&AnyRow) -> Result<T>,
) -> Result<KeyedPage<T>> {
    let page = seek.page;
    if let Some(c) = &seek.after {
        list.check(c)?;
    }
    let total = match &seek.after {
        Some(c) => c.total,
        None => list.count(conn).await?,
    };
    // One row past the page says whether another page follows.
    let limit = page.limit() + 1;
    let offset = if seek.after.is_some() { 0 } else { page.offset() };
    let mut q = sqlx::query(AssertSqlSafe(list.sql(seek.after.is_some())));
    for b in &list.binds {
        q = q.bind(b.clone());
    }
    if let Some(c) = &seek.after {
        for (k, v) in list.key.iter().zip(&c.key) {
            q = match k {
                KeyColumn::Text(_) => q.bind(v.clone()),
                KeyColumn::Int(_) => q.bind(v.parse::<i64>().map_err(|_| StoreError::Page(PageError::Cursor))?),
            };
        }
    }
    if list.arms.len() > 1 {
        q = q.bind(offset + limit);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let more = rows.len() as i64 > page.limit();
    let served = &rows[..rows.len().min(page.page_size as usize)];
    let next = match served.last() {
        Some(last) if more => Some(Cursor { key: list.key_of(last)?, page: page.page.saturating_add(1), total }),
        _ => None,
    };
    let items = served.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(KeyedPage { page: Page { items, page: page.page, page_size: page.page_size, total }, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(arms: Vec<&'static str>, key: &'static [KeyColumn]) -> KeyedList<'static> {
        KeyedList {
            from: "t",
            columns: "a, b",
            key,
            descending: true,
            arms,
            filter: "($1 = '' OR kind = $1)",
            binds: vec![String::new()],
        }
    }

    #[test]
    fn placeholders_follow_the_binds_without_gaps() {
        const TWO: &[KeyColumn] = &[KeyColumn::Text("d"), KeyColumn::Text("id")];
        const ONE: &[KeyColumn] = &[KeyColumn::Int("n")];
        let merged = list(vec!["s = $1", "b = $1"], TWO).sql(true);
        assert!(
            merged.contains("(d, id) < ($2, $3)")
                && merged.contains("LIMIT $4")
                && merged.ends_with("LIMIT $5 OFFSET $6")
        );
        let single = list(vec!["s = $1"], ONE).sql(true);
        assert!(single.contains("(n) < ($2)") && single.ends_with("LIMIT $3 OFFSET $4"), "{single}");
        let first = list(vec!["s = $1"], ONE).sql(false);
        assert!(!first.contains(" < (") && first.ends_with("LIMIT $2 OFFSET $3"), "{first}");
    }

    #[test]
    fn a_cursor_of_another_shape_is_refused() {
        const TWO: &[KeyColumn] = &[KeyColumn::Int("at"), KeyColumn::Text("id")];
        let l = list(vec!["1 = 1"], TWO);
        let c = |key: &[&str]| Cursor { key: key.iter().map(|k| k.to_string()).collect(), page: 2, total: 9 };
        assert!(l.check(&c(&["17", "x"])).is_ok());
        assert!(matches!(l.check(&c(&["x", "17"])), Err(StoreError::Page(PageError::Cursor))));
        assert!(matches!(l.check(&c(&["17"])), Err(StoreError::Page(PageError::Cursor))));
    }
}
