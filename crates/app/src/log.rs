//! The verifiable log (docs/ARCHITECTURE.md, `crates/app`): every important fact of the platform becomes a
//! leaf of an append-only Merkle tree (`domain::log`), and the platform signs the tree's heads with SM2, so
//! that a bank can check offline (`lianrong verify`) that a fact was recorded and that the log was never
//! rewritten.
//!
//! A leaf's data is the canonical JSON (keys sorted by their UTF-8 bytes, no insignificant white
//! space) of `{"appended_at_ms", "entry", "kind", "schema": "lianrong/log/leaf/v1", "subject_id"}`,
//! where `entry` is what the caller recorded; its hash is `H(0x00 ‖ data)`. Appends run inside the
//! caller's write transaction ([`append`]), so a fact and its leaf commit or vanish together; they write a
//! pending leaf, known by its id, and one sequencer integrates pending leaves into the tree in batches
//! (see "The sequencer" below), so that operations never queue for the tree.
//!
//! Tree heads are signed with SM2 (GB/T 32918, user id [`SM2_DISTID`]) over the bytes of
//! `domain::log::tree_head_message`. The key comes from `LIANRONG_LOG_KEY_FILE` (PEM or hex) when set,
//! otherwise it is generated on first use and kept in the database.
//!
//! Visibility: tree heads, consistency proofs and the public key are for any authenticated caller; a
//! leaf and its inclusion proof only for the organisations it concerns, the operator and the regulator
//! (anyone else is answered `not_found`).

use lianrong_domain::limits::{LOG_LEAF_BYTES_MAX, LOG_PARTIES_MAX, LOG_SUBJECT_ID_CHARS_MAX};
use lianrong_domain::log::{self as domain, Frontier, Hash, NodeId, Span};
use lianrong_domain::page::{KeyedPage, Seek};
use lianrong_store::log::{self as store, KeyRecord, TreeHeadRecord};
use lianrong_store::{Conn, StoreError};
use serde_json::Value;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};

pub use lianrong_domain::log::{HashAlg, LeafKind};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor};
use crate::{App, now_ms, random_bytes};

/// The app's read views of the transparency log's leaves, and their filter: plain data, decoded in the store;
/// the API and console show them.
pub use lianrong_store::log::{LeafFilter, LeafRecord};

/// The SM2 distinguishing identifier (user id) of the platform's signatures: the default of
/// GM/T 0009-2012, which other SM2 tools (GmSSL, Tongsuo, BouncyCastle) also assume.
pub const SM2_DISTID: &str = "1234567812345678";

/// The environment variable naming a file with the platform's SM2 private key (PKCS#8 or SEC1 PEM, or
/// 64 hex characters).
pub const KEY_FILE_ENV: &str = "LIANRONG_LOG_KEY_FILE";

/// The `schema` field of every leaf's data.
pub const LEAF_SCHEMA: &str = "lianrong/log/leaf/v1";

fn log_broken(what: &str, detail: impl std::fmt::Display) -> AppError {
    tracing::error!(%detail, "verifiable log: {what}");
    AppError::internal()
}

fn leaf_not_found() -> AppError {
    AppError::not_found("Log entry", "存证日志条目")
}

// ---------------------------------------------------------------------------------------------------
// Leaf data

/// Canonical JSON: object keys sorted by their UTF-8 bytes at every depth, no white space, strings and
/// numbers as `serde_json` writes them. The same value always gives the same bytes, whatever order its
/// keys were built in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The data of a leaf: what its hash covers.
pub fn leaf_data(kind: LeafKind, subject_id: &str, appended_at_ms: i64, entry: &Value) -> String {
    canonical_json(&serde_json::json!({
        "schema": LEAF_SCHEMA,
        "kind": kind.code(),
        "subject_id": subject_id,
        "appended_at_ms": appended_at_ms,
        "entry": entry,
    }))
}

