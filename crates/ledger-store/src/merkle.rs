//! The Merkle tree over the log, as RFC 6962 / RFC 9162 §2.1 define it,
//! with no IO: hashing, which stored nodes a root or a proof is made of,
//! how a tree grows, and the verifiers a client runs.
//!
//! Leaf `i` (0-based) is the event at global position `i + 1`; its leaf
//! input is the event's 32-byte hash. A *node* `(level, index)` is the root
//! of the complete subtree of the `2^level` leaves from `index * 2^level`:
//! the only hashes the ledger stores. Every hash a root or a proof needs is
//! the root of a range `[lo, hi)` that RFC 9162's recursion produces, whose
//! start is aligned to a power of two at least its length; such a range is
//! a few complete subtrees side by side (`complete_subtrees`), so it costs
//! O(log n) stored reads.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// SHA-256(0x00 || input).
pub fn leaf_hash(input: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(input);
    hasher.finalize().into()
}

/// SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the complete subtree of `2^level` leaves from leaf
/// `index * 2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// 0 for leaves.
    pub level: u8,
    /// Position among the nodes of its level.
    pub index: u64,
}

/// A range of leaves `[lo, hi)` whose root a proof carries.
pub type LeafRange = (u64, u64);

/// The complete subtrees that make up `[lo, hi)`, left to right: largest
/// first. `lo` must be aligned to a power of two at least `hi - lo` (as
/// every range of RFC 9162's recursion is), so each piece is aligned too.
pub fn complete_subtrees((mut lo, hi): LeafRange) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    while lo < hi {
        let level = (hi - lo).ilog2();
        nodes.push(NodeId {
            level: level as u8,
            index: lo >> level,
        });
        lo += 1 << level;
    }
    nodes
}

/// The root of a range from the roots of its `complete_subtrees`: the
/// last two joined first, as MTH splits off the largest power of two.
///
/// # Panics
/// With no pieces: the empty range has no root here (see `EMPTY_ROOT`).
pub fn range_root(pieces: &[Hash]) -> Hash {
    let (last, rest) = pieces.split_last().expect("a range has a piece");
    rest.iter()
        .rev()
        .fold(*last, |right, left| node_hash(left, &right))
}

/// The largest power of two below `n` (`n` at least 2).
fn split(n: u64) -> u64 {
    1 << (n - 1).ilog2()
}

/// The ranges whose roots make the inclusion path of leaf `index` in a tree
/// of `size` leaves (RFC 9162 §2.1.3.1), from the leaf's sibling upwards.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<LeafRange> {
    fn path(index: u64, lo: u64, hi: u64, out: &mut Vec<LeafRange>) {
        if hi - lo <= 1 {
            return;
        }
        let k = split(hi - lo);
        if index < lo + k {
            path(index, lo, lo + k, out);
            out.push((lo + k, hi));
        } else {
            path(index, lo + k, hi, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    path(index, 0, size, &mut out);
    out
}

/// The ranges whose roots make the consistency proof from a tree of `old`
/// leaves to one of `new` (RFC 9162 §2.1.4.1); `0 < old <= new`.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<LeafRange> {
    fn subproof(m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<LeafRange>) {
        if m == hi - lo {
            if !whole {
                out.push((lo, hi));
            }
            return;
        }
        let k = split(hi - lo);
        if m <= k {
            subproof(m, lo, lo + k, whole, out);
            out.push((lo + k, hi));
        } else {
            subproof(m - k, lo + k, hi, false, out);
            out.push((lo, lo + k));
        }
    }
    let mut out = Vec::new();
    if 0 < old && old <= new {
        subproof(old, 0, new, true, &mut out);
    }
    out
}

/// The nodes a tree of `size` leaves needs to grow: its right edge, the
/// left siblings of every node that the next leaves complete.
pub fn frontier(size: u64) -> Vec<NodeId> {
    complete_subtrees((0, size))
}

/// The nodes that appending `leaves` (leaf hashes) to a tree of `old_size`
/// leaves completes, level by level, given the hashes of `frontier(old_size)`
/// in that order.
///
/// # Panics
/// When `frontier` does not hold one hash per frontier node.
pub fn grow(old_size: u64, frontier_hashes: &[Hash], leaves: &[Hash]) -> Vec<(NodeId, Hash)> {
    let edge = frontier(old_size);
    assert_eq!(
        edge.len(),
        frontier_hashes.len(),
        "one hash per frontier node"
    );
    let left_sibling = |level: u8| {
        edge.iter()
            .zip(frontier_hashes)
            .find(|(node, _)| node.level == level)
            .map(|(_, hash)| *hash)
            .expect("an odd start has its left sibling on the frontier")
    };
    let mut grown = Vec::new();
    let mut level = 0u8;
    let mut start = old_size;
    let mut row = leaves.to_vec();
    while !row.is_empty() {
        grown.extend(row.iter().enumerate().map(|(offset, hash)| {
            (
                NodeId {
                    level,
                    index: start + offset as u64,
                },
                *hash,
            )
        }));
        if start % 2 == 1 {
            row.insert(0, left_sibling(level));
            start -= 1;
        }
        row = row
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
        start /= 2;
        level += 1;
    }
    grown
}

/// The root of leaves added one at a time, in O(log n) memory: what a
/// verifier that holds the events (not the stored tree) computes.
#[derive(Debug, Clone, Default)]
pub struct RootBuilder {
    size: u64,
    edge: Vec<(u8, Hash)>,
}

impl RootBuilder {
    /// Adds the next leaf (its leaf hash).
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u8, leaf);
        while let Some(&(level, left)) = self.edge.last() {
            if level != node.0 {
                break;
            }
            self.edge.pop();
            node = (level + 1, node_hash(&left, &node.1));
        }
        self.edge.push(node);
        self.size += 1;
    }

    /// Leaves added.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the leaves added so far.
    pub fn root(&self) -> Hash {
        if self.edge.is_empty() {
            return EMPTY_ROOT;
        }
        let pieces: Vec<Hash> = self.edge.iter().map(|(_, hash)| *hash).collect();
        range_root(&pieces)
    }
}

