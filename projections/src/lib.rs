//! Projectors: one task per read model, reading the global feed in order
//! from its checkpoint and applying each batch of events in the same
//! transaction that advances the checkpoint, so every event takes effect
//! exactly once, across crashes.
//!
//! A projector is woken by the store's `NOTIFY` on commit, and polls as a
//! fallback. With several service instances on one database, each read
//! model is projected by one instance at a time (a session advisory lock).
//! An event a projector cannot apply stops that read model at the event,
//! with the error shown in its checkpoint row; it is never skipped.

mod check;
mod copy;
pub mod credits;
mod rebuild;
pub mod run_history;

pub use check::compare_with_log;
pub use rebuild::{rebuild, Rebuild, RebuildError, RebuildReport};

use std::time::Duration;

use chrono::{DateTime, Utc};
use ledger_store::{AppendNotifications, FeedEvent, PgEventStore, RecordedEvent};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::watch;

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// An event this build cannot read: the projection stops at it.
    #[error("event at position {position} cannot be applied: {reason}")]
    Undecodable {
        /// The event's position.
        position: u64,
        /// Why.
        reason: String,
    },
    /// A read model row this build cannot read.
    #[error("read model row cannot be read: {0}")]
    Corrupt(String),
    /// The database failed; the batch is retried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ledger_store::ReadError> for ProjectionError {
    fn from(error: ledger_store::ReadError) -> Self {
        match error {
            ledger_store::ReadError::Database(error) => ProjectionError::Database(error),
            ledger_store::ReadError::Undecodable {
                position, reason, ..
            } => ProjectionError::Undecodable { position, reason },
        }
    }
}

/// Decodes an event of a read model's feed; an event this build cannot
/// read is `Undecodable` at its position.
///
/// # Errors
/// `Undecodable`.
pub(crate) fn decode<E: ledger_domain::events::StreamEvent>(
    event: &FeedEvent,
) -> Result<E, ProjectionError> {
    E::decode_json(&event.event_type, event.schema_version, &event.data)
        .map_err(|error| undecodable(event.global_position, error))
}

/// `decode` for an event read whole (a stream read).
///
/// # Errors
/// `Undecodable`.
pub(crate) fn decode_recorded<E: ledger_domain::events::StreamEvent>(
    event: &RecordedEvent,
) -> Result<E, ProjectionError> {
    E::decode(&event.event_type, event.schema_version, event.data.clone())
        .map_err(|error| undecodable(event.global_position, error))
}

fn undecodable(position: u64, error: ledger_domain::events::DecodeError) -> ProjectionError {
    ProjectionError::Undecodable {
        position,
        reason: error.to_string(),
    }
}

/// The read models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadModel {
    /// `runs`, one row per run (and lineage through `rerun_of`).
    RunHistory,
    /// `credit_balances` and `credit_ledger`.
    Credits,
}

impl ReadModel {
    /// Every read model.
    pub const ALL: [ReadModel; 2] = [ReadModel::RunHistory, ReadModel::Credits];

    /// Its name, as in `projection_checkpoints` and the API.
    pub fn name(self) -> &'static str {
        match self {
            ReadModel::RunHistory => "run_history",
            ReadModel::Credits => "credits",
        }
    }

    /// The read model of a name.
    pub fn from_name(name: &str) -> Option<Self> {
        ReadModel::ALL
            .into_iter()
            .find(|model| model.name() == name)
    }

    /// What the ids of the streams it is made from start with.
    pub fn stream_prefix(self) -> &'static str {
        match self {
            ReadModel::RunHistory => ledger_domain::RUN_STREAM_PREFIX,
            ReadModel::Credits => ledger_domain::ACCOUNT_STREAM_PREFIX,
        }
    }

    pub(crate) fn lock_key(self) -> i64 {
        // Distinct, stable keys in the advisory lock space of this database.
        match self {
            ReadModel::RunHistory => 0x5255_4e4c_4544_0001,
            ReadModel::Credits => 0x5255_4e4c_4544_0002,
        }
    }

    /// Applies a batch of events to this read model.
    ///
    /// # Errors
    /// See `ProjectionError`.
    pub async fn apply(
        self,
        conn: &mut PgConnection,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        match self {
            ReadModel::RunHistory => run_history::apply(conn, events).await,
            ReadModel::Credits => credits::apply(conn, events).await,
        }
    }

    /// Splits a batch into at most `parts` parts that can be applied at
    /// once, each in a transaction of its own, because no two write one
    /// row. Only a rebuild's shadow tables take a batch in parts: the live
    /// tables take it whole, in the transaction that moves their checkpoint.
    ///
    /// # Errors
    /// An event the split must read and cannot decode.
    pub(crate) fn split(
        self,
        events: Vec<FeedEvent>,
        parts: usize,
    ) -> Result<Vec<Vec<FeedEvent>>, ProjectionError> {
        match self {
            ReadModel::RunHistory => run_history::split(events, parts),
            // Few events, and every tenant's balance row in one part.
            ReadModel::Credits => Ok(vec![events]),
        }
    }
}

