//! Projectors against a real PostgreSQL: exactly-once application, recovery,
//! stopping at unreadable events, one runner per read model.

use std::time::Duration;

use futures::future::join_all;
use ledger_commands::{CommandContext, Fact, Ledger, ReportedFact};
use ledger_domain::account::AccountCommand;
use ledger_domain::billing::BillingCommand;
use ledger_domain::events::{Bucket, FileStatus, StageStatus};
use ledger_domain::run::{CreateRun, RunCommand, RunState};
use ledger_domain::{Actor, Caller};
use ledger_embedded_pg::testing::fresh_database;
use ledger_projections::{run_projector, step, ProjectorOptions, ReadModel};
use ledger_store::*;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};
use uuid::Uuid;

async fn setup() -> (PgPool, PgEventStore, Ledger<PgEventStore>) {
    let db = fresh_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(30)
        .connect(&db.url)
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let store = PgEventStore::new(pool.clone());
    (pool, store.clone(), Ledger::new(store))
}

fn create(tenant: &str, files: usize, stages: usize) -> CreateRun {
    CreateRun {
        run_id: Uuid::new_v4(),
        tenant_id: tenant.into(),
        owner_id: "ada".into(),
        project_id: None,
        pipeline_version: None,
        input_version: None,
        document: None,
        company: None,
        stages: (0..stages).map(|i| format!("s{i}")).collect(),
        files: (0..files).map(|i| format!("f{i}")).collect(),
        credits_per_file: 1,
        max_retry_count: 3,
        idempotency_key: None,
        inputs: None,
    }
}

fn fact(fact: Fact) -> ReportedFact {
    ReportedFact {
        event_id: None,
        fact,
    }
}

/// Several tasks, several tenants: creations, progress, charges, refunds,
/// retries and reruns, with their refusals.
async fn mixed_workload(ledger: &Ledger<PgEventStore>) {
    let system = Caller::system();
    let ctx = CommandContext::default();
    for tenant in ["acme", "globex"] {
        ledger
            .account_command(
                &system,
                tenant,
                AccountCommand::Grant {
                    bucket: Bucket::Monthly,
                    amount: 30,
                    reason: None,
                },
                &ctx,
            )
            .await
            .unwrap();
    }
    let tasks = (0..8).map(|task| {
        let ledger = ledger.clone();
        async move {
            let tenant = if task % 2 == 0 { "acme" } else { "globex" };
            let system = Caller::system();
            let ctx = CommandContext::default();
            for round in 0..4 {
                let run = ledger
                    .create_run(&system, create(tenant, 3, 2), &ctx)
                    .await
                    .unwrap()
                    .run
                    .run_id();
                let facts = vec![
                    fact(Fact::Run(RunCommand::UpdateStage {
                        stage: 1,
                        status: StageStatus::Completed,
                        output: Some(serde_json::json!({"round": round})),
                        error: None,
                    })),
                    fact(Fact::Billing(BillingCommand::Charge {
                        amount: 2,
                        reason: None,
                    })),
                    fact(Fact::Run(RunCommand::UpdateFile {
                        index: 0,
                        status: FileStatus::Failed,
                        error: Some("429".into()),
                    })),
                    fact(Fact::Run(RunCommand::UpdateFile {
                        index: 1,
                        status: FileStatus::Completed,
                        error: None,
                    })),
                ];
                let _ = ledger.report_facts(&system, run, None, facts, &ctx).await;
                let _ = ledger
                    .report_facts(
                        &system,
                        run,
                        None,
                        vec![fact(Fact::Billing(BillingCommand::Refund {
                            amount: 1,
                            reason: None,
                        }))],
                        &ctx,
                    )
                    .await;
                let _ = ledger
                    .run_command(
                        &system,
                        run,
                        RunCommand::Fail {
                            code: "X".into(),
                            message: "m".into(),
                            detail: None,
                        },
                        &ctx,
                    )
                    .await;
                let owner = Caller {
                    tenant_id: Some(tenant.into()),
                    actor: Some(Actor {
                        id: "ada".into(),
                        tenant_admin: false,
                    }),
                };
                let _ = ledger
                    .billing_command(&owner, run, BillingCommand::RetryFailed, &ctx)
                    .await;
                if round % 2 == 0 {
                    let _ = ledger.rerun(&owner, run, Uuid::new_v4(), &ctx).await;
                }
            }
        }
    });
    join_all(tasks).await;
}

