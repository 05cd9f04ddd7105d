//! Partitions of the events table (migration 0018, docs/scaling.md): the
//! log is cut into ranges of positions, and the next range must exist
//! before the head reaches it, since an append past the last partition
//! fails. The store creates them ahead of time, well before they are
//! needed, so that no append ever waits on DDL.

use std::time::Duration;

use sqlx::PgPool;

/// How long partition maintenance waits for its lock on `events` before it
/// gives up until its next round: the lock it takes does not block appends
/// or reads, but it queues behind DDL, and so would everything behind it.
const LOCK_TIMEOUT: &str = "5s";

/// Creates the partitions the log needs next (until a whole partition's
/// size lies past the head) and returns how many it created.
///
/// # Errors
/// Database failures, or the lock on `events` not granted in time.
pub async fn ensure_event_partitions(pool: &PgPool) -> Result<u32, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    let created: i32 = sqlx::query_scalar("SELECT ledger_ensure_event_partitions()")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(created.try_into().unwrap_or_default())
}

/// Keeps partitions ahead of the head every `every` until `stopping`. A
/// partition holds millions of positions, so a round that fails (logged)
/// has many more rounds to succeed before any append needs its partition.
pub async fn keep_event_partitions_ahead(
    pool: PgPool,
    every: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match ensure_event_partitions(&pool).await {
            Ok(0) => {}
            Ok(created) => tracing::info!(created, "created event log partitions"),
            Err(error) => tracing::error!(%error, "creating event log partitions"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}
