-- The verifiable log (DESIGN.md §4): an append-only Merkle tree in the RFC 9162 shape. Leaves keep the
-- exact bytes their hash covers; the hashes of perfect subtrees are kept so that roots and proofs read
-- O(log n) rows; signed tree heads are kept per size and signing key. Hashes and signatures are bytes.

-- One row (id = 1): the size of the tree, its right edge (the roots of the perfect subtrees that tile
-- it, largest first, concatenated) and the hash function. Appends lock this row, which serialises them.
CREATE TABLE log_state (
    id BIGINT PRIMARY KEY,
    tree_size BIGINT NOT NULL,
    frontier BYTEA NOT NULL,
    hash_alg TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
INSERT INTO log_state (id, tree_size, frontier, hash_alg, updated_at_ms) VALUES (1, 0, '\x'::bytea, 'sm3', 0);

-- `data` is the leaf's canonical JSON: exactly the bytes `leaf_hash` = H(0x00 || data) covers.
CREATE TABLE log_leaf (
    leaf_index BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL,
    appended_at_ms BIGINT NOT NULL
);
CREATE INDEX log_leaf_subject ON log_leaf(subject_id, kind);

-- The organisations a leaf concerns: they (with the operator and the regulator) may read it.
CREATE TABLE log_party (
    leaf_index BIGINT NOT NULL REFERENCES log_leaf(leaf_index),
    org_id TEXT NOT NULL REFERENCES organisation(id),
    PRIMARY KEY (leaf_index, org_id)
);
CREATE INDEX log_party_org ON log_party(org_id, leaf_index);

-- Perfect subtrees above the leaves (level >= 1): 2^level leaves from leaf node_index * 2^level.
-- Level 0 is log_leaf.leaf_hash.
CREATE TABLE log_node (
    node_level BIGINT NOT NULL,
    node_index BIGINT NOT NULL,
    node_hash BYTEA NOT NULL,
    PRIMARY KEY (node_level, node_index)
);

CREATE TABLE log_tree_head (
    tree_size BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    root_hash BYTEA NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    hash_alg TEXT NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (tree_size, key_id, hash_alg)
);

-- The platform's SM2 signing key when no key file is configured: one row (id = 1), made on first use.
CREATE TABLE log_key (
    id BIGINT PRIMARY KEY,
    private_key_hex TEXT NOT NULL,
    public_key_hex TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