/// A projector task for each of `models`, running until `stopping` turns true.
fn spawn_projectors(
    pool: &PgPool,
    store: &PgEventStore,
    models: impl IntoIterator<Item = ReadModel>,
    options: &ProjectorOptions,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    models
        .into_iter()
        .map(|model| {
            tokio::spawn(run_projector(
                pool.clone(),
                store.clone(),
                model,
                options.clone(),
                stopping.clone(),
            ))
        })
        .collect()
}

/// Waits until every read model has applied the log up to `head`.
async fn wait_for_every_model(pool: &PgPool, head: u64) {
    for model in ReadModel::ALL {
        assert!(
            ledger_projections::wait_for(pool, model, head, Duration::from_secs(20))
                .await
                .unwrap()
                .is_some(),
            "{} reached {head}",
            model.name()
        );
    }
}

/// Creates a run and appends to its stream an event of a type no build
/// knows; returns that event's position.
async fn run_with_an_unreadable_event(ledger: &Ledger<PgEventStore>, store: &PgEventStore) -> u64 {
    let run = ledger
        .create_run(
            &Caller::system(),
            create("acme", 1, 0),
            &CommandContext::default(),
        )
        .await
        .unwrap()
        .run
        .run_id();
    store
        .append(AppendRequest::single(
            format!("run-{run}"),
            ExpectedVersion::Any,
            vec![NewEvent {
                event_id: Uuid::new_v4(),
                event_type: "run.exploded".into(),
                schema_version: 1,
                data: serde_json::json!({}),
                metadata: EventMetadata::default(),
            }],
        ))
        .await
        .unwrap()
        .last_position()
        .unwrap()
}

async fn catch_up(pool: &PgPool, store: &PgEventStore) {
    for model in ReadModel::ALL {
        while step(pool, store, model, 37).await.unwrap() > 0 {}
    }
}

/// A status as the read model's rows spell it (its serde name).
fn wire_name(status: impl serde::Serialize) -> String {
    serde_json::to_value(status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// The read models equal what folding the log afresh gives.
async fn assert_read_models_equal_the_log(
    pool: &PgPool,
    store: &PgEventStore,
    ledger: &Ledger<PgEventStore>,
) {
    let events = store.read_all(0, 1_000_000, None).await.unwrap();
    let mut run_ids: Vec<Uuid> = events
        .iter()
        .filter_map(|e| e.stream_id.strip_prefix("run-")?.parse().ok())
        .collect();
    run_ids.sort();
    run_ids.dedup();
    let rows =
        sqlx::query("SELECT run_id, state, status, version, rerun_count FROM runs ORDER BY run_id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), run_ids.len(), "one row per run");
    for row in rows {
        let run_id: Uuid = row.get("run_id");
        let loaded = ledger.load_run(run_id).await.unwrap();
        let projected: RunState =
            ledger_projections::run_history::json_column(&row, "state").unwrap();
        assert_eq!(projected, loaded.state, "run {run_id}");
        assert_eq!(row.get::<i64, _>("version") as u64, loaded.version.unwrap());
        let reruns: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE rerun_of = $1")
            .bind(run_id)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(i64::from(row.get::<i32, _>("rerun_count")), reruns);
        let status = loaded.state.run.as_ref().map(|run| wire_name(run.status));
        assert_eq!(
            row.get::<String, _>("status"),
            status.unwrap(),
            "run {run_id}"
        );
    }
    for tenant in ["acme", "globex"] {
        let account = ledger.load_account(tenant).await.unwrap();
        let row = sqlx::query("SELECT monthly, purchased, consumed, refunded, granted FROM credit_balances WHERE tenant_id = $1")
            .bind(tenant).fetch_one(pool).await.unwrap();
        let state = account.state;
        assert_eq!(
            (
                row.get::<i64, _>("monthly"),
                row.get::<i64, _>("purchased"),
                row.get::<i64, _>("consumed"),
                row.get::<i64, _>("refunded"),
                row.get::<i64, _>("granted")
            ),
            (
                state.monthly,
                state.purchased,
                state.consumed,
                state.refunded,
                state.granted
            ),
            "{tenant}"
        );
        let entries: i64 =
            sqlx::query_scalar("SELECT count(*) FROM credit_ledger WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(
            entries as u64,
            account.version.unwrap() + 1,
            "one ledger row per account event"
        );
    }
}

#[tokio::test]
async fn read_models_equal_a_fresh_fold_of_the_log_after_a_mixed_workload() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    catch_up(&pool, &store).await;
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
}

#[tokio::test]
async fn a_batch_that_dies_midway_leaves_no_trace_and_is_applied_once_on_resume() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    // PostgreSQL itself fails the projector's transaction after some ledger
    // rows are written: a crash in the middle of a batch.
    sqlx::raw_sql(
        "CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF (SELECT count(*) FROM credit_ledger) >= 5 THEN RAISE EXCEPTION 'injected crash'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER fail_midway BEFORE INSERT ON credit_ledger FOR EACH ROW EXECUTE FUNCTION fail_midway();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut failures = 0;
    loop {
        match step(&pool, &store, ReadModel::Credits, 1_000).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                assert!(error.to_string().contains("injected crash"), "{error}");
                failures += 1;
                break;
            }
        }
    }
    assert_eq!(failures, 1);
    let (checkpoint, rows): (i64, i64) = (
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'credits'")
            .fetch_one(&pool)
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT count(*) FROM credit_ledger")
            .fetch_one(&pool)
            .await
            .unwrap(),
    );
    assert_eq!(
        (checkpoint, rows),
        (0, 0),
        "the failed batch left nothing behind"
    );
    sqlx::raw_sql("DROP TRIGGER fail_midway ON credit_ledger")
        .execute(&pool)
        .await
        .unwrap();
    catch_up(&pool, &store).await;
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
}

