//! Rebuilding a read model from the log while queries keep answering.
//!
//! The read model's tables are recreated empty in a private schema
//! (`rebuild_{name}`), with their unique indexes (the projectors' upserts
//! need them) but none of the others, and the log is replayed into them by
//! the same code that maintains the live tables, pointed there with
//! `search_path`. Near the head, the other indexes are built in one pass
//! each, as pg_restore does: cheaper than keeping them up to date row by
//! row. When the replay is near the head again, one transaction takes the
//! checkpoint row (which holds the live projector), replays the rest, moves
//! the live tables out and the rebuilt ones in (`ALTER TABLE ... SET
//! SCHEMA`), and sets the checkpoint to where the replay ended. Queries
//! read the old tables until that commit and the new ones after it.

use std::time::Instant;

use ledger_store::{EventStore, FeedEvent, PgEventStore};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::{ProjectionError, ReadModel};

/// Events replayed per transaction. 20,000 rather than 5,000 took a
/// rebuild of 10^6 runs from 18.0 and 16.1 s to 16.5 and 13.8 s
/// (alternating runs): fewer commits and lookups, longer COPYs. A batch's
/// folded runs are held in memory, about 2 kB each for a run of a few
/// stages.
const REBUILD_BATCH: u32 = 20_000;

/// Parts a rebuild batch is applied in at once (see `apply_in_parts`): two
/// cores' worth.
const REBUILD_PARTS: usize = 2;

/// What a finished rebuild did.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    /// The read model.
    pub name: String,
    /// The read model's events replayed (those of its streams: the log's
    /// others are passed over in the database).
    pub events: u64,
    /// The checkpoint the rebuilt tables took over at.
    pub position: u64,
    /// How long it took.
    pub seconds: f64,
    /// How much of it went to building the indexes deferred until the
    /// replay neared the head, and analyzing the new tables.
    pub index_seconds: f64,
}

/// Why a rebuild did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// Another rebuild of this read model is running.
    #[error("a rebuild of {0} is already running")]
    InProgress(&'static str),
    /// The service began to stop; the live tables are untouched, and the
    /// next rebuild starts over.
    #[error("the rebuild of {0} stopped: the service is shutting down")]
    Stopped(&'static str),
    /// Replaying failed; the live tables are untouched.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

impl From<ledger_store::ReadError> for RebuildError {
    fn from(error: ledger_store::ReadError) -> Self {
        RebuildError::Projection(error.into())
    }
}

impl From<sqlx::Error> for RebuildError {
    fn from(error: sqlx::Error) -> Self {
        RebuildError::Projection(ProjectionError::Database(error))
    }
}

impl ReadModel {
    /// The tables this read model owns.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            ReadModel::RunHistory => &["runs"],
            ReadModel::Credits => &["credit_balances", "credit_ledger"],
        }
    }

    fn rebuild_lock_key(self) -> i64 {
        self.lock_key() + 0x100
    }
}

