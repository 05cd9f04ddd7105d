//! The PostgreSQL backend.
//!
//! Appends go through one writer task per store (group commit): it takes
//! every append waiting in its queue, decides each one's fate against the
//! current stream heads, and writes all that pass in one transaction. That
//! transaction first locks the single `event_log_head` row and holds it until
//! it commits, so across every service instance on the database only one
//! appending transaction runs at a time: positions are dense and become
//! visible in position order, and a reader of `global_position > P` never
//! skips an event that commits later. ARCHITECTURE.md explains the choice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::value::RawValue;
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row, Transaction};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::hash::{
    encoded_event_hash, format_recorded_at, EncodedDocuments, HashInput, HashVersion, GENESIS_HASH,
};
use crate::json;
use crate::{
    AppendError, AppendOutcome, AppendRequest, AppendedEvent, EventStore, ExpectedVersion,
    FeedEvent, ReadError, ReadUntil, RecordedEvent, Snapshot, StreamHead,
};

/// The schema migrations of the store (the repository's `migrations/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The channel every committed append notifies, with the new head position.
pub const NOTIFY_CHANNEL: &str = "ledger_events";

/// Wakes a reader when appends commit (the store's `NOTIFY`). Readers also
/// poll: without a listening connection, `next` never resolves and the
/// poll alone drives them.
#[derive(Debug)]
pub struct AppendNotifications(Option<sqlx::postgres::PgListener>);

/// A `LISTEN` connection of its own, with `pool`'s settings but outside it:
/// sqlx's listener keeps the connection it starts with, and one taken from
/// the pool would be a slot requests can never use.
///
/// # Errors
/// The connection cannot be opened.
pub async fn dedicated_listener(pool: &PgPool) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with((*pool.connect_options()).clone())
        .await?;
    sqlx::postgres::PgListener::connect_with(&own).await
}

impl AppendNotifications {
    /// Listens on a connection of its own from `pool`'s settings.
    pub async fn listen(pool: &PgPool) -> Self {
        let listener = match dedicated_listener(pool).await {
            Ok(mut listener) => listener.listen(NOTIFY_CHANNEL).await.ok().map(|_| listener),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for appends; polling only");
                None
            }
        };
        AppendNotifications(listener)
    }

    /// Resolves when an append commits (possibly one already seen), once for
    /// every notification that has arrived since the last call: a reader
    /// reads up to the head whichever woke it, and the writer notifies once
    /// a batch, so waking once a notification cost a busy reader one read a
    /// batch (a query a batch in every instance's live updates, say).
    pub async fn next(&mut self) {
        match self.0.as_mut() {
            Some(listener) => {
                let _ = listener.recv().await;
                // Those already received, without waiting for more (reads
                // from the connection are cancel-safe).
                while let Some(Ok(Some(_))) = listener.try_recv().now_or_never() {}
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// Called with the first and last position of a batch after its rows are
/// written and before it commits, while it holds the log's head lock.
/// Tests use it to hold a transaction open; production leaves it unset.
pub type BeforeCommitHook = Arc<dyn Fn(u64, u64) -> BoxFuture<'static, ()> + Send + Sync>;

/// Tuning of the writer.
#[derive(Clone)]
pub struct PgEventStoreOptions {
    /// Most events one transaction takes from the queue (an append larger
    /// than this still goes in whole, alone).
    pub max_batch_events: usize,
    /// Appends that may wait for the writer before callers wait to enqueue.
    pub queue_capacity: usize,
    /// Test hook; see `BeforeCommitHook`.
    pub before_commit: Option<BeforeCommitHook>,
}

impl Default for PgEventStoreOptions {
    fn default() -> Self {
        PgEventStoreOptions {
            max_batch_events: 2_000,
            queue_capacity: 4_096,
            before_commit: None,
        }
    }
}

impl std::fmt::Debug for PgEventStoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgEventStoreOptions")
            .field("max_batch_events", &self.max_batch_events)
            .field("queue_capacity", &self.queue_capacity)
            .field("before_commit", &self.before_commit.is_some())
            .finish()
    }
}

struct AppendJob {
    append: PreparedAppend,
    reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
}

/// The PostgreSQL event store. Cheap to clone; clones share one writer.
#[derive(Clone)]
pub struct PgEventStore {
    pool: PgPool,
    writer: mpsc::Sender<AppendJob>,
}

impl std::fmt::Debug for PgEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgEventStore").finish_non_exhaustive()
    }
}

impl PgEventStore {
    /// A store on `pool` with default options. Spawns the writer task on the
    /// current tokio runtime; it ends when the last clone is dropped.
    pub fn new(pool: PgPool) -> Self {
        Self::with_options(pool, PgEventStoreOptions::default())
    }