/// The default `ProjectorOptions::batch_delay`.
pub const DEFAULT_BATCH_DELAY: Duration = Duration::from_millis(20);

/// How a projector runs.
#[derive(Debug, Clone)]
pub struct ProjectorOptions {
    /// Most events applied in one transaction. A projector that is caught
    /// up applies what a few commits of the log brought (see
    /// `batch_delay`); this bounds the batches of one that is behind.
    pub batch_size: u32,
    /// How often to look for events when no notification comes.
    pub poll_interval: Duration,
    /// Longest pause after a failed batch.
    pub max_backoff: Duration,
    /// Pause after a batch smaller than `batch_size` (the projector caught
    /// up) before reading again. Under a steady stream of appends, each
    /// commit of the log would otherwise make a batch of its own, and a
    /// batch's fixed cost (checkpoint, transaction, one statement per
    /// table) would be paid per commit. It adds at most this much to the
    /// projection's lag.
    pub batch_delay: Duration,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        ProjectorOptions {
            // 4,000 rather than 500: a backlog of the bench's batch
            // figure (a run and 100 stage updates a request) projected at
            // 233k events a second against 141k, with an eighth of the
            // commits and run lookups.
            batch_size: 4_000,
            poll_interval: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            batch_delay: DEFAULT_BATCH_DELAY,
        }
    }
}

/// Applies the next batch after the checkpoint, with the checkpoint, in one
/// transaction. A batch is the read model's events (those of its streams;
/// the database skips the others) from the checkpoint up to the log's head,
/// at most `batch_size` of them and at most `SCAN_WINDOW_BATCHES` batch
/// sizes of positions. Returns how many positions the checkpoint moved
/// (0 when caught up). When the batch holds an event the read model cannot
/// apply, the events before it are applied and the error is returned, so
/// the read model stops exactly at that event.
///
/// # Errors
/// See `ProjectionError`; nothing of the failed batch is applied then.
pub async fn step(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
    batch_size: u32,
) -> Result<u64, ProjectionError> {
    match next_batch(pool, store, model, batch_size).await? {
        Some(batch) => apply_batch(pool, model, batch).await,
        None => Ok(0),
    }
}

/// A read model's events over a range of the log, read but not yet applied.
struct Batch {
    /// The checkpoint the batch follows.
    from: u64,
    /// The checkpoint it takes the read model to.
    to: u64,
    /// The committed head it was read under.
    head: u64,
    events: Vec<FeedEvent>,
    /// Run history's batch folded while the batch before it was written
    /// (`apply_folding_ahead`).
    folded: Option<run_history::FoldedRuns>,
}

/// The batch after the read model's checkpoint (see `step`); `None` when
/// the read model is caught up or stopped.
async fn next_batch(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
    batch_size: u32,
) -> Result<Option<Batch>, ProjectionError> {
    // The head is read first: every event up to a committed head is
    // visible (appends commit in position order), so the range up to it
    // can be passed over whole even where it holds none of the model's
    // events.
    let row = sqlx::query(
        "SELECT c.position, c.stopped, h.position AS head
         FROM projection_checkpoints c CROSS JOIN event_log_head h WHERE c.name = $1",
    )
    .bind(model.name())
    .fetch_one(pool)
    .await?;
    if row.try_get::<bool, _>("stopped")? {
        return Ok(None);
    }
    let from = row.try_get::<i64, _>("position")? as u64;
    let head = row.try_get::<i64, _>("head")? as u64;
    batch_after(store, model, from, head, batch_size).await
}

