//! The transparency log's costs at the size the bench has seeded: growing
//! the tree over events it has not taken in yet, an incremental checkpoint
//! after a burst, and inclusion and consistency proofs over HTTP.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ledger_store::checkpoint::{CheckpointSigner, Checkpointer};
use ledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore,
};
use sqlx::PgPool;

use crate::scale::{self, get_ok};
use crate::{measure, Figures};

/// Where and how hard proofs are asked for.
pub struct ProofLoad<'a> {
    /// The HTTP client.
    pub client: &'a reqwest::Client,
    /// The service's URL.
    pub base: &'a str,
    /// A key with the `audit` scope.
    pub audit_key: &'a str,
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds per figure.
    pub seconds: u64,
}

/// Figures as table lines.
pub async fn figures(
    store: &PgEventStore,
    pool: &PgPool,
    key_file: &std::path::Path,
    load: ProofLoad<'_>,
) -> Vec<String> {
    let ProofLoad {
        client,
        base,
        audit_key,
        clients,
        seconds,
    } = load;
    let origin = ledger_store::tlog::default_origin(
        ledger_store::tlog::log_id(pool).await.expect("a log id"),
    );
    let signer = CheckpointSigner::from_file(key_file)
        .expect("the bench's key")
        .note_signer(&origin)
        .expect("a key name");
    let checkpointer = Checkpointer::new(pool.clone(), signer);
    let before = ledger_store::tlog::tree_size(pool).await.expect("a size");
    let started = Instant::now();
    let first = checkpointer.make().await.expect("a checkpoint");
    let grown = started.elapsed();
    let size = first.map_or(before, |checkpoint| checkpoint.tree_size);
    scale::seed_runs(store, 1_000).await;
    let started = Instant::now();
    let next = checkpointer
        .make()
        .await
        .expect("a checkpoint")
        .expect("new events");
    let incremental = started.elapsed();

    let tree_size = next.tree_size;
    // Each proof asks of another part of the tree: strides prime to its size.
    let proofs = |stride: u64, url: fn(&str, u64, u64) -> String| {
        let next = Arc::new(AtomicU64::new(0));
        let (c, b, k) = (client.clone(), base.to_owned(), audit_key.to_owned());
        measure(clients, seconds, move |_| {
            let at = next.fetch_add(stride, Ordering::Relaxed) % tree_size + 1;
            get_ok(c.clone(), url(&b, at, tree_size), k.clone())
        })
    };
    let inclusion: Figures = proofs(7_919, |base, position, size| {
        format!("{base}/v1/audit/proof/inclusion?position={position}&tree_size={size}")
    })
    .await;
    let consistency: Figures = proofs(104_729, |base, from, to| {
        format!("{base}/v1/audit/proof/consistency?from={from}&to={to}")
    })
    .await;
    vec![
        format!(
            "| run-ledger: Merkle tree grown over {} events and signed (one checkpoint) | {:.0} | {:.0} | | |",
            size - before,
            (size - before) as f64 / grown.as_secs_f64(),
            grown.as_secs_f64() * 1000.0
        ),
        format!(
            "| run-ledger: checkpoint after 1,000 more runs, at {tree_size} events (ms in p50) | | {:.1} | | |",
            incremental.as_secs_f64() * 1000.0
        ),
        inclusion.line(&format!(
            "run-ledger: GET /v1/audit/proof/inclusion at {tree_size} events, {clients} clients (requests/s)"
        )),
        consistency.line(&format!(
            "run-ledger: GET /v1/audit/proof/consistency at {tree_size} events, {clients} clients (requests/s)"
        )),
    ]
}

/// Appends events of `tree-` streams, which no read model follows, 1,000 a
/// transaction, until the log holds `target` events: a large log for the
/// transparency figures without projecting it.
pub async fn grow_log(store: &PgEventStore, target: u64) -> String {
    let started = Instant::now();
    let head = store.head_position().await.expect("a head");
    let batches = target.saturating_sub(head).div_ceil(1_000);
    let mut pending = Vec::new();
    for batch in 0..batches {
        let store = store.clone();
        pending.push(tokio::spawn(async move {
            let events = (0..1_000)
                .map(|i| NewEvent {
                    event_id: uuid::Uuid::new_v4(),
                    event_type: "bench.filled".into(),
                    schema_version: 1,
                    data: serde_json::json!({ "batch": batch, "i": i }),
                    metadata: EventMetadata::default(),
                })
                .collect();
            store
                .append(AppendRequest::single(
                    format!("tree-{}", batch % 1_000),
                    ExpectedVersion::Any,
                    events,
                ))
                .await
                .expect("appending")
        }));
        if pending.len() >= 4 {
            pending.remove(0).await.expect("an append task");
        }
    }
    for task in pending {
        task.await.expect("an append task");
    }
    let added = store.head_position().await.expect("a head") - head;
    format!(
        "| run-ledger: {added} more events appended, 1,000 a transaction, for a log of {} | {:.0} | | |",
        head + added,
        added as f64 / started.elapsed().as_secs_f64()
    )
}
