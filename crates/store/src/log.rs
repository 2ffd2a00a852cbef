//! The verifiable log's tables: the append state (one row), leaves and their parties, the hashes of
//! perfect subtrees, signed tree heads and the platform's signing key. Nothing here reads all leaves:
//! a root or a proof reads at most a few dozen rows by primary key.

use std::collections::HashMap;

use lianrong_domain::log::{HASH_BYTES, Hash, HashAlg, LeafKind, NodeId};
use lianrong_domain::page::{KeyedPage, Seek};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::keyset::{self, KeyColumn, KeyedList};
use crate::{Conn, Result, StoreError, decode, map_write};

/// Sizes and indexes are `u64` in the domain and `BIGINT` in the database.
fn to_db(column: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

fn from_db(column: &'static str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

fn hash_from_db(column: &'static str, bytes: Vec<u8>) -> Result<Hash> {
    <Hash>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt { column, value: format!("{} bytes, not {HASH_BYTES}", bytes.len()) })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogState {
    pub tree_size: u64,
    /// The frontier's hashes concatenated, largest subtree first (`domain::log::Frontier::from_bytes`).
    pub frontier: Vec<u8>,
    pub hash_alg: HashAlg,
}

/// The append state. With `lock`, the row stays locked until the caller's transaction ends, so appends
/// from any number of processes are serialised.
pub async fn state(conn: &mut Conn, lock: bool) -> Result<LogState> {
    let lock = crate::dialect::lock_if(conn, lock);
    let sql = format!("SELECT tree_size, frontier, hash_alg FROM log_state WHERE id = 1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    Ok(LogState {
        tree_size: from_db("log_state.tree_size", row.try_get("tree_size")?)?,
        frontier: row.try_get("frontier")?,
        hash_alg: decode("log_state.hash_alg", row.try_get("hash_alg")?, HashAlg::parse)?,
    })
}

/// Moves the state from `expected_size` to `new_size`; `Conflict` if another append got there first.
pub async fn save_state(
    conn: &mut Conn,
    expected_size: u64,
    new_size: u64,
    frontier: &[u8],
    now_ms: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE log_state SET tree_size = $2, frontier = $3, updated_at_ms = $4 WHERE id = 1 AND tree_size = $1",
    )
    .bind(to_db("log_state.tree_size", expected_size)?)
    .bind(to_db("log_state.tree_size", new_size)?)
    .bind(frontier.to_vec())
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 { Ok(()) } else { Err(StoreError::Conflict { constraint: "log_state.tree_size".into() }) }
}

/// Chooses the hash function while the log is still empty; `Conflict` once it holds a leaf.
pub async fn set_hash_alg(conn: &mut Conn, alg: HashAlg, now_ms: i64) -> Result<()> {
    let n = sqlx::query(
        "UPDATE log_state SET hash_alg = $1, updated_at_ms = $2 WHERE id = 1 AND tree_size = 0 \
         AND NOT EXISTS (SELECT 1 FROM log_pending)",
    )
    .bind(alg.code())
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 { Ok(()) } else { Err(StoreError::Conflict { constraint: "log_state.hash_alg".into() }) }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRecord {
    /// The leaf's id, given when an operation wrote it (before it had an index).
    pub leaf_id: u64,
    pub leaf_index: u64,
    pub kind: LeafKind,
    pub subject_id: String,
    /// Canonical JSON: exactly the bytes the leaf hash covers.
    pub data: String,
    pub leaf_hash: Hash,
    pub appended_at_ms: i64,
}

/// A leaf an operation wrote and the sequencer has not yet integrated into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLeaf {
    pub leaf_id: u64,
    pub kind: LeafKind,
    pub subject_id: String,
    pub data: String,
    pub appended_at_ms: i64,
    /// The organisations it concerns, each once, in order.
    pub party_org_ids: Vec<String>,
}

/// Rows per multi-row statement of an integration batch: well under both backends' bind limits.
const ROWS_PER_STATEMENT: usize = 500;

use crate::dialect::value_rows;

