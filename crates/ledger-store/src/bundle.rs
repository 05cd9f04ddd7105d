//! Export bundles: NDJSON files of events with their hashes, the latest
//! signed checkpoint of the transparency log with its cosignatures, and
//! each event's inclusion proof against it, which `verify_bundle` checks
//! with no database and no trust in whoever handed the file over.
//!
//! Lines, each a JSON object tagged by `kind`:
//! - `header` first: format, when, `after` (the position the export starts
//!   after), `until` (the last position it covers, when it stops before the
//!   head: a range, such as a partition to archive), `streams` (the streams
//!   exported, or null for all) and the log's head;
//! - `checkpoint`, when the log has signed one: `note`, the C2SP checkpoint
//!   note with every signature;
//! - `event`s in global position order: the envelope as stored, with
//!   `prev_hash` and `hash`, each followed, in a bundle of some streams or
//!   of a later part of the log, by its `inclusion` proof (`position`,
//!   `tree_size`, `path`: RFC 9162 §2.1.3 hashes in base64) when the
//!   checkpoint covers it. A bundle of the whole log carries no proofs: its
//!   events are the tree's leaves, and the verifier recomputes the root.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::checkpoint::{self, CheckpointError};
use crate::merkle::{self, RootBuilder};
use crate::note::{self, Checkpoint, NoteVerifier, SignedNote};
use crate::tlog::{self, TreeError};
use crate::{chain_break, EventStore, ReadError, ReadUntil, RecordedEvent};

/// The `format` of the bundles this version writes.
pub const BUNDLE_FORMAT: &str = "run-ledger-export/v2";

const PAGE: u32 = 1_000;

/// The first line of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHeader {
    /// `BUNDLE_FORMAT`.
    pub format: String,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// Events after this global position are exported.
    pub after: u64,
    /// When set, events after it are not: the bundle is of a range of the
    /// log. Absent from bundles of everything after `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// The streams exported; `None`: every stream.
    pub streams: Option<Vec<String>>,
    /// The log's head when the export was made; nothing after it is included.
    pub head_position: u64,
}

impl BundleHeader {
    /// Whether the bundle holds every event from position 1: its events are
    /// the tree's leaves, so it carries no proofs and the root is recomputed.
    pub fn is_whole_log(&self) -> bool {
        self.streams.is_none() && self.after == 0 && self.until.is_none()
    }

    /// The last position the bundle covers.
    pub fn last_position(&self) -> u64 {
        self.until
            .map_or(self.head_position, |until| until.min(self.head_position))
    }
}

/// The checkpoint line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleCheckpoint {
    /// The signed note, with every cosignature.
    pub note: String,
}

/// An event's inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInclusion {
    /// The event's global position (leaf `position - 1`).
    pub position: u64,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The inclusion path, from the leaf's sibling up, base64.
    pub path: Vec<String>,
}

/// One line of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BundleLine {
    /// The header.
    Header(BundleHeader),
    /// The signed checkpoint.
    Checkpoint(BundleCheckpoint),
    /// An event.
    Event(RecordedEvent),
    /// The inclusion proof of the event before it.
    Inclusion(BundleInclusion),
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the log failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Reading a proof failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Writing the bundle failed.
    #[error("writing the bundle: {0}")]
    Write(#[from] std::io::Error),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Events written.
    pub events: u64,
    /// The signed tree size the bundle's proofs are against (0: none).
    pub tree_size: u64,
    /// The log's head at the export.
    pub head_position: u64,
}

fn write_line(out: &mut impl Write, line: &BundleLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// Writes a bundle of the events after `after` and up to `until` (the
/// head when `None`), of `streams` only when given, with the latest signed
/// checkpoint and, unless every event is exported, each covered event's
/// inclusion proof.
///
/// # Errors
/// Reading the database or writing `out` failed.
pub async fn export<S: EventStore>(
    store: &S,
    pool: &PgPool,
    streams: Option<Vec<String>>,
    after: u64,
    until: Option<u64>,
    out: &mut impl Write,
) -> Result<ExportSummary, ExportError> {
    // The checkpoint first: the head read after it is at least its size.
    let checkpoint = checkpoint::latest(pool).await?;
    let head_position = store.head_position().await?;
    let tree_size = checkpoint.as_ref().map_or(0, |c| c.tree_size);
    let mut summary = ExportSummary {
        head_position,
        tree_size,
        ..ExportSummary::default()
    };
    let header = BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        exported_at: Utc::now(),
        after,
        until,
        streams: streams.clone(),
        head_position,
    };
    let complete = header.is_whole_log();
    let covered_to = header.last_position();
    write_line(out, &BundleLine::Header(header))?;
    if let Some(checkpoint) = &checkpoint {
        write_line(
            out,
            &BundleLine::Checkpoint(BundleCheckpoint {
                note: checkpoint.note.render(),
            }),
        )?;
    }
    let mut conn = pool.acquire().await?;
    let mut write_events =
        async |events: Vec<RecordedEvent>, out: &mut _| -> Result<(), ExportError> {
            for event in events {
                summary.events += 1;
                let position = event.global_position;
                write_line(out, &BundleLine::Event(event))?;
                if !complete && position <= tree_size {
                    let path = tlog::inclusion_path(&mut conn, position - 1, tree_size).await?;
                    write_line(
                        out,
                        &BundleLine::Inclusion(BundleInclusion {
                            position,
                            tree_size,
                            path: path.iter().map(|hash| note::base64(hash)).collect(),
                        }),
                    )?;
                }
            }
            Ok(())
        };
    match &streams {
        None => {
            let mut position = after;
            while position < covered_to {
                let mut page = store.read_all(position, PAGE, None).await?;
                page.retain(|event| event.global_position <= covered_to);
                let Some(last) = page.last() else { break };
                position = last.global_position;
                write_events(page, out).await?;
            }
        }
        Some(streams) => {
            let mut events = Vec::new();
            for stream_id in streams.iter().collect::<BTreeSet<_>>() {
                events.extend(
                    store
                        .read_stream(stream_id, 0, ReadUntil::End)
                        .await?
                        .into_iter()
                        .filter(|event| {
                            event.global_position > after && event.global_position <= covered_to
                        }),
                );
            }
            events.sort_by_key(|event| event.global_position);
            write_events(events, out).await?;
        }
    }
    out.flush()?;
    Ok(summary)
}

