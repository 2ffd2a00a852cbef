//! `lianrong verify`: checks the verifiable log's proofs offline, with no network and no database. The
//! inputs are exactly what the API answers, saved with curl: a tree head (`GET /api/v1/log/tree-head`),
//! an entry with its inclusion proof (`GET /api/v1/log/entries/{i}?tree_size=…`), a consistency proof
//! (`GET /api/v1/log/consistency?first=…&second=…`) and the public key (`GET /api/v1/log/key`, or its
//! PEM). Every check is printed in Chinese and English; the first failure is named and ends the command
//! with a non-zero exit code.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use lianrong_app::AppError;
use lianrong_app::log::{self as log_app, PublicKey, SignedTreeHead};
use lianrong_domain::log::{self as domain, Hash, HashAlg, VerifyError};
use lianrong_domain::refusal::Refusal;
use lianrong_web::api::log::{LogConsistencyDto, LogEntryDto, LogKeyDto, TreeHeadDto};
use serde::de::DeserializeOwned;

#[derive(Subcommand)]
pub enum VerifyCommand {
    /// Check that a log entry is included in the tree of a signed tree head.
    Inclusion {
        /// The tree head, as `GET /api/v1/log/tree-head` answered.
        #[arg(long)]
        tree_head: PathBuf,
        /// The entry with its proof, as `GET /api/v1/log/entries/{leaf_index}?tree_size=…` answered.
        #[arg(long)]
        proof: PathBuf,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Check that an older tree head is a prefix of a newer one (the log was only appended to).
    Consistency {
        /// The older tree head.
        #[arg(long)]
        old: PathBuf,
        /// The newer tree head.
        #[arg(long)]
        new: PathBuf,
        /// The proof, as `GET /api/v1/log/consistency?first=…&second=…` answered.
        #[arg(long)]
        proof: PathBuf,
        #[command(flatten)]
        key: KeyArg,
    },
}

#[derive(clap::Args)]
pub struct KeyArg {
    /// The platform's public key: the JSON of `GET /api/v1/log/key`, its PEM, or SEC1 hex. Without it
    /// the heads' signatures are not checked (a warning says so).
    #[arg(long, env = "LIANRONG_LOG_PUBLIC_KEY")]
    public_key: Option<PathBuf>,
}

/// A named failure: what went wrong, in both languages.
struct Failure {
    name: &'static str,
    zh: String,
    en: String,
}

impl Failure {
    fn new(name: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Failure {
        Failure { name, zh: zh.into(), en: en.into() }
    }

    fn from_app(name: &'static str, e: AppError) -> Failure {
        Failure::new(name, e.zh, e.en)
    }

    fn into_message(self) -> String {
        println!("  ✗ {} / {}", self.zh, self.en);
        println!("验证失败 / VERIFICATION FAILED: {}", self.name);
        format!("验证失败（{}）：{} / verification failed ({}): {}", self.name, self.zh, self.name, self.en)
    }
}

fn ok(zh: impl std::fmt::Display, en: impl std::fmt::Display) {
    println!("  ✓ {zh} / {en}");
}

pub fn run(command: VerifyCommand) -> Result<(), String> {
    let result = match command {
        VerifyCommand::Inclusion { tree_head, proof, key } => inclusion(&tree_head, &proof, &key),
        VerifyCommand::Consistency { old, new, proof, key } => consistency(&old, &new, &proof, &key),
    };
    match result {
        Ok(()) => {
            println!("验证通过 / VERIFIED");
            Ok(())
        }
        Err(f) => Err(f.into_message()),
    }
}

fn read_json<T: DeserializeOwned>(path: &Path, what_zh: &str, what_en: &str) -> Result<T, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            "unreadable_input",
            format!("无法读取{what_zh}文件 {}：{e}", path.display()),
            format!("cannot read the {what_en} file {}: {e}", path.display()),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::new(
            "invalid_input",
            format!("{what_zh}文件 {} 不是平台接口返回的格式：{e}", path.display()),
            format!("the {what_en} file {} is not what the API answers: {e}", path.display()),
        )
    })
}

fn load_head(path: &Path) -> Result<SignedTreeHead, Failure> {
    let dto: TreeHeadDto = read_json(path, "树头", "tree head")?;
    let head = dto.to_head().map_err(|e| Failure::from_app("invalid_input", e))?;
    println!(
        "  树头 / tree head {}: {} 个条目 / leaves, {} 根 / root {}, 签名于 / signed {}",
        path.display(),
        head.tree_size,
        head.hash_alg.label_en(),
        log_app::hash_hex(&head.root_hash),
        lianrong_app::rfc3339_utc(head.timestamp_ms)
    );
    Ok(head)
}