fn check_leaf_input(subject_id: &str, party_org_ids: &[&str], data: &str) -> AppResult<()> {
    let chars = subject_id.chars().count();
    if subject_id.trim().is_empty() || chars > LOG_SUBJECT_ID_CHARS_MAX {
        return Err(AppError::invalid(
            "subject_id",
            "invalid_log_subject",
            format!("A log subject id has 1 to {LOG_SUBJECT_ID_CHARS_MAX} characters, not {chars}"),
            format!("存证日志的对象编号须为1到{LOG_SUBJECT_ID_CHARS_MAX}个字符，实际为{chars}个"),
        ));
    }
    if party_org_ids.len() > LOG_PARTIES_MAX {
        return Err(AppError::invalid(
            "party_org_ids",
            "too_many_log_parties",
            format!("A log entry concerns at most {LOG_PARTIES_MAX} organisations, not {}", party_org_ids.len()),
            format!("一条存证日志最多涉及{LOG_PARTIES_MAX}个机构，实际为{}个", party_org_ids.len()),
        ));
    }
    if data.len() > LOG_LEAF_BYTES_MAX {
        return Err(AppError::invalid(
            "entry",
            "log_entry_too_large",
            format!("A log entry is at most {LOG_LEAF_BYTES_MAX} bytes as canonical JSON, not {}", data.len()),
            format!("存证日志条目（规范JSON）最多{LOG_LEAF_BYTES_MAX}字节，实际为{}字节", data.len()),
        ));
    }
    Ok(())
}

fn frontier_of(state: &store::LogState) -> AppResult<Frontier> {
    Frontier::from_bytes(state.tree_size, &state.frontier).map_err(|e| log_broken("stored frontier is corrupt", e))
}

/// Appends a leaf and returns its id. Call it INSIDE the caller's write transaction, so that the leaf
/// commits with the fact it records. It takes no lock: the leaf waits in the pending table until the
/// sequencer ([`integrate_batch`], run by [`run_sequencer`]) gives it its index in the tree, usually
/// within a few milliseconds; a crash in between loses nothing, since the sequencer resumes from the
/// pending table. `party_org_ids` are the organisations that may read the leaf (besides the operator and
/// the regulator); each must exist. `entry` is stored as canonical JSON.
pub async fn append(
    conn: &mut sqlx::AnyConnection,
    kind: LeafKind,
    subject_id: &str,
    party_org_ids: &[&str],
    entry: &Value,
    now_ms: i64,
) -> AppResult<u64> {
    let data = leaf_data(kind, subject_id, now_ms, entry);
    check_leaf_input(subject_id, party_org_ids, &data)?;
    store::insert_pending(conn, kind, subject_id, &data, now_ms, party_org_ids).await.map_err(|e| match e {
        StoreError::Conflict { constraint } if constraint.contains("party") || constraint.contains("FOREIGN") => {
            AppError::invalid(
                "party_org_ids",
                "unknown_organisation",
                "A party of the log entry is not a known organisation",
                "存证日志条目涉及的机构不存在",
            )
        }
        other => other.into(),
    })
}

// ---------------------------------------------------------------------------------------------------
// The sequencer

/// The environment variable that, set to `off`, keeps a process from running the sequencer: a deployment
/// of several processes may leave sequencing to one of them (all of them taking turns is also safe).
pub const SEQUENCER_ENV: &str = "LIANRONG_LOG_SEQUENCER";

/// Whether this process runs the sequencer ([`SEQUENCER_ENV`] is not `off`).
pub fn sequencer_enabled() -> bool {
    std::env::var(SEQUENCER_ENV).map(|v| !v.trim().eq_ignore_ascii_case("off")).unwrap_or(true)
}

/// Leaves integrated per batch (one transaction): enough that integration outruns any write load, few
/// enough that the batch's transaction stays short.
pub const BATCH_LEAVES_MAX: usize = 4096;

/// How long the sequencer sleeps when nothing is pending: the longest a new leaf waits for its index on
/// an idle platform.
pub const SEQUENCER_IDLE_MS: u64 = 20;