    /// A store with explicit writer options.
    pub fn with_options(pool: PgPool, options: PgEventStoreOptions) -> Self {
        let (writer, queue) = mpsc::channel(options.queue_capacity.max(1));
        let connect_options = (*pool.connect_options()).clone().options(WRITER_SETTINGS);
        // The writer runs on a thread and runtime of its own. Every append
        // waits on its round trips one after another; on the shared runtime
        // each reply from PostgreSQL would wait behind every ready HTTP task
        // before the writer saw it.
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run_writer(&connect_options, queue, options)),
                    // Dropping the queue answers every append ShuttingDown.
                    Err(error) => tracing::error!(%error, "cannot start the append writer"),
                }
            })
            .expect("the append writer's thread starts");
        PgEventStore { pool, writer }
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The events of streams whose id starts with `prefix`, after position
    /// `after` and up to `until`, in log order, at most `limit`, as a read
    /// model folds them (`FeedEvent`). A reader of one kind of stream uses
    /// it to skip the others in the database rather than fetch and decode
    /// them.
    ///
    /// # Errors
    /// Database failures.
    pub async fn read_all_with_prefix(
        &self,
        prefix: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, ReadError> {
        let rows = sqlx::query(
            "SELECT global_position, stream_id, stream_version, event_type, schema_version,
                    data::text AS data, recorded_at
             FROM events
             WHERE global_position > $1 AND global_position <= $2 AND starts_with(stream_id, $3)
             ORDER BY global_position LIMIT $4",
        )
        .bind(to_i64(after))
        .bind(to_i64(until))
        .bind(prefix)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FeedEvent {
                    global_position: row.try_get::<i64, _>("global_position")? as u64,
                    stream_id: row.try_get("stream_id")?,
                    stream_version: row.try_get::<i64, _>("stream_version")? as u64,
                    event_type: row.try_get("event_type")?,
                    schema_version: row.try_get::<i32, _>("schema_version")? as u32,
                    data: row.try_get("data")?,
                    recorded_at: row.try_get("recorded_at")?,
                })
            })
            .collect()
    }
}