#[tokio::test]
async fn an_event_the_projector_cannot_read_stops_it_at_that_event() {
    let (pool, store, ledger) = setup().await;
    let bad = run_with_an_unreadable_event(&ledger, &store).await;
    ledger
        .account_command(
            &Caller::system(),
            "acme",
            AccountCommand::Grant {
                bucket: Bucket::Monthly,
                amount: 1,
                reason: None,
            },
            &CommandContext::default(),
        )
        .await
        .unwrap();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let options = ProjectorOptions {
        poll_interval: Duration::from_millis(20),
        ..ProjectorOptions::default()
    };
    let projectors = spawn_projectors(&pool, &store, ReadModel::ALL, &options, &stopping);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let statuses = loop {
        let statuses = ledger_projections::statuses(&pool).await.unwrap();
        let credits_done = statuses
            .iter()
            .any(|s| s.name == "credits" && s.lag_events == 0);
        let history_stopped = statuses
            .iter()
            .any(|s| s.name == "run_history" && s.state == "stopped");
        if credits_done && history_stopped {
            break statuses;
        }
        assert!(tokio::time::Instant::now() < deadline, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let history = statuses.iter().find(|s| s.name == "run_history").unwrap();
    assert_eq!(
        history.checkpoint,
        bad - 1,
        "stopped before the event, not past it"
    );
    assert!(history
        .last_error
        .as_deref()
        .unwrap()
        .contains(&format!("position {bad}")));
    let _ = stop.send(true);
    for projector in projectors {
        projector.await.unwrap();
    }
}

#[tokio::test]
async fn two_runners_of_one_read_model_apply_each_event_once() {
    let (pool, store, ledger) = setup().await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let options = ProjectorOptions {
        poll_interval: Duration::from_millis(20),
        batch_size: 7,
        ..ProjectorOptions::default()
    };
    let runners = spawn_projectors(
        &pool,
        &store,
        (0..2).flat_map(|_| ReadModel::ALL),
        &options,
        &stopping,
    );
    mixed_workload(&ledger).await;
    let head = store.head_position().await.unwrap();
    wait_for_every_model(&pool, head).await;
    let held: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        held, 2,
        "one lock per read model, whatever the number of runners"
    );
    let _ = stop.send(true);
    for runner in runners {
        runner.await.unwrap();
    }
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
}

/// Two steps that read the same checkpoint race to commit the same batch:
/// the one that commits second must find the checkpoint moved under its
/// row lock and apply nothing (`commit_batch`'s re-check), whatever the
/// advisory lock that keeps `run_projector`s apart.
#[tokio::test]
async fn a_batch_raced_by_a_second_runner_is_applied_once_by_the_checkpoint_re_check() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    let head = store.head_position().await.unwrap();
    for model in ReadModel::ALL {
        // Both read the checkpoint, then wait for its row lock, held here.
        let mut hold = pool.begin().await.unwrap();
        sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(model.name())
            .execute(&mut *hold)
            .await
            .unwrap();
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (pool, store) = (pool.clone(), store.clone());
                tokio::spawn(async move { step(&pool, &store, model, 10_000).await.unwrap() })
            })
            .collect();
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%projection_checkpoints%FOR UPDATE%'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        hold.rollback().await.unwrap();
        let mut moved: Vec<u64> = Vec::new();
        for racer in racers {
            moved.push(racer.await.unwrap());
        }
        moved.sort();
        assert_eq!(
            moved[0],
            0,
            "{}: the second to commit applied nothing",
            model.name()
        );
        assert!(
            moved[1] > 0,
            "{}: the first applied the batch",
            model.name()
        );
        let checkpoint = ledger_projections::checkpoint(&pool, model).await.unwrap();
        assert_eq!(checkpoint, head, "{}", model.name());
    }
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
}

