//! Figures at scale: projection lag under a steady load, rebuild throughput
//! beside a keyset read of the same rows, and query latency over a large
//! run history.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger_domain::events::StreamEvent;
use ledger_domain::run::{self, CreateRun, RunCommand, RunState};
use ledger_domain::Caller;
use ledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore, StreamAppend,
};
use serde_json::json;
use sqlx::PgPool;

use crate::goals::{self, Figure};
use crate::{measure, post_json, quantile_ms, Figures};

/// Appends at `rate` events/s over HTTP for `seconds` while polling the
/// run-history checkpoint; the lag of each event is the time from its
/// acknowledgement to the first poll that sees it projected.
pub async fn projection_lag(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    pool: &PgPool,
    rate: u64,
    seconds: u64,
) -> String {
    let acknowledged: Arc<std::sync::Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let checkpoints: Arc<std::sync::Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let poller = {
        let (pool, checkpoints, running) = (pool.clone(), checkpoints.clone(), running.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let position: i64 = sqlx::query_scalar(
                    "SELECT position FROM projection_checkpoints WHERE name = 'run_history'",
                )
                .fetch_one(&pool)
                .await
                .expect("a checkpoint");
                checkpoints
                    .lock()
                    .unwrap()
                    .push((Instant::now(), position as u64));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    // Open loop: a request leaves every 1/rate s, whatever the answers do.
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut requests = vec![];
    while started.elapsed() < Duration::from_secs(seconds) {
        ticker.tick().await;
        let (client, url, key, acknowledged) = (
            client.clone(),
            format!("{base}/v1/runs"),
            key.to_owned(),
            acknowledged.clone(),
        );
        requests.push(tokio::spawn(async move {
            let reply = post_json(&client, url, &key, json!({"owner_id": "bench"})).await;
            let position = reply["global_position"].as_u64().expect("a position");
            acknowledged
                .lock()
                .unwrap()
                .push((position, Instant::now()));
        }));
    }
    for request in requests {
        request.await.expect("a request");
    }
    let sent_rate = acknowledged.lock().unwrap().len() as f64 / started.elapsed().as_secs_f64();
    // Let the projector finish what was sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::Relaxed);
    poller.await.expect("the poller");
    let checkpoints = checkpoints.lock().unwrap();
    let mut lags: Vec<Duration> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(position, at)| {
            let seen = checkpoints
                .iter()
                .find(|(polled, checkpoint)| *polled >= *at && checkpoint >= position)?;
            Some(seen.0 - *at)
        })
        .collect();
    lags.sort_unstable();
    let p99 = quantile_ms(&lags, 0.99);
    goals::note(Figure::LagP99, p99);
    format!(
        "| run-ledger: projection lag (acknowledged -> in run history) at {sent_rate:.0} events/s | {} events | {:.2} | {p99:.2} |",
        lags.len(),
        quantile_ms(&lags, 0.5),
    )
}

/// Appends `runs` run.created events straight into the store, 1,000 runs
/// per append, and returns their ids.
pub async fn seed_runs(store: &PgEventStore, runs: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::with_capacity(runs);
    let batch = 1_000;
    let concurrent = 4;
    let mut pending = vec![];
    for chunk_start in (0..runs).step_by(batch) {
        let mut request = AppendRequest::default();
        for _ in chunk_start..(chunk_start + batch).min(runs) {
            let run_id = uuid::Uuid::new_v4();
            ids.push(run_id);
            let create = bench_run(
                run_id,
                vec!["extract".into(), "load".into()],
                vec!["a.pdf".into()],
            );
            let events = run::decide(
                &RunState::default(),
                &Caller::system(),
                &RunCommand::Create(Box::new(create)),
            )
            .expect("a valid run");
            request.streams.push(StreamAppend {
                stream_id: ledger_domain::run_stream_id(run_id),
                expected: ExpectedVersion::NoStream,
                events: events
                    .iter()
                    .map(|event| {
                        let encoded = event.encode();
                        NewEvent {
                            event_id: uuid::Uuid::new_v4(),
                            event_type: encoded.event_type,
                            schema_version: encoded.schema_version,
                            data: encoded.data,
                            metadata: EventMetadata {
                                tenant_id: Some("bench".into()),
                                source: Some("bench-seed".into()),
                                ..EventMetadata::default()
                            },
                        }
                    })
                    .collect(),
            });
        }
        let store = store.clone();
        pending.push(tokio::spawn(async move {
            store.append(request).await.expect("seeding")
        }));
        if pending.len() >= concurrent {
            pending.remove(0).await.expect("a seeding task");
        }
    }
    for task in pending {
        task.await.expect("a seeding task");
    }
    ids
}

/// Waits until the run-history projection has applied the whole log.
pub async fn wait_projected(store: &PgEventStore, pool: &PgPool) -> Duration {
    let started = Instant::now();
    let head = store.head_position().await.expect("a head");
    loop {
        let (position, stopped): (i64, Option<String>) = sqlx::query_as(
            "SELECT min(position),
                    string_agg(name || ': ' || coalesce(last_error, ''), '; ') FILTER (WHERE stopped)
             FROM projection_checkpoints",
        )
        .fetch_one(pool)
        .await
        .expect("checkpoints");
        // A stopped read model never catches up: say why rather than wait.
        // The service binary that wrk drives shares the database, so a
        // stale build of it (`cargo build --release` rebuilds both) can be
        // the one that stopped it.
        if let Some(stopped) = stopped {
            panic!("a read model stopped, so the figures cannot go on: {stopped}");
        }
        if position as u64 >= head {
            return started.elapsed();
        }
        // Short: a backlog of the batch figure's shape is projected in under
        // a second, which polls 200 ms apart measured to within a fifth.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Rebuild of run history, beside a keyset read of the same rows.
pub async fn rebuild_beside_keyset(store: &PgEventStore, pool: &PgPool) -> Vec<String> {
    let head = store.head_position().await.expect("a head");
    let started = Instant::now();
    let mut after = 0i64;
    let mut rows = 0u64;
    loop {
        let page: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT global_position, data FROM events WHERE global_position > $1
             ORDER BY global_position LIMIT 1000",
        )
        .bind(after)
        .fetch_all(pool)
        .await
        .expect("a page");
        let Some(last) = page.last() else { break };
        after = last.0;
        rows += page.len() as u64;
    }
    let keyset = rows as f64 / started.elapsed().as_secs_f64();
    let report =
        ledger_projections::rebuild(pool, store, ledger_projections::ReadModel::RunHistory)
            .await
            .expect("a rebuild");
    let rebuilt = report.position as f64 / report.seconds;
    goals::note(Figure::KeysetRate, keyset);
    goals::note(Figure::RebuildRate, rebuilt);
    vec![
        format!(
            "| PostgreSQL: keyset read of the log, 1,000 rows a page ({head} events) | {keyset:.0} | | |"
        ),
        // Per position of the log, as the keyset read counts: the rebuild
        // reads only run streams' events, and passes over the others.
        format!(
            "| run-ledger: rebuild of run history ({} events of the log, {} of them run events, swapped in; {:.1} of its {:.1} s building the deferred indexes) | {:.0} | | |",
            report.position, report.events, report.index_seconds, report.seconds, rebuilt
        ),
    ]
}

/// Run detail and the first list page, at the current number of runs.
pub async fn queries(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    runs: Arc<Vec<uuid::Uuid>>,
    clients: usize,
    seconds: u64,
) -> Vec<String> {
    let next = Arc::new(AtomicU64::new(0));
    let (c, b, k, r) = (
        client.clone(),
        base.to_owned(),
        key.to_owned(),
        runs.clone(),
    );
    let detail: Figures = measure(clients, seconds, move |_| {
        let index = next.fetch_add(7_919, Ordering::Relaxed) as usize % r.len();
        get_ok(c.clone(), format!("{b}/v1/runs/{}", r[index]), k.clone())
    })
    .await;
    let (c, b, k) = (client.clone(), base.to_owned(), key.to_owned());
    let list: Figures = measure(clients, seconds, move |_| {
        get_ok(c.clone(), format!("{b}/v1/runs?limit=50"), k.clone())
    })
    .await;
    goals::note(Figure::DetailP99, detail.latency_ms(0.99));
    goals::note(Figure::ListP99, list.latency_ms(0.99));
    goals::note(Figure::ListCpu, list.cpu_micros());
    vec![
        detail.line(&format!(
            "run-ledger: GET /v1/runs/{{id}} at {} runs, {clients} clients (requests/s)",
            runs.len()
        )),
        list.line(&format!(
            "run-ledger: GET /v1/runs?limit=50 at {} runs, {clients} clients (requests/s)",
            runs.len()
        )),
    ]
}

/// One GET that must answer 200; counts as one operation.
pub(crate) async fn get_ok(client: reqwest::Client, url: String, key: String) -> u64 {
    let response = client
        .get(url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    // Read to its end, as a client does: a connection whose answer was
    // dropped unread is closed, not reused.
    response.bytes().await.expect("a body");
    1
}

/// A run of tenant `bench`.
pub fn bench_run(run_id: uuid::Uuid, stages: Vec<String>, files: Vec<String>) -> CreateRun {
    CreateRun {
        run_id,
        tenant_id: "bench".into(),
        owner_id: "bench".into(),
        project_id: None,
        pipeline_version: None,
        input_version: None,
        document: None,
        company: None,
        stages,
        files,
        credits_per_file: 1,
        max_retry_count: 3,
        idempotency_key: None,
        inputs: None,
    }
}

/// The same creates as `POST /v1/runs`, through the command layer and the
/// store in this process, without HTTP: where the service's time goes.
pub async fn in_process_creates(pool: &PgPool, clients: usize, seconds: u64) -> String {
    let ledger = Arc::new(ledger_commands::Ledger::new(PgEventStore::new(
        pool.clone(),
    )));
    let figures = measure(clients, seconds, move |_| {
        let ledger = ledger.clone();
        async move {
            ledger
                .create_run(
                    &Caller::system(),
                    bench_run(uuid::Uuid::new_v4(), vec![], vec![]),
                    &ledger_commands::CommandContext::default(),
                )
                .await
                .expect("a create");
            1
        }
    })
    .await;
    figures.line(&format!(
        "run-ledger without HTTP: `Ledger::create_run` in process, {clients} tasks"
    ))
}
