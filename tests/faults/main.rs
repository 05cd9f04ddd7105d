//! Fault tests F1-F9 (docs/reliability.md): the service as a
//! child process on a PostgreSQL of its own with production durability,
//! faults injected while a load client records every operation, and a
//! checker run after quiescence. Each test writes a JSON report and a
//! summary row under `target/tmp/fault-reports/`.
//!
//! The short forms run with `cargo test`; `RUN_LEDGER_FAULTS=full` runs the
//! long forms (more cycles, clients and longer outages).

mod check;
mod load;
mod rig;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

use check::check;
use load::{run_body, send, settle, tally, tenants, BackgroundLoad, Op, Outcome};
use rig::{full, report, seed, Rig, ADMIN_KEY};

fn millis(durations: &[Duration]) -> Vec<u128> {
    durations.iter().map(Duration::as_millis).collect()
}

/// Settles unknown operations, checks, reports, and fails the test on any finding.
async fn conclude(test: &str, seed: u64, rig: Rig, mut ops: Vec<Op>, mut figures: Value) {
    settle(&rig.client, &rig.base(), &mut ops, Duration::from_secs(60)).await;
    let findings = check(&rig, &ops).await;
    figures["ops"] = tally(&ops);
    figures["checker"] = findings.figures();
    report(test, seed, &rig, findings.passed(), figures);
    assert!(findings.passed(), "{test}: {}", findings.explain());
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f1_kill_9_under_a_64_client_mixed_load_loses_and_duplicates_nothing() {
    let seed = seed();
    let mut rig = Rig::start("f1").await;
    let cycles = if full() { 20 } else { 3 };
    let tenants = tenants(&rig.client, &rig.base(), 8, 300).await;
    let load = BackgroundLoad::start(&rig.client, rig.base(), &tenants, 64, seed);
    let (mut to_ready, mut to_caught_up) = (vec![], vec![]);
    for _ in 0..cycles {
        tokio::time::sleep(Duration::from_millis(if full() { 4_000 } else { 1_500 })).await;
        rig.kill_service();
        let killed = Instant::now();
        rig.start_service().await;
        to_ready.push(killed.elapsed());
        rig.wait_caught_up().await;
        to_caught_up.push(killed.elapsed());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ops = load.stop().await;
    let figures = json!({
        "cycles": cycles,
        "clients": 64,
        "kill_to_ready_ms": millis(&to_ready),
        "kill_to_caught_up_ms": millis(&to_caught_up),
    });
    conclude("F1", seed, rig, ops, figures).await;
}

/// Sends creates until one succeeds; when it did.
async fn until_a_create_succeeds(rig: &Rig, tenant: &load::Tenant) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = run_body(uuid::Uuid::new_v4());
        let mut op = Op::new("create", tenant, "/v1/runs".into(), Some(body));
        send(&rig.client, &rig.base(), &mut op).await;
        if matches!(op.outcome, Outcome::Ok(..)) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "no recovery: {:?}", op.outcome);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One answer a `Prober` got.
#[derive(Debug)]
struct Probe {
    at: Instant,
    status: u16,
    retry_after: bool,
}

impl Probe {
    fn acknowledged(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Creates a run every 50 ms until stopped, and keeps each answer (status
/// 0 for no answer in 8 s).
struct Prober {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Probe>>,
}

impl Prober {
    fn start(rig: &Rig, key: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (client, base, key, stopped) =
            (rig.client.clone(), rig.base(), key.to_owned(), stop.clone());
        let task = tokio::spawn(async move {
            let mut seen = vec![];
            while !stopped.load(Ordering::Relaxed) {
                let response = client
                    .post(format!("{base}/v1/runs"))
                    .bearer_auth(&key)
                    .json(&run_body(uuid::Uuid::new_v4()))
                    .timeout(Duration::from_secs(8))
                    .send()
                    .await;
                let (status, retry_after) = match response {
                    Ok(response) => (
                        response.status().as_u16(),
                        response.headers().contains_key("retry-after"),
                    ),
                    Err(_) => (0, false),
                };
                seen.push(Probe {
                    at: Instant::now(),
                    status,
                    retry_after,
                });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        });
        Prober { stop, task }
    }

    async fn stop(self) -> Vec<Probe> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the prober finished")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f2_postgres_outages_answer_503_with_retry_after_and_the_service_reconnects() {
    let seed = seed();
    let mut rig = Rig::start("f2").await;
    let tenants = tenants(&rig.client, &rig.base(), 4, 300).await;
    let load = BackgroundLoad::start(&rig.client, rig.base(), &tenants, 16, seed);
    let outages: Vec<(&str, u64)> = if full() {
        vec![
            ("immediate", 1),
            ("immediate", 5),
            ("immediate", 30),
            ("fast", 1),
            ("fast", 5),
            ("fast", 30),
            ("backend-killed", 0),
        ]
    } else {
        vec![("immediate", 2), ("fast", 2), ("backend-killed", 0)]
    };
    let mut per_outage = vec![];
    for (mode, seconds) in outages {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let prober = Prober::start(&rig, &tenants[0].key);
        let (down, up);
        if mode == "backend-killed" {
            let pool = rig.pool().await;
            down = Instant::now();
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = 'ledger' AND pid <> pg_backend_pid()",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
            up = Instant::now();
        } else {
            rig.stop_postgres(mode == "immediate").await;
            down = Instant::now();
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            up = Instant::now();
            rig.start_postgres().await;
        }
        let recovered = until_a_create_succeeds(&rig, &tenants[0]).await;
        let seen = prober.stop().await;
        assert!(rig.service_alive(), "the service stays up through {mode}");
        let during: Vec<_> = seen
            .iter()
            .filter(|probe| probe.at > down && probe.at < up)
            .collect();
        let acknowledged = during.iter().filter(|probe| probe.acknowledged()).count();
        let unavailable = during.iter().filter(|probe| probe.status == 503).count();
        let without_retry_after = during
            .iter()
            .filter(|probe| probe.status == 503 && !probe.retry_after)
            .count();
        let mut statuses = std::collections::BTreeMap::new();
        for probe in &during {
            *statuses.entry(probe.status.to_string()).or_insert(0) += 1;
        }
        per_outage.push(json!({
            "mode": mode,
            "seconds": seconds,
            "statuses_during": statuses,
            "first_2xx_after_ms": recovered.duration_since(up).as_millis(),
        }));
        if mode != "backend-killed" {
            assert_eq!(
                acknowledged, 0,
                "nothing is acknowledged while PostgreSQL is down"
            );
            // Shorter outages end before a waiting request is refused.
            if seconds * 1_000 > rig::ACQUIRE_TIMEOUT_MS {
                assert!(
                    unavailable > 0,
                    "503 while PostgreSQL is down: {statuses:?}"
                );
            }
        }
        assert_eq!(without_retry_after, 0, "every 503 carries Retry-After");
    }
    let ops = load.stop().await;
    conclude("F2", seed, rig, ops, json!({ "outages": per_outage })).await;
}

/// Sends `op`'s request `times` times at once; the answers.
async fn repeat(client: &reqwest::Client, base: &str, op: &Op, times: usize) -> Vec<Op> {
    join_all((0..times).map(|_| {
        let mut copy = op.clone();
        async move {
            send(client, base, &mut copy).await;
            copy
        }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f4_duplicate_deliveries_write_one_set_of_events_and_answer_alike() {
    let seed = seed();
    let mut rng = load::Rng::new(seed);
    let mut rig = Rig::start("f4").await;
    let tenants = tenants(&rig.client, &rig.base(), 2, 1_000).await;
    let base = rig.base();
    let keys = if full() { 200 } else { 32 };
    let mut ops: Vec<Op> = (0..keys)
        .map(|_| {
            Op::new(
                "create",
                &tenants[0],
                "/v1/runs".into(),
                Some(run_body(rng.uuid())),
            )
        })
        .collect();
    // 2 to 10 deliveries of each key, 32 keys in flight at once.
    let mut answers: Vec<Vec<Op>> = vec![];
    for chunk in ops.chunks(32) {
        let times: Vec<usize> = chunk.iter().map(|_| 2 + rng.below(9) as usize).collect();
        answers.extend(
            join_all(
                chunk
                    .iter()
                    .zip(&times)
                    .map(|(op, times)| repeat(&rig.client, &base, op, *times)),
            )
            .await,
        );
    }
    // After a service restart, then after a PostgreSQL restart.
    rig.kill_service();
    rig.start_service().await;
    for (op, answered) in ops.iter().zip(answers.iter_mut()) {
        answered.extend(repeat(&rig.client, &base, op, 1).await);
    }
    rig.stop_postgres(false).await;
    rig.start_postgres().await;
    rig.wait_ready().await;
    let mut settled = ops.clone();
    settle(&rig.client, &base, &mut settled, Duration::from_secs(30)).await;
    for (op, answered) in settled.iter().zip(answers.iter_mut()) {
        answered.push(op.clone());
    }
    let requests: usize = answers.iter().map(Vec::len).sum();
    let mut identical = 0;
    for (op, answered) in ops.iter_mut().zip(&answers) {
        let definite: Vec<&Outcome> = answered
            .iter()
            .map(|answer| &answer.outcome)
            .filter(|outcome| !outcome.is_unknown())
            .collect();
        identical += definite
            .iter()
            .filter(|outcome| **outcome == definite[0])
            .count();
        assert!(
            definite.iter().all(|outcome| *outcome == definite[0]),
            "one key, one answer: {definite:?}"
        );
        op.outcome = definite[0].clone();
    }
    // Another body under a used key: 422, nothing written. The same key
    // from another tenant is another command.
    let before = check::read_log(&rig).await.len();
    let mut reused = ops[0].clone();
    reused.body = Some(run_body(rng.uuid()));
    send(&rig.client, &base, &mut reused).await;
    assert!(
        matches!(reused.outcome, Outcome::Fail(422, _)),
        "{:?}",
        reused.outcome
    );
    assert_eq!(
        check::read_log(&rig).await.len(),
        before,
        "a 422 writes nothing"
    );
    let mut other = ops[0].clone();
    other.tenant = tenants[1].id.clone();
    other.bearer = tenants[1].key.clone();
    other.body = Some(run_body(rng.uuid()));
    send(&rig.client, &base, &mut other).await;
    assert!(
        matches!(other.outcome, Outcome::Ok(201, _)),
        "{:?}",
        other.outcome
    );
    ops.push(other);
    let events = check::read_log(&rig).await.len();
    let figures = json!({
        "requests": requests,
        "keys": keys,
        "events_written": events,
        "identical_responses_percent": 100.0 * identical as f64 / requests as f64,
    });
    conclude("F4", seed, rig, ops, figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f5_conflicting_retries_have_one_winner_and_no_balance_goes_negative() {
    let seed = seed();
    let mut rng = load::Rng::new(seed);
    let rig = Rig::start("f5").await;
    let base = rig.base();
    let (pairs, runs) = if full() { (1_000, 1_000) } else { (40, 60) };
    // Each retry costs 3 credits; each tenant can pay for half of its runs'.
    let tenants = tenants(&rig.client, &base, 2, (runs as i64) * 3 / 4).await;
    let mut ops = vec![];
    let mut created = vec![];
    for index in 0..pairs.max(runs) {
        let tenant = &tenants[index % 2];
        // Files and no stages: the run ends when its files do.
        let mut op = Op::new(
            "create",
            tenant,
            "/v1/runs".into(),
            Some(json!({
                "run_id": rng.uuid(),
                "owner_id": "rig",
                "files": [{"name": "a.pdf"}, {"name": "b.pdf"}, {"name": "c.pdf"}],
                "credits_per_file": 1,
            })),
        );
        send(&rig.client, &base, &mut op).await;
        let Outcome::Ok(201, body) = &op.outcome else {
            panic!("{:?}", op.outcome)
        };
        let run_id = body["run_id"].as_str().unwrap().to_owned();
        // Every file fails: the run ends completed_with_errors, 3 credits to retry.
        let mut failed = Op::new(
            "file",
            tenant,
            format!("/v1/runs/{run_id}/events"),
            Some(
                json!({"events": (0..3).map(|index| json!({"type": "run.file_updated", "data": {"index": index, "status": "failed"}})).collect::<Vec<_>>()}),
            ),
        );
        send(&rig.client, &base, &mut failed).await;
        assert!(
            matches!(failed.outcome, Outcome::Ok(..)),
            "{:?}",
            failed.outcome
        );
        created.push((tenant.clone(), run_id));
        ops.push(op);
        ops.push(failed);
    }
    // Two retry-failed at once on each run: exactly one may win.
    let mut double_wins = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for chunk in created.chunks(16) {
        let rounds = join_all(chunk.iter().map(|(tenant, run_id)| {
            let pair = [
                Op::new(
                    "retry_failed",
                    tenant,
                    format!("/v1/runs/{run_id}/retry-failed"),
                    None,
                ),
                Op::new(
                    "retry_failed",
                    tenant,
                    format!("/v1/runs/{run_id}/retry-failed"),
                    None,
                ),
            ];
            let (client, base) = (&rig.client, &base);
            async move {
                join_all(pair.into_iter().map(|mut op| async move {
                    send(client, base, &mut op).await;
                    op
                }))
                .await
            }
        }))
        .await;
        for pair in rounds {
            let wins = pair
                .iter()
                .filter(|op| matches!(op.outcome, Outcome::Ok(..)))
                .count();
            double_wins += usize::from(wins > 1);
            if wins == 0 {
                assert!(
                    pair.iter()
                        .all(|op| matches!(op.outcome, Outcome::Fail(402, _))),
                    "a pair without a winner must have been refused for credits: {:?}",
                    pair.iter().map(|op| &op.outcome).collect::<Vec<_>>()
                );
            }
            for op in &pair {
                let status = match &op.outcome {
                    Outcome::Ok(status, _) | Outcome::Fail(status, _) => status.to_string(),
                    Outcome::Unknown(why) => why.clone(),
                };
                *statuses.entry(status).or_insert(0) += 1;
            }
            ops.extend(pair);
        }
    }
    // Concurrent charges and refunds on the runs that were retried.
    let mut money = vec![];
    for (index, (tenant, run_id)) in created.iter().enumerate().take(32) {
        let (kind, event) = if index % 2 == 0 {
            (
                "charge",
                json!({"type": "run.credits_deducted", "data": {"amount": 2}}),
            )
        } else {
            (
                "refund",
                json!({"type": "run.refunded", "data": {"amount": 2}}),
            )
        };
        money.push(Op::new(
            kind,
            tenant,
            format!("/v1/runs/{run_id}/events"),
            Some(json!({"events": [event]})),
        ));
    }
    let money = join_all(money.into_iter().map(|mut op| {
        let (client, base) = (&rig.client, &base);
        async move {
            send(client, base, &mut op).await;
            op
        }
    }))
    .await;
    ops.extend(money);
    let (minimum, _) = check::balances(&check::read_log(&rig).await);
    assert_eq!(double_wins, 0, "two retry-failed won on one run");
    assert!(
        statuses.contains_key("200") && statuses.contains_key("402"),
        "some retries win, and the credits run out: {statuses:?}"
    );
    let figures = json!({
        "pairs": created.len(),
        "statuses": statuses,
        "double_charges": double_wins,
        "minimum_replayed_balance": minimum,
    });
    conclude("F5", seed, rig, ops, figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f7_slow_committers_leave_no_gap_in_the_feed_projectors_or_subscribers() {
    use ledger_store::{AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent};
    let seed = seed();
    let rig = Rig::start("f7").await;
    let base = rig.base();
    let appends = if full() { 400 } else { 60 };
    // An SSE subscriber on the global stream, from the start. It stops once
    // it has delivered the head the log settles at (sent on `settled`),
    // however many requests succeeded: some may be refused on a busy
    // machine, and then the log simply holds fewer events.
    let (settled, mut settled_head) = tokio::sync::watch::channel(u64::MAX);
    let subscriber = {
        let client = reqwest::Client::new();
        let url = format!("{base}/v1/events/stream");
        tokio::spawn(async move {
            use futures::StreamExt as _;
            let response = client.get(url).bearer_auth(ADMIN_KEY).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            let mut positions: Vec<u64> = vec![];
            loop {
                let head = *settled_head.borrow();
                if positions.last().is_some_and(|last| *last >= head) {
                    break;
                }
                let chunk = tokio::select! {
                    chunk = body.next() => chunk,
                    _ = settled_head.changed() => continue,
                };
                let Some(Ok(chunk)) = chunk else { break };
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    if let Some(id) = frame.lines().find_map(|line| line.strip_prefix("id:")) {
                        positions.push(id.trim().parse().unwrap());
                    }
                }
            }
            positions
        })
    };
    // Slow committers: another store on the same database that holds each
    // transaction 50-500 ms after taking its positions, against the
    // service's own appends.
    let pool = rig.pool().await;
    let rng = std::sync::Mutex::new(load::Rng::new(seed));
    let hold = Arc::new(move |_, _| {
        let pause = 50 + rng.lock().unwrap().below(451);
        Box::pin(tokio::time::sleep(Duration::from_millis(pause)))
            as futures::future::BoxFuture<'static, ()>
    });
    let slow = ledger_store::PgEventStore::with_options(
        pool,
        ledger_store::PgEventStoreOptions {
            before_commit: Some(hold),
            ..Default::default()
        },
    );
    let tenants = tenants(&rig.client, &base, 1, 10).await;
    let slow_appends = join_all((0..appends / 2).map(|index| {
        let slow = slow.clone();
        async move {
            slow.append(AppendRequest::single(
                format!("slow-{}", index % 4),
                ExpectedVersion::Any,
                vec![NewEvent {
                    event_id: uuid::Uuid::new_v4(),
                    event_type: "test.slow".into(),
                    schema_version: 1,
                    data: json!({ "index": index }),
                    metadata: EventMetadata::default(),
                }],
            ))
            .await
            .unwrap()
        }
    }));
    let fast_appends = join_all((0..appends / 2).map(|_| {
        let (client, base, tenant) = (rig.client.clone(), base.clone(), tenants[0].clone());
        async move {
            let mut op = Op::new(
                "create",
                &tenant,
                "/v1/runs".into(),
                Some(run_body(uuid::Uuid::new_v4())),
            );
            send(&client, &base, &mut op).await;
            op
        }
    }));
    let (_, mut ops) = tokio::join!(slow_appends, fast_appends);
    settle(&rig.client, &base, &mut ops, Duration::from_secs(60)).await;
    let head = check::read_log(&rig).await.len() as u64;
    settled.send(head).unwrap();
    let delivered = tokio::time::timeout(Duration::from_secs(60), subscriber)
        .await
        .expect("the subscriber received every event the log holds")
        .unwrap();
    let expected: Vec<u64> = (1..=head).collect();
    let skipped = expected
        .iter()
        .filter(|position| !delivered.contains(position))
        .count();
    let out_of_order = delivered
        .windows(2)
        .filter(|pair| pair[0] >= pair[1])
        .count();
    let figures = json!({
        "delivered": delivered.len(),
        "skipped": skipped,
        "out_of_order": out_of_order,
        "slow_commits": appends / 2,
    });
    assert_eq!((skipped, out_of_order), (0, 0), "{delivered:?}");
    drop(slow);
    conclude("F7", seed, rig, ops, figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f9_sigterm_under_load_finishes_in_flight_requests_and_exits_in_the_grace_period() {
    let seed = seed();
    let mut rig = Rig::start("f9").await;
    let tenants = tenants(&rig.client, &rig.base(), 4, 300).await;
    let load = BackgroundLoad::start(&rig.client, rig.base(), &tenants, 32, seed);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let terminated = Instant::now();
    let (to_exit, status) = rig.terminate_service().await;
    let ops = load.stop().await;
    // Requests answered with a server error around the stop: in-flight ones
    // must finish, not fail.
    let server_errors = ops
        .iter()
        .filter(|op| op.attempts.iter().any(|status| status.starts_with('5')))
        .count();
    assert!(status.success(), "exit status {status}");
    assert!(
        to_exit < Duration::from_secs(10),
        "exit within the grace period"
    );
    assert_eq!(server_errors, 0, "in-flight requests finish");
    let _ = terminated;
    let mut rig = rig;
    rig.start_service().await;
    let figures = json!({
        "time_to_exit_ms": to_exit.as_millis(),
        "server_errors": server_errors,
    });
    conclude("F9", seed, rig, ops, figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f3_crashes_at_exact_points_leave_nothing_half_done_twice_applied_or_skipped() {
    let seed = seed();
    let mut rng = load::Rng::new(seed);
    let mut rig = Rig::start("f3").await;
    let tenants = tenants(&rig.client, &rig.base(), 4, 500).await;
    let points = [
        "append.after_commit",
        "command.before_record",
        "projector.before_commit",
    ];
    let rounds = if full() { 5 } else { 1 };
    let mut ops = vec![];
    let mut per_point = vec![];
    for point in points {
        let mut hits = 0;
        for _ in 0..rounds {
            let at = 10 + rng.below(40);
            rig.service_env = vec![(
                ledger_store::failpoint::FAILPOINT_ENV.into(),
                format!("{point}@{at}"),
            )];
            rig.kill_service();
            rig.start_service().await;
            rig.service_env.clear();
            let load = BackgroundLoad::start(&rig.client, rig.base(), &tenants, 16, rng.next());
            let deadline = Instant::now() + Duration::from_secs(30);
            while rig.service_alive() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            hits += usize::from(!rig.service_alive());
            rig.kill_service();
            rig.start_service().await;
            ops.extend(load.stop().await);
        }
        assert_eq!(hits, rounds, "{point} was reached");
        per_point.push(json!({ "point": point, "hits": hits }));
    }
    conclude("F3", seed, rig, ops, json!({ "points": per_point })).await;
}

/// A run's detail once its read model has reached `min_position` (or the
/// 503 problem body when it did not in time).
async fn read_run(
    client: &reqwest::Client,
    base: &str,
    tenant: &load::Tenant,
    run_id: &str,
    min_position: u64,
) -> Value {
    client
        .get(format!(
            "{base}/v1/runs/{run_id}?min_position={min_position}"
        ))
        .bearer_auth(&tenant.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f6_writers_with_expected_versions_have_one_winner_per_version_and_read_their_writes() {
    let seed = seed();
    let rig = Rig::start("f6").await;
    let base = rig.base();
    let tenants = tenants(&rig.client, &base, 1, 1_000_000).await;
    let (writers, appends_each) = if full() { (64, 20) } else { (16, 5) };
    let mut create = Op::new(
        "create",
        &tenants[0],
        "/v1/runs".into(),
        Some(run_body(uuid::Uuid::new_v4())),
    );
    send(&rig.client, &base, &mut create).await;
    let Outcome::Ok(201, created) = &create.outcome else {
        panic!("{:?}", create.outcome)
    };
    let run_id = created["run_id"].as_str().unwrap().to_owned();
    let created_at = created["global_position"].as_u64().unwrap();
    let results = join_all((0..writers).map(|writer| {
        let (client, base, tenant, run_id) = (rig.client.clone(), base.clone(), tenants[0].clone(), run_id.clone());
        async move {
            let (mut won, mut conflicts, mut anomalies, mut ops) = (vec![], 0, vec![], vec![]);
            let mut seen = created_at;
            while won.len() < appends_each {
                let current = read_run(&client, &base, &tenant, &run_id, seen).await;
                let Some(version) = current["version"].as_u64() else {
                    // 503 projection_lagging: the read model is behind; ask again.
                    assert_eq!(current["code"], "projection_lagging", "{current}");
                    continue;
                };
                let event_id = uuid::Uuid::new_v4();
                let mut op = Op::new(
                    "charge",
                    &tenant,
                    format!("/v1/runs/{run_id}/events"),
                    Some(json!({
                        "expected_version": version,
                        "events": [{"event_id": event_id, "type": "run.credits_deducted", "data": {"amount": 1}}],
                    })),
                );
                send(&client, &base, &mut op).await;
                match &op.outcome {
                    Outcome::Ok(_, body) => {
                        let position = body["global_position"].as_u64().unwrap();
                        let appended = body["run"]["version"].as_u64().unwrap_or(0);
                        won.push((event_id, version + 1, writer));
                        // Read your writes: the read model shows the append.
                        let read = read_run(&client, &base, &tenant, &run_id, position).await;
                        if read["version"].as_u64() < Some(appended) {
                            anomalies.push(format!("writer {writer} read {read} after {position}"));
                        }
                        seen = position;
                    }
                    Outcome::Fail(409, _) => conflicts += 1,
                    other => anomalies.push(format!("writer {writer}: {other:?}")),
                }
                ops.push(op);
            }
            (won, conflicts, anomalies, ops)
        }
    }))
    .await;
    let log = check::read_log(&rig).await;
    let stream: Vec<&check::Logged> = log
        .iter()
        .filter(|event| event.stream_id == format!("run-{run_id}"))
        .collect();
    let mut anomalies: Vec<String> = vec![];
    let mut conflicts = 0;
    let mut ops = vec![create];
    let mut versions = std::collections::BTreeMap::new();
    for (won, lost_races, found, writer_ops) in results {
        conflicts += lost_races;
        anomalies.extend(found);
        ops.extend(writer_ops);
        for (event_id, version, writer) in won {
            if let Some(other) = versions.insert(version, writer) {
                anomalies.push(format!(
                    "version {version} won by writers {other} and {writer}"
                ));
            }
            match stream.iter().find(|event| event.event_id == event_id) {
                Some(event) if event.version as u64 == version => {}
                Some(event) => anomalies.push(format!(
                    "{event_id} at version {} not {version}",
                    event.version
                )),
                None => anomalies.push(format!("{event_id} lost")),
            }
        }
    }
    let charges = stream
        .iter()
        .filter(|event| event.event_type == "run.credits_deducted")
        .count();
    if charges != writers * appends_each {
        anomalies.push(format!(
            "{charges} charges for {} wins",
            writers * appends_each
        ));
    }
    let figures = json!({
        "writers": writers,
        "appends": writers * appends_each,
        "conflicts": conflicts,
        "anomalies": anomalies.len(),
    });
    assert!(anomalies.is_empty(), "{anomalies:?}");
    conclude("F6", seed, rig, ops, figures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f8_postgres_refusing_writes_acknowledges_nothing_and_recovers_when_undone() {
    use sqlx::Connection as _;
    let seed = seed();
    let rig = Rig::start("f8").await;
    let tenants = tenants(&rig.client, &rig.base(), 4, 300).await;
    let load = BackgroundLoad::start(&rig.client, rig.base(), &tenants, 16, seed);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut control = sqlx::PgConnection::connect(&rig.db_url).await.unwrap();
    sqlx::query("SET default_transaction_read_only = off")
        .execute(&mut control)
        .await
        .unwrap();
    for statement in [
        "ALTER SYSTEM SET default_transaction_read_only = on",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(statement).execute(&mut control).await.unwrap();
    }
    // Sessions apply a reload between statements: give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let prober = Prober::start(&rig, &tenants[0].key);
    tokio::time::sleep(Duration::from_secs(if full() { 10 } else { 2 })).await;
    let undone = Instant::now();
    for statement in [
        "ALTER SYSTEM RESET default_transaction_read_only",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(statement).execute(&mut control).await.unwrap();
    }
    let recovered = until_a_create_succeeds(&rig, &tenants[0]).await - undone;
    let seen = prober.stop().await;
    let during: Vec<_> = seen.iter().filter(|probe| probe.at < undone).collect();
    let ok_during = during.iter().filter(|probe| probe.acknowledged()).count();
    let unavailable = during
        .iter()
        .filter(|probe| probe.status == 503 && probe.retry_after)
        .count();
    let ops = load.stop().await;
    assert_eq!(
        ok_during, 0,
        "nothing acknowledged while writes are refused"
    );
    assert_eq!(
        unavailable,
        during.len(),
        "503 with Retry-After: {during:?}"
    );
    let figures = json!({
        "probes_during_fault": during.len(),
        "ok_during_fault": ok_during,
        "recovery_ms": recovered.as_millis(),
    });
    conclude("F8", seed, rig, ops, figures).await;
}