/// The batch after position `from`, under the committed `head`: at most
/// `batch_size` events and `SCAN_WINDOW_BATCHES` batch sizes of positions.
/// `None` when `from` is at the head.
async fn batch_after(
    store: &PgEventStore,
    model: ReadModel,
    from: u64,
    head: u64,
    batch_size: u32,
) -> Result<Option<Batch>, ProjectionError> {
    let window = u64::from(batch_size.max(1)) * SCAN_WINDOW_BATCHES;
    let until = head.min(from + window);
    if until <= from {
        return Ok(None);
    }
    let (events, to) = read_batch(store, model, from, until, batch_size).await?;
    Ok(Some(Batch {
        from,
        to,
        head,
        events,
        folded: None,
    }))
}

/// Applies `batch` with its checkpoint (see `commit_batch`); an event it
/// cannot apply stops the read model there.
async fn apply_batch(
    pool: &PgPool,
    model: ReadModel,
    batch: Batch,
) -> Result<u64, ProjectionError> {
    match commit_batch(
        pool,
        model,
        batch.from,
        batch.to,
        Changes::Events(&batch.events),
    )
    .await
    {
        Err(ProjectionError::Undecodable { position, reason }) => {
            stop_at(pool, model, batch.from, batch.events, position, reason).await
        }
        result => result,
    }
}

/// Applies `batch` and, while it does, reads the batch after it when the
/// log holds more under the head it was read at (`batch_after` reads
/// nothing when it does not): while the database writes one batch, it
/// reads the next, and the projector folds it as soon as the first
/// commits. Returns the positions the checkpoint moved, and the batch read
/// ahead when this one was applied whole (it follows the checkpoint this
/// one set, so the next round applies it without reading).
async fn apply_reading_ahead(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
    batch: Batch,
    batch_size: u32,
) -> (Result<u64, ProjectionError>, Option<Batch>) {
    let (to, head) = (batch.to, batch.head);
    let (applied, ahead) = tokio::join!(
        apply_batch(pool, model, batch),
        batch_after(store, model, to, head, batch_size)
    );
    match (applied, ahead) {
        // Moved, so the checkpoint is at `to`: the batch read ahead follows it.
        (Ok(moved), Ok(ahead)) if moved > 0 => (Ok(moved), ahead),
        // A failed read ahead is read again the usual way next round.
        (applied, _) => (applied, None),
    }
}

/// Run history's `apply_reading_ahead`, which also folds the batch read
/// ahead: while one batch's rows are written and committed (on a task of
/// their own), the next is read and folded (on a blocking thread) from the
/// rows the first leaves its runs (`FoldedRuns::committed`) and, for runs
/// it does not touch, the stored rows. Folding and writing alternated,
/// each leaving a core idle while the other ran. A batch that cannot be
/// folded ahead (an event this build cannot read, a row it cannot) is
/// read and applied again the usual way, which stops the read model at
/// what it cannot read.
async fn apply_folding_ahead(
    pool: &PgPool,
    store: &PgEventStore,
    mut batch: Batch,
    batch_size: u32,
) -> (Result<u64, ProjectionError>, Option<Batch>) {
    let model = ReadModel::RunHistory;
    let folded = match batch.folded.take() {
        Some(folded) => folded,
        None => {
            let (events, folded) = fold_runs(pool, std::mem::take(&mut batch.events), None).await;
            batch.events = events;
            match folded {
                Some(folded) => folded,
                None => return (apply_batch(pool, model, batch).await, None),
            }
        }
    };
    let folded = std::sync::Arc::new(folded);
    let written = tokio::spawn({
        let (pool, folded) = (pool.clone(), folded.clone());
        let (from, to) = (batch.from, batch.to);
        async move { commit_batch(&pool, model, from, to, Changes::FoldedRuns(&folded)).await }
    });
    let ahead = match batch_after(store, model, batch.to, batch.head, batch_size).await {
        Ok(Some(mut ahead)) => {
            let (events, folded) =
                fold_runs(pool, std::mem::take(&mut ahead.events), Some(folded)).await;
            ahead.events = events;
            ahead.folded = folded;
            Some(ahead)
        }
        // A failed read ahead is read again the usual way next round.
        _ => None,
    };
    let applied = match written.await {
        Ok(applied) => applied,
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        // Cancelled: the runtime is shutting down; the batch is applied
        // again, from the checkpoint, when a projector next runs.
        Err(_) => return (Ok(0), None),
    };
    match applied {
        Ok(moved) if moved > 0 => (Ok(moved), ahead),
        applied => (applied, None),
    }
}

