//! The verifiable log: signed tree heads, the platform's public key, entries with their inclusion
//! proofs and consistency proofs. The answers are exactly what `lianrong verify` reads, so a bank saves
//! them with curl and checks them offline. Hashes and signatures are lower-case hex.

use axum::Json;
use axum::extract::{Path, State};
use lianrong_app::log::{self as app, ConsistencyProof, EntryProof, PublicKey, SignedTreeHead};
use lianrong_app::log::{LeafFilter, LeafRecord};
use lianrong_app::{AppError, AppResult};
use lianrong_domain::log::LeafKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{keyed_page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, PageParams};
use crate::state::AppState;

/// The signature scheme of tree heads: SM2 with SM3 (GB/T 32918.2), user id `1234567812345678`.
pub const SIGNATURE_ALG: &str = "sm2-sm3";

/// A signed tree head. The signature covers the bytes
/// `"lianrong/log/tree-head/v1" ‖ 0x00 ‖ len(hash_alg) as u8 ‖ hash_alg ‖ tree_size as u64 BE ‖
/// timestamp_ms as i64 BE ‖ root_hash (32 bytes)`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TreeHeadDto {
    /// `sm3` or `sha256`: the log's hash function H.
    pub hash_alg: String,
    pub tree_size: u64,
    /// Root of the tree of `tree_size` leaves, hex.
    pub root_hash: String,
    /// When the head was signed, milliseconds since the Unix epoch (the signed value).
    pub timestamp_ms: i64,
    /// The same instant as RFC 3339 UTC, for reading.
    pub timestamp: String,
    /// `sm2-sm3`.
    pub signature_alg: String,
    /// SM2 signature `r ‖ s`, 64 bytes as hex.
    pub signature: String,
    /// SM3 of the signing key's SEC1 encoding, hex; compare with `GET /api/v1/log/key`.
    pub key_id: String,
}

impl From<SignedTreeHead> for TreeHeadDto {
    fn from(h: SignedTreeHead) -> Self {
        TreeHeadDto {
            hash_alg: h.hash_alg.code().into(),
            tree_size: h.tree_size,
            root_hash: app::hash_hex(&h.root_hash),
            timestamp_ms: h.timestamp_ms,
            timestamp: rfc3339(h.timestamp_ms),
            signature_alg: SIGNATURE_ALG.into(),
            signature: hex::encode(&h.signature),
            key_id: h.key_id,
        }
    }
}

impl TreeHeadDto {
    /// Back to the signed value, refusing malformed fields by name.
    pub fn to_head(&self) -> AppResult<SignedTreeHead> {
        let signature = hex::decode(self.signature.trim()).map_err(|_| {
            AppError::invalid(
                "signature",
                "invalid_signature",
                "signature is not hexadecimal",
                "signature 不是十六进制",
            )
        })?;
        Ok(SignedTreeHead {
            tree_size: self.tree_size,
            root_hash: app::parse_hash("root_hash", &self.root_hash)?,
            timestamp_ms: self.timestamp_ms,
            hash_alg: lianrong_domain::log::HashAlg::parse(&self.hash_alg)?,
            signature,
            key_id: self.key_id.clone(),
        })
    }
}

/// The platform's SM2 public key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogKeyDto {
    /// `sm2-sm3`.
    pub signature_alg: String,
    /// The SM2 user id (distinguishing identifier) the signatures use.
    pub distid: String,
    /// SM3 of `public_key_hex`'s bytes, hex.
    pub key_id: String,
    /// SEC1 uncompressed point `04 ‖ x ‖ y`, hex.
    pub public_key_hex: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
}

impl LogKeyDto {
    fn from_key(k: &PublicKey) -> AppResult<LogKeyDto> {
        Ok(LogKeyDto {
            signature_alg: SIGNATURE_ALG.into(),
            distid: app::SM2_DISTID.into(),
            key_id: k.key_id(),
            public_key_hex: k.sec1_hex(),
            public_key_pem: k.pem()?,
        })
    }
}

/// One leaf of the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogLeafDto {
    /// The id the leaf got when its operation recorded it (records show it as `log_leaf_id`).
    pub leaf_id: u64,
    /// Its place in the tree, given by the sequencer.
    pub leaf_index: u64,
    /// submission, confirmation, registration, commitment, disbursement or disclosure.
    pub kind: String,
    /// The id of what the leaf records (a submission, a confirmation…).
    pub subject_id: String,
    pub appended_at: String,
    /// The leaf's data: canonical JSON whose UTF-8 bytes the leaf hash covers, `H(0x00 ‖ data)`.
    pub data: String,
    /// The leaf hash as stored, hex. A verifier recomputes it from `data`.
    pub leaf_hash: String,
    /// The `entry` member of `data`, parsed, for reading.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
}

impl From<LeafRecord> for LogLeafDto {
    fn from(l: LeafRecord) -> Self {
        let entry = serde_json::from_str::<serde_json::Value>(&l.data)
            .ok()
            .and_then(|v| v.get("entry").cloned())
            .unwrap_or(serde_json::Value::Null);
        LogLeafDto {
            leaf_id: l.leaf_id,
            leaf_index: l.leaf_index,
            kind: l.kind.code().into(),
            subject_id: l.subject_id,
            appended_at: rfc3339(l.appended_at_ms),
            data: l.data,
            leaf_hash: app::hash_hex(&l.leaf_hash),
            entry,
        }
    }
}

keyed_page_dto!(LogLeafPage, LogLeafDto);

/// A leaf with its inclusion proof against the tree of `tree_size` leaves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntryDto {
    pub leaf: LogLeafDto,
    pub hash_alg: String,
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root (RFC 9162 §2.1.3), hex.
    pub inclusion_path: Vec<String>,
}