/// A new tree head is signed after integrating at most this often (and on demand when read).
pub const HEAD_INTERVAL_MS: u64 = 1000;

/// Integrates up to [`BATCH_LEAVES_MAX`] committed pending leaves into the tree, in id order, in one
/// transaction: leaves with their indexes, parties, completed subtrees and the new state. The state row
/// is locked for the batch, so sequencers in several processes take turns. Returns how many leaves.
pub async fn integrate_batch(app: &App) -> AppResult<usize> {
    {
        let mut conn = app.db.acquire().await?;
        if !store::has_pending(&mut conn).await? {
            return Ok(0);
        }
    }
    let mut tx = app.db.begin_write().await?;
    let state = store::state(&mut tx, true).await?;
    let pending = store::pending(&mut tx, BATCH_LEAVES_MAX).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut frontier = frontier_of(&state)?;
    let mut leaves = Vec::with_capacity(pending.len());
    let mut parties = Vec::with_capacity(pending.len());
    let mut nodes = Vec::new();
    for p in pending {
        let leaf_hash = domain::leaf_hash(state.hash_alg, p.data.as_bytes());
        let leaf_index = frontier.size();
        nodes.extend(frontier.push(state.hash_alg, leaf_hash).map_err(|e| {
            AppError::new(ErrorKind::Unavailable, "log_full", e.to_string(), "存证日志已达容量上限，无法追加")
        })?);
        let record = LeafRecord {
            leaf_id: p.leaf_id,
            leaf_index,
            kind: p.kind,
            subject_id: p.subject_id,
            data: p.data,
            leaf_hash,
            appended_at_ms: p.appended_at_ms,
        };
        leaves.push(record);
        parties.push(p.party_org_ids);
    }
    let batch = store::Batch {
        leaves: &leaves,
        parties: &parties,
        nodes: &nodes,
        expected_size: state.tree_size,
        new_size: frontier.size(),
        frontier: &frontier.to_bytes(),
        now_ms: now_ms(),
    };
    store::integrate(&mut tx, &batch).await?;
    tx.commit().await.map_err(StoreError::from)?;
    debug_assert_eq!(state.tree_size + leaves.len() as u64, frontier.size());
    Ok(leaves.len())
}

/// Integrates until nothing is pending; returns how many leaves. For commands that must show a complete
/// log before they end (the demo, an export) and for tests.
pub async fn integrate_all(app: &App) -> AppResult<u64> {
    let mut total = 0u64;
    loop {
        match integrate_batch(app).await? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

/// The sequencer: integrates pending leaves as they commit, and signs a tree head after integrating at
/// most every [`HEAD_INTERVAL_MS`]. Runs until its app's pool is closed; an error is logged and retried after
/// a pause (nothing is lost: the pending rows stay until a batch commits).
pub async fn run_sequencer(app: App) {
    let idle = std::time::Duration::from_millis(SEQUENCER_IDLE_MS);
    let head_interval = std::time::Duration::from_millis(HEAD_INTERVAL_MS);
    let mut signed_at: Option<std::time::Instant> = None;
    // An app whose pool was closed (a command or benchmark that has finished with it) stops its sequencer.
    while !app.db.pool.is_closed() {
        match integrate_batch(&app).await {
            Ok(0) => tokio::time::sleep(idle).await,
            Ok(_) => {
                if signed_at.is_none_or(|t| t.elapsed() >= head_interval) {
                    signed_at = Some(std::time::Instant::now());
                    if let Err(e) = sign_head(&app).await {
                        tracing::warn!(error = %e, "verifiable log: signing a tree head failed; retried later");
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "verifiable log: integration failed; retrying in a second");
                tokio::time::sleep(head_interval).await;
            }
        }
    }
}

async fn sign_head(app: &App) -> AppResult<SignedTreeHead> {
    latest_head(app).await
}

/// Chooses the log's hash function; only possible while the log is empty (a deployment that must
/// interoperate with SHA-256 transparency tooling chooses before its first leaf). Call it inside a
/// write transaction, like [`append`].
pub async fn choose_hash_alg(conn: &mut sqlx::AnyConnection, alg: HashAlg) -> AppResult<()> {
    store::set_hash_alg(conn, alg, now_ms()).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "log_not_empty",
            "The log already holds leaves; its hash function can no longer change",
            "存证日志已有条目，不能再更改其哈希算法",
        ),
        other => other.into(),
    })
}