/// Folds run history's `events` (`run_history::fold`, on a blocking
/// thread) from the rows `earlier` leaves and those stored, read in a
/// batch transaction's settings; gives the events back beside the folded
/// batch, or beside `None` when it could not be folded, for whatever
/// reason: the usual way of applying a batch meets that reason again and
/// deals with it.
async fn fold_runs(
    pool: &PgPool,
    events: Vec<FeedEvent>,
    earlier: Option<std::sync::Arc<run_history::FoldedRuns>>,
) -> (Vec<FeedEvent>, Option<run_history::FoldedRuns>) {
    // Read before the rows, so that a rebuild swapping its table in
    // meanwhile shows as a table other than the one written to.
    let read_from: i64 = match sqlx::query_scalar(run_history::RUNS_TABLE)
        .fetch_one(pool)
        .await
    {
        Ok(table) => table,
        Err(_) => return (events, None),
    };
    if earlier
        .as_ref()
        .is_some_and(|earlier| earlier.read_from != Some(read_from))
    {
        return (events, None);
    }
    let mut before = run_history::RowsBefore::of(&events, earlier.as_deref());
    drop(earlier);
    if before.needs_lookup() {
        let looked_up = async {
            let mut tx = pool.begin_with(BATCH_TRANSACTION).await?;
            before.look_up(&mut tx).await?;
            tx.rollback().await?;
            Ok::<_, ProjectionError>(())
        }
        .await;
        if looked_up.is_err() {
            return (events, None);
        }
    }
    let rows = before.into_rows();
    let events = std::sync::Arc::new(events);
    let folding = tokio::task::spawn_blocking({
        let events = events.clone();
        move || {
            let mut folded = run_history::fold(&events, rows).ok()?;
            folded.read_from = Some(read_from);
            Some(folded)
        }
    })
    .await;
    let folded = match folding {
        Ok(folded) => folded,
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        // Cancelled before it ran (the runtime is shutting down), which
        // dropped its share of the events.
        Err(_) => None,
    };
    // The blocking task has returned or was dropped unrun: this is the
    // only share left.
    let events = std::sync::Arc::try_unwrap(events).unwrap_or_else(|shared| shared.to_vec());
    (events, folded)
}

/// Applies the events before `position` and fails with the reason the
/// event there cannot be applied, so the read model stops exactly at it.
async fn stop_at(
    pool: &PgPool,
    model: ReadModel,
    from: u64,
    events: Vec<FeedEvent>,
    position: u64,
    reason: String,
) -> Result<u64, ProjectionError> {
    let readable: Vec<FeedEvent> = events
        .into_iter()
        .take_while(|event| event.global_position < position)
        .collect();
    commit_batch(pool, model, from, position - 1, Changes::Events(&readable)).await?;
    Err(ProjectionError::Undecodable { position, reason })
}

/// The read model's events after `from` up to `until` (a committed head),
/// at most `limit`, and the position they take the read model to: the last
/// event's when the batch is full (the rest of the range may hold more),
/// else `until` (the batch holds every event of the model's streams up to
/// it).
pub(crate) async fn read_batch(
    store: &PgEventStore,
    model: ReadModel,
    from: u64,
    until: u64,
    limit: u32,
) -> Result<(Vec<FeedEvent>, u64), ledger_store::ReadError> {
    let events = store
        .read_all_with_prefix(model.stream_prefix(), from, until, limit)
        .await?;
    let to = match events.last() {
        Some(last) if events.len() >= limit as usize => last.global_position,
        _ => until,
    };
    Ok((events, to))
}

/// How many batch sizes of log positions one step reads through at most,
/// so a read model whose streams are rare in a long backlog still moves in
/// short statements.
const SCAN_WINDOW_BATCHES: u64 = 20;