/// The public key from the API's JSON, a PEM or SEC1 hex; `None` when none was given.
fn load_key(arg: &KeyArg) -> Result<Option<PublicKey>, Failure> {
    let Some(path) = &arg.public_key else {
        println!(
            "  ⚠ 未提供平台公钥（--public-key），未检查树头签名 / no public key given (--public-key): signatures NOT checked"
        );
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            "unreadable_input",
            format!("无法读取公钥文件 {}：{e}", path.display()),
            format!("cannot read the public key file {}: {e}", path.display()),
        )
    })?;
    let key_text = if text.trim_start().starts_with('{') {
        let dto: LogKeyDto = read_json(path, "公钥", "public key")?;
        dto.public_key_pem
    } else {
        text
    };
    PublicKey::from_text(&key_text).map(Some).map_err(|e| Failure::from_app("invalid_public_key", e))
}

fn check_signature(
    key: Option<&PublicKey>,
    head: &SignedTreeHead,
    which_zh: &str,
    which_en: &str,
) -> Result<(), Failure> {
    let Some(key) = key else { return Ok(()) };
    if head.key_id != key.key_id() {
        return Err(Failure::new(
            "bad_signature",
            format!("{which_zh}由另一把密钥（{}）签名，而非所给公钥（{}）", head.key_id, key.key_id()),
            format!(
                "the {which_en} was signed by another key ({}), not the given public key ({})",
                head.key_id,
                key.key_id()
            ),
        ));
    }
    key.verify_head(head).map_err(|e| {
        Failure::new(
            "bad_signature",
            format!("{which_zh}签名无效：{}", e.zh),
            format!("bad {which_en} signature: {}", e.en),
        )
    })?;
    ok(format!("{which_zh}SM2签名有效"), format!("the {which_en}'s SM2 signature is valid (key {})", key.key_id()));
    Ok(())
}

fn same_alg(head: HashAlg, proof_alg: &str) -> Result<HashAlg, Failure> {
    let alg = HashAlg::parse(proof_alg).map_err(|e| Failure::from_app("invalid_input", e.into()))?;
    if alg != head {
        return Err(Failure::new(
            "hash_alg_mismatch",
            format!("证明使用 {}，树头使用 {}", alg.label_zh(), head.label_zh()),
            format!("the proof uses {}, the tree head {}", alg.label_en(), head.label_en()),
        ));
    }
    Ok(alg)
}

fn parse_path(field: &str, hashes: &[String]) -> Result<Vec<Hash>, Failure> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, h)| log_app::parse_hash(&format!("{field}[{i}]"), h))
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::from_app("invalid_input", e))
}

fn size_mismatch(zh: String, en: String) -> Failure {
    Failure::new("size_mismatch", zh, en)
}

/// Names a verification error: the root did not match, or the proof had the wrong shape for its sizes.
fn verify_failure(e: VerifyError) -> Failure {
    let name = match e {
        VerifyError::RootMismatch
        | VerifyError::OldRootMismatch
        | VerifyError::NewRootMismatch
        | VerifyError::SameSizeDifferentRoots => "root_mismatch",
        VerifyError::LeafIndexOutOfRange { .. } | VerifyError::SizesOutOfOrder { .. } => "size_mismatch",
        VerifyError::ProofLength { .. } => "proof_length",
    };
    Failure::new(name, e.zh(), e.en())
}