/// A run a batch opens is written by binary COPY: every kind of column it
/// encodes (uuid, text beyond ASCII, integers, timestamps, jsonb, json)
/// reads back as the log and the fold give it.
#[tokio::test]
async fn a_run_a_batch_opens_reads_back_every_column_it_was_folded_to() {
    let (pool, store, ledger) = setup().await;
    let system = Caller::system();
    let ctx = CommandContext::default();
    let mut created = create("acme", 2, 2);
    created.project_id = Some("prj-ü".into());
    created.pipeline_version = Some("v2.1".into());
    created.input_version = Some("in-7".into());
    created.document = Some(ledger_domain::events::Document {
        name: "Übersicht ✓ \"Q3\"".into(),
        url: "s3://b/ü.pdf".into(),
    });
    created.company = Some(ledger_domain::events::Company {
        id: "c-1".into(),
        name: "Ñandú GmbH".into(),
    });
    created.max_retry_count = 5;
    created.inputs = Some(serde_json::json!({"k": "v"}));
    let run_id = created.run_id;
    ledger
        .account_command(
            &system,
            "acme",
            AccountCommand::Grant {
                bucket: Bucket::Monthly,
                amount: 10,
                reason: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    ledger.create_run(&system, created, &ctx).await.unwrap();
    ledger
        .run_command(
            &system,
            run_id,
            RunCommand::Fail {
                code: "E42".into(),
                message: "näh".into(),
                detail: Some(serde_json::json!({"at": [1, 2.5, null]})),
            },
            &ctx,
        )
        .await
        .unwrap();
    catch_up(&pool, &store).await;

    let events = store.read_all(0, 100, None).await.unwrap();
    let run_events: Vec<_> = events
        .iter()
        .filter(|e| e.stream_id == format!("run-{run_id}"))
        .collect();
    let (first, last) = (run_events[0], run_events[run_events.len() - 1]);
    let loaded = ledger.load_run(run_id).await.unwrap();
    let row = sqlx::query("SELECT * FROM runs WHERE run_id = $1")
        .bind(run_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let text = |column: &str| row.get::<Option<String>, _>(column);
    assert_eq!(row.get::<String, _>("tenant_id"), "acme");
    assert_eq!(row.get::<String, _>("owner_id"), "ada");
    assert_eq!(text("project_id").as_deref(), Some("prj-ü"));
    assert_eq!(text("document_name").as_deref(), Some("Übersicht ✓ \"Q3\""));
    assert_eq!(text("document_url").as_deref(), Some("s3://b/ü.pdf"));
    assert_eq!(text("company_id").as_deref(), Some("c-1"));
    assert_eq!(text("company_name").as_deref(), Some("Ñandú GmbH"));
    assert_eq!(text("pipeline_version").as_deref(), Some("v2.1"));
    assert_eq!(text("input_version").as_deref(), Some("in-7"));
    assert_eq!(row.get::<String, _>("status"), "failed");
    assert_eq!(row.get::<Option<Uuid>, _>("rerun_of"), None);
    assert_eq!(row.get::<i32, _>("max_retry_count"), 5);
    assert_eq!(row.get::<i32, _>("file_count"), 2);
    assert_eq!(
        row.get::<serde_json::Value, _>("error"),
        serde_json::json!({"code": "E42", "message": "näh", "detail": {"at": [1, 2.5, null]}})
    );
    assert_eq!(
        row.get::<chrono::DateTime<chrono::Utc>, _>("created_at"),
        first.recorded_at
    );
    assert_eq!(
        row.get::<chrono::DateTime<chrono::Utc>, _>("updated_at"),
        last.recorded_at
    );
    assert_eq!(
        row.get::<Option<chrono::DateTime<chrono::Utc>>, _>("completed_at"),
        Some(last.recorded_at)
    );
    assert_eq!(
        row.get::<i64, _>("created_position") as u64,
        first.global_position
    );
    assert_eq!(
        row.get::<i64, _>("last_position") as u64,
        last.global_position
    );
    assert_eq!(row.get::<i64, _>("version") as u64, loaded.version.unwrap());
    let state: RunState = ledger_projections::run_history::json_column(&row, "state").unwrap();
    assert_eq!(state, loaded.state);
}

/// How many events of run streams the log holds.
async fn run_events(store: &PgEventStore) -> u64 {
    store
        .read_all(0, 1_000_000, None)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.stream_id.starts_with("run-"))
        .count() as u64
}

/// A rebuild reads only its read model's streams and passes over the
/// others, and takes over at the log's head even when the log ends in
/// events of other streams.
#[tokio::test]
async fn a_rebuild_passes_over_other_streams_and_takes_over_at_the_head() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    // The log ends in account events, which run history passes over.
    for _ in 0..3 {
        ledger
            .account_command(
                &Caller::system(),
                "acme",
                AccountCommand::Grant {
                    bucket: Bucket::Purchased,
                    amount: 1,
                    reason: None,
                },
                &CommandContext::default(),
            )
            .await
            .unwrap();
    }
    catch_up(&pool, &store).await;
    let head = store.head_position().await.unwrap();
    let run_events = run_events(&store).await;
    let report = ledger_projections::rebuild(&pool, &store, ReadModel::RunHistory)
        .await
        .unwrap();
    assert_eq!(report.position, head);
    assert_eq!(report.events, run_events);
    assert!(run_events < head, "the log holds other streams' events too");
    ledger_projections::rebuild(&pool, &store, ReadModel::Credits)
        .await
        .unwrap();
    for model in ReadModel::ALL {
        assert_eq!(
            ledger_projections::checkpoint(&pool, model).await.unwrap(),
            head
        );
    }
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
}

/// Rebuilds run history replaying `batch` events a transaction, so that a
/// small log goes through many batches, each applied in parts.
async fn rebuild_run_history_in_batches_of(
    pool: &PgPool,
    store: &PgEventStore,
    batch: u32,
) -> Result<ledger_projections::RebuildReport, ledger_projections::RebuildError> {
    ledger_projections::Rebuild::claim(pool, ReadModel::RunHistory)
        .await?
        .in_batches_of(batch)
        .run(store, tokio::sync::watch::channel(false).1)
        .await
}

/// A rebuild whose batches are each applied in parts at once (one
/// transaction a part, runs and their reruns kept together) rebuilds what
/// the log says, with reruns counted where a rerun and the run it
/// re-executes share a batch and where they do not.
#[tokio::test]
async fn a_rebuild_in_many_batches_of_parts_equals_the_log() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    catch_up(&pool, &store).await;
    let run_events = run_events(&store).await;
    for batch in [3, 7, 20] {
        assert!(
            run_events > 10 * u64::from(batch),
            "many batches of {batch}"
        );
        let report = rebuild_run_history_in_batches_of(&pool, &store, batch)
            .await
            .unwrap();
        assert_eq!(report.events, run_events);
        assert_read_models_equal_the_log(&pool, &store, &ledger).await;
    }
}