/// What checking a bundle found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BundleReport {
    /// Events in the bundle.
    pub events: u64,
    /// Streams they belong to.
    pub streams: u64,
    /// The signed checkpoint's tree size (0: the bundle has none).
    pub tree_size: u64,
    /// Whether the log's signature was checked (a key was given).
    pub signature_checked: bool,
    /// Witnesses whose cosignature verified.
    pub witnesses_verified: u64,
    /// Events proven to be in the signed tree.
    pub events_proven: u64,
    /// Events after the checkpoint: intact chains, but no signature yet.
    pub unsigned_events: u64,
    /// Every problem found, with where it is; empty when the bundle verifies.
    pub problems: Vec<String>,
}

impl BundleReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why a bundle could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file could not be read.
    #[error("reading the bundle: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a bundle line.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

struct StreamTail {
    version: u64,
    hash: Vec<u8>,
}

/// An event that waits for its inclusion proof on the next line.
struct AwaitingProof {
    position: u64,
    label: String,
    leaf: merkle::Hash,
}

/// The bundle's checkpoint, checked.
struct SignedTree {
    tree_size: u64,
    root: merkle::Hash,
}

/// Checks a bundle with no database: each event's hash against its
/// content, each stream's chain, positions (dense when every stream was
/// exported), the checkpoint's signature by `log_key` and by each of
/// `witnesses` (each must have signed), and that every event the
/// checkpoint covers is in its tree: by its inclusion proof, or, in a
/// bundle of the whole log, by recomputing the root.
///
/// # Errors
/// A bundle that cannot be read or parsed; what it says is in the report.
pub fn verify_bundle(
    input: impl BufRead,
    log_key: Option<&NoteVerifier>,
    witnesses: &[NoteVerifier],
) -> Result<BundleReport, BundleError> {
    let mut report = BundleReport {
        signature_checked: log_key.is_some(),
        ..BundleReport::default()
    };
    let mut header: Option<BundleHeader> = None;
    let mut tree: Option<SignedTree> = None;
    let mut tails: HashMap<String, StreamTail> = HashMap::new();
    let mut last_position = 0;
    let mut awaiting: Option<AwaitingProof> = None;
    let mut leaves = RootBuilder::default();
    let missing_proof = |awaiting: AwaitingProof, problems: &mut Vec<String>| {
        problems.push(format!("{}: no inclusion proof", awaiting.label));
    };
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |reason: String| BundleError::Malformed {
            line: index + 1,
            reason,
        };
        let parsed: BundleLine =
            serde_json::from_str(&line).map_err(|error| malformed(error.to_string()))?;
        let (parsed, header) = match (parsed, &mut header) {
            (BundleLine::Header(found), None) if found.format == BUNDLE_FORMAT => {
                last_position = found.after;
                header = Some(found);
                continue;
            }
            (BundleLine::Header(found), None) => {
                return Err(malformed(format!("unknown format {:?}", found.format)))
            }
            (_, None) => return Err(malformed("the first line must be the header".into())),
            (BundleLine::Header(_), Some(_)) => return Err(malformed("a second header".into())),
            (line, Some(header)) => (line, &*header),
        };
        let complete = header.is_whole_log();
        match parsed {
            BundleLine::Checkpoint(line) => {
                if tree.is_some() || report.events > 0 {
                    return Err(malformed(
                        "the checkpoint comes once, before the events".into(),
                    ));
                }
                let checked = check_checkpoint(&line.note, log_key, witnesses, &mut report)
                    .map_err(|error| malformed(error.to_string()))?;
                tree = Some(checked);
            }
            BundleLine::Event(event) => {
                if let Some(waiting) = awaiting.take() {
                    missing_proof(waiting, &mut report.problems);
                }
                report.events += 1;
                check_event(&event, header, last_position, &tails, &mut report.problems);
                last_position = event.global_position;
                let leaf = merkle::leaf_hash(&event.hash);
                match &tree {
                    Some(tree) if event.global_position > tree.tree_size => {
                        report.unsigned_events += 1;
                    }
                    Some(tree) if complete => {
                        leaves.push(leaf);
                        if leaves.size() == tree.tree_size {
                            if leaves.root() == tree.root {
                                report.events_proven = tree.tree_size;
                            } else {
                                report.problems.push(format!(
                                    "the root of the bundle's events is not the root signed at \
                                     tree size {}: an event was changed",
                                    tree.tree_size
                                ));
                            }
                        }
                    }
                    Some(_) => {
                        awaiting = Some(AwaitingProof {
                            position: event.global_position,
                            label: format!(
                                "stream {} version {} (position {})",
                                event.stream_id, event.stream_version, event.global_position
                            ),
                            leaf,
                        })
                    }
                    None => report.unsigned_events += 1,
                }
                tails.insert(
                    event.stream_id,
                    StreamTail {
                        version: event.stream_version,
                        hash: event.hash,
                    },
                );
            }
            BundleLine::Inclusion(proof) => {
                let (Some(waiting), Some(tree)) = (awaiting.take(), &tree) else {
                    return Err(malformed(
                        "an inclusion proof with no event to prove".into(),
                    ));
                };
                let path: Result<Vec<merkle::Hash>, String> = proof
                    .path
                    .iter()
                    .map(|hash| note::hash_from_base64(hash))
                    .collect();
                let proven = proof.position == waiting.position
                    && proof.tree_size == tree.tree_size
                    && path.is_ok_and(|path| {
                        merkle::root_from_inclusion(
                            waiting.position - 1,
                            tree.tree_size,
                            &waiting.leaf,
                            &path,
                        ) == Some(tree.root)
                    });
                if proven {
                    report.events_proven += 1;
                } else {
                    report.problems.push(format!(
                        "{}: not in the tree signed at size {}: it, or the proof, was changed",
                        waiting.label, tree.tree_size
                    ));
                }
            }
            BundleLine::Header(_) => unreachable!("headers are handled above"),
        }
    }
    let Some(header) = header else {
        return Err(BundleError::Malformed {
            line: 0,
            reason: "empty bundle".into(),
        });
    };
    if let Some(waiting) = awaiting {
        missing_proof(waiting, &mut report.problems);
    }
    if header.streams.is_none() && header.until.is_some() && last_position < header.last_position()
    {
        report.problems.push(format!(
            "the bundle ends at position {last_position}; its header says it covers up to {}",
            header.last_position()
        ));
    }
    if let Some(tree) = &tree {
        if header.is_whole_log() && leaves.size() < tree.tree_size {
            report.problems.push(format!(
                "the checkpoint covers {} events; the bundle holds {}",
                tree.tree_size,
                leaves.size()
            ));
        }
    }
    report.streams = tails.len() as u64;
    Ok(report)
}