// ---------------------------------------------------------------------------------------------------
// Keys and signed tree heads

/// The platform's SM2 public key, as published and as a verifier loads it.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: VerifyingKey,
}

fn invalid_key(en: impl Into<String>, zh: impl Into<String>) -> AppError {
    AppError::invalid("public_key", "invalid_public_key", en, zh)
}

impl PublicKey {
    /// Reads a public key given as SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or as the hex of its SEC1
    /// encoding (uncompressed `04…`, 130 characters, or compressed, 66).
    pub fn from_text(text: &str) -> AppResult<PublicKey> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            let point = sm2::PublicKey::from_public_key_pem(text).map_err(|e| {
                invalid_key(format!("Not an SM2 public key in PEM: {e}"), format!("不是PEM格式的SM2公钥：{e}"))
            })?;
            VerifyingKey::new(SM2_DISTID, point)
        } else {
            let bytes = hex::decode(text).map_err(|_| {
                invalid_key("A public key is PEM or hexadecimal SEC1 bytes", "公钥须为PEM或十六进制的SEC1编码")
            })?;
            VerifyingKey::from_sec1_bytes(SM2_DISTID, &bytes)
        };
        let key = key.map_err(|_| invalid_key("Not a point of the SM2 curve", "不是SM2曲线上的有效公钥"))?;
        Ok(PublicKey { key })
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// SEC1 uncompressed encoding (`04 ‖ x ‖ y`) as hex.
    pub fn sec1_hex(&self) -> String {
        hex::encode(self.key.to_sec1_bytes())
    }

    /// SubjectPublicKeyInfo PEM (id-ecPublicKey with the SM2 curve), readable by OpenSSL and GmSSL.
    pub fn pem(&self) -> AppResult<String> {
        self.key.to_public_key_pem(LineEnding::LF).map_err(|e| log_broken("cannot encode the public key", e))
    }

    /// Names the key in tree heads: SM3 of the SEC1 uncompressed encoding, hex.
    pub fn key_id(&self) -> String {
        crate::sm3_hex(&self.key.to_sec1_bytes())
    }

    /// Checks a tree head's SM2 signature over `domain::log::tree_head_message`.
    pub fn verify_head(&self, head: &SignedTreeHead) -> AppResult<()> {
        let bad = || {
            AppError::new(
                ErrorKind::Invalid,
                "bad_signature",
                "The tree head's SM2 signature does not verify with this public key",
                "树头的SM2签名无法用该公钥验证",
            )
        };
        let signature = Signature::from_slice(&head.signature).map_err(|_| bad())?;
        let message = domain::tree_head_message(head.hash_alg, head.tree_size, head.timestamp_ms, &head.root_hash);
        self.key.verify(&message, &signature).map_err(|_| bad())
    }
}

/// The platform's signing key.
struct PlatformKey {
    signing: SigningKey,
    public: PublicKey,
}

impl PlatformKey {
    fn from_signing(signing: SigningKey) -> PlatformKey {
        let public = PublicKey { key: signing.verifying_key().clone() };
        PlatformKey { signing, public }
    }

