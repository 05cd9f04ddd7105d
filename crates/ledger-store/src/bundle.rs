//! Export bundles: NDJSON files of events with their hashes and the signed
//! checkpoints covering them, which `verify_bundle` checks with no database.
//!
//! Lines, each a JSON object tagged by `kind`:
//! - `header` first: format, when, `after` (the position the export starts
//!   after) and `streams` (the streams exported, or null for all);
//! - `event`s in global position order: the envelope as stored, with
//!   `prev_hash` and `hash`;
//! - `checkpoint`s in position order: the signed checkpoint, with the heads
//!   it signed: all of them for the first (`heads_complete`), then those
//!   that changed since the previous one.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::checkpoint::{
    checkpoints_after, load_heads, CheckpointAudit, HeadInLog, SignedCheckpoint, SignedHead,
};
use crate::{chain_break, EventStore, ReadError, ReadUntil, RecordedEvent};

/// The `format` of the bundles this version writes.
pub const BUNDLE_FORMAT: &str = "run-ledger-export/v1";

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
    /// The streams exported; `None`: every stream.
    pub streams: Option<Vec<String>>,
    /// The log's head when the export was made; nothing after it is included.
    pub head_position: u64,
}

/// A checkpoint line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleCheckpoint {
    /// The signed checkpoint.
    #[serde(flatten)]
    pub checkpoint: SignedCheckpoint,
    /// Every head it signed when `heads_complete`, else those changed since
    /// the previous checkpoint line.
    pub heads: Vec<SignedHead>,
    /// Whether `heads` are all of them.
    pub heads_complete: bool,
}

/// One line of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BundleLine {
    /// The header.
    Header(BundleHeader),
    /// An event.
    Event(RecordedEvent),
    /// A signed checkpoint.
    Checkpoint(BundleCheckpoint),
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the log failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Reading checkpoints failed.
    #[error("database error: {0}")]
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
    /// Checkpoints written.
    pub checkpoints: u64,
    /// The log's head at the export.
    pub head_position: u64,
}

fn write_line(out: &mut impl Write, line: &BundleLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// Writes a bundle of the events after `after` (of `streams` only, when
/// given) and of the checkpoints signed after `after`.
///
/// # Errors
/// Reading the database or writing `out` failed.
pub async fn export<S: EventStore>(
    store: &S,
    pool: &PgPool,
    streams: Option<Vec<String>>,
    after: u64,
    out: &mut impl Write,
) -> Result<ExportSummary, ExportError> {
    let head_position = store.head_position().await?;
    let mut summary = ExportSummary {
        head_position,
        ..ExportSummary::default()
    };
    write_line(
        out,
        &BundleLine::Header(BundleHeader {
            format: BUNDLE_FORMAT.to_owned(),
            exported_at: Utc::now(),
            after,
            streams: streams.clone(),
            head_position,
        }),
    )?;
    let mut write_events = |events: Vec<RecordedEvent>, out: &mut _| -> std::io::Result<()> {
        for event in events {
            summary.events += 1;
            write_line(out, &BundleLine::Event(event))?;
        }
        Ok(())
    };
    match &streams {
        None => {
            let mut position = after;
            while position < head_position {
                let mut page = store.read_all(position, PAGE, None).await?;
                page.retain(|event| event.global_position <= head_position);
                let Some(last) = page.last() else { break };
                position = last.global_position;
                write_events(page, out)?;
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
                            event.global_position > after && event.global_position <= head_position
                        }),
                );
            }
            events.sort_by_key(|event| event.global_position);
            write_events(events, out)?;
        }
    }
    let mut checkpoints = std::pin::pin!(checkpoints_after(pool, after));
    while let Some(checkpoint) = checkpoints.try_next().await? {
        if checkpoint.position > head_position {
            break;
        }
        let heads_complete = summary.checkpoints == 0;
        let heads = load_heads(pool, checkpoint.position, !heads_complete).await?;
        summary.checkpoints += 1;
        write_line(
            out,
            &BundleLine::Checkpoint(BundleCheckpoint {
                checkpoint,
                heads: heads.into_values().collect(),
                heads_complete,
            }),
        )?;
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
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Events up to this position are covered by a verified signature.
    pub covered_position: u64,
    /// Events after `covered_position`: intact chains, but no signature yet.
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

/// Checks a bundle with no database: each event's hash against its content,
/// each stream's chain, positions (dense when every stream was exported),
/// each checkpoint's signature (with `trusted` when given) and that the
/// events it signed are in the bundle unchanged.
///
/// # Errors
/// A bundle that cannot be read or parsed; what it says is in the report.
pub fn verify_bundle(
    input: impl BufRead,
    trusted: Option<&VerifyingKey>,
) -> Result<BundleReport, BundleError> {
    let mut report = BundleReport::default();
    let mut header: Option<BundleHeader> = None;
    let mut tails: HashMap<String, StreamTail> = HashMap::new();
    let mut signed_positions: HashMap<(String, u64), (u64, Vec<u8>)> = HashMap::new();
    let mut last_position = 0;
    let mut audit = CheckpointAudit::default();
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
        let header = match (parsed, &mut header) {
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
        match header {
            (BundleLine::Event(event), header) => {
                report.events += 1;
                check_event(&event, header, last_position, &tails, &mut report.problems);
                last_position = event.global_position;
                signed_positions.insert(
                    (event.stream_id.clone(), event.stream_version),
                    (event.global_position, event.hash.clone()),
                );
                tails.insert(
                    event.stream_id,
                    StreamTail {
                        version: event.stream_version,
                        hash: event.hash,
                    },
                );
            }
            (BundleLine::Checkpoint(line), header) => {
                let heads = line
                    .heads
                    .into_iter()
                    .map(|head| (head.stream_id.clone(), head))
                    .collect();
                let in_scope = |stream_id: &str| {
                    header
                        .streams
                        .as_ref()
                        .is_none_or(|streams| streams.iter().any(|s| s == stream_id))
                };
                audit.check(
                    &line.checkpoint,
                    heads,
                    line.heads_complete,
                    trusted,
                    |head| {
                        if !in_scope(&head.stream_id) || head.global_position <= header.after {
                            return HeadInLog::NotChecked;
                        }
                        match signed_positions.get(&(head.stream_id.clone(), head.stream_version)) {
                            Some((global_position, hash)) => HeadInLog::Found {
                                global_position: *global_position,
                                hash: hash.clone(),
                            },
                            None => HeadInLog::Missing,
                        }
                    },
                );
            }
            (BundleLine::Header(_), _) => unreachable!("headers are handled above"),
        }
    }
    if header.is_none() {
        return Err(BundleError::Malformed {
            line: 0,
            reason: "empty bundle".into(),
        });
    }
    report.streams = tails.len() as u64;
    report.checkpoints = audit.checkpoints_checked;
    report.covered_position = audit.covered_position;
    report.unsigned_events = signed_positions
        .values()
        .filter(|(position, _)| *position > audit.covered_position)
        .count() as u64;
    report.problems.extend(audit.problems);
    Ok(report)
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
