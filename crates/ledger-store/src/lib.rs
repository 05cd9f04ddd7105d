//! The event store: what every backend must do (`EventStore`), and the
//! PostgreSQL backend (`PgEventStore`), which owns the `events` table, the
//! global feed, the per-stream hash chain, unique claims and snapshots.
//!
//! The store knows streams, versions and JSON; it knows nothing of runs or
//! accounts. Decoding and upcasting belong to the domain.

pub mod bundle;
pub mod checkpoint;
pub mod failpoint;
pub mod hash;
pub mod json;
pub mod merkle;
pub mod note;
pub mod partitions;
mod postgres;
pub mod tlog;

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use postgres::{
    dedicated_listener, AppendNotifications, BeforeCommitHook, PgEventStore, PgEventStoreOptions,
    MIGRATOR, NOTIFY_CHANNEL,
};

/// A connection idle this long is checked with a ping before it is used
/// again, rather than found dead by a failed statement: the append
/// writer's policy for its own connection, and the service pool's.
pub const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// What a stream's current version must be for an append to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Whatever it is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this 0-based version.
    Exact(u64),
}

/// Who and what caused an event; stored with it and covered by its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Tenant the event belongs to (also stored as a column for tenant-scoped feeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The person the caller acted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// The request or workflow this event is part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The idempotency key the command came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The caller: an API key id, `cli`, a service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Unique across the log; appending an existing id again is a no-op.
    pub event_id: Uuid,
    /// Type name.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// Payload.
    pub data: Value,
    /// Metadata.
    pub metadata: EventMetadata,
}

/// Events for one stream, with the version the stream must be at.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    /// Stream.
    pub stream_id: String,
    /// Required current version.
    pub expected: ExpectedVersion,
    /// Events, in order; may be empty to only check the version.
    pub events: Vec<NewEvent>,
}

/// A value claimed as unique within a scope by the append that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UniqueClaim {
    /// Namespace, for example `run-idempotency/{tenant_id}`.
    pub scope: String,
    /// The unique value.
    pub key: String,
    /// The stream the claim points to.
    pub stream_id: String,
}

/// One atomic append, possibly across several streams.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppendRequest {
    /// Per-stream parts; all or none are appended.
    pub streams: Vec<StreamAppend>,
    /// Claims taken with the append; a taken claim fails the whole append.
    pub claims: Vec<UniqueClaim>,
}

impl AppendRequest {
    /// An append to one stream.
    pub fn single(
        stream_id: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        AppendRequest {
            streams: vec![StreamAppend {
                stream_id: stream_id.into(),
                expected,
                events,
            }],
            claims: vec![],
        }
    }

    fn event_count(&self) -> usize {
        self.streams.iter().map(|part| part.events.len()).sum()
    }
}

/// Where an appended event landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendedEvent {
    /// Event id.
    pub event_id: Uuid,
    /// Stream.
    pub stream_id: String,
    /// 0-based version in the stream.
    pub stream_version: u64,
    /// Position in the global feed.
    pub global_position: u64,
}

/// The result of a successful append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Where each event landed, in request order.
    pub events: Vec<AppendedEvent>,
    /// True when every event id was already in the log: nothing was
    /// appended, and `events` are the original positions.
    pub duplicate: bool,
}

impl AppendOutcome {
    /// The global position of the last event, if there was one.
    pub fn last_position(&self) -> Option<u64> {
        self.events.iter().map(|event| event.global_position).max()
    }
}

/// Why an append did not happen. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A stream was not at the expected version.
    #[error("stream {stream_id} is at {actual:?}, expected {expected:?}")]
    VersionConflict {
        /// The stream.
        stream_id: String,
        /// What the request expected.
        expected: ExpectedVersion,
        /// The stream's version (`None`: no stream).
        actual: Option<u64>,
    },
    /// A unique claim belongs to another stream already.
    #[error("{scope}/{key} is claimed by {stream_id}")]
    ClaimTaken {
        /// Claim scope.
        scope: String,
        /// Claim key.
        key: String,
        /// The stream holding it.
        stream_id: String,
    },
    /// Some event ids of the request are in the log and some are not, or
    /// one is in the log under another stream: not a retry of one append.
    #[error("event id {event_id} was already appended with different content")]
    EventIdReused {
        /// The first offending id.
        event_id: Uuid,
    },
    /// The request cannot be stored as given.
    #[error("invalid append: {0}")]
    Invalid(String),
    /// The database failed. If it failed while committing, the append may
    /// have taken effect: retrying with the same event ids is safe.
    #[error("database error: {0}")]
    Database(#[source] std::sync::Arc<sqlx::Error>),
    /// The store is shutting down.
    #[error("the event store is shutting down")]
    ShuttingDown,
}

