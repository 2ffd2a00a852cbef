//! Known-answer tests against the published RFC 6962 vectors of transparency-dev/merkle (SHA-256), the
//! GB/T 32905 SM3 examples, SM3 trees computed by an independent reference (OpenSSL's SM3 with the RFC's
//! recursive definitions), and property tests over random trees.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

fn h(hex: &str) -> Hash {
    hash_from_hex("test", hex).unwrap()
}

fn hs(hexes: &[&str]) -> Vec<Hash> {
    hexes.iter().map(|x| h(x)).collect()
}

/// The eight leaf inputs of transparency-dev/merkle `testonly.LeafInputs()`.
fn leaf_inputs() -> Vec<Vec<u8>> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|x| (0..x.len()).step_by(2).map(|i| u8::from_str_radix(&x[i..i + 2], 16).unwrap()).collect())
        .collect()
}

/// Every perfect subtree of the tree of `data`, built by appending through a frontier, as the store does.
fn build(alg: HashAlg, data: &[Vec<u8>]) -> (HashMap<NodeId, Hash>, Frontier) {
    let mut nodes = HashMap::new();
    let mut f = Frontier::empty();
    for d in data {
        for (id, hash) in f.push(alg, leaf_hash(alg, d)).unwrap() {
            nodes.insert(id, hash);
        }
    }
    (nodes, f)
}

fn source(nodes: &HashMap<NodeId, Hash>) -> impl Fn(NodeId) -> Option<Hash> + '_ {
    |id| nodes.get(&id).copied()
}

