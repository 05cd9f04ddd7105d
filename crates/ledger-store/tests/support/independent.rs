//! Checks made with code this project did not write: Cloudflare's
//! `signed_note` and `tlog_tiles` crates (ports of Go's sumdb `note` and
//! `tlog` packages, which Go's checksum database runs on).

#![allow(dead_code)]

use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash, HashReader};

/// A tree built by `tlog_tiles` from event hashes (leaf input: the hash).
pub struct IndependentTree {
    stored: Vec<Hash>,
    size: u64,
}

impl HashReader for IndependentTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        Ok(indexes.iter().map(|i| self.stored[*i as usize]).collect())
    }
}

impl IndependentTree {
    /// The tree of these event hashes, in position order.
    pub fn of(event_hashes: &[Vec<u8>]) -> Self {
        let mut tree = IndependentTree {
            stored: Vec::new(),
            size: 0,
        };
        for hash in event_hashes {
            let new = tlog_tiles::stored_hashes(tree.size, hash, &tree).unwrap();
            tree.stored.extend(new);
            tree.size += 1;
        }
        tree
    }

    /// The root of its first `size` leaves.
    pub fn root(&self, size: u64) -> [u8; 32] {
        tlog_tiles::tree_hash(size, self).unwrap().0
    }
}

fn hashes(path: &[[u8; 32]]) -> Vec<Hash> {
    path.iter().map(|hash| Hash(*hash)).collect()
}

/// Whether `path` proves the event with `event_hash` is leaf `index` of the
/// tree of `size` leaves with `root`.
pub fn includes(
    root: [u8; 32],
    size: u64,
    index: u64,
    event_hash: &[u8],
    path: &[[u8; 32]],
) -> bool {
    tlog_tiles::check_record(
        &hashes(path),
        size,
        Hash(root),
        index,
        tlog_tiles::record_hash(event_hash),
    )
    .is_ok()
}

/// Whether `path` proves the tree of `old` leaves with `old_root` is a
/// prefix of the tree of `new` leaves with `new_root`.
pub fn extends(
    old: u64,
    old_root: [u8; 32],
    new: u64,
    new_root: [u8; 32],
    path: &[[u8; 32]],
) -> bool {
    tlog_tiles::check_tree(&hashes(path), new, Hash(new_root), old, Hash(old_root)).is_ok()
}

/// A checkpoint note checked with the verifier keys given (each must have
/// signed it): its origin, tree size and root.
pub fn open_checkpoint(
    note: &str,
    verifier_keys: &[&str],
) -> Result<(String, u64, [u8; 32]), String> {
    let note = Note::from_bytes(note.as_bytes()).map_err(|e| e.to_string())?;
    for key in verifier_keys {
        let verifier = StandardVerifier::new(key).map_err(|e| e.to_string())?;
        let known = VerifierList::new(vec![Box::new(verifier)]);
        let (verified, _) = note.verify(&known).map_err(|e| e.to_string())?;
        if verified.is_empty() {
            return Err(format!("not signed by {key}"));
        }
    }
    let checkpoint = Checkpoint::from_bytes(note.text()).map_err(|e| e.to_string())?;
    Ok((
        checkpoint.origin().to_owned(),
        checkpoint.size(),
        checkpoint.hash().0,
    ))
}