    /// Reads a private key given as PKCS#8 PEM, SEC1 PEM (`EC PRIVATE KEY`) or 64 hex characters.
    fn from_text(text: &str) -> Result<PlatformKey, String> {
        let text = text.trim();
        let signing = if text.contains("-----BEGIN PRIVATE KEY-----") {
            let secret = sm2::SecretKey::from_pkcs8_pem(text).map_err(|e| format!("PKCS#8 PEM: {e}"))?;
            SigningKey::new(SM2_DISTID, &secret).map_err(|e| e.to_string())?
        } else if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            let secret = sm2::SecretKey::from_sec1_pem(text).map_err(|e| format!("SEC1 PEM: {e}"))?;
            SigningKey::new(SM2_DISTID, &secret).map_err(|e| e.to_string())?
        } else {
            let bytes = hex::decode(text).map_err(|_| "expected PEM or 64 hex characters".to_string())?;
            SigningKey::from_slice(SM2_DISTID, &bytes).map_err(|_| "not a valid SM2 private key".to_string())?
        };
        Ok(PlatformKey::from_signing(signing))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.signing.sign(message);
        signature.to_bytes().to_vec()
    }
}

/// Attempts at drawing a valid secret scalar; a random 256-bit string fails with probability ~2^-32.
const KEY_GENERATION_ATTEMPTS_MAX: usize = 8;

fn generate_key() -> AppResult<PlatformKey> {
    Ok(PlatformKey::from_signing(generate_signing_key()?))
}

/// A fresh SM2 signing key (the platform's, or one an organisation lets the platform hold).
pub(crate) fn generate_signing_key() -> AppResult<SigningKey> {
    for _ in 0..KEY_GENERATION_ATTEMPTS_MAX {
        let bytes = random_bytes::<32>()?;
        if let Ok(signing) = SigningKey::from_slice(SM2_DISTID, &bytes) {
            return Ok(signing);
        }
    }
    Err(log_broken("cannot generate a key", "no valid scalar drawn"))
}

/// The key from `LIANRONG_LOG_KEY_FILE`, or the one kept in the database (made on first use).
async fn platform_key(conn: &mut Conn) -> AppResult<PlatformKey> {
    if let Some(path) = std::env::var_os(KEY_FILE_ENV).filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| log_broken("cannot read the key file", format!("{}: {e}", path.display())))?;
        return PlatformKey::from_text(&text)
            .map_err(|e| log_broken("the key file holds no SM2 private key", format!("{}: {e}", path.display())));
    }
    if store::key(conn).await?.is_none() {
        let fresh = generate_key()?;
        let record = KeyRecord {
            private_key_hex: hex::encode(fresh.signing.to_bytes()),
            public_key_hex: fresh.public.sec1_hex(),
            created_at_ms: now_ms(),
        };
        store::insert_key_if_absent(conn, &record).await?;
    }
    // Read back: when two servers generate at once, the first one kept wins for both.
    let record = store::key(conn).await?.ok_or_else(|| log_broken("the key row vanished", "log_key"))?;
    PlatformKey::from_text(&record.private_key_hex).map_err(|e| log_broken("the stored key is corrupt", e))
}

/// A signed tree head: the log's size and root at an instant, signed by the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub tree_size: u64,
    pub root_hash: Hash,
    pub timestamp_ms: i64,
    pub hash_alg: HashAlg,
    /// SM2 signature `r ‖ s` (64 bytes) over `domain::log::tree_head_message`.
    pub signature: Vec<u8>,
    /// SM3 of the signing key's SEC1 encoding, hex.
    pub key_id: String,
}

impl From<TreeHeadRecord> for SignedTreeHead {
    fn from(h: TreeHeadRecord) -> SignedTreeHead {
        SignedTreeHead {
            tree_size: h.tree_size,
            root_hash: h.root_hash,
            timestamp_ms: h.timestamp_ms,
            hash_alg: h.hash_alg,
            signature: h.signature,
            key_id: h.key_id,
        }
    }
}

