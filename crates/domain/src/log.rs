//! The verifiable log's mathematics: an append-only Merkle tree in the shape of RFC 9162 §2.1 (the
//! same tree as RFC 6962 §2.1). A leaf hashes as `H(0x00 ‖ data)`, an interior node as
//! `H(0x01 ‖ left ‖ right)`, and a tree of `n > 1` leaves splits at `k`, the largest power of two
//! strictly below `n`. `H` is SM3 (GB/T 32905) by default; SHA-256 is selectable so that the code can be
//! checked against the published RFC 6962 test vectors and interoperate with other transparency logs.
//!
//! Storage keeps only the hashes of *perfect* subtrees (a power-of-two number of leaves, aligned to its
//! size), named by [`NodeId`]. Every hash a proof needs is the root of a range that decomposes into at
//! most 64 such nodes ([`Span::nodes`]), so roots and proofs cost O(log n) reads, never a scan. The
//! functions here are pure: they say which nodes they need, and take the hashes from a caller-supplied
//! source, so the same code serves the database, the tests and the offline verifier.

use std::borrow::Cow;

use crate::labelled_enum;
use crate::refusal::Refusal;

/// Both SM3 and SHA-256 produce 32 bytes.
pub const HASH_BYTES: usize = 32;
pub type Hash = [u8; HASH_BYTES];

/// Largest tree the log accepts: sizes travel as signed 64-bit integers through the database.
pub const TREE_SIZE_MAX: u64 = i64::MAX as u64;

labelled_enum!(
    /// The hash function `H` of a log.
    HashAlg, "hash_alg" {
        Sm3 => ("sm3", "SM3", "SM3"),
        Sha256 => ("sha256", "SHA-256", "SHA-256"),
    }
);

labelled_enum!(
    /// What a leaf records. Every important fact of the platform is a leaf of one of these kinds.
    LeafKind, "kind" {
        Submission => ("submission", "数据报送", "Submission"),
        Confirmation => ("confirmation", "应收账款确权", "Receivable confirmation"),
        Registration => ("registration", "登记", "Registration"),
        CollectionAccount => ("collection_account", "回款账户确定", "Fixed repayment account"),
        Commitment => ("commitment", "债权凭证操作", "Commitment operation"),
        Disbursement => ("disbursement", "放款", "Disbursement"),
        Disclosure => ("disclosure", "信息披露", "Disclosure"),
        Consent => ("consent", "数据授权", "Data authorisation"),
    }
);

impl HashAlg {
    /// `H` over the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> Hash {
        use sha2::Digest;
        match self {
            HashAlg::Sm3 => {
                let mut d = sm3::Sm3::new();
                parts.iter().for_each(|p| d.update(p));
                d.finalize().into()
            }
            HashAlg::Sha256 => {
                let mut d = sha2::Sha256::new();
                parts.iter().for_each(|p| d.update(p));
                d.finalize().into()
            }
        }
    }

    /// The root of the empty tree: `H()` of nothing.
    pub fn empty_root(self) -> Hash {
        self.digest(&[])
    }
}

/// `H(0x00 ‖ data)`: the hash of one leaf's data.
pub fn leaf_hash(alg: HashAlg, data: &[u8]) -> Hash {
    alg.digest(&[&[0x00], data])
}

/// `H(0x01 ‖ left ‖ right)`: the hash of an interior node. The prefixes keep a leaf from passing for a
/// node (second-preimage resistance).
pub fn node_hash(alg: HashAlg, left: &Hash, right: &Hash) -> Hash {
    alg.digest(&[&[0x01], left, right])
}

/// The largest power of two strictly below `n`; `n` must be at least 2.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of the tree whose leaves have these hashes (the definition, for tests and small trees).
pub fn root_of_leaf_hashes(alg: HashAlg, leaves: &[Hash]) -> Hash {
    match leaves {
        [] => alg.empty_root(),
        [one] => *one,
        _ => {
            let k = usize::try_from(split(leaves.len() as u64)).unwrap_or(leaves.len() / 2);
            node_hash(alg, &root_of_leaf_hashes(alg, &leaves[..k]), &root_of_leaf_hashes(alg, &leaves[k..]))
        }
    }
}

/// The root of the tree of these leaf data.
pub fn root<D: AsRef<[u8]>>(alg: HashAlg, data: &[D]) -> Hash {
    let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(alg, d.as_ref())).collect();
    root_of_leaf_hashes(alg, &leaves)
}