/// How a projector batch's transaction begins, and a rebuild part's. A
/// read model can always be rebuilt from the log, and its rows commit with
/// the checkpoint that covers them: a batch lost in a crash is lost whole
/// and applied again. So it need not wait for its own WAL flush, which
/// spares the log's appends one fsync per projector batch. And its
/// statements only look rows up by key (a batch's runs, the runs its
/// reruns count for), which no table's statistics should turn into a scan
/// of the table, as for the writer (docs/decisions.md): a rebuild's shadow
/// tables are analyzed only at the end, so a plan made while they were
/// small would scan them for every batch after.
pub(crate) const BATCH_TRANSACTION: &str =
    "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off";

/// What a batch writes: its events, applied by the read model, or run
/// history's batch already folded.
#[derive(Clone, Copy)]
enum Changes<'a> {
    Events(&'a [FeedEvent]),
    FoldedRuns(&'a run_history::FoldedRuns),
}

/// Applies `changes`, the read model's events after checkpoint `from` up to
/// position `to`, and moves the checkpoint to `to`, in one transaction.
/// Applies nothing if the checkpoint is no longer at `from` (another runner
/// got there first). Returns how many positions the checkpoint moved.
async fn commit_batch(
    pool: &PgPool,
    model: ReadModel,
    from: u64,
    to: u64,
    changes: Changes<'_>,
) -> Result<u64, ProjectionError> {
    if to <= from {
        return Ok(0);
    }
    let mut tx = pool.begin_with(BATCH_TRANSACTION).await?;
    let current: i64 = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
    )
    .bind(model.name())
    .fetch_one(&mut *tx)
    .await?;
    if current as u64 != from {
        return Ok(0);
    }
    match changes {
        Changes::Events(events) => model.apply(&mut tx, events).await?,
        Changes::FoldedRuns(folded) => {
            // Under the checkpoint's lock, which a rebuild's swap holds
            // until it commits: the table now is the one writes go to.
            let table: i64 = sqlx::query_scalar(run_history::RUNS_TABLE)
                .fetch_one(&mut *tx)
                .await?;
            if folded.read_from != Some(table) {
                return Ok(0);
            }
            run_history::write(&mut tx, folded).await?
        }
    }
    ledger_store::failpoint::hit("projector.before_commit");
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, updated_at = now(), last_error = NULL
         WHERE name = $1",
    )
    .bind(model.name())
    .bind(to as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(to - from)
}

async fn record_error(pool: &PgPool, model: ReadModel, error: &ProjectionError) {
    let stop = matches!(
        error,
        ProjectionError::Undecodable { .. } | ProjectionError::Corrupt(_)
    );
    let result = sqlx::query(
        "UPDATE projection_checkpoints SET last_error = $2, stopped = $3, updated_at = now() WHERE name = $1",
    )
    .bind(model.name())
    .bind(error.to_string())
    .bind(stop)
    .execute(pool)
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, projection = model.name(), "recording a projection error failed");
    }
}