/// The latest signed tree head, signing a new one when the log has grown since the last. Signing
/// writes the head in a write transaction of its own, so on SQLite it takes its turn with the
/// sequencer's batches instead of retrying against them in the busy handler.
async fn latest_head(app: &App) -> AppResult<SignedTreeHead> {
    let key = {
        let mut conn = app.db.acquire().await?;
        platform_key(&mut conn).await?
    };
    let key_id = key.public.key_id();
    {
        let mut conn = app.db.acquire().await?;
        let state = store::state(&mut conn, false).await?;
        if let Some(head) = store::latest_head(&mut conn, &key_id, state.hash_alg).await?
            && head.tree_size == state.tree_size
        {
            return Ok(head.into());
        }
    }
    let mut tx = app.db.begin_write().await?;
    let head = sign_latest(&mut tx, &key, &key_id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(head)
}

/// Signs the head of the tree as it stands in `conn`'s transaction and keeps it (or the one another
/// server kept for the same size).
async fn sign_latest(conn: &mut Conn, key: &PlatformKey, key_id: &str) -> AppResult<SignedTreeHead> {
    let state = store::state(conn, false).await?;
    let root_hash = frontier_of(&state)?.root(state.hash_alg);
    let timestamp_ms = now_ms();
    let message = domain::tree_head_message(state.hash_alg, state.tree_size, timestamp_ms, &root_hash);
    let record = TreeHeadRecord {
        tree_size: state.tree_size,
        key_id: key_id.to_string(),
        root_hash,
        timestamp_ms,
        hash_alg: state.hash_alg,
        signature: key.sign(&message),
    };
    store::insert_head_if_absent(conn, &record).await?;
    let kept = store::head_at(conn, state.tree_size, key_id, state.hash_alg).await?;
    Ok(kept.unwrap_or(record).into())
}

/// The latest signed tree head. Readable by any authenticated caller.
pub async fn tree_head(app: &App, _actor: &Actor) -> AppResult<SignedTreeHead> {
    latest_head(app).await
}

/// The platform's public key (published so that anyone can check tree heads offline).
pub async fn public_key(app: &App, _actor: &Actor) -> AppResult<PublicKey> {
    let mut conn = app.db.acquire().await?;
    Ok(platform_key(&mut conn).await?.public)
}

// ---------------------------------------------------------------------------------------------------
// Entries and proofs

/// A leaf with its inclusion proof against the tree of `tree_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProof {
    pub leaf: LeafRecord,
    pub tree_size: u64,
    pub hash_alg: HashAlg,
    /// The audit path, from the leaf up (RFC 9162 §2.1.3).
    pub path: Vec<Hash>,
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub hash_alg: HashAlg,
    pub path: Vec<Hash>,
}

/// The hashes of `spans` from stored perfect subtrees (O(log n) primary-key reads).
async fn span_hashes(conn: &mut Conn, alg: HashAlg, spans: &[Span]) -> AppResult<Vec<Hash>> {
    let ids: Vec<NodeId> = domain::nodes_for(spans);
    let stored = store::nodes(conn, &ids).await?;
    let source = |id: NodeId| stored.get(&id).copied();
    spans
        .iter()
        .map(|s| domain::span_hash(alg, *s, &source))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| log_broken("a stored subtree is missing", e))
}

fn size_beyond_log(field: &str, asked: u64, size: u64) -> AppError {
    AppError::invalid(
        field,
        "tree_size_out_of_range",
        format!("{field} is {asked}, but the log holds {size} leaves"),
        format!("{field} 为 {asked}，而存证日志当前只有 {size} 个条目"),
    )
}

/// A leaf and its inclusion proof against `tree_size` (default: the latest signed head's size). Only
/// the leaf's parties, the operator and the regulator see it; anyone else gets `not_found`.
pub async fn entry(app: &App, actor: &Actor, leaf_index: u64, tree_size: Option<u64>) -> AppResult<EntryProof> {
    let mut conn = app.db.acquire().await?;
    let leaf = store::get_leaf(&mut conn, &policy::log_scope(actor), leaf_index).await.map_err(|e| match e {
        StoreError::NotFound => leaf_not_found(),
        other => other.into(),
    })?;
    proof_for(app, &mut conn, leaf, tree_size).await
}

/// Where a leaf known by its id stands for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryById {
    /// In the tree: the leaf and its inclusion proof.
    Integrated(EntryProof),
    /// Committed and waiting for the sequencer; ask again in a moment.
    Pending { leaf_id: u64 },
}