impl EventStore for PgEventStore {
    #[tracing::instrument(skip_all, fields(streams = request.streams.len(), events = request.event_count()))]
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let append = prepare(request)?;
        let started = std::time::Instant::now();
        let (reply, outcome) = oneshot::channel();
        self.writer
            .send(AppendJob { append, reply })
            .await
            .map_err(|_| AppendError::ShuttingDown)?;
        let outcome = outcome.await.map_err(|_| AppendError::ShuttingDown)?;
        let result = match &outcome {
            Ok(done) if done.duplicate => "duplicate",
            Ok(_) => "appended",
            Err(AppendError::VersionConflict { .. }) => "conflict",
            Err(_) => "error",
        };
        metrics::histogram!("ledger_append_duration_seconds", "result" => result)
            .record(started.elapsed().as_secs_f64());
        if let Ok(done) = &outcome {
            if !done.duplicate {
                metrics::counter!("ledger_appended_events_total")
                    .increment(done.events.len() as u64);
            }
        }
        outcome
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        until: ReadUntil,
    ) -> Result<Vec<RecordedEvent>, ReadError> {
        if !could_exist(stream_id) {
            return Ok(vec![]);
        }
        let (max_version, recorded_before) = match until {
            ReadUntil::End => (i64::MAX, None),
            ReadUntil::Version(version) => (to_i64(version), None),
            ReadUntil::RecordedAt(at) => (i64::MAX, Some(at)),
        };
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE stream_id = $1 AND stream_version >= $2 AND stream_version <= $3
               AND ($4::timestamptz IS NULL OR recorded_at <= $4)
             ORDER BY stream_version"
        ))
        .bind(stream_id)
        .bind(to_i64(from_version))
        .bind(max_version)
        .bind(recorded_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(recorded_event).collect()
    }

    async fn read_all(
        &self,
        after_position: u64,
        limit: u32,
        tenant_id: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, ReadError> {
        // Two statements, not one with `$3 IS NULL OR tenant_id = $3`: a
        // prepared statement's generic plan cannot see that the filter is
        // off, and one made while the log was small scanned the whole log
        // on every projector batch until the table was next analyzed.
        let filter = match tenant_id {
            None => "",
            Some(_) => "AND tenant_id = $3",
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > $1 {filter}
             ORDER BY global_position LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(to_i64(after_position))
            .bind(i64::from(limit));
        let rows = match tenant_id {
            None => rows,
            Some(tenant) => rows.bind(tenant),
        }
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(recorded_event).collect()
    }

    async fn head_position(&self) -> Result<u64, ReadError> {
        let position: i64 = sqlx::query_scalar("SELECT position FROM event_log_head")
            .fetch_one(&self.pool)
            .await?;
        Ok(position as u64)
    }

    async fn stream_ids(&self, tenant_id: Option<&str>) -> Result<Vec<String>, ReadError> {
        Ok(match tenant_id {
            None => {
                sqlx::query_scalar("SELECT stream_id FROM streams ORDER BY stream_id")
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(tenant) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT stream_id FROM events WHERE tenant_id = $1 ORDER BY stream_id",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?
            }
        })
    }

    async fn stream_head(&self, stream_id: &str) -> Result<Option<StreamHead>, ReadError> {
        if !could_exist(stream_id) {
            return Ok(None);
        }
        let row = sqlx::query("SELECT version, head_position FROM streams WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StreamHead {
                version: row.try_get::<i64, _>("version")? as u64,
                position: row.try_get::<i64, _>("head_position")? as u64,
            })
        })
        .transpose()
    }

    async fn find_events(&self, event_ids: &[Uuid]) -> Result<Vec<AppendedEvent>, ReadError> {
        let rows = sqlx::query(FIND_EVENTS)
            .bind(event_ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| appended_event(row).map_err(ReadError::from))
            .collect()
    }

    async fn find_claim(&self, scope: &str, key: &str) -> Result<Option<String>, ReadError> {
        Ok(sqlx::query_scalar(
            "SELECT stream_id FROM unique_claims WHERE scope = $1 AND claim_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, ReadError> {
        let row =
            sqlx::query("SELECT version, state_format, state FROM snapshots WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(Snapshot {
                stream_id: stream_id.to_owned(),
                version: row.try_get::<i64, _>("version")? as u64,
                state_format: row.try_get::<i32, _>("state_format")? as u32,
                state: row.try_get("state")?,
            })
        })
        .transpose()
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), ReadError> {
        sqlx::query(
            "INSERT INTO snapshots (stream_id, version, state_format, state, taken_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (stream_id) DO UPDATE
               SET version = EXCLUDED.version, state_format = EXCLUDED.state_format,
                   state = EXCLUDED.state, taken_at = EXCLUDED.taken_at
             WHERE snapshots.version < EXCLUDED.version
                OR snapshots.state_format <> EXCLUDED.state_format",
        )
        .bind(&snapshot.stream_id)
        .bind(to_i64(snapshot.version))
        .bind(snapshot.state_format as i32)
        .bind(&snapshot.state)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

const EVENT_COLUMNS: &str = "global_position, event_id, stream_id, stream_version, event_type, \
     schema_version, data, metadata, recorded_at, hash_version, prev_hash, hash";

/// An event row. A row this build cannot read (a number beyond a double
/// edited in by hand, a hash version from a newer build) is `Undecodable`
/// at its position, so the reader stops there and says so, rather than
/// take it for a database outage and retry for ever.
fn recorded_event(row: &sqlx::postgres::PgRow) -> Result<RecordedEvent, ReadError> {
    let global_position = row.try_get::<i64, _>("global_position")? as u64;
    let stream_id: String = row.try_get("stream_id")?;
    let stream_version = row.try_get::<i64, _>("stream_version")? as u64;
    let undecodable = |reason: String| ReadError::Undecodable {
        position: global_position,
        stream_id: stream_id.clone(),
        stream_version,
        reason,
    };
    let decode_error = |error: sqlx::Error| match error {
        sqlx::Error::ColumnDecode { index, source } => undecodable(format!("{index}: {source}")),
        other => undecodable(other.to_string()),
    };
    let hash_version = row.try_get::<i16, _>("hash_version")?;
    let hash_version = u8::try_from(hash_version)
        .map_err(|_| format!("unknown hash version {hash_version}"))
        .and_then(HashVersion::try_from)
        .map_err(undecodable)?;
    Ok(RecordedEvent {
        global_position,
        event_id: row.try_get("event_id")?,
        stream_id: stream_id.clone(),
        stream_version,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get::<i32, _>("schema_version")? as u32,
        data: row.try_get("data").map_err(decode_error)?,
        metadata: row.try_get("metadata").map_err(decode_error)?,
        recorded_at: row.try_get("recorded_at")?,
        hash_version,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn appended_event(row: &sqlx::postgres::PgRow) -> Result<AppendedEvent, sqlx::Error> {
    Ok(AppendedEvent {
        event_id: row.try_get("event_id")?,
        stream_id: row.try_get("stream_id")?,
        stream_version: row.try_get::<i64, _>("stream_version")? as u64,
        global_position: row.try_get::<i64, _>("global_position")? as u64,
    })
}

/// Positions and versions are stored as BIGINT; values beyond it are clamped
/// (no log reaches 2^63 events).
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Whether a stream of this id could be in the log: appends refuse NUL in
/// stream ids (`prepare`), and PostgreSQL refuses to even compare text
/// holding one, so a read of such an id (from a query string, say) has
/// nothing to find and must not become a database error.
fn could_exist(stream_id: &str) -> bool {
    !stream_id.contains('\0')
}

/// Refuses what PostgreSQL could not store or the log could not read back
/// unchanged, before it can fail a whole group-commit batch: JSON that is
/// not I-JSON in its stored form (`json::prepare_stored`, which also puts
/// numbers in that form), NUL characters (text and JSONB reject them),
/// empty names, and an event id or stream twice in one request.
fn prepare(mut request: AppendRequest) -> Result<PreparedAppend, AppendError> {
    let invalid = |reason: String| Err(AppendError::Invalid(reason));
    if request.streams.is_empty() {
        return invalid("an append needs at least one stream".into());
    }
    let mut streams = HashSet::new();
    let mut ids = HashSet::new();
    let mut prepared = Vec::with_capacity(request.event_count());
    for part in &mut request.streams {
        if part.stream_id.is_empty() || !could_exist(&part.stream_id) {
            return invalid("stream ids must be non-empty and free of NUL".into());
        }
        if !streams.insert(part.stream_id.as_str()) {
            return invalid(format!("stream {} appears twice", part.stream_id));
        }
        for event in &mut part.events {
            if !ids.insert(event.event_id) {
                return invalid(format!("event id {} appears twice", event.event_id));
            }
            if event.event_type.is_empty() || event.event_type.contains('\0') {
                return invalid("event types must be non-empty and free of NUL".into());
            }
            let mut metadata = serde_json::to_value(&event.metadata).expect("metadata serializes");
            json::prepare_stored(&mut event.data)
                .map_err(|error| AppendError::Invalid(format!("event data: {error}")))?;
            json::prepare_stored(&mut metadata)
                .map_err(|error| AppendError::Invalid(format!("event metadata: {error}")))?;
            let documents = EncodedDocuments::new(HashVersion::CURRENT, &event.data, &metadata)
                .map_err(|error| AppendError::Invalid(format!("event content: {error}")))?;
            let as_sent = |document: &Value| {
                serde_json::value::to_raw_value(document).expect("a JSON value serializes")
            };
            prepared.push(PreparedEvent {
                data_json: as_sent(&event.data),
                metadata_json: as_sent(&metadata),
                metadata,
                documents,
            });
        }
    }
    for claim in &request.claims {
        if [&claim.scope, &claim.key, &claim.stream_id]
            .iter()
            .any(|text| text.contains('\0'))
        {
            return invalid("claims must not contain NUL characters".into());
        }
    }
    Ok(PreparedAppend {
        request,
        events: prepared,
    })
}

/// An append as the writer takes it: the request, checked, with each of
/// its events' documents encoded for the write statement and for the hash
/// by the appender's task, so that the writer, whose work every append
/// waits on in turn, only hashes and binds them.
struct PreparedAppend {
    request: AppendRequest,
    /// One per event, in the request's order of streams and events.
    events: Vec<PreparedEvent>,
}

struct PreparedEvent {
    /// The event's metadata as stored.
    metadata: Value,
    /// The event's data and metadata as the write statement sends them.
    data_json: Box<RawValue>,
    metadata_json: Box<RawValue>,
    /// The event's data and metadata as its hash covers them.
    documents: EncodedDocuments,
}

async fn run_writer(
    connect_options: &PgConnectOptions,
    mut queue: mpsc::Receiver<AppendJob>,
    options: PgEventStoreOptions,
) {
    // The writer has a connection of its own, outside the pool, opened on
    // its runtime so that PostgreSQL's replies wake it directly. It keeps
    // the connection, pings it before the first batch after an idle spell,
    // and drops it after a failed batch (the next batch opens a fresh one).
    let mut held: Option<PgConnection> = None;
    let mut idle = false;
    let mut known = KnownHeads::default();
    loop {
        let next = if held.is_some() && !idle {
            match tokio::time::timeout(crate::PING_AFTER_IDLE, queue.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    idle = true;
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(first) = next else { break };
        let mut events = first.append.request.event_count();
        let mut jobs = vec![first];
        while events < options.max_batch_events {
            match queue.try_recv() {
                Ok(job) => {
                    events += job.append.request.event_count();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let requests: Vec<&PreparedAppend> = jobs.iter().map(|job| &job.append).collect();
        metrics::histogram!("ledger_append_batch_size").record(requests.len() as f64);
        let writing = std::time::Instant::now();
        let outcome = async {
            let was_idle = std::mem::take(&mut idle);
            let checked = match held.take() {
                Some(mut connection) if was_idle => {
                    connection.ping().await.ok().map(|()| connection)
                }
                other => other,
            };
            let mut connection = match checked {
                Some(connection) => connection,
                None => PgConnection::connect_with(connect_options).await?,
            };
            let results = write_batch(
                &mut connection,
                &requests,
                options.before_commit.as_ref(),
                &mut known,
            )
            .await?;
            held = Some(connection);
            Ok::<_, sqlx::Error>(results)
        }
        .await;
        // Every append of the instance waits on this one task, so the share
        // of the time it spends writing (the rate of this histogram's sum)
        // is what tells an operator, or the bench, whether appends wait on
        // the writer or on the machine.
        metrics::histogram!("ledger_append_batch_seconds").record(writing.elapsed().as_secs_f64());
        match outcome {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(error) => {
                known.forget();
                tracing::error!(%error, appends = jobs.len(), "append batch failed");
                let error = Arc::new(error);
                for job in jobs {
                    let _ = job.reply.send(Err(AppendError::Database(error.clone())));
                }
            }
        }
    }
}

/// What the batch knows of the log while it decides each append in turn:
/// the database's view, plus what earlier appends of the batch wrote.
#[derive(Default)]
struct BatchView<'r> {
    /// The log's head the batch follows.
    head_before: u64,
    /// The last position the batch has taken so far.
    position: u64,
    heads: HashMap<String, (u64, Vec<u8>)>,
    touched_streams: Vec<String>,
    known_events: HashMap<Uuid, AppendedEvent>,
    claims: HashMap<(String, String), String>,
    new_claims: Vec<(String, String, String, u64)>,
    rows: EventRows<'r>,
}

/// The batch's events as the write statement binds them, borrowing what
/// the requests hold rather than copying it (an event's data is a tree of
/// its own allocations).
#[derive(Default)]
struct EventRows<'r> {
    global_position: Vec<i64>,
    event_id: Vec<Uuid>,
    stream_id: Vec<&'r str>,
    stream_version: Vec<i64>,
    event_type: Vec<&'r str>,
    schema_version: Vec<i32>,
    data: Vec<Json<&'r RawValue>>,
    metadata: Vec<Json<&'r RawValue>>,
    tenant_id: Vec<Option<&'r str>>,
    recorded_at: Vec<DateTime<Utc>>,
    hash_version: Vec<i16>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

/// What the writer knows of the log from its own batches: the log's head
/// and the heads of the streams it wrote or looked up. With it, a batch can
/// be written in one statement, without the locked lookup; the log's unique
/// keys and the head check refuse that statement whole if anything it
/// assumed is out of date (another instance appended, say).
#[derive(Default)]
struct KnownHeads {
    position: Option<u64>,
    streams: HashMap<String, (u64, Vec<u8>)>,
}

/// Most stream heads the writer remembers; past it, it starts afresh.
const KNOWN_STREAMS_LIMIT: usize = 100_000;

impl KnownHeads {
    /// After a batch committed: the log's head and stream heads as `view`
    /// left them.
    fn remember(&mut self, view: &BatchView<'_>) {
        if self.streams.len() + view.heads.len() > KNOWN_STREAMS_LIMIT {
            self.streams.clear();
        }
        self.position = Some(view.position);
        self.streams.extend(
            view.heads
                .iter()
                .map(|(id, head)| (id.clone(), head.clone())),
        );
    }

    fn forget(&mut self) {
        self.position = None;
        self.streams.clear();
    }
}

/// The SQLSTATE of `ledger_log_head_moved()` (migration 0007).
const LOG_HEAD_MOVED: &str = "RL001";
/// The SQLSTATE of `ledger_stream_head_moved()` (migration 0018).
const STREAM_HEAD_MOVED: &str = "RL002";
/// unique_violation: an event id, stream version, position or claim the
/// batch assumed free is taken.
const UNIQUE_VIOLATION: &str = "23505";

/// The transaction's first round trip: `BEGIN` and the log's head lock,
/// sent together. Later statements take fresh snapshots, so they see every
/// append that committed before the lock was granted.
const BEGIN_AND_LOCK_HEAD: &str =
    "BEGIN; SELECT position FROM event_log_head WHERE singleton FOR UPDATE";

/// Writes a batch: in one round trip when what the writer knows lets every
/// append of it go ahead and the log agrees, otherwise in four (begin and
/// lock, one lookup, one write, commit) whatever the batch's size.
async fn write_batch(
    connection: &mut PgConnection,
    requests: &[&PreparedAppend],
    before_commit: Option<&BeforeCommitHook>,
    known: &mut KnownHeads,
) -> Result<Vec<Result<AppendOutcome, AppendError>>, sqlx::Error> {
    // The test hook needs a transaction to hold open.
    if before_commit.is_none() {
        if let Some(results) = write_batch_unlocked(connection, requests, known).await? {
            return Ok(results);
        }
    }
    let error = match connection.begin_with(BEGIN_AND_LOCK_HEAD).await {
        Ok(tx) => return write_batch_in(tx, requests, before_commit, known).await,
        Err(error) => error,
    };
    // sqlx rolls back only a transaction it saw begin: a BEGIN whose lock
    // then failed (on a read-only server, say) would go back to the pool
    // inside an aborted transaction.
    let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
    Err(error)
}

/// The one-statement path: decides the batch on what the writer knows (a
/// stream it does not know is taken to be new) and writes it in a single
/// autocommitted statement. Returns `None`, having written nothing, when
/// some append would not go ahead on that knowledge (a refusal needs the
/// log's word) or when the log refuses the statement as out of date.
async fn write_batch_unlocked(
    connection: &mut PgConnection,
    requests: &[&PreparedAppend],
    known: &mut KnownHeads,
) -> Result<Option<Vec<Result<AppendOutcome, AppendError>>>, sqlx::Error> {
    let Some(position) = known.position else {
        return Ok(None);
    };
    let mut view = BatchView {
        head_before: position,
        position,
        ..BatchView::default()
    };
    for part in requests.iter().flat_map(|append| &append.request.streams) {
        if let Some(head) = known.streams.get(&part.stream_id) {
            view.heads.insert(part.stream_id.clone(), head.clone());
        }
    }
    let results = decide_batch(requests, &mut view);
    if view.rows.global_position.is_empty() || results.iter().any(Result::is_err) {
        return Ok(None);
    }
    match insert_rows(connection, &view).await {
        Ok(()) => {
            known.remember(&view);
            crate::failpoint::hit("append.after_commit");
            Ok(Some(results))
        }
        Err(error) if is_out_of_date(&error) => {
            known.forget();
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn is_out_of_date(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| [UNIQUE_VIOLATION, LOG_HEAD_MOVED, STREAM_HEAD_MOVED].contains(&&*code))
}

/// Decides each request in turn against `view`, adding the rows of those
/// that go ahead.
fn decide_batch<'r>(
    requests: &[&'r PreparedAppend],
    view: &mut BatchView<'r>,
) -> Vec<Result<AppendOutcome, AppendError>> {
    // Microseconds: what timestamptz keeps, so the hashed value is the stored one.
    let now = Utc::now();
    let recorded_at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let recorded_at_text = format_recorded_at(recorded_at);
    requests
        .iter()
        .map(|append| decide_append(append, view, recorded_at, &recorded_at_text))
        .collect()
}

async fn write_batch_in(
    mut tx: Transaction<'_, Postgres>,
    requests: &[&PreparedAppend],
    before_commit: Option<&BeforeCommitHook>,
    known: &mut KnownHeads,
) -> Result<Vec<Result<AppendOutcome, AppendError>>, sqlx::Error> {
    let mut view = load_view(&mut tx, requests).await?;
    let results = decide_batch(requests, &mut view);
    if view.rows.global_position.is_empty() {
        tx.rollback().await?;
        known.remember(&view);
        return Ok(results);
    }
    insert_rows(&mut tx, &view).await?;
    if let Some(hook) = before_commit {
        hook(view.head_before + 1, view.position).await;
    }
    tx.commit().await?;
    known.remember(&view);
    crate::failpoint::hit("append.after_commit");
    Ok(results)
}

// The writer's statements look each stream, event id and claim up by its
// key, one probe a key, whatever the tables' statistics say: joined to an
// array instead, PostgreSQL hashes the array and scans the whole table
// whenever its statistics are of a small table (a new ledger's, or an
// old one's after a burst between two autoanalyzes), and the writer's
// connection keeps that plan (docs/decisions.md). A correlated subquery
// or a `LATERAL` one with a `LIMIT` is never turned into such a join.

/// Settings of the writer's own connection: its statements only probe
/// keys, and a plan that scans a table is never right for them, even where
/// statistics of a table analyzed while nearly empty say it is cheaper.
const WRITER_SETTINGS: [(&str, &str); 1] = [("enable_seqscan", "off")];

/// Joins to each `wanted.event_id` the event of that id, as `found`, when
/// the log holds it.
macro_rules! found_event {
    () => {
        " CROSS JOIN LATERAL (
             SELECT e.stream_id, e.stream_version, e.global_position
             FROM event_ids i JOIN events e ON e.global_position = i.global_position
             WHERE i.event_id = wanted.event_id LIMIT 1
         ) found "
    };
}

/// Events by id, with their streams, versions and positions.
const FIND_EVENTS: &str = concat!(
    "SELECT wanted.event_id, found.stream_id, found.stream_version, found.global_position
     FROM (SELECT DISTINCT UNNEST($1::uuid[])) AS wanted(event_id)",
    found_event!(),
    "ORDER BY found.global_position"
);

/// The log's head, and the stream heads ($1), known events ($2) and taken
/// claims ($3, $4) a batch names, as rows tagged by `kind`.
const LOAD_VIEW: &str = concat!(
    "SELECT 'head' AS kind, NULL::text AS t1, NULL::text AS t2, NULL::text AS t3,
            position AS n1, NULL::bigint AS n2, NULL::bytea AS hash
     FROM event_log_head WHERE singleton
     UNION ALL
     SELECT 'stream', stream_id, NULL, NULL, version, NULL, head_hash
     FROM streams WHERE stream_id = ANY($1)
     UNION ALL
     SELECT 'event', wanted.event_id::text, found.stream_id, NULL, found.stream_version,
            found.global_position, NULL
     FROM UNNEST($2::uuid[]) AS wanted(event_id)",
    found_event!(),
    "UNION ALL
     SELECT 'claim', wanted.scope, wanted.claim_key, found.stream_id, NULL, NULL, NULL
     FROM UNNEST($3::text[], $4::text[]) AS wanted(scope, claim_key)
     CROSS JOIN LATERAL (
         SELECT c.stream_id FROM unique_claims c
         WHERE c.scope = wanted.scope AND c.claim_key = wanted.claim_key LIMIT 1
     ) found"
);

/// A batch's rows: events, their ids, stream heads, claims, and the log's
/// head moved from $23 to $21; fails if the head or a stream head ($13 at
/// the versions $25 before the batch) moved meanwhile, else notifies $22.
const INSERT_ROWS: &str = "WITH new_events AS (
         INSERT INTO events (global_position, event_id, stream_id, stream_version, event_type,
                             schema_version, data, metadata, tenant_id, recorded_at,
                             prev_hash, hash, hash_version)
         SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[],
                              $6::int[], $7::jsonb[], $8::jsonb[], $9::text[],
                              $10::timestamptz[], $11::bytea[], $12::bytea[], $24::smallint[])
     ), new_event_ids AS (
         INSERT INTO event_ids (event_id, global_position)
         SELECT * FROM UNNEST($2::uuid[], $1::bigint[])
     ), new_heads AS (
         INSERT INTO streams (stream_id, version, head_hash, head_position, updated_at)
         SELECT id, version, hash, position, now()
         FROM UNNEST($13::text[], $14::bigint[], $15::bytea[], $16::bigint[])
              AS s(id, version, hash, position)
         ON CONFLICT (stream_id) DO UPDATE
           SET version = EXCLUDED.version, head_hash = EXCLUDED.head_hash,
               head_position = EXCLUDED.head_position, updated_at = EXCLUDED.updated_at
     ), new_claims AS (
         INSERT INTO unique_claims (scope, claim_key, stream_id, claimed_at_position)
         SELECT * FROM UNNEST($17::text[], $18::text[], $19::text[], $20::bigint[])
     ), new_head AS (
         UPDATE event_log_head SET position = $21 WHERE singleton AND position = $23
         RETURNING position
     )
     SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM new_head) THEN ledger_log_head_moved()
                 WHEN EXISTS (SELECT 1 FROM UNNEST($13::text[], $25::bigint[])
                                             AS before(id, version)
                              WHERE before.version IS DISTINCT FROM
                                    (SELECT s.version FROM streams s WHERE s.stream_id = before.id))
                      THEN ledger_stream_head_moved()
                 ELSE pg_notify($22, $21::text) END";

/// The log's head and what the batch's requests name (stream heads, event
/// ids, claims), in one statement of rows tagged by `kind`.
async fn load_view<'r>(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[&PreparedAppend],
) -> Result<BatchView<'r>, sqlx::Error> {
    let requests: Vec<&AppendRequest> = appends.iter().map(|append| &append.request).collect();
    let stream_ids: Vec<&str> = requests
        .iter()
        .flat_map(|request| request.streams.iter().map(|part| part.stream_id.as_str()))
        .collect();
    let event_ids: Vec<Uuid> = requests
        .iter()
        .flat_map(|request| request.streams.iter().flat_map(|part| &part.events))
        .map(|event| event.event_id)
        .collect();
    let (claim_scopes, claim_keys): (Vec<&str>, Vec<&str>) = requests
        .iter()
        .flat_map(|request| &request.claims)
        .map(|claim| (claim.scope.as_str(), claim.key.as_str()))
        .unzip();

    let rows = sqlx::query(LOAD_VIEW)
        .bind(&stream_ids)
        .bind(&event_ids)
        .bind(&claim_scopes)
        .bind(&claim_keys)
        .fetch_all(&mut **tx)
        .await?;
    let mut view = BatchView::default();
    for row in rows {
        let kind: &str = row.try_get("kind")?;
        let number = |column: &str| -> Result<u64, sqlx::Error> {
            Ok(row.try_get::<i64, _>(column)? as u64)
        };
        match kind {
            "head" => {
                view.position = number("n1")?;
                view.head_before = view.position;
            }
            "stream" => {
                view.heads
                    .insert(row.try_get("t1")?, (number("n1")?, row.try_get("hash")?));
            }
            "event" => {
                let event_id: String = row.try_get("t1")?;
                let event = AppendedEvent {
                    event_id: event_id
                        .parse()
                        .map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
                    stream_id: row.try_get("t2")?,
                    stream_version: number("n1")?,
                    global_position: number("n2")?,
                };
                view.known_events.insert(event.event_id, event);
            }
            _ => {
                view.claims
                    .insert((row.try_get("t1")?, row.try_get("t2")?), row.try_get("t3")?);
            }
        }
    }
    Ok(view)
}

/// Decides one append against the batch's view and, if it goes ahead, adds
/// its rows to the batch. Nothing in the view changes when it is refused.
fn decide_append<'r>(
    append: &'r PreparedAppend,
    view: &mut BatchView<'r>,
    recorded_at: DateTime<Utc>,
    recorded_at_text: &str,
) -> Result<AppendOutcome, AppendError> {
    let request = &append.request;
    if let Some(duplicate) = earlier_append(request, view)? {
        return Ok(duplicate);
    }
    for claim in &request.claims {
        if let Some(holder) = view.claims.get(&(claim.scope.clone(), claim.key.clone())) {
            if *holder != claim.stream_id {
                return Err(AppendError::ClaimTaken {
                    scope: claim.scope.clone(),
                    key: claim.key.clone(),
                    stream_id: holder.clone(),
                });
            }
        }
    }
    for part in &request.streams {
        let actual = view.heads.get(&part.stream_id).map(|(version, _)| *version);
        let matches = match part.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual.is_none(),
            ExpectedVersion::Exact(version) => actual == Some(version),
        };
        if !matches {
            return Err(AppendError::VersionConflict {
                stream_id: part.stream_id.clone(),
                expected: part.expected,
                actual,
            });
        }
    }

    let mut appended = Vec::with_capacity(request.event_count());
    let mut prepared = append.events.iter();
    for part in &request.streams {
        for event in &part.events {
            let prepared = prepared.next().expect("one prepared event an event");
            view.position += 1;
            let (version, prev_hash) = match view.heads.get(&part.stream_id) {
                Some((version, hash)) => (version + 1, hash.clone()),
                None => (0, GENESIS_HASH.to_vec()),
            };
            let input = HashInput {
                version: HashVersion::CURRENT,
                stream_id: &part.stream_id,
                stream_version: version,
                global_position: view.position,
                event_id: event.event_id,
                event_type: &event.event_type,
                schema_version: event.schema_version,
                data: &event.data,
                metadata: &prepared.metadata,
                recorded_at,
                prev_hash: &prev_hash,
            };
            let hash = encoded_event_hash(&input, &prepared.documents, recorded_at_text);
            let rows = &mut view.rows;
            rows.global_position.push(to_i64(view.position));
            rows.event_id.push(event.event_id);
            rows.stream_id.push(&part.stream_id);
            rows.stream_version.push(to_i64(version));
            rows.event_type.push(&event.event_type);
            rows.schema_version.push(event.schema_version as i32);
            rows.data.push(Json(&prepared.data_json));
            rows.metadata.push(Json(&prepared.metadata_json));
            rows.tenant_id.push(event.metadata.tenant_id.as_deref());
            rows.recorded_at.push(recorded_at);
            rows.hash_version
                .push(i16::from(HashVersion::CURRENT.number()));
            rows.prev_hash.push(prev_hash);
            rows.hash.push(hash.to_vec());
            if !view.touched_streams.contains(&part.stream_id) {
                view.touched_streams.push(part.stream_id.clone());
            }
            view.heads
                .insert(part.stream_id.clone(), (version, hash.to_vec()));
            let landed = AppendedEvent {
                event_id: event.event_id,
                stream_id: part.stream_id.clone(),
                stream_version: version,
                global_position: view.position,
            };
            view.known_events.insert(event.event_id, landed.clone());
            appended.push(landed);
        }
    }
    for claim in &request.claims {
        let id = (claim.scope.clone(), claim.key.clone());
        if view.claims.insert(id, claim.stream_id.clone()).is_none() {
            view.new_claims.push((
                claim.scope.clone(),
                claim.key.clone(),
                claim.stream_id.clone(),
                view.position,
            ));
        }
    }
    Ok(AppendOutcome {
        events: appended,
        duplicate: false,
    })
}

/// A request whose every event id is in the log, each in the stream the
/// request names, is a retry of an append that happened: its original
/// positions answer it. Some ids known and some not is an error.
fn earlier_append(
    request: &AppendRequest,
    view: &BatchView<'_>,
) -> Result<Option<AppendOutcome>, AppendError> {
    let mut originals = Vec::new();
    let mut unknown = None;
    for part in &request.streams {
        for event in &part.events {
            match view.known_events.get(&event.event_id) {
                Some(original) if original.stream_id == part.stream_id => {
                    originals.push(original.clone())
                }
                Some(_) => {
                    return Err(AppendError::EventIdReused {
                        event_id: event.event_id,
                    })
                }
                None => unknown = Some(event.event_id),
            }
        }
    }
    match (originals.first(), unknown) {
        (None, _) => Ok(None),
        (Some(_), None) => Ok(Some(AppendOutcome {
            events: originals,
            duplicate: true,
        })),
        (Some(original), Some(_)) => Err(AppendError::EventIdReused {
            event_id: original.event_id,
        }),
    }
}

/// Writes the batch in one statement: events, their ids, stream heads,
/// claims, the log's head, and the notification (delivered at commit, so
/// listeners wake to events they can read). The statement fails whole, with
/// `LOG_HEAD_MOVED`, unless the log's head is still the one the batch
/// follows, and with `STREAM_HEAD_MOVED` unless every stream it writes is
/// at the version before the batch's first event of it (absent for a new
/// one). That second check is what keeps versions unique across the log:
/// the unique index on `(stream_id, stream_version)` is per partition.
async fn insert_rows(
    connection: &mut PgConnection,
    view: &BatchView<'_>,
) -> Result<(), sqlx::Error> {
    let rows = &view.rows;
    let mut stream_ids = Vec::new();
    let mut versions = Vec::new();
    let mut hashes = Vec::new();
    let mut positions = Vec::new();
    let mut versions_before = Vec::new();
    for stream_id in &view.touched_streams {
        let (version, hash) = &view.heads[stream_id];
        let (mut first_version, mut position) = (i64::MAX, 0);
        for ((id, row_version), row_position) in rows
            .stream_id
            .iter()
            .zip(&rows.stream_version)
            .zip(&rows.global_position)
        {
            if id == stream_id {
                first_version = first_version.min(*row_version);
                position = position.max(*row_position);
            }
        }
        stream_ids.push(stream_id.as_str());
        versions.push(to_i64(*version));
        hashes.push(hash.as_slice());
        positions.push(position);
        versions_before.push((first_version > 0).then(|| first_version - 1));
    }
    let (mut scopes, mut keys, mut streams, mut at) = (vec![], vec![], vec![], vec![]);
    for (scope, key, stream_id, position) in &view.new_claims {
        scopes.push(scope.as_str());
        keys.push(key.as_str());
        streams.push(stream_id.as_str());
        at.push(to_i64(*position));
    }
    sqlx::query(INSERT_ROWS)
        .bind(&rows.global_position)
        .bind(&rows.event_id)
        .bind(&rows.stream_id)
        .bind(&rows.stream_version)
        .bind(&rows.event_type)
        .bind(&rows.schema_version)
        .bind(&rows.data)
        .bind(&rows.metadata)
        .bind(&rows.tenant_id)
        .bind(&rows.recorded_at)
        .bind(&rows.prev_hash)
        .bind(&rows.hash)
        .bind(&stream_ids)
        .bind(&versions)
        .bind(&hashes)
        .bind(&positions)
        .bind(&scopes)
        .bind(&keys)
        .bind(&streams)
        .bind(&at)
        .bind(to_i64(view.position))
        .bind(NOTIFY_CHANNEL)
        .bind(to_i64(view.head_before))
        .bind(&rows.hash_version)
        .bind(&versions_before)
        .execute(connection)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ledger_embedded_pg::testing::{fresh_database, generic_plan, plan_reads_a_whole_table};
    use sqlx::postgres::PgPoolOptions;

    use super::*;

    /// The statements that look keys up, their parameter types (for
    /// `PREPARE`), and whether they run on the writer's connection.
    const STATEMENTS: [(&str, &str, &str, bool); 3] = [
        ("find_events", FIND_EVENTS, "uuid[]", false),
        (
            "load_view",
            LOAD_VIEW,
            "text[], uuid[], text[], text[]",
            true,
        ),
        (
            "insert_rows",
            INSERT_ROWS,
            "bigint[], uuid[], text[], bigint[], text[], int[], jsonb[], jsonb[], text[],
             timestamptz[], bytea[], bytea[], text[], bigint[], bytea[], bigint[], text[], text[],
             text[], bigint[], bigint, text, bigint, smallint[], bigint[]",
            true,
        ),
    ];

    /// The generic plan of each statement under the settings of the
    /// connection it runs on, prepared under names ending in `round`; only
    /// the writer's when `writer_only`.
    async fn generic_plans(
        pool: &PgPool,
        round: usize,
        writer_only: bool,
    ) -> Vec<(&'static str, String)> {
        let mut connection = pool.acquire().await.unwrap();
        let mut plans = Vec::new();
        for (name, statement, types, on_writer) in STATEMENTS {
            if writer_only && !on_writer {
                continue;
            }
            for (setting, value) in WRITER_SETTINGS {
                let value = if on_writer { value } else { "DEFAULT" };
                sqlx::raw_sql(&format!("SET {setting} = {value}"))
                    .execute(&mut *connection)
                    .await
                    .unwrap();
            }
            let name_in_round = format!("{name}_{round}");
            let plan = generic_plan(&mut connection, &name_in_round, types, statement).await;
            plans.push((name, plan));
        }
        plans
    }

    /// Whatever the statistics say of the tables an append reads, the
    /// statements that look keys up probe each by index and never scan a
    /// table: never analyzed, and analyzed at 2,000 rows (where PostgreSQL
    /// hashed an array joined to `streams` and scanned the table, a plan
    /// the writer's connection kept as the table grew); and, on the
    /// writer's connection, analyzed while empty.
    #[tokio::test]
    async fn the_writer_looks_up_each_key_by_index_whatever_the_statistics_say() {
        let db = fresh_database().await;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&db.url)
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        let rounds = [
            ("never analyzed", ""),
            (
                "streams and claims analyzed at 2,000 rows",
                "INSERT INTO streams (stream_id, version, head_hash, head_position, updated_at)
                 SELECT 'run-' || gen_random_uuid(), 0, '\\x00', n, now()
                 FROM generate_series(1, 2000) AS n;
                 INSERT INTO unique_claims (scope, claim_key, stream_id, claimed_at_position)
                 SELECT 'scope', n::text, 'run-x', n FROM generate_series(1, 2000) AS n;
                 ANALYZE streams, unique_claims;",
            ),
            ("events analyzed empty", "ANALYZE event_ids, events;"),
        ];
        for (round, (tables, change)) in rounds.into_iter().enumerate() {
            sqlx::raw_sql(change).execute(&pool).await.unwrap();
            for (name, plan) in generic_plans(&pool, round, round == 2).await {
                assert!(
                    !plan_reads_a_whole_table(&plan),
                    "{name}, {tables}:\n{plan}"
                );
            }
        }
    }
}