/// Applies `events` to the shadow tables in `schema`.
async fn apply_shadow(
    conn: &mut PgConnection,
    model: ReadModel,
    schema: &str,
    events: &[FeedEvent],
) -> Result<(), ProjectionError> {
    sqlx::query(&format!("SET LOCAL search_path TO {schema}, public"))
        .execute(&mut *conn)
        .await?;
    model.apply(conn, events).await?;
    sqlx::query("SET LOCAL search_path TO public")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Rebuilds `model` from the log and swaps it in. Queries keep answering
/// from the old tables meanwhile.
///
/// # Errors
/// `InProgress` when another rebuild of the model runs; replay failures,
/// which leave the live tables as they were.
pub async fn rebuild(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
) -> Result<RebuildReport, RebuildError> {
    let (_never_stop, stopping) = tokio::sync::watch::channel(false);
    Rebuild::claim(pool, model)
        .await?
        .run(store, stopping)
        .await
}

/// A rebuild that holds its read model's rebuild lock (a session advisory
/// lock on a connection of its own), so that no other can start, on any
/// instance, until it has run.
#[derive(Debug)]
pub struct Rebuild {
    pool: PgPool,
    model: ReadModel,
    lock: sqlx::pool::PoolConnection<sqlx::Postgres>,
    batch: u32,
}

impl Rebuild {
    /// Takes the read model's rebuild lock.
    ///
    /// # Errors
    /// `InProgress` when another rebuild holds it; a database failure.
    pub async fn claim(pool: &PgPool, model: ReadModel) -> Result<Self, RebuildError> {
        let mut lock = pool.acquire().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(model.rebuild_lock_key())
            .fetch_one(&mut *lock)
            .await?;
        if !locked {
            return Err(RebuildError::InProgress(model.name()));
        }
        Ok(Rebuild {
            pool: pool.clone(),
            model,
            lock,
            batch: REBUILD_BATCH,
        })
    }

    /// Replays `events` a transaction rather than `REBUILD_BATCH` (at
    /// least 1): tests take a log of a few hundred events through many
    /// batches, as a rebuild at scale goes.
    pub fn in_batches_of(mut self, events: u32) -> Self {
        self.batch = events.max(1);
        self
    }

    /// Replays the log into new tables and swaps them in, unless `stopping`
    /// turns true first (`Stopped`); then lets the lock go.
    ///
    /// # Errors
    /// `Stopped`, or replay failures; the live tables are as they were.
    pub async fn run(
        mut self,
        store: &PgEventStore,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Result<RebuildReport, RebuildError> {
        let (pool, model) = (&self.pool, self.model);
        let result = rebuild_locked(pool, store, model, self.batch, &stopping).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(model.rebuild_lock_key())
            .execute(&mut *self.lock)
            .await;
        let _ = sqlx::query("UPDATE projection_checkpoints SET rebuild_heartbeat_at = NULL, rebuild_position = NULL WHERE name = $1")
            .bind(model.name())
            .execute(pool)
            .await;
        result
    }
}

/// Applies `events` to the shadow tables in `REBUILD_PARTS` parts at once
/// (`ReadModel::split`), each folded on a task and written on a connection
/// of its own: one part's run rows are folded while another's are written.
/// A rebuild lost in a crash starts over, so the parts' transactions need
/// not wait for their WAL flush, and a part that fails fails the rebuild
/// whatever the others committed.
async fn apply_in_parts(
    pool: &PgPool,
    model: ReadModel,
    schema: &str,
    events: Vec<FeedEvent>,
) -> Result<(), RebuildError> {
    let parts: Vec<_> = model
        .split(events, REBUILD_PARTS)?
        .into_iter()
        .map(|part| {
            let (pool, schema) = (pool.clone(), schema.to_owned());
            tokio::spawn(async move {
                let mut tx = pool.begin_with(crate::BATCH_TRANSACTION).await?;
                apply_shadow(&mut tx, model, &schema, &part).await?;
                tx.commit().await?;
                Ok::<_, RebuildError>(())
            })
        })
        .collect();
    // Every part is awaited, even after one failed, so that none is still
    // writing into the shadow tables when the rebuild reports its failure
    // (and the next one drops them).
    let mut outcome = Ok(());
    for part in parts {
        let applied = match part.await {
            Ok(applied) => applied,
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => Err(RebuildError::Stopped(model.name())),
        };
        if outcome.is_ok() {
            outcome = applied;
        }
    }
    outcome
}

/// Replays the log into the shadow tables in batches, each in parts of a
/// transaction each (`apply_in_parts`), from `position` up to the log's
/// head as it is now, until a read finds less than a batch (the log moves
/// on meanwhile: the caller replays the rest). Each batch is read while the
/// one before it is applied. Returns the events replayed.
async fn catch_up(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
    batch: u32,
    schema: &str,
    position: &mut u64,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> Result<u64, RebuildError> {
    let mut replayed = 0u64;
    let head = store.head_position().await?;
    let (mut events, mut reached) = crate::read_batch(store, model, *position, head, batch).await?;
    loop {
        if *stopping.borrow() {
            return Err(RebuildError::Stopped(model.name()));
        }
        if events.len() < batch as usize {
            // The rest is near the head: the caller replays it.
            return Ok(replayed);
        }
        let count = events.len() as u64;
        let (applied, next) = tokio::join!(
            apply_in_parts(pool, model, schema, events),
            crate::read_batch(store, model, reached, head, batch)
        );
        applied?;
        *position = reached;
        replayed += count;
        (events, reached) = next?;
        sqlx::query("UPDATE projection_checkpoints SET rebuild_position = $2, rebuild_heartbeat_at = now() WHERE name = $1")
            .bind(model.name())
            .bind(*position as i64)
            .execute(pool)
            .await?;
    }
}

/// Creates `schema.table`, an empty copy of `public.table` with its
/// columns, defaults, constraints, unique indexes and storage parameters,
/// and returns the statements that build its other indexes, under the live
/// indexes' names (the schemas differ, so the names are free there and come
/// back unchanged with the swap).
async fn create_shadow_table(
    pool: &PgPool,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(&format!(
        "CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)"
    ))
    .execute(pool)
    .await?;
    // LIKE copies no storage parameters (fillfactor among them).
    let options: Option<Vec<String>> = sqlx::query_scalar(
        "SELECT reloptions FROM pg_class WHERE oid = format('public.%I', $1::text)::regclass",
    )
    .bind(table)
    .fetch_one(pool)
    .await?;
    if let Some(options) = options.filter(|options| !options.is_empty()) {
        sqlx::query(&format!(
            "ALTER TABLE {schema}.{table} SET ({})",
            options.join(", ")
        ))
        .execute(pool)
        .await?;
    }
    let copied: Vec<String> = sqlx::query_scalar(
        "SELECT format('DROP INDEX %s', indexrelid::regclass) FROM pg_index
         WHERE indrelid = format('%I.%I', $1::text, $2::text)::regclass AND NOT indisunique",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await?;
    for statement in &copied {
        sqlx::query(statement).execute(pool).await?;
    }
    sqlx::query_scalar(
        "SELECT format('CREATE INDEX %I ON %I.%I %s', c.relname, $1::text, $2::text,
                       substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$'))
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = format('public.%I', $2::text)::regclass AND NOT i.indisunique",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await
}

async fn rebuild_locked(
    pool: &PgPool,
    store: &PgEventStore,
    model: ReadModel,
    batch: u32,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> Result<RebuildReport, RebuildError> {
    let started = Instant::now();
    let name = model.name();
    let schema = format!("rebuild_{name}");
    let retired = format!("retired_{name}");
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("DROP SCHEMA IF EXISTS {retired} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(&statement).execute(pool).await?;
    }
    let mut deferred_indexes = Vec::new();
    for table in model.tables() {
        deferred_indexes.extend(create_shadow_table(pool, &schema, table).await?);
    }
    tracing::info!(projection = name, "rebuild started");

    let mut position = 0u64;
    let mut replayed =
        catch_up(pool, store, model, batch, &schema, &mut position, stopping).await?;
    let indexing = Instant::now();
    for statement in &deferred_indexes {
        // Sorted in memory rather than in temporary files, as pg_restore
        // is usually given: for this build only, released when it ends.
        // One at a time: PostgreSQL gives each build parallel workers
        // already, and two builds at once were no faster, measured twice
        // (docs/decisions.md).
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(statement).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    // New tables have no statistics until autovacuum gets to them, and
    // until then the planner guesses: the swapped-in tables would serve
    // their first minutes of queries on plans made for empty tables.
    for table in model.tables() {
        sqlx::query(&format!("ANALYZE {schema}.{table}"))
            .execute(pool)
            .await?;
    }
    let index_seconds = indexing.elapsed().as_secs_f64();
    tracing::info!(
        projection = name,
        events = replayed,
        index_seconds,
        "rebuild indexed"
    );
    // The log moved on while the indexes were built.
    replayed += catch_up(pool, store, model, batch, &schema, &mut position, stopping).await?;

    // The rest, and the swap, with the live projector held at its checkpoint.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    let head = store.head_position().await?;
    while position < head {
        let (events, reached) = crate::read_batch(store, model, position, head, batch).await?;
        apply_shadow(&mut tx, model, &schema, &events).await?;
        replayed += events.len() as u64;
        position = reached;
    }
    let mut swap = vec![format!("CREATE SCHEMA {retired}")];
    for table in model.tables() {
        swap.push(format!("ALTER TABLE public.{table} SET SCHEMA {retired}"));
        swap.push(format!("ALTER TABLE {schema}.{table} SET SCHEMA public"));
    }
    for statement in &swap {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, stopped = FALSE, last_error = NULL,
                updated_at = now(), rebuilt_at = now() WHERE name = $1",
    )
    .bind(name)
    .bind(position as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    for statement in [
        format!("DROP SCHEMA {retired} CASCADE"),
        format!("DROP SCHEMA {schema} CASCADE"),
    ] {
        sqlx::query(&statement).execute(pool).await?;
    }
    let report = RebuildReport {
        name: name.to_owned(),
        events: replayed,
        position,
        seconds: started.elapsed().as_secs_f64(),
        index_seconds,
    };
    tracing::info!(
        projection = name,
        events = replayed,
        position,
        "rebuild swapped in"
    );
    Ok(report)
}