/// Runs one read model's projector until `shutdown` turns true: waits for
/// the read model's lock, then applies batches as events arrive.
pub async fn run_projector(
    pool: PgPool,
    store: PgEventStore,
    model: ReadModel,
    options: ProjectorOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let name = model.name();
    // The session lock lives as long as this connection: if the instance
    // dies, the database releases it and another instance takes over.
    let mut lock_connection = loop {
        if *shutdown.borrow() {
            return;
        }
        match pool.acquire().await {
            Ok(mut connection) => {
                let locked: Result<bool, _> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(model.lock_key())
                    .fetch_one(&mut *connection)
                    .await;
                if let Ok(true) = locked {
                    break connection;
                }
            }
            Err(error) => tracing::warn!(%error, projection = name, "waiting for the database"),
        }
        tokio::select! {
            _ = tokio::time::sleep(options.poll_interval * 4) => {}
            _ = shutdown.changed() => {}
        }
    };
    tracing::info!(projection = name, "projector running");
    let mut appends = AppendNotifications::listen(&pool).await;
    let mut backoff = Duration::from_millis(50);
    let mut read_ahead: Option<Batch> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let next = match read_ahead.take() {
            Some(batch) => Ok(Some(batch)),
            None => next_batch(&pool, &store, model, options.batch_size).await,
        };
        let applied = match next {
            Ok(Some(batch)) => {
                // Folding ahead pays only behind a backlog, where a batch
                // follows this one: a caught-up projector's batches are
                // small and come one at a time.
                let behind =
                    batch.folded.is_some() || batch.events.len() >= options.batch_size as usize;
                let (applied, ahead) = match model {
                    ReadModel::RunHistory if behind => {
                        apply_folding_ahead(&pool, &store, batch, options.batch_size).await
                    }
                    _ => apply_reading_ahead(&pool, &store, model, batch, options.batch_size).await,
                };
                read_ahead = ahead;
                applied
            }
            Ok(None) => Ok(0),
            Err(error) => Err(error),
        };
        match applied {
            Ok(0) => {
                backoff = Duration::from_millis(50);
                tokio::select! {
                    _ = appends.next() => {}
                    _ = tokio::time::sleep(options.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Ok(moved) => {
                tracing::debug!(projection = name, moved, "batch applied");
                if moved < u64::from(options.batch_size) && !options.batch_delay.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(options.batch_delay) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, projection = name, "projection batch failed");
                record_error(&pool, model, &error).await;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(options.max_backoff);
            }
        }
    }
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(model.lock_key())
        .execute(&mut *lock_connection)
        .await;
    tracing::info!(projection = name, "projector stopped");
}

/// A read model's progress, as `GET /v1/projections` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectionStatus {
    /// Name.
    pub name: String,
    /// Last position applied.
    pub checkpoint: u64,
    /// Newest position in the log.
    pub head: u64,
    /// Events not yet applied.
    pub lag_events: u64,
    /// Age of the oldest event not yet applied, in seconds (0 when caught up).
    pub lag_seconds: f64,
    /// `caught_up`, `catching_up`, `rebuilding`, or `stopped` (an event cannot be applied).
    pub state: String,
    /// The last failure, until a batch succeeds.
    pub last_error: Option<String>,
    /// When the checkpoint last moved.
    pub updated_at: DateTime<Utc>,
    /// How far a running rebuild has replayed.
    pub rebuild_position: Option<u64>,
    /// When the read model was last rebuilt.
    pub rebuilt_at: Option<DateTime<Utc>>,
}

/// The progress of every read model.
///
/// # Errors
/// Database failures.
pub async fn statuses(pool: &PgPool) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
    let head: i64 = sqlx::query_scalar("SELECT position FROM event_log_head")
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query(
        "SELECT c.name, c.position, c.stopped, c.last_error, c.updated_at, c.rebuild_position, c.rebuilt_at,
                COALESCE(c.rebuild_heartbeat_at > now() - interval '30 seconds', FALSE) AS rebuilding,
                (SELECT EXTRACT(EPOCH FROM now() - e.recorded_at)::float8
                 FROM events e WHERE e.global_position = c.position + 1) AS lag_seconds
         FROM projection_checkpoints c ORDER BY c.name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let checkpoint: i64 = row.try_get("position")?;
            let stopped: bool = row.try_get("stopped")?;
            let rebuilding: bool = row.try_get("rebuilding")?;
            let lag_events = (head - checkpoint).max(0) as u64;
            Ok(ProjectionStatus {
                name: row.try_get("name")?,
                checkpoint: checkpoint as u64,
                head: head as u64,
                lag_events,
                lag_seconds: row
                    .try_get::<Option<f64>, _>("lag_seconds")?
                    .unwrap_or(0.0)
                    .max(0.0),
                state: if rebuilding {
                    "rebuilding"
                } else if stopped {
                    "stopped"
                } else if lag_events == 0 {
                    "caught_up"
                } else {
                    "catching_up"
                }
                .to_owned(),
                last_error: row.try_get("last_error")?,
                updated_at: row.try_get("updated_at")?,
                rebuild_position: row
                    .try_get::<Option<i64>, _>("rebuild_position")?
                    .filter(|_| rebuilding)
                    .map(|position| position as u64),
                rebuilt_at: row.try_get("rebuilt_at")?,
            })
        })
        .collect()
}