/// Writes a pending leaf and its parties (each organisation once) inside the caller's transaction and
/// returns its id. No lock is taken: concurrent operations write pending leaves independently, and the
/// sequencer orders them. An unknown party fails here (`Conflict` on the reference), in the operation
/// that named it. On PostgreSQL the leaf and its parties are one statement (data-modifying CTEs).
pub async fn insert_pending(
    conn: &mut Conn,
    kind: LeafKind,
    subject_id: &str,
    data: &str,
    appended_at_ms: i64,
    party_org_ids: &[&str],
) -> Result<u64> {
    let mut parties: Vec<&str> = party_org_ids.to_vec();
    parties.sort_unstable();
    parties.dedup();
    let insert =
        "INSERT INTO log_pending (kind, subject_id, data, appended_at_ms) VALUES ($1, $2, $3, $4) RETURNING leaf_id";
    if crate::is_sqlite(conn) || parties.is_empty() {
        let id: i64 = sqlx::query_scalar(insert)
            .bind(kind.code())
            .bind(subject_id)
            .bind(data)
            .bind(appended_at_ms)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_write)?;
        if !parties.is_empty() {
            let sql = format!(
                "INSERT INTO log_pending_party (leaf_id, org_id) VALUES {}",
                value_rows(conn, parties.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for org_id in &parties {
                q = q.bind(id).bind(org_id.to_string());
            }
            q.execute(&mut *conn).await.map_err(map_write)?;
        }
        return from_db("log_pending.leaf_id", id);
    }
    let orgs: Vec<String> = (0..parties.len()).map(|i| format!("(${})", i + 5)).collect();
    let sql = format!(
        "WITH p AS ({insert}), q AS (INSERT INTO log_pending_party (leaf_id, org_id) \
         SELECT p.leaf_id, v.org_id FROM p CROSS JOIN (VALUES {}) AS v(org_id)) SELECT leaf_id FROM p",
        orgs.join(", ")
    );
    let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(kind.code())
        .bind(subject_id.to_string())
        .bind(data.to_string())
        .bind(appended_at_ms);
    for org_id in parties {
        q = q.bind(org_id.to_string());
    }
    let id = q.fetch_one(&mut *conn).await.map_err(map_write)?;
    from_db("log_pending.leaf_id", id)
}

/// Whether any leaf waits for the sequencer (one index probe; no lock).
pub async fn has_pending(conn: &mut Conn) -> Result<bool> {
    let id: Option<i64> = sqlx::query_scalar("SELECT leaf_id FROM log_pending ORDER BY leaf_id LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id.is_some())
}

/// Up to `limit` committed pending leaves, oldest id first, with their parties.
pub async fn pending(conn: &mut Conn, limit: usize) -> Result<Vec<PendingLeaf>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = sqlx::query(
        "SELECT leaf_id, kind, subject_id, data, appended_at_ms FROM log_pending ORDER BY leaf_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut leaves = Vec::with_capacity(rows.len());
    for r in &rows {
        leaves.push(PendingLeaf {
            leaf_id: from_db("log_pending.leaf_id", r.try_get("leaf_id")?)?,
            kind: decode("log_pending.kind", r.try_get("kind")?, LeafKind::parse)?,
            subject_id: r.try_get("subject_id")?,
            data: r.try_get("data")?,
            appended_at_ms: r.try_get("appended_at_ms")?,
            party_org_ids: Vec::new(),
        });
    }
    // Parties by exact ids (not a range): a leaf committed meanwhile with a smaller id is not in this
    // batch, and must not lose its parties to it.
    let mut at: HashMap<u64, usize> = leaves.iter().enumerate().map(|(i, l)| (l.leaf_id, i)).collect();
    for chunk in leaves.iter().map(|l| l.leaf_id).collect::<Vec<_>>().chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT leaf_id, org_id FROM log_pending_party WHERE leaf_id IN {} ORDER BY leaf_id, org_id",
            crate::dialect::placeholders(conn, 1, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(to_db("log_pending.leaf_id", *id)?);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let id = from_db("log_pending_party.leaf_id", r.try_get("leaf_id")?)?;
            if let Some(i) = at.get_mut(&id) {
                leaves[*i].party_org_ids.push(r.try_get("org_id")?);
            }
        }
    }
    Ok(leaves)
}

/// An integration batch: the leaves with their indexes, the perfect subtrees they completed and the state
/// they move the tree to.
pub struct Batch<'a> {
    pub leaves: &'a [LeafRecord],
    /// Each leaf's parties, in the same order as `leaves`.
    pub parties: &'a [Vec<String>],
    pub nodes: &'a [(NodeId, Hash)],
    pub expected_size: u64,
    pub new_size: u64,
    pub frontier: &'a [u8],
    pub now_ms: i64,
}