/// A leaf by the id its operation was given: its inclusion proof once integrated, else `Pending`. The
/// same visibility as [`entry`]: anyone but the leaf's parties, the operator and the regulator gets
/// `not_found`, pending or not.
pub async fn entry_by_id(app: &App, actor: &Actor, leaf_id: u64, tree_size: Option<u64>) -> AppResult<EntryById> {
    let mut conn = app.db.acquire().await?;
    match store::get_leaf_by_id(&mut conn, &policy::log_scope(actor), leaf_id).await {
        Ok(store::LeafById::Integrated(leaf)) => {
            Ok(EntryById::Integrated(proof_for(app, &mut conn, leaf, tree_size).await?))
        }
        Ok(store::LeafById::Pending) => Ok(EntryById::Pending { leaf_id }),
        Err(StoreError::NotFound) => Err(leaf_not_found()),
        Err(other) => Err(other.into()),
    }
}

/// The inclusion proof of an integrated leaf against `tree_size` (default: the latest signed head's).
async fn proof_for(app: &App, conn: &mut Conn, leaf: LeafRecord, tree_size: Option<u64>) -> AppResult<EntryProof> {
    let leaf_index = leaf.leaf_index;
    // The head first: the state read after it holds at least the head's leaves.
    let tree_size = match tree_size {
        Some(size) => size,
        None => latest_head(app).await?.tree_size,
    };
    let state = store::state(conn, false).await?;
    if tree_size > state.tree_size {
        return Err(size_beyond_log("tree_size", tree_size, state.tree_size));
    }
    if tree_size <= leaf_index {
        return Err(AppError::invalid(
            "tree_size",
            "leaf_not_in_tree",
            format!("Leaf {leaf_index} is not in the tree of {tree_size} leaves; ask for a larger tree_size"),
            format!("第 {leaf_index} 号条目不在规模为 {tree_size} 的树中，请使用更大的 tree_size"),
        ));
    }
    let spans = domain::inclusion_spans(leaf_index, tree_size).map_err(|e| log_broken("inclusion spans", e))?;
    let path = span_hashes(conn, state.hash_alg, &spans).await?;
    Ok(EntryProof { leaf, tree_size, hash_alg: state.hash_alg, path })
}

/// The consistency proof that the tree of `first` leaves is a prefix of the tree of `second`.
/// Readable by any authenticated caller: it holds only hashes of subtrees.
pub async fn consistency(app: &App, _actor: &Actor, first: u64, second: u64) -> AppResult<ConsistencyProof> {
    let mut conn = app.db.acquire().await?;
    let state = store::state(&mut conn, false).await?;
    if second > state.tree_size {
        return Err(size_beyond_log("second", second, state.tree_size));
    }
    if first > second {
        return Err(AppError::invalid(
            "first",
            "sizes_out_of_order",
            format!("first ({first}) must not be larger than second ({second})"),
            format!("first（{first}）不能大于 second（{second}）"),
        ));
    }
    let spans = domain::consistency_spans(first, second).map_err(|e| log_broken("consistency spans", e))?;
    let path = span_hashes(&mut conn, state.hash_alg, &spans).await?;
    Ok(ConsistencyProof { first, second, hash_alg: state.hash_alg, path })
}

/// Leaves the caller may see, newest first: every leaf for the operator and the regulator, the
/// organisation's own leaves for everyone else.
pub async fn list(
    app: &App,
    actor: &Actor,
    filter: LeafFilter,
    seek: impl Into<Seek>,
) -> AppResult<KeyedPage<LeafRecord>> {
    let mut conn = app.db.acquire().await?;
    Ok(store::list_leaves(&mut conn, &policy::log_scope(actor), &filter, &seek.into()).await?)
}

/// Recomputes a leaf's hash from its data, as a verifier does.
pub fn recompute_leaf_hash(alg: HashAlg, data: &str) -> Hash {
    domain::leaf_hash(alg, data.as_bytes())
}

