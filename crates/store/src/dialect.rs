//! Every difference between the two backends that a repository's SQL has to spell, in one place. The
//! differences the schema has (64-bit integers, bytes) are in the migrations and checked by
//! `migration_twins`; the ones a connection has are here:
//!
//! - **Row locks.** PostgreSQL takes `FOR UPDATE` (or `FOR SHARE`) on the rows a use case reads before
//!   writing on what it read; SQLite has no row locks and needs none, because a write transaction is
//!   opened `BEGIN IMMEDIATE` (`Db::begin_write`) and so runs alone.
//! - **Placeholders.** PostgreSQL numbers them (`$1`); on SQLite a long statement uses anonymous `?`,
//!   because sqlx resolves each numbered one by a linear search (a 14,800-parameter INSERT was quadratic,
//!   92 % of the ingest in `sqlite3_bind_parameter_name`).
//! - **Upserts from a SELECT.** SQLite's parser reads `INSERT … SELECT … ON CONFLICT` as a join unless the
//!   SELECT ends `WHERE true`; PostgreSQL accepts both (see `four_flow`).
//!
//! Repositories take a bare connection (inside the caller's transaction), so the backend is read from it.

use crate::Conn;

/// Whether a connection is SQLite's.
pub(crate) fn is_sqlite(conn: &Conn) -> bool {
    conn.backend_name() == "SQLite"
}

/// ` FOR UPDATE` on PostgreSQL, nothing on SQLite (see the module's note on row locks).
pub(crate) fn for_update(conn: &Conn) -> &'static str {
    if is_sqlite(conn) { "" } else { " FOR UPDATE" }
}

/// ` FOR UPDATE` when `locked`, else nothing: a repository read used both inside and outside writes.
pub(crate) fn lock_if(conn: &Conn, locked: bool) -> &'static str {
    if locked { for_update(conn) } else { "" }
}

/// ` FOR SHARE` on PostgreSQL, nothing on SQLite: a read that must see a row stay as it is until commit.
pub(crate) fn for_share(conn: &Conn) -> &'static str {
    if is_sqlite(conn) { "" } else { " FOR SHARE" }
}

/// A parenthesised list of `n` placeholders starting at number `first`: anonymous `?` on SQLite (see the
/// module's note), `$first…` on PostgreSQL.
pub(crate) fn placeholders(conn: &Conn, first: usize, n: usize) -> String {
    let parts: Vec<String> =
        if is_sqlite(conn) { vec!["?".to_string(); n] } else { (first..first + n).map(|i| format!("${i}")).collect() };
    format!("({})", parts.join(", "))
}

/// `(…), (…)` with `rows` groups of `columns` placeholders, numbered from 1 on PostgreSQL: the values of
/// a multi-row INSERT.
pub(crate) fn value_rows(conn: &Conn, rows: usize, columns: usize) -> String {
    (0..rows).map(|i| placeholders(conn, 1 + i * columns, columns)).collect::<Vec<_>>().join(", ")
}

/// The `n`th bind after a [`placeholders`] list: `?` on SQLite (anonymous, in order), `$n` on PostgreSQL.
pub(crate) fn placeholder(conn: &Conn, n: usize) -> String {
    if is_sqlite(conn) { "?".into() } else { format!("${n}") }
}

/// Appends `text` in PostgreSQL's `COPY` text format: a backslash, tab, newline or carriage return inside
/// a value is escaped (a NULL is written `\N` by the caller). Both bulk paths (the lake's staging and
/// four-flow's verdicts) write their lines through it.
pub(crate) fn copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