/// An event as a read model's projector reads it: what a fold needs, with
/// its data as the JSON text the database gave back, so that it is decoded
/// once, straight into the event type (`StreamEvent::decode_json`), rather
/// than into a `serde_json::Value` first. No metadata, id or hashes: no read
/// model uses them, and the database need not print or send them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// Position in the global feed.
    pub global_position: u64,
    /// Stream.
    pub stream_id: String,
    /// 0-based version in the stream.
    pub stream_version: u64,
    /// Type name.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// Payload, as JSON text.
    pub data: String,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// An event read back from the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Position in the global feed (1-based, dense).
    pub global_position: u64,
    /// Event id.
    pub event_id: Uuid,
    /// Stream.
    pub stream_id: String,
    /// 0-based version in the stream.
    pub stream_version: u64,
    /// Type name.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// Payload.
    pub data: Value,
    /// Metadata.
    pub metadata: Value,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The encoding `hash` covers (1 or 2; absent in bundles from before v2: 1).
    #[serde(default)]
    pub hash_version: hash::HashVersion,
    /// Hash of the stream's previous event.
    #[serde(with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    /// This event's hash.
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
}

impl RecordedEvent {
    /// Recomputes the hash from the envelope and `prev_hash`.
    ///
    /// # Errors
    /// The content cannot be encoded in the event's hash version (see
    /// `hash::event_hash`): it does not verify.
    pub fn computed_hash(&self) -> Result<[u8; 32], json::JsonError> {
        hash::event_hash(&hash::HashInput {
            version: self.hash_version,
            stream_id: &self.stream_id,
            stream_version: self.stream_version,
            global_position: self.global_position,
            event_id: self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            data: &self.data,
            metadata: &self.metadata,
            recorded_at: self.recorded_at,
            prev_hash: &self.prev_hash,
        })
    }
}

impl RecordedEvent {
    /// Why the event's hash does not match its content, if it does not.
    pub fn hash_mismatch(&self) -> Option<String> {
        match self.computed_hash() {
            Ok(computed) if computed.as_slice() == self.hash.as_slice() => None,
            Ok(_) => Some("hash does not match the event's content".to_owned()),
            Err(error) => Some(format!(
                "content cannot be hashed with hash version {}: {error}",
                self.hash_version.number()
            )),
        }
    }
}

pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

/// An error and every source under it, `: `-separated, for a log line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where a break in a hash chain is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Stream.
    pub stream_id: String,
    /// Version of the first event that does not verify.
    pub stream_version: u64,
    /// Its global position.
    pub global_position: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stream {} version {} (position {}): {}",
            self.stream_id, self.stream_version, self.global_position, self.reason
        )
    }
}

pub(crate) fn chain_break(event: &RecordedEvent, reason: &str) -> ChainBreak {
    ChainBreak {
        stream_id: event.stream_id.clone(),
        stream_version: event.stream_version,
        global_position: event.global_position,
        reason: reason.to_owned(),
    }
}

/// Checks a stream's events, in version order from version 0: versions are
/// gap-free, each `prev_hash` is the previous event's hash, and each hash
/// matches its envelope.
///
/// # Errors
/// The first event that does not verify.
pub fn verify_chain(events: &[RecordedEvent]) -> Result<(), ChainBreak> {
    let mut previous: Vec<u8> = hash::GENESIS_HASH.to_vec();
    for (expected_version, event) in events.iter().enumerate() {
        let broken = |reason: &str| chain_break(event, reason);
        if event.stream_version != expected_version as u64 {
            return Err(broken("stream version out of sequence"));
        }
        if event.prev_hash != previous {
            return Err(broken("prev_hash does not match the previous event's hash"));
        }
        if let Some(reason) = event.hash_mismatch() {
            return Err(broken(&reason));
        }
        previous = event.hash.clone();
    }
    Ok(())
}

/// A stream's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHead {
    /// Version of the last event.
    pub version: u64,
    /// Global position of the last event.
    pub position: u64,
}

/// The outcome of checking hash chains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Streams checked.
    pub streams_checked: u64,
    /// Events checked.
    pub events_checked: u64,
    /// True when every chain verified.
    pub ok: bool,
    /// The first event that does not verify.
    pub first_bad: Option<ChainBreak>,
}

/// Checks the hash chain of `stream_ids` (every stream when `None`), of one
/// tenant's streams when `tenant_id` is given.
///
/// # Errors
/// Read failures.
pub async fn verify_streams<S: EventStore>(
    store: &S,
    stream_ids: Option<Vec<String>>,
    tenant_id: Option<&str>,
) -> Result<ChainReport, ReadError> {
    let streams = match stream_ids {
        Some(ids) => ids,
        None => store.stream_ids(tenant_id).await?,
    };
    let mut report = ChainReport {
        ok: true,
        ..ChainReport::default()
    };
    for stream_id in streams {
        let events = match store.read_stream(&stream_id, 0, ReadUntil::End).await {
            Ok(events) => events,
            // An event that cannot be read cannot be verified: that is a
            // finding of the audit, not a failure of it.
            Err(ReadError::Undecodable {
                position,
                stream_id,
                stream_version,
                reason,
            }) => {
                report.streams_checked += 1;
                report.ok = false;
                report.first_bad.get_or_insert(ChainBreak {
                    stream_id,
                    stream_version,
                    global_position: position,
                    reason: format!("the event cannot be read: {reason}"),
                });
                continue;
            }
            Err(error) => return Err(error),
        };
        report.streams_checked += 1;
        report.events_checked += events.len() as u64;
        if let Err(broken) = verify_chain(&events) {
            report.ok = false;
            report.first_bad.get_or_insert(broken);
        }
    }
    Ok(report)
}