/// The position a read model has applied up to.
///
/// # Errors
/// Database failures.
pub async fn checkpoint(pool: &PgPool, model: ReadModel) -> Result<u64, sqlx::Error> {
    let position: i64 =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
            .bind(model.name())
            .fetch_one(pool)
            .await?;
    Ok(position as u64)
}

/// Waits until `model` has applied `position`, polling its checkpoint, for
/// at most `timeout`. Returns the checkpoint reached, or `None` on timeout.
///
/// # Errors
/// Database failures.
pub async fn wait_for(
    pool: &PgPool,
    model: ReadModel,
    position: u64,
    timeout: Duration,
) -> Result<Option<u64>, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let reached = checkpoint(pool, model).await?;
        if reached >= position {
            return Ok(Some(reached));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use ledger_commands::{CommandContext, Fact, Ledger, ReportedFact};
    use ledger_domain::events::StageStatus;
    use ledger_domain::run::{CreateRun, RunCommand};
    use ledger_domain::Caller;
    use sqlx::postgres::PgPoolOptions;

    use super::*;

    /// A run-history batch folded outside the transaction that writes it,
    /// from the rows of a `runs` table that a rebuild then swaps out (at
    /// the very checkpoint the batch follows), is not written into the
    /// table swapped in, whose rows it did not start from: it is read and
    /// folded again, from that table, and applied once.
    #[tokio::test]
    async fn a_batch_folded_from_a_table_a_rebuild_swaps_out_is_folded_again() {
        let db = ledger_embedded_pg::testing::fresh_database().await;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&db.url)
            .await
            .unwrap();
        ledger_store::MIGRATOR.run(&pool).await.unwrap();
        let store = PgEventStore::new(pool.clone());
        let ledger = Ledger::new(store.clone());
        let (system, context) = (Caller::system(), CommandContext::default());
        let create = CreateRun {
            run_id: uuid::Uuid::new_v4(),
            tenant_id: "acme".into(),
            owner_id: "ada".into(),
            project_id: None,
            pipeline_version: None,
            input_version: None,
            document: None,
            company: None,
            stages: vec!["extract".into()],
            files: vec![],
            credits_per_file: 1,
            max_retry_count: 3,
            idempotency_key: None,
            inputs: None,
        };
        let run_id = ledger
            .create_run(&system, create, &context)
            .await
            .unwrap()
            .run
            .run_id();
        while step(&pool, &store, ReadModel::RunHistory, 100)
            .await
            .unwrap()
            > 0
        {}
        let processing = ReportedFact {
            event_id: None,
            fact: Fact::Run(RunCommand::UpdateStage {
                stage: 1,
                status: StageStatus::Processing,
                output: None,
                error: None,
            }),
        };
        ledger
            .report_facts(&system, run_id, None, vec![processing], &context)
            .await
            .unwrap();
        let batch = next_batch(&pool, &store, ReadModel::RunHistory, 100)
            .await
            .unwrap()
            .unwrap();
        let (_, folded) = fold_runs(&pool, batch.events.clone(), None).await;
        let folded = folded.expect("a batch that folds");
        sqlx::raw_sql(
            "CREATE SCHEMA swapped;
             CREATE TABLE swapped.runs (LIKE public.runs INCLUDING ALL);
             INSERT INTO swapped.runs SELECT * FROM public.runs;
             UPDATE swapped.runs SET owner_id = 'rebuilt';
             CREATE SCHEMA retired;
             ALTER TABLE public.runs SET SCHEMA retired;
             ALTER TABLE swapped.runs SET SCHEMA public;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let row = || async {
            sqlx::query_as::<_, (i64, String)>("SELECT version, owner_id FROM runs")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        let moved = commit_batch(
            &pool,
            ReadModel::RunHistory,
            batch.from,
            batch.to,
            Changes::FoldedRuns(&folded),
        )
        .await
        .unwrap();
        assert_eq!(moved, 0, "not written into the table swapped in");
        assert_eq!(row().await, (0, "rebuilt".to_owned()));
        let moved = step(&pool, &store, ReadModel::RunHistory, 100)
            .await
            .unwrap();
        assert_eq!(moved, batch.to - batch.from);
        let version = batch.events.last().unwrap().stream_version as i64;
        assert_eq!(row().await, (version, "rebuilt".to_owned()));
    }
}