/// A perfect subtree: `2^level` leaves starting at leaf `index << level`. Level 0 is a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// The leaves `start..end` of a subtree as the recursion of RFC 9162 visits them; its hash is `MTH` of
/// those leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The perfect subtrees that tile the span, largest first. For the spans that RFC 9162's recursion
    /// produces (the start is aligned to a power of two at least the span's length) folding their hashes
    /// from the right gives `MTH` of the span. At most 64 nodes.
    pub fn nodes(self) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut at = self.start;
        while at < self.end {
            let mut level = if at == 0 { 63 } else { at.trailing_zeros() };
            while level > 0 && (1u64 << level) > self.end - at {
                level -= 1;
            }
            out.push(NodeId { level: level as u8, index: at >> level });
            at += 1u64 << level;
        }
        out
    }
}

/// A failure to build a proof or a root from stored hashes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {leaf_index} is not in a tree of {tree_size} leaves")]
    LeafOutOfRange { leaf_index: u64, tree_size: u64 },
    #[error("a consistency proof needs the first size ({first}) to be at most the second ({second})")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the hash of subtree level {level} index {index} is missing")]
    MissingNode { level: u8, index: u64 },
}

/// The subtrees whose hashes form the inclusion proof of a leaf, from the leaf up (RFC 9162 §2.1.3.1).
pub fn inclusion_spans(leaf_index: u64, tree_size: u64) -> Result<Vec<Span>, ProofError> {
    if leaf_index >= tree_size {
        return Err(ProofError::LeafOutOfRange { leaf_index, tree_size });
    }
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0, tree_size);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = lo + split(hi - lo);
        if leaf_index < k {
            siblings.push(Span { start: k, end: hi });
            hi = k;
        } else {
            siblings.push(Span { start: lo, end: k });
            lo = k;
        }
    }
    // Found from the root down; the proof lists them from the leaf up.
    out.extend(siblings.into_iter().rev());
    Ok(out)
}

/// The subtrees whose hashes form the consistency proof between two sizes (RFC 9162 §2.1.4.1). Empty
/// when the first tree is empty or both are the same.
pub fn consistency_spans(first: u64, second: u64) -> Result<Vec<Span>, ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let (mut lo, mut hi) = (0, second);
    // Whether the old tree's root is a node the verifier already has (true until the descent first
    // goes right, because the old root is then no longer a single node of the new tree's left edge).
    let mut have_root = true;
    loop {
        if first - lo == hi - lo {
            if !have_root {
                found.push(Span { start: lo, end: hi });
            }
            break;
        }
        let k = lo + split(hi - lo);
        if first <= k {
            found.push(Span { start: k, end: hi });
            hi = k;
        } else {
            found.push(Span { start: lo, end: k });
            lo = k;
            have_root = false;
        }
    }
    Ok(found.into_iter().rev().collect())
}

/// Every stored node that the spans need, each once, in a stable order.
pub fn nodes_for(spans: &[Span]) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = spans.iter().flat_map(|s| s.nodes()).collect();
    nodes.sort();
    nodes.dedup();
    nodes
}