/// The global feed after `after_position` as far as it can be read (see
/// `EventStore::read_all`): a page that meets an event this build cannot
/// read ends before it, so a reader gets every event up to it, and the
/// next page, which starts with it, is the error naming it.
///
/// # Errors
/// Read failures; `Undecodable` when the first event of the page is.
pub async fn read_all_readable<S: EventStore>(
    store: &S,
    after_position: u64,
    limit: u32,
    tenant_id: Option<&str>,
) -> Result<Vec<RecordedEvent>, ReadError> {
    match store.read_all(after_position, limit, tenant_id).await {
        Err(ReadError::Undecodable { position, .. }) if position > after_position + 1 => {
            let before = u32::try_from(position - after_position - 1).unwrap_or(limit);
            let mut events = store.read_all(after_position, before, tenant_id).await?;
            events.retain(|event| event.global_position < position);
            Ok(events)
        }
        result => result,
    }
}

/// How far to read a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadUntil {
    /// To its end.
    End,
    /// Up to and including this version.
    Version(u64),
    /// Events recorded at or before this time.
    RecordedAt(DateTime<Utc>),
}

/// A stored fold of a stream up to `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Stream.
    pub stream_id: String,
    /// Last version folded in.
    pub version: u64,
    /// Format of `state`; a reader ignores snapshots of another format.
    pub state_format: u32,
    /// The folded state.
    pub state: Value,
}

/// Whether a database failure is an outage worth retrying (HTTP 503 with
/// `Retry-After`): a lost or refused connection, a pool timeout, a server
/// shutting down or out of connections, a read-only database, a
/// serialization failure or deadlock. Anything else (a bad statement, a
/// decode error, a bug) is not, and retrying would not help.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // 08: connection exception; 53: insufficient resources;
            // 57P01-57P03: shutdowns, cannot connect now; 25006: read-only
            // transaction; 40001, 40P01: serialization failure, deadlock.
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(
                    &*code,
                    "57P01" | "57P02" | "57P03" | "25006" | "40001" | "40P01"
                )
        }),
        _ => false,
    }
}

/// Read failures.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The event at `position` cannot be read by this build: written by a
    /// newer version, or edited by hand. Readers stop at it and say so.
    #[error("the event at position {position} ({stream_id} version {stream_version}) cannot be read: {reason}")]
    Undecodable {
        /// Its global position.
        position: u64,
        /// Its stream.
        stream_id: String,
        /// Its version in the stream.
        stream_version: u64,
        /// Why.
        reason: String,
    },
}

/// What an event store backend provides. Every method is one consistent
/// read or one atomic write.
pub trait EventStore: Send + Sync + 'static {
    /// Appends atomically across the request's streams, or not at all.
    fn append(
        &self,
        request: AppendRequest,
    ) -> impl Future<Output = Result<AppendOutcome, AppendError>> + Send;

    /// Reads a stream from `from_version` (inclusive) in version order.
    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        until: ReadUntil,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, ReadError>> + Send;

    /// Reads the global feed after `after_position`, in position order, at
    /// most `limit` events; `tenant_id` keeps only that tenant's events.
    /// Positions a reader has seen never gain a predecessor later.
    fn read_all(
        &self,
        after_position: u64,
        limit: u32,
        tenant_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, ReadError>> + Send;

    /// The position of the newest event (0 for an empty log).
    fn head_position(&self) -> impl Future<Output = Result<u64, ReadError>> + Send;

    /// Every stream, or those holding a tenant's events, in name order.
    fn stream_ids(
        &self,
        tenant_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>, ReadError>> + Send;

    /// A stream's current version and the position of its last event.
    fn stream_head(
        &self,
        stream_id: &str,
    ) -> impl Future<Output = Result<Option<StreamHead>, ReadError>> + Send;

    /// Where the events with these ids landed, for those in the log.
    fn find_events(
        &self,
        event_ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<AppendedEvent>, ReadError>> + Send;

    /// The stream holding a unique claim.
    fn find_claim(
        &self,
        scope: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, ReadError>> + Send;

    /// The stream's snapshot, if one was saved.
    fn load_snapshot(
        &self,
        stream_id: &str,
    ) -> impl Future<Output = Result<Option<Snapshot>, ReadError>> + Send;

    /// Saves a snapshot unless a newer one is stored.
    fn save_snapshot(
        &self,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), ReadError>> + Send;
}