/// A rebuild whose batch, applied in parts, meets an event it cannot read
/// fails at it, leaves the live tables as they were, and lets its lock go,
/// so that the next rebuild can start.
#[tokio::test]
async fn a_rebuild_that_meets_an_unreadable_event_in_a_part_fails_and_keeps_the_live_tables() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    catch_up(&pool, &store).await;
    let before = run_rows(&pool).await;
    let unreadable = run_with_an_unreadable_event(&ledger, &store).await;
    // Enough after it that its batch is a full one, applied in parts.
    mixed_workload(&ledger).await;
    let failed = rebuild_run_history_in_batches_of(&pool, &store, 5)
        .await
        .unwrap_err();
    match failed {
        ledger_projections::RebuildError::Projection(
            ledger_projections::ProjectionError::Undecodable { position, .. },
        ) => assert_eq!(position, unreadable),
        other => panic!("expected the unreadable event, got {other}"),
    }
    assert_eq!(run_rows(&pool).await, before);
    ledger_projections::Rebuild::claim(&pool, ReadModel::RunHistory)
        .await
        .expect("the failed rebuild let its lock go");
}

/// Every row of `runs`, every column, as JSON text, in run order.
async fn run_rows(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT to_jsonb(r)::text FROM runs r ORDER BY run_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Runs every read model's projector through the log as it stands, in
/// batches of `batch_size`.
async fn project_backlog(pool: &PgPool, store: &PgEventStore, batch_size: u32) {
    let head = store.head_position().await.unwrap();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let options = ProjectorOptions {
        poll_interval: Duration::from_millis(20),
        batch_size,
        ..ProjectorOptions::default()
    };
    assert!(
        head > 10 * u64::from(options.batch_size),
        "a backlog of many batches"
    );
    let runners = spawn_projectors(pool, store, ReadModel::ALL, &options, &stopping);
    wait_for_every_model(pool, head).await;
    let _ = stop.send(true);
    for runner in runners {
        runner.await.unwrap();
    }
}

/// A projector that starts behind a backlog reads each batch while the one
/// before it is applied; the read models still equal the log, and run
/// history's rows, every column (times, positions, timeline, counts
/// included), equal those of a rebuild, which cuts the log into other
/// batches and applies each in parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_through_a_backlog_reading_ahead_writes_what_a_rebuild_writes() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    project_backlog(&pool, &store, 5).await;
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
    let projected = run_rows(&pool).await;
    rebuild_run_history_in_batches_of(&pool, &store, 5)
        .await
        .unwrap();
    assert_eq!(run_rows(&pool).await, projected);
}

