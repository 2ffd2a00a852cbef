//! Credit penetration (信用穿透): from trade data, who supplies whom, and each supplier's tier relative to
//! a core enterprise — tier 1 sells to the core, tier n to a supplier of tier n−1, the shortest path
//! counting. Pure: the caller passes the invoiced volumes between parties.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// Tiers are counted this deep at most (the plan's credit reaches tier 3; room is left beyond).
pub const PENETRATION_DEPTH_MAX: u32 = 6;

/// Invoiced trade from `seller` to `buyer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub buyer: String,
    pub seller: String,
    pub volume_fen: i64,
    pub invoices: i64,
}

/// Each supplier reached from `core`, with its tier (1 = sells to the core).
pub fn tiers(core: &str, edges: &[Edge]) -> BTreeMap<String, u32> {
    let mut sellers_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in edges.iter().filter(|e| e.buyer != e.seller) {
        sellers_of.entry(e.buyer.as_str()).or_default().push(e.seller.as_str());
    }
    let mut tier: BTreeMap<String, u32> = BTreeMap::new();
    let mut queue: VecDeque<(&str, u32)> = VecDeque::from([(core, 0)]);
    while let Some((buyer, depth)) = queue.pop_front() {
        if depth >= PENETRATION_DEPTH_MAX {
            continue;
        }
        for seller in sellers_of.get(buyer).into_iter().flatten() {
            // Breadth first, so the first tier found is the shortest; the core is never its own supplier.
            if *seller != core && !tier.contains_key(*seller) {
                tier.insert(seller.to_string(), depth + 1);
                queue.push_back((seller, depth + 1));
            }
        }
    }
    tier
}

/// Suppliers and invoiced volume per tier: (tier, suppliers, volume sold into that tier's buyers).
pub fn per_tier(core: &str, edges: &[Edge], tiers: &BTreeMap<String, u32>) -> Vec<(u32, usize, i64)> {
    let mut out: BTreeMap<u32, (usize, i64)> = BTreeMap::new();
    for t in tiers.values() {
        out.entry(*t).or_default().0 += 1;
    }
    for e in edges {
        let buyer_tier = if e.buyer == core { Some(0) } else { tiers.get(&e.buyer).copied() };
        if let (Some(bt), Some(st)) = (buyer_tier, tiers.get(&e.seller))
            && *st == bt + 1
        {
            out.entry(*st).or_default().1 += e.volume_fen;
        }
    }
    out.into_iter().map(|(t, (n, v))| (t, n, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(buyer: &str, seller: &str, fen: i64) -> Edge {
        Edge { buyer: buyer.into(), seller: seller.into(), volume_fen: fen, invoices: 1 }
    }

    #[test]
    fn tiers_follow_the_shortest_path_down_the_chain() {
        let edges = vec![
            e("CORE", "A", 1_000),
            e("A", "B", 500),
            e("B", "C", 200),
            e("CORE", "B", 50), // B also sells to the core directly: tier 1, not 2.
            e("C", "CORE", 10), // a loop back to the core is ignored
            e("X", "Y", 999),   // trade elsewhere in the city
        ];
        let t = tiers("CORE", &edges);
        assert_eq!(t.get("A"), Some(&1));
        assert_eq!(t.get("B"), Some(&1));
        assert_eq!(t.get("C"), Some(&2));
        assert_eq!(t.get("Y"), None);
        assert_eq!(t.get("CORE"), None);
        assert_eq!(per_tier("CORE", &edges, &t), vec![(1, 2, 1_050), (2, 1, 200)]);
    }

    #[test]
    fn depth_is_bounded() {
        let edges: Vec<Edge> = (0..20).map(|i| e(&format!("N{i}"), &format!("N{}", i + 1), 1)).collect();
        let t = tiers("N0", &edges);
        assert_eq!(t.values().max(), Some(&PENETRATION_DEPTH_MAX));
        assert_eq!(t.len(), PENETRATION_DEPTH_MAX as usize);
    }
}