/// Checks the bundle's note: a checkpoint, signed by `log_key` and by
/// every one of `witnesses`; problems go in the report.
fn check_checkpoint(
    note: &str,
    log_key: Option<&NoteVerifier>,
    witnesses: &[NoteVerifier],
    report: &mut BundleReport,
) -> Result<SignedTree, note::NoteError> {
    let note = SignedNote::parse(note)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    report.tree_size = checkpoint.tree_size;
    if let Some(key) = log_key {
        if let Err(error) = note.verify(key) {
            report.problems.push(format!("checkpoint: {error}"));
        }
    }
    for witness in witnesses {
        match note.verify(witness) {
            Ok(()) => report.witnesses_verified += 1,
            Err(error) => report.problems.push(format!("checkpoint: {error}")),
        }
    }
    Ok(SignedTree {
        tree_size: checkpoint.tree_size,
        root: checkpoint.root_hash,
    })
}

fn check_event(
    event: &RecordedEvent,
    header: &BundleHeader,
    last_position: u64,
    tails: &HashMap<String, StreamTail>,
    problems: &mut Vec<String>,
) {
    let mut problem = |reason: &str| {
        problems.push(chain_break(event, reason).to_string());
    };
    if event.global_position <= last_position {
        problem("global position out of order");
    } else if header.streams.is_none() && event.global_position != last_position + 1 {
        problem("global positions skip: events before it are missing");
    }
    match tails.get(&event.stream_id) {
        Some(tail) if event.stream_version != tail.version + 1 => {
            problem("stream version out of sequence: events before it are missing")
        }
        Some(tail) if event.prev_hash != tail.hash => {
            problem("prev_hash does not match the previous event's hash")
        }
        None if header.after == 0 && event.stream_version != 0 => {
            problem("stream version out of sequence: events before it are missing")
        }
        None if event.stream_version == 0
            && event.prev_hash.as_slice() != crate::hash::GENESIS_HASH.as_slice() =>
        {
            problem("the first event of a stream must chain to the genesis hash")
        }
        _ => {}
    }
    if let Some(reason) = event.hash_mismatch() {
        problem(&reason);
    }
}