/// Writes an integration batch inside the sequencer's transaction: the leaves and their parties, the
/// perfect subtrees above them, the state (`Conflict` if another sequencer moved it first), and removes
/// the batch's pending rows by their exact ids.
pub async fn integrate(conn: &mut Conn, batch: &Batch<'_>) -> Result<()> {
    insert_leaves(conn, batch.leaves).await?;
    insert_parties(conn, batch.leaves, batch.parties).await?;
    insert_nodes(conn, batch.nodes).await?;
    save_state(conn, batch.expected_size, batch.new_size, batch.frontier, batch.now_ms).await?;
    for chunk in batch.leaves.chunks(ROWS_PER_STATEMENT) {
        let sql =
            format!("DELETE FROM log_pending WHERE leaf_id IN {}", crate::dialect::placeholders(conn, 1, chunk.len()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for leaf in chunk {
            q = q.bind(to_db("log_pending.leaf_id", leaf.leaf_id)?);
        }
        let gone = q.execute(&mut *conn).await?.rows_affected();
        if gone != chunk.len() as u64 {
            return Err(StoreError::Conflict { constraint: "log_pending.leaf_id".into() });
        }
    }
    Ok(())
}

async fn insert_leaves(conn: &mut Conn, leaves: &[LeafRecord]) -> Result<()> {
    for chunk in leaves.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO log_leaf (leaf_index, leaf_id, kind, subject_id, data, leaf_hash, appended_at_ms) VALUES {}",
            value_rows(conn, chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for leaf in chunk {
            q = q
                .bind(to_db("log_leaf.leaf_index", leaf.leaf_index)?)
                .bind(to_db("log_leaf.leaf_id", leaf.leaf_id)?)
                .bind(leaf.kind.code())
                .bind(leaf.subject_id.clone())
                .bind(leaf.data.clone())
                .bind(leaf.leaf_hash.to_vec())
                .bind(leaf.appended_at_ms);
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

async fn insert_parties(conn: &mut Conn, leaves: &[LeafRecord], parties: &[Vec<String>]) -> Result<()> {
    let mut rows: Vec<(i64, &str)> = Vec::new();
    for (leaf, orgs) in leaves.iter().zip(parties) {
        let index = to_db("log_party.leaf_index", leaf.leaf_index)?;
        rows.extend(orgs.iter().map(|o| (index, o.as_str())));
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("INSERT INTO log_party (leaf_index, org_id) VALUES {}", value_rows(conn, chunk.len(), 2));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (index, org_id) in chunk {
            q = q.bind(*index).bind(org_id.to_string());
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

/// Keeps the perfect subtrees a batch completed. Leaves (level 0) live in `log_leaf` already.
async fn insert_nodes(conn: &mut Conn, nodes: &[(NodeId, Hash)]) -> Result<()> {
    let above: Vec<&(NodeId, Hash)> = nodes.iter().filter(|(id, _)| id.level > 0).collect();
    for chunk in above.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO log_node (node_level, node_index, node_hash) VALUES {}",
            value_rows(conn, chunk.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, hash) in chunk {
            q = q.bind(i64::from(id.level)).bind(to_db("log_node.node_index", id.index)?).bind(hash.to_vec());
        }
        q.execute(&mut *conn).await.map_err(map_write)?;
    }
    Ok(())
}

/// The hash of one perfect subtree, `None` if it is not (yet) complete.
pub async fn node(conn: &mut Conn, id: NodeId) -> Result<Option<Hash>> {
    let index = to_db("log_node.node_index", id.index)?;
    let bytes: Option<Vec<u8>> = if id.level == 0 {
        sqlx::query_scalar("SELECT leaf_hash FROM log_leaf WHERE leaf_index = $1")
            .bind(index)
            .fetch_optional(&mut *conn)
            .await?
    } else {
        sqlx::query_scalar("SELECT node_hash FROM log_node WHERE node_level = $1 AND node_index = $2")
            .bind(i64::from(id.level))
            .bind(index)
            .fetch_optional(&mut *conn)
            .await?
    };
    bytes.map(|b| hash_from_db("log_node.node_hash", b)).transpose()
}

/// The hashes of the given perfect subtrees (one primary-key read each); missing ones are absent.
pub async fn nodes(conn: &mut Conn, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
    let mut out = HashMap::with_capacity(ids.len());
    for &id in ids {
        if let Some(h) = node(conn, id).await? {
            out.insert(id, h);
        }
    }
    Ok(out)
}

/// Which leaves a query may return.
#[derive(Debug, Clone)]
pub enum LogScope {
    /// The operator and the regulator.
    All,
    /// Leaves the organisation is a party to.
    PartyOf { org_id: String },
}

fn scope_binds(scope: &LogScope) -> (i64, String) {
    match scope {
        LogScope::All => (1, String::new()),
        LogScope::PartyOf { org_id } => (0, org_id.clone()),
    }
}

/// A leaf's columns as `from_row` reads them.
const LEAF_COLUMNS: &str = "l.leaf_index, l.leaf_id, l.kind, l.subject_id, l.data, l.leaf_hash, l.appended_at_ms";
const SELECT: &str = "SELECT l.leaf_index, l.leaf_id, l.kind, l.subject_id, l.data, l.leaf_hash, l.appended_at_ms FROM log_leaf l \
     WHERE ($1 = 1 OR EXISTS (SELECT 1 FROM log_party p WHERE p.leaf_index = l.leaf_index AND p.org_id = $2))";

fn from_row(r: &AnyRow) -> Result<LeafRecord> {
    Ok(LeafRecord {
        leaf_id: from_db("log_leaf.leaf_id", r.try_get("leaf_id")?)?,
        leaf_index: from_db("log_leaf.leaf_index", r.try_get("leaf_index")?)?,
        kind: decode("log_leaf.kind", r.try_get("kind")?, LeafKind::parse)?,
        subject_id: r.try_get("subject_id")?,
        data: r.try_get("data")?,
        leaf_hash: hash_from_db("log_leaf.leaf_hash", r.try_get("leaf_hash")?)?,
        appended_at_ms: r.try_get("appended_at_ms")?,
    })
}

/// A leaf if the scope may see it, else `NotFound`.
pub async fn get_leaf(conn: &mut Conn, scope: &LogScope, leaf_index: u64) -> Result<LeafRecord> {
    let (all, org) = scope_binds(scope);
    let Ok(index) = i64::try_from(leaf_index) else { return Err(StoreError::NotFound) };
    let sql = format!("{SELECT} AND l.leaf_index = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(all).bind(org).bind(index).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
}

/// Where a leaf known by its id stands, for a scope that may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafById {
    Integrated(LeafRecord),
    /// Written and committed, waiting for the sequencer.
    Pending,
}

/// A leaf by its id if the scope may see it (integrated or still pending), else `NotFound`.
pub async fn get_leaf_by_id(conn: &mut Conn, scope: &LogScope, leaf_id: u64) -> Result<LeafById> {
    let (all, org) = scope_binds(scope);
    let Ok(id) = i64::try_from(leaf_id) else { return Err(StoreError::NotFound) };
    let sql = format!("{SELECT} AND l.leaf_id = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(all).bind(&org).bind(id).fetch_optional(&mut *conn).await?;
    if let Some(row) = row {
        return Ok(LeafById::Integrated(from_row(&row)?));
    }
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT p.leaf_id FROM log_pending p WHERE p.leaf_id = $3 AND ($1 = 1 OR EXISTS \
         (SELECT 1 FROM log_pending_party q WHERE q.leaf_id = p.leaf_id AND q.org_id = $2))",
    )
    .bind(all)
    .bind(&org)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    // Integration may have moved the leaf between the two reads: look once more.
    match pending {
        Some(_) => Ok(LeafById::Pending),
        None => {
            let sql = format!("{SELECT} AND l.leaf_id = $3");
            let row =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(all).bind(org).bind(id).fetch_optional(&mut *conn).await?;
            row.as_ref().map(from_row).transpose()?.map(LeafById::Integrated).ok_or(StoreError::NotFound)
        }
    }
}

/// The organisations a leaf concerns.
pub async fn parties(conn: &mut Conn, leaf_index: u64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT org_id FROM log_party WHERE leaf_index = $1 ORDER BY org_id")
        .bind(to_db("log_party.leaf_index", leaf_index)?)
        .fetch_all(&mut *conn)
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct LeafFilter {
    pub kind: Option<LeafKind>,
    pub subject_id: Option<String>,
}

/// Leaves the scope may see, newest first, paged by key.
pub async fn list_leaves(
    conn: &mut Conn,
    scope: &LogScope,
    filter: &LeafFilter,
    seek: &Seek,
) -> Result<KeyedPage<LeafRecord>> {
    let mut binds =
        vec![filter.kind.map(|k| k.code()).unwrap_or("").to_string(), filter.subject_id.clone().unwrap_or_default()];
    // A party's leaves are read through its index of the leaves it is named in.
    let (from, key, arm): (&'static str, &'static [KeyColumn], &str) = match scope {
        LogScope::All => ("log_leaf l", &[KeyColumn::Int("l.leaf_index")], "1 = 1"),
        LogScope::PartyOf { org_id } => {
            binds.push(org_id.clone());
            (
                "log_party p JOIN log_leaf l ON l.leaf_index = p.leaf_index",
                &[KeyColumn::Int("p.leaf_index")],
                "p.org_id = $3",
            )
        }
    };
    let list = KeyedList {
        from,
        columns: LEAF_COLUMNS,
        key,
        descending: true,
        arms: vec![arm],
        filter: "($1 = '' OR l.kind = $1) AND ($2 = '' OR l.subject_id = $2)",
        binds,
    };
    keyset::fetch(conn, &list, seek, from_row).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHeadRecord {
    pub tree_size: u64,
    /// Identifies the signing key (`app::log` derives it from the public key).
    pub key_id: String,
    pub root_hash: Hash,
    pub timestamp_ms: i64,
    pub hash_alg: HashAlg,
    /// SM2 signature, `r ‖ s` (64 bytes).
    pub signature: Vec<u8>,
}

fn head_from_row(r: &AnyRow) -> Result<TreeHeadRecord> {
    Ok(TreeHeadRecord {
        tree_size: from_db("log_tree_head.tree_size", r.try_get("tree_size")?)?,
        key_id: r.try_get("key_id")?,
        root_hash: hash_from_db("log_tree_head.root_hash", r.try_get("root_hash")?)?,
        timestamp_ms: r.try_get("timestamp_ms")?,
        hash_alg: decode("log_tree_head.hash_alg", r.try_get("hash_alg")?, HashAlg::parse)?,
        signature: r.try_get("signature")?,
    })
}

const HEAD_COLUMNS: &str = "tree_size, key_id, root_hash, timestamp_ms, hash_alg, signature";

/// The largest head signed by this key with this hash function. (Heads are kept per size, key and
/// hash function: a rotated key or a hash function chosen for an empty log gets heads of its own.)
pub async fn latest_head(conn: &mut Conn, key_id: &str, alg: HashAlg) -> Result<Option<TreeHeadRecord>> {
    let sql = format!(
        "SELECT {HEAD_COLUMNS} FROM log_tree_head WHERE key_id = $1 AND hash_alg = $2 ORDER BY tree_size DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key_id).bind(alg.code()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(head_from_row).transpose()
}

/// The head of one size signed by this key with this hash function, if one was signed.
pub async fn head_at(conn: &mut Conn, tree_size: u64, key_id: &str, alg: HashAlg) -> Result<Option<TreeHeadRecord>> {
    let sql =
        format!("SELECT {HEAD_COLUMNS} FROM log_tree_head WHERE tree_size = $1 AND key_id = $2 AND hash_alg = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to_db("log_tree_head.tree_size", tree_size)?)
        .bind(key_id)
        .bind(alg.code())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(head_from_row).transpose()
}

/// Keeps a signed head unless one of the same size, key and hash function is already kept (two
/// servers signing at once); the caller then reads back the one that won.
pub async fn insert_head_if_absent(conn: &mut Conn, h: &TreeHeadRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO log_tree_head (tree_size, key_id, root_hash, timestamp_ms, hash_alg, signature) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tree_size, key_id, hash_alg) DO NOTHING",
    )
    .bind(to_db("log_tree_head.tree_size", h.tree_size)?)
    .bind(&h.key_id)
    .bind(h.root_hash.to_vec())
    .bind(h.timestamp_ms)
    .bind(h.hash_alg.code())
    .bind(h.signature.clone())
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub private_key_hex: String,
    pub public_key_hex: String,
    pub created_at_ms: i64,
}

pub async fn key(conn: &mut Conn) -> Result<Option<KeyRecord>> {
    let row = sqlx::query("SELECT private_key_hex, public_key_hex, created_at_ms FROM log_key WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(KeyRecord {
            private_key_hex: r.try_get("private_key_hex")?,
            public_key_hex: r.try_get("public_key_hex")?,
            created_at_ms: r.try_get("created_at_ms")?,
        })
    })
    .transpose()
}

/// Keeps the key unless another process kept one first; the caller then reads back the one that won.
pub async fn insert_key_if_absent(conn: &mut Conn, k: &KeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO log_key (id, private_key_hex, public_key_hex, created_at_ms) VALUES (1, $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&k.private_key_hex)
    .bind(&k.public_key_hex)
    .bind(k.created_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    Ok(())
}