fn inclusion(head_path: &Path, proof_path: &Path, key: &KeyArg) -> Result<(), Failure> {
    println!("验证包含性证明 / Verifying an inclusion proof");
    let key = load_key(key)?;
    let head = load_head(head_path)?;
    check_signature(key.as_ref(), &head, "树头", "tree head")?;
    let entry: LogEntryDto = read_json(proof_path, "条目证明", "entry proof")?;
    let alg = same_alg(head.hash_alg, &entry.hash_alg)?;
    if entry.tree_size != head.tree_size {
        return Err(size_mismatch(
            format!(
                "证明针对规模为 {} 的树，而树头规模为 {}；请以 ?tree_size={} 重新获取证明",
                entry.tree_size, head.tree_size, head.tree_size
            ),
            format!(
                "the proof is for a tree of {} leaves but the head is for {}; fetch it again with ?tree_size={}",
                entry.tree_size, head.tree_size, head.tree_size
            ),
        ));
    }
    // The leaf hash is recomputed from the data: a stored hash proves nothing about changed data.
    let recomputed = log_app::recompute_leaf_hash(alg, &entry.leaf.data);
    let claimed = log_app::parse_hash("leaf.leaf_hash", &entry.leaf.leaf_hash)
        .map_err(|e| Failure::from_app("invalid_input", e))?;
    if recomputed != claimed {
        return Err(Failure::new(
            "leaf_hash_mismatch",
            format!(
                "叶子哈希不一致：由条目数据计算得 {}，而证明给出 {}；条目数据在记入后被改动",
                log_app::hash_hex(&recomputed),
                entry.leaf.leaf_hash
            ),
            format!(
                "leaf hash mismatch: the entry's data hashes to {}, but the proof states {}; the data was changed after it was logged",
                log_app::hash_hex(&recomputed),
                entry.leaf.leaf_hash
            ),
        ));
    }
    ok(
        "叶子哈希与条目数据一致",
        format!("the leaf hash matches the entry's data ({})", log_app::hash_hex(&recomputed)),
    );
    let path = parse_path("inclusion_path", &entry.inclusion_path)?;
    domain::verify_inclusion(alg, entry.leaf.leaf_index, head.tree_size, &recomputed, &path, &head.root_hash)
        .map_err(verify_failure)?;
    ok(
        format!("包含性证明通过：第 {} 号条目在规模为 {} 的树中", entry.leaf.leaf_index, head.tree_size),
        format!("inclusion proof verified: leaf {} is in the tree of {} leaves", entry.leaf.leaf_index, head.tree_size),
    );
    print_proven(&entry.leaf.data);
    Ok(())
}

/// What the proof covers, read from the hashed data itself rather than from the file's other fields.
fn print_proven(data: &str) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else { return };
    let field = |k: &str| v.get(k).map(|x| x.to_string()).unwrap_or_else(|| "—".into());
    println!(
        "  已证明的内容 / proven content: kind={} subject_id={} appended_at_ms={}",
        field("kind"),
        field("subject_id"),
        field("appended_at_ms")
    );
    println!("  entry={}", field("entry"));
}

fn consistency(old_path: &Path, new_path: &Path, proof_path: &Path, key: &KeyArg) -> Result<(), Failure> {
    println!("验证一致性证明 / Verifying a consistency proof");
    let key = load_key(key)?;
    let old = load_head(old_path)?;
    let new = load_head(new_path)?;
    check_signature(key.as_ref(), &old, "旧树头", "old tree head")?;
    check_signature(key.as_ref(), &new, "新树头", "new tree head")?;
    let proof: LogConsistencyDto = read_json(proof_path, "一致性证明", "consistency proof")?;
    let alg = same_alg(old.hash_alg, &proof.hash_alg)?;
    same_alg(new.hash_alg, &proof.hash_alg)?;
    if old.tree_size > new.tree_size {
        return Err(size_mismatch(
            format!("旧树头规模（{}）大于新树头规模（{}）", old.tree_size, new.tree_size),
            format!("the old head's size ({}) is larger than the new head's ({})", old.tree_size, new.tree_size),
        ));
    }
    if proof.first != old.tree_size || proof.second != new.tree_size {
        return Err(size_mismatch(
            format!(
                "证明针对规模 {} → {}，而树头规模为 {} → {}",
                proof.first, proof.second, old.tree_size, new.tree_size
            ),
            format!(
                "the proof is for sizes {} -> {}, but the heads are {} -> {}",
                proof.first, proof.second, old.tree_size, new.tree_size
            ),
        ));
    }
    let path = parse_path("consistency_path", &proof.consistency_path)?;
    domain::verify_consistency(alg, old.tree_size, new.tree_size, &old.root_hash, &new.root_hash, &path)
        .map_err(verify_failure)?;
    ok(
        format!("一致性证明通过：规模 {} 的树是规模 {} 的树的前缀，日志只被追加", old.tree_size, new.tree_size),
        format!(
            "consistency proof verified: the tree of {} leaves is a prefix of the tree of {}; the log was only appended to",
            old.tree_size, new.tree_size
        ),
    );
    Ok(())
}