impl From<EntryProof> for LogEntryDto {
    fn from(p: EntryProof) -> Self {
        LogEntryDto {
            leaf: p.leaf.into(),
            hash_alg: p.hash_alg.code().into(),
            tree_size: p.tree_size,
            inclusion_path: p.path.iter().map(app::hash_hex).collect(),
        }
    }
}

/// Proof that the tree of `first` leaves is a prefix of the tree of `second` leaves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogConsistencyDto {
    pub hash_alg: String,
    pub first: u64,
    pub second: u64,
    /// RFC 9162 §2.1.4 consistency path, hex.
    pub consistency_path: Vec<String>,
}

impl From<ConsistencyProof> for LogConsistencyDto {
    fn from(p: ConsistencyProof) -> Self {
        LogConsistencyDto {
            hash_alg: p.hash_alg.code().into(),
            first: p.first,
            second: p.second,
            consistency_path: p.path.iter().map(app::hash_hex).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Prove inclusion in the tree of this many leaves (default: the latest signed head's size). Use the
    /// `tree_size` of the head you saved.
    pub tree_size: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub first: u64,
    /// The newer tree size.
    pub second: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeafQuery {
    pub kind: Option<String>,
    pub subject_id: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page: reads the page after it (instead of `page`).
    pub after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/log/tree-head", tag = "log",
    description = "The latest signed tree head (a new one is signed when the log has grown). Any authenticated caller.",
    responses((status = 200, body = TreeHeadDto), (status = 401, body = Problem)))]
pub async fn tree_head(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<TreeHeadDto>> {
    Ok(Json(app::tree_head(&s.app, &actor).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/log/key", tag = "log",
    description = "The platform's SM2 public key that signs tree heads. Any authenticated caller.",
    responses((status = 200, body = LogKeyDto), (status = 401, body = Problem)))]
pub async fn key(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<LogKeyDto>> {
    Ok(Json(LogKeyDto::from_key(&app::public_key(&s.app, &actor).await?)?))
}

#[utoipa::path(get, path = "/api/v1/log/entries", tag = "log", params(LeafQuery),
    description = "Leaves newest first: all for the operator and the regulator, the caller's organisation's own for others.",
    responses((status = 200, body = LogLeafPage), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<LeafQuery>,
) -> ApiResult<Json<LogLeafPage>> {
    let seek = PageParams { page: q.page, page_size: q.page_size }.seek(q.after.as_deref())?;
    let kind = q.kind.as_deref().filter(|k| !k.is_empty()).map(LeafKind::parse).transpose().map_err(AppError::from)?;
    let filter = LeafFilter { kind, subject_id: q.subject_id.filter(|x| !x.is_empty()) };
    Ok(Json(LogLeafPage::from_keyed(app::list(&s.app, &actor, filter, seek).await?, LogLeafDto::from)))
}

#[utoipa::path(get, path = "/api/v1/log/entries/{leaf_index}", tag = "log", params(("leaf_index" = u64, Path), EntryQuery),
    description = "A leaf, its data and its inclusion proof. Only the organisations the leaf concerns, the operator and the regulator; others get 404.",
    responses((status = 200, body = LogEntryDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn entry(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(leaf_index): Path<String>,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> ApiResult<Json<LogEntryDto>> {
    // A malformed index is answered like an absent leaf.
    let leaf_index: u64 = leaf_index.parse().map_err(|_| AppError::not_found("Log entry", "存证日志条目"))?;
    Ok(Json(app::entry(&s.app, &actor, leaf_index, q.tree_size).await?.into()))
}

/// A leaf that is recorded but not yet in the tree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogPendingDto {
    pub leaf_id: u64,
    /// Always `pending`.
    pub status: String,
}

/// Seconds a client waits before asking again for a pending leaf (the sequencer integrates within
/// milliseconds on an idle platform; a second leaves room under load).
const PENDING_RETRY_AFTER_S: u64 = 1;

#[utoipa::path(get, path = "/api/v1/log/leaves/{leaf_id}", tag = "log", params(("leaf_id" = u64, Path), EntryQuery),
    description = "A leaf by the id its record shows (`log_leaf_id`): 200 with the leaf and its inclusion proof once it is in the tree; 202 with `Retry-After` while it waits for the sequencer. Only the organisations the leaf concerns, the operator and the regulator; others get 404.",
    responses((status = 200, body = LogEntryDto), (status = 202, body = LogPendingDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn leaf(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(leaf_id): Path<String>,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    // A malformed id is answered like an absent leaf.
    let leaf_id: u64 = leaf_id.parse().map_err(|_| AppError::not_found("Log entry", "存证日志条目"))?;
    Ok(match app::entry_by_id(&s.app, &actor, leaf_id, q.tree_size).await? {
        app::EntryById::Integrated(proof) => Json(LogEntryDto::from(proof)).into_response(),
        app::EntryById::Pending { leaf_id } => (
            axum::http::StatusCode::ACCEPTED,
            [(axum::http::header::RETRY_AFTER, PENDING_RETRY_AFTER_S.to_string())],
            Json(LogPendingDto { leaf_id, status: "pending".into() }),
        )
            .into_response(),
    })
}

#[utoipa::path(get, path = "/api/v1/log/consistency", tag = "log", params(ConsistencyQuery),
    description = "Proof that the tree of `first` leaves is a prefix of the tree of `second` leaves. Any authenticated caller.",
    responses((status = 200, body = LogConsistencyDto), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn consistency(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> ApiResult<Json<LogConsistencyDto>> {
    Ok(Json(app::consistency(&s.app, &actor, q.first, q.second).await?.into()))
}