/// The root implied by an inclusion path for the leaf with hash `leaf` at
/// `index` in a tree of `size` leaves (RFC 9162 §2.1.3.2); `None` when the
/// path cannot be one.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut root = *leaf;
    for sibling in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            root = node_hash(sibling, &root);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            root = node_hash(&root, sibling);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(root)
}

/// Whether `path` proves that the tree of `old` leaves with root `old_root`
/// is a prefix of the tree of `new` leaves with root `new_root` (RFC 9162
/// §2.1.4.2); `0 < old <= new`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    path: &[Hash],
) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return path.is_empty() && old_root == new_root;
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(path.len() + 1);
    if old.is_power_of_two() {
        nodes.push(*old_root);
    }
    nodes.extend_from_slice(path);
    let Some((first, rest)) = nodes.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut old_computed, mut new_computed) = (*first, *first);
    for node in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            old_computed = node_hash(node, &old_computed);
            new_computed = node_hash(node, &new_computed);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            new_computed = node_hash(&new_computed, node);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &old_computed == old_root && &new_computed == new_root
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Every node of a tree built leaf by leaf with `grow`.
    fn build(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut nodes = HashMap::new();
        let mut size = 0u64;
        for chunk in leaves.chunks(3) {
            let edge: Vec<Hash> = frontier(size).iter().map(|node| nodes[node]).collect();
            nodes.extend(grow(size, &edge, chunk));
            size += chunk.len() as u64;
        }
        nodes
    }

    fn root_of(nodes: &HashMap<NodeId, Hash>, range: LeafRange) -> Hash {
        let pieces: Vec<Hash> = complete_subtrees(range).iter().map(|n| nodes[n]).collect();
        range_root(&pieces)
    }

    /// MTH straight from its definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn stored_nodes_give_the_roots_and_paths_the_definition_gives() {
        let all = leaves(70);
        let nodes = build(&all);
        let mut builder = RootBuilder::default();
        for size in 1..=70u64 {
            builder.push(all[size as usize - 1]);
            let root = mth(&all[..size as usize]);
            assert_eq!(root_of(&nodes, (0, size)), root, "size {size}");
            assert_eq!(builder.root(), root, "size {size}");
            for index in 0..size {
                let path: Vec<Hash> = inclusion_ranges(index, size)
                    .into_iter()
                    .map(|range| root_of(&nodes, range))
                    .collect();
                let leaf = all[index as usize];
                assert_eq!(root_from_inclusion(index, size, &leaf, &path), Some(root));
                assert_ne!(
                    root_from_inclusion(index, size, &all[(index as usize + 1) % 70], &path),
                    Some(root)
                );
            }
            for old in 1..=size {
                let path: Vec<Hash> = consistency_ranges(old, size)
                    .into_iter()
                    .map(|range| root_of(&nodes, range))
                    .collect();
                let old_root = mth(&all[..old as usize]);
                assert!(verify_consistency(old, size, &old_root, &root, &path));
                assert!(!verify_consistency(old, size, &root, &old_root, &path) || old == size);
            }
        }
    }
}