/// `MTH` of a span from the hashes of its perfect subtrees.
pub fn span_hash(alg: HashAlg, span: Span, source: &impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, ProofError> {
    let nodes = span.nodes();
    let fetch = |n: NodeId| source(n).ok_or(ProofError::MissingNode { level: n.level, index: n.index });
    let Some((last, rest)) = nodes.split_last() else {
        return Ok(alg.empty_root());
    };
    let mut acc = fetch(*last)?;
    for n in rest.iter().rev() {
        acc = node_hash(alg, &fetch(*n)?, &acc);
    }
    Ok(acc)
}

/// The root of the first `tree_size` leaves, from stored perfect subtrees (at most 64 of them).
pub fn root_at(alg: HashAlg, tree_size: u64, source: &impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, ProofError> {
    span_hash(alg, Span { start: 0, end: tree_size }, source)
}

/// The inclusion proof (audit path) of a leaf in the tree of `tree_size` leaves.
pub fn inclusion_proof(
    alg: HashAlg,
    leaf_index: u64,
    tree_size: u64,
    source: &impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, ProofError> {
    inclusion_spans(leaf_index, tree_size)?.into_iter().map(|s| span_hash(alg, s, source)).collect()
}

/// The consistency proof that the tree of `first` leaves is a prefix of the tree of `second`.
pub fn consistency_proof(
    alg: HashAlg,
    first: u64,
    second: u64,
    source: &impl Fn(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, ProofError> {
    consistency_spans(first, second)?.into_iter().map(|s| span_hash(alg, s, source)).collect()
}

/// Why a proof did not verify. Each reason has a stable code and messages in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("leaf index {leaf_index} is not in a tree of {tree_size} leaves")]
    LeafIndexOutOfRange { leaf_index: u64, tree_size: u64 },
    #[error("the first tree size ({first}) is larger than the second ({second})")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the proof has {found} hashes; this proof needs {expected}")]
    ProofLength { expected: usize, found: usize },
    #[error("the root computed from the proof does not match the tree head's root")]
    RootMismatch,
    #[error("the proof does not lead to the old tree head's root")]
    OldRootMismatch,
    #[error("the proof does not lead to the new tree head's root")]
    NewRootMismatch,
    #[error("two tree heads of the same size have different roots")]
    SameSizeDifferentRoots,
}

impl Refusal for VerifyError {
    fn code(&self) -> &'static str {
        match self {
            VerifyError::LeafIndexOutOfRange { .. } => "leaf_index_out_of_range",
            VerifyError::SizesOutOfOrder { .. } => "sizes_out_of_order",
            VerifyError::ProofLength { .. } => "proof_length",
            VerifyError::RootMismatch => "root_mismatch",
            VerifyError::OldRootMismatch => "old_root_mismatch",
            VerifyError::NewRootMismatch => "new_root_mismatch",
            VerifyError::SameSizeDifferentRoots => "same_size_different_roots",
        }
    }

    /// A proof is judged as a whole; no single input is at fault.
    fn field(&self) -> Option<Cow<'static, str>> {
        None
    }

    fn zh(&self) -> String {
        match self {
            VerifyError::LeafIndexOutOfRange { leaf_index, tree_size } => {
                format!("叶子序号 {leaf_index} 不在规模为 {tree_size} 的树中")
            }
            VerifyError::SizesOutOfOrder { first, second } => {
                format!("旧树规模（{first}）大于新树规模（{second}）")
            }
            VerifyError::ProofLength { expected, found } => {
                format!("证明包含 {found} 个哈希值，而该证明应包含 {expected} 个")
            }
            VerifyError::RootMismatch => "由证明计算出的根哈希与树头的根哈希不一致".to_string(),
            VerifyError::OldRootMismatch => "证明推导不出旧树头的根哈希".to_string(),
            VerifyError::NewRootMismatch => "证明推导不出新树头的根哈希".to_string(),
            VerifyError::SameSizeDifferentRoots => "两个规模相同的树头根哈希不同".to_string(),
        }
    }
}

/// Verifies that `leaf_hash` is leaf `leaf_index` of the tree of `tree_size` leaves with root `root`,
/// following RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    alg: HashAlg,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let expected = inclusion_spans(leaf_index, tree_size)
        .map_err(|_| VerifyError::LeafIndexOutOfRange { leaf_index, tree_size })?
        .len();
    if path.len() != expected {
        return Err(VerifyError::ProofLength { expected, found: path.len() });
    }
    let (mut f, mut s) = (leaf_index, tree_size - 1);
    let mut r = *leaf_hash;
    for p in path {
        if s == 0 {
            return Err(VerifyError::ProofLength { expected, found: path.len() });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(alg, p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(alg, &r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(VerifyError::ProofLength { expected, found: path.len() });
    }
    if &r == root { Ok(()) } else { Err(VerifyError::RootMismatch) }
}

/// Verifies that the tree of `first` leaves with root `first_root` is a prefix of the tree of `second`
/// leaves with root `second_root`, following RFC 9162 §2.1.4.2. An empty first tree is a prefix of
/// every tree; two trees of the same size are consistent only when their roots are equal.
pub fn verify_consistency(
    alg: HashAlg,
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    path: &[Hash],
) -> Result<(), VerifyError> {
    let expected = consistency_spans(first, second).map_err(|_| VerifyError::SizesOutOfOrder { first, second })?.len();
    if path.len() != expected {
        return Err(VerifyError::ProofLength { expected, found: path.len() });
    }
    if first == second {
        return if first_root == second_root { Ok(()) } else { Err(VerifyError::SameSizeDifferentRoots) };
    }
    if first == 0 {
        return Ok(());
    }
    // When the old tree is itself a perfect subtree, its root is the proof's implicit first hash.
    let mut hashes: Vec<&Hash> = Vec::with_capacity(path.len() + 1);
    if first.is_power_of_two() {
        hashes.push(first_root);
    }
    hashes.extend(path.iter());
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some((seed, rest)) = hashes.split_first() else {
        return Err(VerifyError::ProofLength { expected, found: path.len() });
    };
    let (mut fr, mut sr) = (**seed, **seed);
    for c in rest {
        if s == 0 {
            return Err(VerifyError::ProofLength { expected, found: path.len() });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(alg, c, &fr);
            sr = node_hash(alg, c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(alg, &sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(VerifyError::ProofLength { expected, found: path.len() });
    }
    if &fr != first_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if &sr != second_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

/// The right edge of a tree: the roots of the perfect subtrees that tile leaves `0..size`, largest
/// first (one per set bit of `size`). It is all an append needs: the new leaf merges with the edge,
/// and the root is the edge folded from the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    #[error("a frontier of a tree of {size} leaves holds {expected} hashes, not {found} bytes' worth")]
    Shape { size: u64, expected: u32, found: usize },
    #[error("the log is full ({TREE_SIZE_MAX} leaves)")]
    Full,
}

impl Frontier {
    pub fn empty() -> Frontier {
        Frontier { size: 0, hashes: Vec::new() }
    }

    /// Reads a stored frontier: the hashes concatenated, largest subtree first.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Result<Frontier, FrontierError> {
        let expected = size.count_ones();
        if size > TREE_SIZE_MAX || bytes.len() != expected as usize * HASH_BYTES {
            return Err(FrontierError::Shape { size, expected, found: bytes.len() });
        }
        let hashes = bytes
            .chunks_exact(HASH_BYTES)
            .map(|c| {
                let mut h = [0u8; HASH_BYTES];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(Frontier { size, hashes })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf; returns every perfect subtree the append completed (the leaf itself first, then
    /// each parent it closed), which the store keeps for later proofs.
    pub fn push(&mut self, alg: HashAlg, leaf_hash: Hash) -> Result<Vec<(NodeId, Hash)>, FrontierError> {
        if self.size >= TREE_SIZE_MAX {
            return Err(FrontierError::Full);
        }
        let mut done = vec![(NodeId { level: 0, index: self.size }, leaf_hash)];
        let (mut cur, mut level, mut index) = (leaf_hash, 0u8, self.size);
        // A right child (odd index) closes its parent with the left sibling on the edge.
        while index & 1 == 1 {
            let Some(left) = self.hashes.pop() else { break };
            cur = node_hash(alg, &left, &cur);
            level += 1;
            index >>= 1;
            done.push((NodeId { level, index }, cur));
        }
        self.hashes.push(cur);
        self.size += 1;
        debug_assert_eq!(self.hashes.len() as u32, self.size.count_ones());
        Ok(done)
    }

    /// The root of the tree: the edge folded from the right.
    pub fn root(&self, alg: HashAlg) -> Hash {
        let Some((last, rest)) = self.hashes.split_last() else {
            return alg.empty_root();
        };
        rest.iter().rev().fold(*last, |acc, h| node_hash(alg, h, &acc))
    }
}

/// The context string that starts every signed tree head, so a signature over it can never be taken
/// for a signature over anything else the platform signs.
pub const TREE_HEAD_CONTEXT: &[u8] = b"lianrong/log/tree-head/v1";

/// The bytes an SM2 tree-head signature covers:
/// `"lianrong/log/tree-head/v1" ‖ 0x00 ‖ len(alg) as u8 ‖ alg code (ASCII, "sm3" or "sha256") ‖
/// tree_size as u64 big-endian ‖ timestamp_ms as i64 big-endian ‖ root (32 bytes)`.
pub fn tree_head_message(alg: HashAlg, tree_size: u64, timestamp_ms: i64, root: &Hash) -> Vec<u8> {
    let code = alg.code().as_bytes();
    let mut m = Vec::with_capacity(TREE_HEAD_CONTEXT.len() + 2 + code.len() + 16 + HASH_BYTES);
    m.extend_from_slice(TREE_HEAD_CONTEXT);
    m.push(0x00);
    m.push(code.len() as u8);
    m.extend_from_slice(code);
    m.extend_from_slice(&tree_size.to_be_bytes());
    m.extend_from_slice(&timestamp_ms.to_be_bytes());
    m.extend_from_slice(root);
    m
}

/// A hash as lower-case hex, as the API and the verifier show it.
pub fn to_hex(hash: &Hash) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    hash.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 0xf)] as char]).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {HASH_BYTES} bytes as 64 hexadecimal characters")]
pub struct HexError {
    pub field: String,
}

impl Refusal for HexError {
    fn code(&self) -> &'static str {
        "invalid_hash"
    }

    /// The caller names the input the hash came in.
    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Owned(self.field.clone()))
    }

    fn zh(&self) -> String {
        format!("{}：应为64个十六进制字符（{HASH_BYTES}字节）", self.field)
    }
}

/// Parses a 64-character hex hash (either case); `field` names it in the error.
pub fn hash_from_hex(field: &str, text: &str) -> Result<Hash, HexError> {
    let err = || HexError { field: field.to_string() };
    let text = text.trim().as_bytes();
    if text.len() != HASH_BYTES * 2 {
        return Err(err());
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; HASH_BYTES];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0]).ok_or_else(err)? << 4) | nibble(pair[1]).ok_or_else(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