const RFC6962_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn sm3_matches_gbt_32905_examples() {
    assert_eq!(
        to_hex(&HashAlg::Sm3.digest(&[b"abc"])),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    let sixty_four = b"abcd".repeat(16);
    assert_eq!(
        to_hex(&HashAlg::Sm3.digest(&[&sixty_four])),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
    assert_eq!(to_hex(&HashAlg::Sm3.empty_root()), "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
    // Parts are concatenated: the same digest whichever way the input is cut.
    assert_eq!(HashAlg::Sm3.digest(&[b"a", b"", b"bc"]), HashAlg::Sm3.digest(&[b"abc"]));
    assert_eq!(to_hex(&HashAlg::Sha256.empty_root()), RFC6962_ROOTS[0]);
}

#[test]
fn sha256_roots_match_rfc6962_vectors_three_ways() {
    let leaves = leaf_inputs();
    for (n, want) in RFC6962_ROOTS.iter().enumerate() {
        let want = h(want);
        assert_eq!(root(HashAlg::Sha256, &leaves[..n]), want, "definition, size {n}");
        let (nodes, f) = build(HashAlg::Sha256, &leaves[..n]);
        assert_eq!(f.root(HashAlg::Sha256), want, "frontier, size {n}");
        let (all, _) = build(HashAlg::Sha256, &leaves);
        assert_eq!(root_at(HashAlg::Sha256, n as u64, &source(&all)).unwrap(), want, "stored nodes, size {n}");
        assert_eq!(nodes.len(), (0..=3).map(|l| n >> l).sum::<usize>(), "one node per perfect subtree");
    }
}

#[test]
fn stored_nodes_match_rfc6962_node_hashes() {
    let (nodes, _) = build(HashAlg::Sha256, &leaf_inputs());
    let levels: [&[&str]; 4] = [
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        &[
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ];
    for (level, hashes) in levels.iter().enumerate() {
        for (index, want) in hashes.iter().enumerate() {
            let id = NodeId { level: level as u8, index: index as u64 };
            assert_eq!(nodes[&id], h(want), "{id:?}");
        }
    }
    assert_eq!(nodes.len(), 15);
}

/// (leaf index, tree size, proof) from transparency-dev/merkle `testonly/reference_test.go` and
/// `proof/verify_test.go` (which numbers leaves from 1; converted here to 0-based indices).
fn rfc6962_inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (0, 2, hs(&["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"])),
        (1, 2, hs(&["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"])),
        (2, 3, hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"])),
        (
            1,
            5,
            hs(&[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
        (
            0,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            5,
            8,
            hs(&[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
    ]
}

/// (first size, second size, proof) from transparency-dev/merkle `proof/verify_test.go`.
fn rfc6962_consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            6,
            8,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            5,
            hs(&[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
        (
            6,
            7,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
    ]
}

fn flip(path: &[Hash], i: usize, mask: u8) -> Vec<Hash> {
    let mut p = path.to_vec();
    p[i][0] ^= mask;
    p
}

#[test]
fn inclusion_proofs_match_rfc6962_vectors_and_their_corruptions_fail() {
    let alg = HashAlg::Sha256;
    let leaves = leaf_inputs();
    let (nodes, _) = build(alg, &leaves);
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size, want) in rfc6962_inclusion_vectors() {
        let root = h(RFC6962_ROOTS[size as usize]);
        let leaf = leaf_hash(alg, &leaves[index as usize]);
        assert_eq!(inclusion_proof(alg, index, size, &source(&nodes)).unwrap(), want, "proof {index}/{size}");
        assert_eq!(verify_inclusion(alg, index, size, &leaf, &want, &root), Ok(()), "{index}/{size}");
        // The corruptions transparency-dev probes, each of which must be refused.
        let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash)> = vec![
            (index.wrapping_sub(1), size, leaf, want.clone(), root),
            (index + 1, size, leaf, want.clone(), root),
            (index ^ 2, size, leaf, want.clone(), root),
            (index, size * 2, leaf, want.clone(), root),
            (index, size / 2, leaf, want.clone(), root),
            (index, size, leaf_hash(alg, b"WrongLeaf"), want.clone(), root),
            (index, size, leaf, want.clone(), alg.empty_root()),
            (index, size, leaf, want.clone(), some_hash),
            (index, size, leaf, [want.clone(), vec![root]].concat(), root),
            (index, size, leaf, [vec![root], want.clone()].concat(), root),
        ];
        for i in 0..want.len() {
            probes.push((index, size, leaf, flip(&want, i, 8), root));
        }
        if let Some((_, short)) = want.split_last() {
            probes.push((index, size, leaf, short.to_vec(), root));
        }
        if want.len() > 1 {
            probes.push((index, size, leaf, [&want[..1], &[some_hash], &want[1..]].concat(), root));
        }
        for (n, (i, s, l, p, r)) in probes.iter().enumerate() {
            assert!(verify_inclusion(alg, *i, *s, l, p, r).is_err(), "probe {n} of {index}/{size} verified");
        }
    }
}

#[test]
fn consistency_proofs_match_rfc6962_vectors_and_their_corruptions_fail() {
    let alg = HashAlg::Sha256;
    let (nodes, _) = build(alg, &leaf_inputs());
    for (first, second, want) in rfc6962_consistency_vectors() {
        let (r1, r2) = (h(RFC6962_ROOTS[first as usize]), h(RFC6962_ROOTS[second as usize]));
        assert_eq!(consistency_proof(alg, first, second, &source(&nodes)).unwrap(), want, "{first}->{second}");
        assert_eq!(verify_consistency(alg, first, second, &r1, &r2, &want), Ok(()), "{first}->{second}");
        if want.is_empty() {
            continue;
        }
        let wrong = leaf_hash(alg, b"WrongRoot");
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (first - 1, second, r1, r2, want.clone()),
            (first + 1, second, r1, r2, want.clone()),
            (first ^ 2, second, r1, r2, want.clone()),
            (first, second * 2, r1, r2, want.clone()),
            (first, second / 2, r1, r2, want.clone()),
            (first, second, wrong, r2, want.clone()),
            (first, second, r1, wrong, want.clone()),
            (first, second, r2, r1, want.clone()),
            (first, second, r1, r2, vec![]),
            (first, second, r1, r2, [want.clone(), vec![r1]].concat()),
            (first, second, r1, r2, [want.clone(), vec![r2]].concat()),
            (first, second, r1, r2, [vec![r1], want.clone()].concat()),
            (first, second, r1, r2, [vec![r2], want.clone()].concat()),
            (first, second, r1, r2, [vec![want[0]], want.clone()].concat()),
            (first, second, r1, r2, want[..want.len() - 1].to_vec()),
        ];
        for i in 0..want.len() {
            probes.push((first, second, r1, r2, flip(&want, i, 16)));
        }
        for (n, (f, s, a, b, p)) in probes.iter().enumerate() {
            assert!(verify_consistency(alg, *f, *s, a, b, p).is_err(), "probe {n} of {first}->{second} verified");
        }
    }
}

#[test]
fn consistency_edge_cases_follow_transparency_dev() {
    let alg = HashAlg::Sha256;
    let (r1, r2) = (alg.digest(&[b"don't care 1"]), alg.digest(&[b"don't care 2"]));
    let empty = alg.empty_root();
    let cases: Vec<(u64, u64, Hash, Hash, Vec<Hash>, bool)> = vec![
        (0, 0, r1, r2, vec![], false),
        (1, 1, r1, r2, vec![], false),
        (0, 0, r1, r1, vec![], true),
        (0, 1, r1, r2, vec![], true),
        (1, 1, r2, r2, vec![], true),
        (1, 0, r1, r2, vec![], false),
        (2, 1, r1, r2, vec![], false),
        (1, 2, r1, r2, vec![], false),
        (0, 0, empty, r2, vec![], false),
        (1, 1, empty, r2, vec![], false),
        (0, 0, empty, empty, vec![empty], false),
        (0, 1, empty, empty, vec![empty], false),
        (1, 1, empty, empty, vec![empty], false),
    ];
    for (f, s, a, b, p, ok) in cases {
        assert_eq!(verify_consistency(alg, f, s, &a, &b, &p).is_ok(), ok, "{f}->{s}");
    }
    assert_eq!(verify_consistency(alg, 2, 1, &r1, &r2, &[]), Err(VerifyError::SizesOutOfOrder { first: 2, second: 1 }));
    assert_eq!(verify_consistency(alg, 1, 1, &r1, &r2, &[]), Err(VerifyError::SameSizeDifferentRoots));
    // A single-leaf tree: the root is the leaf hash and the proof is empty.
    let leaf = leaf_hash(alg, b"data");
    assert_eq!(verify_inclusion(alg, 0, 1, &leaf, &[], &leaf), Ok(()));
    assert_eq!(
        verify_inclusion(alg, 0, 0, &leaf, &[], &leaf),
        Err(VerifyError::LeafIndexOutOfRange { leaf_index: 0, tree_size: 0 })
    );
    assert_eq!(verify_inclusion(alg, 0, 1, &leaf, &[], &empty), Err(VerifyError::RootMismatch));
}

/// SM3 trees of the same eight leaves, from an independent reference: Python's recursive RFC 6962
/// definitions over OpenSSL's SM3 (checked on the SHA-256 vectors above before use).
const SM3_ROOTS: [&str; 9] = [
    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
    "2daef60e7a0b8f5e024c81cd2ab3109f2b4f155cf83adeb2ae5532f74a157fdf",
    "0b990fe0c7ad70f1bf1a1262f2c7908ea48146b14253a6db99f2917ab1f5cc4d",
    "209ec96a210d662a964772680e8544d18cab7b88ffec3e00962220349b56ea56",
    "28e4e307ef6d2d0c62d84b11ef96e835efe490f35b93c8f024ecfe38c8dd4377",
    "bb10c996aeebbcdc69be3715fc847344de77442d37a5ab8213da9f41785b103b",
    "8723c1ab1f82ddfba4a3733ac0c80d936d9f4c208c7dbc8cc81ca9fff8584f66",
    "bd36c22a1ac6ff4308e0c3cc1a85bf0ffa30538ec60a55c70413ab15d45db4d2",
    "bc48ba7a709184b5f2a631e1adeb8dc2a0d4c018c1d6cc89b5664fe154c93b38",
];

#[test]
fn sm3_trees_match_an_independent_reference() {
    let alg = HashAlg::Sm3;
    let leaves = leaf_inputs();
    let (nodes, _) = build(alg, &leaves);
    for (n, want) in SM3_ROOTS.iter().enumerate() {
        assert_eq!(root(alg, &leaves[..n]), h(want), "size {n}");
        assert_eq!(build(alg, &leaves[..n]).1.root(alg), h(want), "frontier, size {n}");
    }
    let cases: [(u64, u64, &[&str]); 2] = [
        (
            5,
            8,
            &[
                "a798bfdb4164a6c7b41a6faecc5c3155cf04d38929dcbd4fe21dea29071aac64",
                "155f6ed4ccfa83510c9416c99b48f41aa5b12e443546bee1b501a7b281e5132a",
                "28e4e307ef6d2d0c62d84b11ef96e835efe490f35b93c8f024ecfe38c8dd4377",
            ],
        ),
        (
            2,
            7,
            &[
                "796e7bd749551d8e3dbd787d5fdbc62771c9a04db51a53bdbc004211f606ee6a",
                "0b990fe0c7ad70f1bf1a1262f2c7908ea48146b14253a6db99f2917ab1f5cc4d",
                "6f59d73facf2001681a4932aa0ec3c8006b2911c498c6dda229de1b618670d4e",
            ],
        ),
    ];
    for (index, size, want) in cases {
        let want = hs(want);
        assert_eq!(inclusion_proof(alg, index, size, &source(&nodes)).unwrap(), want);
        let leaf = leaf_hash(alg, &leaves[index as usize]);
        assert_eq!(verify_inclusion(alg, index, size, &leaf, &want, &h(SM3_ROOTS[size as usize])), Ok(()));
    }
    let cases: [(u64, u64, &[&str]); 2] = [
        (
            3,
            7,
            &[
                "c93540f0356ca5170858329e6d483f335894dac0de71c64ff8b51cba68cce396",
                "796e7bd749551d8e3dbd787d5fdbc62771c9a04db51a53bdbc004211f606ee6a",
                "0b990fe0c7ad70f1bf1a1262f2c7908ea48146b14253a6db99f2917ab1f5cc4d",
                "6f59d73facf2001681a4932aa0ec3c8006b2911c498c6dda229de1b618670d4e",
            ],
        ),
        (4, 8, &["2064aa35c6f2961ab1667c4418188b13a7b2510104f71febbb67f19419cf8168"]),
    ];
    for (first, second, want) in cases {
        let want = hs(want);
        assert_eq!(consistency_proof(alg, first, second, &source(&nodes)).unwrap(), want);
        let (r1, r2) = (h(SM3_ROOTS[first as usize]), h(SM3_ROOTS[second as usize]));
        assert_eq!(verify_consistency(alg, first, second, &r1, &r2, &want), Ok(()));
    }
    // The same tree under the two hash functions has different roots: the algorithm is part of a head.
    assert_ne!(root(HashAlg::Sm3, &leaves), root(HashAlg::Sha256, &leaves));
}

#[test]
fn spans_tile_with_perfect_subtrees() {
    assert_eq!(
        Span { start: 0, end: 7 }.nodes(),
        vec![NodeId { level: 2, index: 0 }, NodeId { level: 1, index: 2 }, NodeId { level: 0, index: 6 }]
    );
    assert_eq!(Span { start: 8, end: 13 }.nodes(), vec![NodeId { level: 2, index: 2 }, NodeId { level: 0, index: 12 }]);
    assert!(Span { start: 5, end: 5 }.nodes().is_empty());
    assert_eq!(Span { start: 0, end: TREE_SIZE_MAX }.nodes().len(), 63);
    let missing = root_at(HashAlg::Sm3, 3, &|_| None);
    assert_eq!(missing, Err(ProofError::MissingNode { level: 0, index: 2 }));
    assert_eq!(inclusion_spans(3, 3), Err(ProofError::LeafOutOfRange { leaf_index: 3, tree_size: 3 }));
    assert_eq!(consistency_spans(4, 3), Err(ProofError::SizesOutOfOrder { first: 4, second: 3 }));
}

#[test]
fn frontier_round_trips_through_bytes_and_refuses_bad_shapes() {
    let (_, f) = build(HashAlg::Sm3, &leaf_inputs()[..7]);
    let back = Frontier::from_bytes(7, &f.to_bytes()).unwrap();
    assert_eq!(back, f);
    assert_eq!(f.to_bytes().len(), 3 * HASH_BYTES);
    assert!(Frontier::from_bytes(8, &f.to_bytes()).is_err());
    assert!(Frontier::from_bytes(7, &f.to_bytes()[1..]).is_err());
    assert_eq!(Frontier::from_bytes(0, &[]).unwrap().root(HashAlg::Sm3), HashAlg::Sm3.empty_root());
}

#[test]
fn the_signed_head_message_has_the_documented_layout() {
    let root = [0xabu8; HASH_BYTES];
    let m = tree_head_message(HashAlg::Sm3, 258, 1_700_000_000_123, &root);
    let mut want = b"lianrong/log/tree-head/v1\x00\x03sm3".to_vec();
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
    want.extend_from_slice(&1_700_000_000_123i64.to_be_bytes());
    want.extend_from_slice(&root);
    assert_eq!(m, want);
    assert_ne!(m, tree_head_message(HashAlg::Sha256, 258, 1_700_000_000_123, &root));
}

#[test]
fn hex_round_trips_and_names_the_field() {
    let x = HashAlg::Sm3.digest(&[b"x"]);
    assert_eq!(hash_from_hex("root", &to_hex(&x)), Ok(x));
    assert_eq!(hash_from_hex("root", &to_hex(&x).to_uppercase()), Ok(x));
    let e = hash_from_hex("root_hash", "abc").unwrap_err();
    assert_eq!(e.field, "root_hash");
    assert!(e.zh().contains("root_hash"));
    assert!(hash_from_hex("h", &"g".repeat(64)).is_err());
    assert!(hash_from_hex("h", &"é".repeat(32)).is_err());
}

fn random_tree(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every inclusion proof of every size verifies; a flipped bit, another index or another size
    /// (with that size's own root, as a signed head would bind it) fails.
    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        data in random_tree(200), a in any::<u64>(), b in any::<u64>(), bit in 0usize..256, alg_sha in any::<bool>(),
    ) {
        let alg = if alg_sha { HashAlg::Sha256 } else { HashAlg::Sm3 };
        let (nodes, f) = build(alg, &data);
        let n = data.len() as u64;
        let size = 1 + b % n;
        let index = a % size;
        let src = source(&nodes);
        let root = root_at(alg, size, &src).unwrap();
        prop_assert_eq!(root, super::root(alg, &data[..size as usize]));
        if size == n { prop_assert_eq!(root, f.root(alg)); }
        let leaf = leaf_hash(alg, &data[index as usize]);
        let proof = inclusion_proof(alg, index, size, &src).unwrap();
        prop_assert!(proof.len() <= 64);
        prop_assert_eq!(verify_inclusion(alg, index, size, &leaf, &proof, &root), Ok(()));
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[(bit / 8) % proof.len()][bit % 32] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(alg, index, size, &leaf, &bad, &root).is_err());
        }
        let mut bad_leaf = leaf;
        bad_leaf[bit % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(alg, index, size, &bad_leaf, &proof, &root).is_err());
        for other in [index ^ 1, index.wrapping_add(1), index.wrapping_sub(1), index ^ (1 << (bit % 8))] {
            if other != index && other < size && data[other as usize] != data[index as usize] {
                prop_assert!(verify_inclusion(alg, other, size, &leaf, &proof, &root).is_err(), "index {other}");
            }
        }
        for other_size in [size + 1, size - 1, size * 2, size / 2, n] {
            if other_size != size && other_size > index && other_size <= n {
                let other_root = root_at(alg, other_size, &src).unwrap();
                prop_assert!(verify_inclusion(alg, index, other_size, &leaf, &proof, &other_root).is_err(), "size {other_size}");
            }
        }
    }

    /// Every consistency proof between two sizes verifies; a flipped bit or other sizes fail.
    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        data in random_tree(200), a in any::<u64>(), b in any::<u64>(), bit in 0usize..256, alg_sha in any::<bool>(),
    ) {
        let alg = if alg_sha { HashAlg::Sha256 } else { HashAlg::Sm3 };
        let (nodes, _) = build(alg, &data);
        let n = data.len() as u64;
        let second = 1 + b % n;
        let first = 1 + a % second;
        let src = source(&nodes);
        let (r1, r2) = (root_at(alg, first, &src).unwrap(), root_at(alg, second, &src).unwrap());
        let proof = consistency_proof(alg, first, second, &src).unwrap();
        prop_assert_eq!(verify_consistency(alg, first, second, &r1, &r2, &proof), Ok(()));
        prop_assert_eq!(proof.is_empty(), first == second);
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[(bit / 8) % proof.len()][bit % 32] ^= 1 << (bit % 8);
            prop_assert!(verify_consistency(alg, first, second, &r1, &r2, &bad).is_err());
            for other in [first + 1, first - 1, first ^ 2] {
                if other != first && other >= 1 && other < second {
                    let other_root = root_at(alg, other, &src).unwrap();
                    prop_assert!(verify_consistency(alg, other, second, &other_root, &r2, &proof).is_err(), "first {other}");
                }
            }
            for other in [second + 1, second - 1, second * 2] {
                if other != second && other > first && other <= n {
                    let other_root = root_at(alg, other, &src).unwrap();
                    prop_assert!(verify_consistency(alg, first, other, &r1, &other_root, &proof).is_err(), "second {other}");
                }
            }
        }
    }
}