/// A batch whose transaction fails while the batch after it is read ahead
/// is applied again, and the batch read ahead is not applied in its
/// place: each event takes effect once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_while_the_next_is_read_ahead_is_applied_again_and_once() {
    let (pool, store, ledger) = setup().await;
    mixed_workload(&ledger).await;
    // The third write of a run that has a row fails, once.
    sqlx::raw_sql(
        "CREATE SEQUENCE run_updates;
         CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF nextval('run_updates') = 3 THEN RAISE EXCEPTION 'injected failure'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER fail_once BEFORE UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION fail_once();",
    )
    .execute(&pool)
    .await
    .unwrap();
    project_backlog(&pool, &store, 5).await;
    let failure: Option<String> = sqlx::query_scalar(
        "SELECT last_error FROM projection_checkpoints WHERE name = 'run_history'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failure, None, "the failure was recorded, then cleared");
    let updates: i64 = sqlx::query_scalar("SELECT last_value FROM run_updates")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(updates > 3, "the injected failure happened");
    assert_read_models_equal_the_log(&pool, &store, &ledger).await;
    let projected = run_rows(&pool).await;
    sqlx::raw_sql("DROP TRIGGER fail_once ON runs")
        .execute(&pool)
        .await
        .unwrap();
    rebuild_run_history_in_batches_of(&pool, &store, 5)
        .await
        .unwrap();
    assert_eq!(run_rows(&pool).await, projected);
}

/// Which of `columns` (`table.column`) TOAST compresses with lz4.
async fn lz4_columns(pool: &PgPool, columns: &[&str]) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname || '.' || a.attname FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
         WHERE c.relname || '.' || a.attname = ANY($1) AND a.attcompression = 'l'
         ORDER BY 1",
    )
    .bind(columns)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Folded runs, timelines, snapshots and stored answers are compressed with
/// lz4 where the server has it (migration 0019), and a rebuilt run history
/// keeps it.
#[tokio::test]
async fn folded_states_are_compressed_with_lz4_and_a_rebuild_keeps_it() {
    let (pool, store, ledger) = setup().await;
    let settings: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let columns = [
        "idempotency_records.body",
        "runs.state",
        "runs.timeline",
        "snapshots.state",
    ];
    let expected: Vec<String> = if settings.iter().any(|method| method == "lz4") {
        columns.iter().map(|c| c.to_string()).collect()
    } else {
        vec![]
    };
    assert_eq!(lz4_columns(&pool, &columns).await, expected);
    mixed_workload(&ledger).await;
    catch_up(&pool, &store).await;
    ledger_projections::rebuild(&pool, &store, ReadModel::RunHistory)
        .await
        .unwrap();
    assert_eq!(lz4_columns(&pool, &columns).await, expected);
}