/// Hashes are shown as lower-case hex.
pub fn hash_hex(hash: &Hash) -> String {
    domain::to_hex(hash)
}

/// Parses a hash shown as hex; `field` names it in the error.
pub fn parse_hash(field: &str, text: &str) -> AppResult<Hash> {
    domain::hash_from_hex(field, text).map_err(|e| AppError::refusal(ErrorKind::Invalid, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"z":[3,{"y":true,"x":null}],"é":"中文\n"}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"z":[3,{"x":null,"y":true}],"é":"中文\n"},"b":1}"#);
        let b: Value =
            serde_json::from_str(r#"{ "a" : { "é":"中文\n", "z":[3,{"x":null,"y":true}] }, "b" : 1 }"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn leaf_data_is_the_documented_envelope() {
        let data = leaf_data(LeafKind::Submission, "sub-1", 1_700_000_000_000, &serde_json::json!({"sm3": "ab"}));
        assert_eq!(
            data,
            r#"{"appended_at_ms":1700000000000,"entry":{"sm3":"ab"},"kind":"submission","schema":"lianrong/log/leaf/v1","subject_id":"sub-1"}"#
        );
    }

    #[test]
    fn a_signed_head_verifies_and_any_change_is_refused() {
        let key = generate_key().unwrap();
        let root = domain::leaf_hash(HashAlg::Sm3, b"x");
        let message = domain::tree_head_message(HashAlg::Sm3, 5, 1_700_000_000_000, &root);
        let head = SignedTreeHead {
            tree_size: 5,
            root_hash: root,
            timestamp_ms: 1_700_000_000_000,
            hash_alg: HashAlg::Sm3,
            signature: key.sign(&message),
            key_id: key.public.key_id(),
        };
        assert_eq!(head.signature.len(), 64);
        key.public.verify_head(&head).unwrap();
        // The published forms load back to the same key.
        let pem = key.public.pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        PublicKey::from_text(&pem).unwrap().verify_head(&head).unwrap();
        PublicKey::from_text(&key.public.sec1_hex()).unwrap().verify_head(&head).unwrap();
        for tampered in [
            SignedTreeHead { tree_size: 6, ..head.clone() },
            SignedTreeHead { timestamp_ms: 1, ..head.clone() },
            SignedTreeHead { hash_alg: HashAlg::Sha256, ..head.clone() },
            SignedTreeHead { root_hash: [0; domain::HASH_BYTES], ..head.clone() },
            SignedTreeHead { signature: vec![1; 64], ..head.clone() },
            SignedTreeHead { signature: vec![], ..head.clone() },
        ] {
            assert_eq!(key.public.verify_head(&tampered).unwrap_err().code, "bad_signature");
        }
        let other = generate_key().unwrap();
        assert_eq!(other.public.verify_head(&head).unwrap_err().code, "bad_signature");
        assert!(PublicKey::from_text("zz").is_err());
        assert!(PublicKey::from_text(&"04".repeat(65)).is_err());
    }

    #[test]
    fn private_keys_load_from_hex_and_round_trip() {
        let key = generate_key().unwrap();
        let again = PlatformKey::from_text(&hex::encode(key.signing.to_bytes())).unwrap();
        assert_eq!(again.public.sec1_hex(), key.public.sec1_hex());
        assert_eq!(key.public.key_id().len(), 64);
        use sm2::pkcs8::EncodePrivateKey;
        let secret = sm2::SecretKey::from_slice(&key.signing.to_bytes()).unwrap();
        let pkcs8 = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert_eq!(PlatformKey::from_text(&pkcs8).unwrap().public.key_id(), key.public.key_id());
        let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap();
        assert_eq!(PlatformKey::from_text(&sec1).unwrap().public.key_id(), key.public.key_id());
        assert!(PlatformKey::from_text("not a key").is_err());
        assert!(PlatformKey::from_text(&"00".repeat(32)).is_err(), "zero is not a valid scalar");
    }
}
