//! Command execution against a real PostgreSQL, with real concurrency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::join_all;
use ledger_commands::{CommandContext, CommandError, Ledger};
use ledger_domain::account::{AccountCommand, AccountState};
use ledger_domain::billing::BillingCommand;
use ledger_domain::events::{AccountEvent, Bucket, FileStatus, RunEvent, StreamEvent};
use ledger_domain::run::{CreateRun, RunCommand, RunStatus};
use ledger_domain::{account_stream_id, run_stream_id, Actor, Caller, DomainError};
use ledger_embedded_pg::testing::fresh_database;
use ledger_store::*;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

const TENANT: &str = "acme";

async fn store() -> PgEventStore {
    let db = fresh_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(40)
        .connect(&db.url)
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    PgEventStore::new(pool)
}

async fn ledger() -> Ledger<PgEventStore> {
    Ledger::new(store().await)
}

fn ctx() -> CommandContext {
    CommandContext::default()
}

fn system() -> Caller {
    Caller::system()
}

fn owner() -> Caller {
    Caller {
        tenant_id: Some(TENANT.into()),
        actor: Some(Actor {
            id: "ada".into(),
            tenant_admin: false,
        }),
    }
}

fn create(files: usize) -> CreateRun {
    CreateRun {
        run_id: Uuid::new_v4(),
        tenant_id: TENANT.into(),
        owner_id: "ada".into(),
        project_id: None,
        pipeline_version: None,
        input_version: None,
        document: None,
        company: None,
        stages: vec![],
        files: (0..files).map(|i| format!("f{i}.pdf")).collect(),
        credits_per_file: 1,
        max_retry_count: 3,
        idempotency_key: None,
        inputs: None,
    }
}

async fn grant(ledger: &Ledger<PgEventStore>, bucket: Bucket, amount: i64) {
    ledger
        .account_command(
            &system(),
            TENANT,
            AccountCommand::Grant {
                bucket,
                amount,
                reason: None,
            },
            &ctx(),
        )
        .await
        .unwrap();
}

/// A run whose files all ended, the first `failed` of them failed.
async fn run_with_failed_files(ledger: &Ledger<PgEventStore>, files: usize, failed: usize) -> Uuid {
    let run_id = ledger
        .create_run(&system(), create(files), &ctx())
        .await
        .unwrap()
        .run
        .run_id();
    for index in 0..files {
        let status = if index < failed {
            FileStatus::Failed
        } else {
            FileStatus::Completed
        };
        ledger
            .run_command(
                &system(),
                run_id,
                RunCommand::UpdateFile {
                    index: index as u32,
                    status,
                    error: None,
                },
                &ctx(),
            )
            .await
            .unwrap();
    }
    run_id
}

async fn account_events(store: &PgEventStore) -> Vec<AccountEvent> {
    store
        .read_stream(&account_stream_id(TENANT), 0, ReadUntil::End)
        .await
        .unwrap()
        .into_iter()
        .map(|e| AccountEvent::decode(&e.event_type, e.schema_version, e.data).unwrap())
        .collect()
}

/// The balance after every event of the account's log, and the final one.
async fn replayed_balances(store: &PgEventStore) -> (Vec<AccountState>, AccountState) {
    let mut state = AccountState::default();
    let mut states = vec![];
    for event in account_events(store).await {
        state = ledger_domain::account::evolve(state, &event);
        states.push(state.clone());
    }
    (states, state)
}

#[tokio::test]
async fn rule_1_a_seen_idempotency_key_returns_the_existing_run_even_under_concurrency() {
    let ledger = ledger().await;
    let key = "proj:v1:p1".to_string();
    let attempts = (0..16).map(|_| {
        let ledger = ledger.clone();
        let command = CreateRun {
            idempotency_key: Some(key.clone()),
            ..create(0)
        };
        tokio::spawn(async move { ledger.create_run(&system(), command, &ctx()).await.unwrap() })
    });
    let outcomes: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(outcomes.iter().filter(|o| o.changed).count(), 1);
    let winner = outcomes.iter().find(|o| o.changed).unwrap().run.run_id();
    assert!(outcomes.iter().all(|o| o.run.run_id() == winner));
    let runs = ledger
        .store()
        .read_all(0, 1000, None)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "run.created")
        .count();
    assert_eq!(runs, 1, "one run.created for one idempotency key");

    // The same key in another tenant is another run.
    let other = CreateRun {
        tenant_id: "globex".into(),
        idempotency_key: Some(key),
        ..create(0)
    };
    assert!(
        ledger
            .create_run(&system(), other, &ctx())
            .await
            .unwrap()
            .changed
    );
}

#[tokio::test]
async fn rule_10_thirty_two_concurrent_charges_never_overdraw_or_double_charge() {
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 60).await;
    grant(&ledger, Bucket::Purchased, 40).await;
    let mut runs = vec![];
    for _ in 0..32 {
        runs.push(
            ledger
                .create_run(&system(), create(0), &ctx())
                .await
                .unwrap()
                .run
                .run_id(),
        );
    }
    let charges = runs.iter().map(|run_id| {
        let ledger = ledger.clone();
        let run_id = *run_id;
        tokio::spawn(async move {
            let result = ledger
                .billing_command(
                    &system(),
                    run_id,
                    BillingCommand::Charge {
                        amount: 5,
                        reason: None,
                    },
                    &ctx(),
                )
                .await;
            (run_id, result)
        })
    });
    let results: Vec<_> = join_all(charges)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let charged: Vec<Uuid> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(id, _)| *id)
        .collect();
    let refused = results
        .iter()
        .filter(|(_, r)| {
            matches!(
                r,
                Err(CommandError::Domain(
                    DomainError::InsufficientCredits { .. }
                ))
            )
        })
        .count();
    let conflicts = results
        .iter()
        .filter(|(_, r)| matches!(r, Err(CommandError::VersionConflict { .. })))
        .count();
    assert_eq!(charged.len() + refused + conflicts, 32, "{results:?}");
    assert!(charged.len() <= 20);
    if refused > 0 {
        assert_eq!(
            charged.len(),
            20,
            "credits were refused while some remained"
        );
    }

    let (history, last) = replayed_balances(ledger.store()).await;
    assert!(history.iter().all(|s| s.monthly >= 0 && s.purchased >= 0));
    assert_eq!(last.total(), 100 - 5 * charged.len() as i64);
    assert_eq!(last.consumed, 5 * charged.len() as i64);
    let deductions: Vec<Uuid> = account_events(ledger.store())
        .await
        .into_iter()
        .filter_map(|e| match e {
            AccountEvent::CreditsDeducted(d) => Some(d.run_id),
            _ => None,
        })
        .collect();
    let mut unique = deductions.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), deductions.len(), "a run was charged twice");
    for run_id in &runs {
        let run = ledger.load_run(*run_id).await.unwrap().state.run.unwrap();
        let expected = if charged.contains(run_id) { 5 } else { 0 };
        assert_eq!(run.charged.total(), expected, "run and account agree");
    }
}

#[tokio::test]
async fn rule_10_thirty_two_racing_retries_of_one_run_have_exactly_one_winner() {
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 100).await;
    let run_id = run_with_failed_files(&ledger, 4, 2).await;
    let retries = (0..32).map(|_| {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            ledger
                .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &ctx())
                .await
        })
    });
    let results: Vec<_> = join_all(retries)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(_)
            | Err(CommandError::Domain(DomainError::RunRunning { .. }))
            | Err(CommandError::VersionConflict { .. })
    )));
    let (_, account) = replayed_balances(ledger.store()).await;
    assert_eq!(account.consumed, 2, "charged once for two failed files");
    let run = ledger.load_run(run_id).await.unwrap().state.run.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.files[0].retry_attempt, 1);
}

#[tokio::test]
async fn rule_10_racing_whole_run_retries_have_exactly_one_winner() {
    let ledger = ledger().await;
    let run_id = ledger
        .create_run(&system(), create(0), &ctx())
        .await
        .unwrap()
        .run
        .run_id();
    ledger
        .run_command(
            &system(),
            run_id,
            RunCommand::Fail {
                code: "X".into(),
                message: "m".into(),
                detail: None,
            },
            &ctx(),
        )
        .await
        .unwrap();
    let retries = (0..32).map(|_| {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            ledger
                .run_command(&owner(), run_id, RunCommand::Retry, &ctx())
                .await
        })
    });
    let results: Vec<_> = join_all(retries)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let run = ledger.load_run(run_id).await.unwrap().state.run.unwrap();
    assert_eq!(run.retry_count, 1);
}

#[tokio::test]
async fn deciding_on_a_long_account_reads_a_snapshot_not_its_whole_history() {
    let ledger = ledger().await;
    // 10,000 grants, appended in batches straight through the store.
    let mut state = AccountState::default();
    let mut version = None;
    for _ in 0..100 {
        let mut batch = vec![];
        for _ in 0..100 {
            let events = ledger_domain::account::decide(
                &state,
                &AccountCommand::Grant {
                    bucket: Bucket::Monthly,
                    amount: 1,
                    reason: None,
                },
            )
            .unwrap();
            state = ledger_domain::account::evolve(state, &events[0]);
            let encoded = events[0].encode();
            batch.push(NewEvent {
                event_id: Uuid::new_v4(),
                event_type: encoded.event_type,
                schema_version: encoded.schema_version,
                data: encoded.data,
                metadata: EventMetadata::default(),
            });
        }
        let expected = version.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
        let outcome = ledger
            .store()
            .append(AppendRequest::single(
                account_stream_id(TENANT),
                expected,
                batch,
            ))
            .await
            .unwrap();
        version = outcome.events.last().map(|e| e.stream_version);
    }
    assert_eq!(version, Some(9_999));
    // The first command reads everything once, and leaves a snapshot.
    grant(&ledger, Bucket::Purchased, 5).await;
    let loaded = ledger.load_account(TENANT).await.unwrap();
    assert!(
        loaded.events_read <= 1,
        "read {} events",
        loaded.events_read
    );
    assert_eq!(loaded.version, Some(10_000));
    assert_eq!(loaded.state.total(), 10_005);
    // Later commands keep reading only the tail.
    for _ in 0..150 {
        grant(&ledger, Bucket::Monthly, 1).await;
    }
    let loaded = ledger.load_account(TENANT).await.unwrap();
    assert!(
        loaded.events_read < 100,
        "read {} events",
        loaded.events_read
    );
    assert_eq!(loaded.state.total(), 10_155);
    assert_eq!(loaded.state, replayed_balances(ledger.store()).await.1);
}

/// Snapshots are taken when a stream is read, not when it is written: a run
/// whose stages all arrive in one request is never snapshotted until a
/// command loads it, and that load saves what it folded.
#[tokio::test]
async fn a_long_replay_leaves_a_snapshot_and_a_long_write_does_not() {
    use ledger_commands::{Fact, ReportedFact};
    use ledger_domain::events::StageStatus;
    let ledger = ledger().await;
    let mut command = create(0);
    command.stages = (1..=150).map(|i| format!("stage {i}")).collect();
    let run_id = ledger
        .create_run(&owner(), command, &ctx())
        .await
        .unwrap()
        .run
        .run_id();
    let facts = (1..=150)
        .map(|stage| ReportedFact {
            event_id: None,
            fact: Fact::Run(RunCommand::UpdateStage {
                stage,
                status: StageStatus::Processing,
                output: None,
                error: None,
            }),
        })
        .collect();
    let reported = ledger
        .report_facts(&system(), run_id, None, facts, &ctx())
        .await
        .unwrap();
    let version = reported.version.unwrap();
    assert!(version >= 150, "version {version}");
    let stream = run_stream_id(run_id);
    assert_eq!(ledger.store().load_snapshot(&stream).await.unwrap(), None);

    let first = ledger.load_run(run_id).await.unwrap();
    assert_eq!(first.events_read as u64, version + 1);
    let snapshot = ledger
        .store()
        .load_snapshot(&stream)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snapshot.version, version);
    let again = ledger.load_run(run_id).await.unwrap();
    assert_eq!(again.events_read, 0);
    assert_eq!(again.version, Some(version));
    assert_eq!(again.state, first.state);
}

/// A store that, once, lets a competing command append to the stream just
/// before the command's own append: the command must decide again.
#[derive(Clone)]
struct Interfering {
    inner: PgEventStore,
    armed: Arc<AtomicBool>,
    competitor: Arc<std::sync::Mutex<Option<AppendRequest>>>,
}

impl EventStore for Interfering {
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            let competitor = self.competitor.lock().unwrap().take().unwrap();
            self.inner.append(competitor).await.unwrap();
        }
        self.inner.append(request).await
    }
    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        until: ReadUntil,
    ) -> Result<Vec<RecordedEvent>, ReadError> {
        self.inner.read_stream(stream_id, from_version, until).await
    }
    async fn read_all(
        &self,
        after: u64,
        limit: u32,
        tenant: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, ReadError> {
        self.inner.read_all(after, limit, tenant).await
    }
    async fn head_position(&self) -> Result<u64, ReadError> {
        self.inner.head_position().await
    }
    async fn stream_ids(&self, tenant: Option<&str>) -> Result<Vec<String>, ReadError> {
        self.inner.stream_ids(tenant).await
    }
    async fn stream_head(&self, stream_id: &str) -> Result<Option<StreamHead>, ReadError> {
        self.inner.stream_head(stream_id).await
    }
    async fn find_events(&self, ids: &[Uuid]) -> Result<Vec<AppendedEvent>, ReadError> {
        self.inner.find_events(ids).await
    }
    async fn find_claim(&self, scope: &str, key: &str) -> Result<Option<String>, ReadError> {
        self.inner.find_claim(scope, key).await
    }
    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, ReadError> {
        self.inner.load_snapshot(stream_id).await
    }
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), ReadError> {
        self.inner.save_snapshot(snapshot).await
    }
}

async fn interfered_cancel(
    max_attempts: u32,
) -> (
    Result<ledger_commands::RunOutcome, CommandError>,
    Ledger<PgEventStore>,
    Uuid,
) {
    let inner = store().await;
    let plain = Ledger::new(inner.clone());
    let run_id = plain
        .create_run(&system(), create(2), &ctx())
        .await
        .unwrap()
        .run
        .run_id();
    // The competitor starts the run between the command's read and its append.
    let started = RunEvent::Started(Default::default()).encode();
    let competitor = AppendRequest::single(
        run_stream_id(run_id),
        ExpectedVersion::Exact(0),
        vec![NewEvent {
            event_id: Uuid::new_v4(),
            event_type: started.event_type,
            schema_version: started.schema_version,
            data: started.data,
            metadata: EventMetadata::default(),
        }],
    );
    let interfering = Interfering {
        inner,
        armed: Arc::new(AtomicBool::new(true)),
        competitor: Arc::new(std::sync::Mutex::new(Some(competitor))),
    };
    let ledger = Ledger::new(interfering).with_max_attempts(max_attempts);
    let result = ledger
        .run_command(
            &system(),
            run_id,
            RunCommand::UpdateFile {
                index: 0,
                status: FileStatus::Running,
                error: None,
            },
            &ctx(),
        )
        .await;
    (result, plain, run_id)
}

#[tokio::test]
async fn a_command_that_loses_a_race_is_decided_again_on_the_new_state() {
    let (result, plain, run_id) = interfered_cancel(3).await;
    let outcome = result.unwrap();
    // Decided again on a running run: no second run.started.
    assert_eq!(outcome.appended.len(), 1);
    let events = plain
        .store()
        .read_stream(&run_stream_id(run_id), 0, ReadUntil::End)
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["run.created", "run.started", "run.file_updated"]);
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_attempts_is_reported_and_writes_nothing() {
    let (result, plain, run_id) = interfered_cancel(1).await;
    assert!(matches!(result, Err(CommandError::VersionConflict { .. })));
    assert_eq!(result.unwrap_err().code(), "version_conflict");
    let events = plain
        .store()
        .read_stream(&run_stream_id(run_id), 0, ReadUntil::End)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "only the competitor's event was added");
}

#[tokio::test]
async fn rule_5_a_rerun_leaves_the_original_stream_untouched() {
    let ledger = ledger().await;
    let original = run_with_failed_files(&ledger, 2, 1).await;
    let before = ledger.load_run(original).await.unwrap();
    let new_run_id = Uuid::new_v4();
    let outcome = ledger
        .rerun(&owner(), original, new_run_id, &ctx())
        .await
        .unwrap();
    assert_eq!(outcome.run.rerun_of, Some(original));
    assert_eq!(outcome.run.status, RunStatus::Queued);
    let after = ledger.load_run(original).await.unwrap();
    assert_eq!(after.version, before.version);
    assert_eq!(after.state, before.state);
    let reloaded = ledger
        .load_run(new_run_id)
        .await
        .unwrap()
        .state
        .run
        .unwrap();
    assert_eq!(reloaded.rerun_of, Some(original));
}

#[tokio::test]
async fn events_record_the_tenant_and_the_acting_person() {
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 10).await;
    let run_id = run_with_failed_files(&ledger, 1, 1).await;
    let context = CommandContext {
        correlation_id: Some(Uuid::new_v4()),
        source: Some("test".into()),
        ..CommandContext::default()
    };
    let outcome = ledger
        .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &context)
        .await
        .unwrap();
    let streams: Vec<&str> = outcome
        .appended
        .iter()
        .map(|e| e.stream_id.as_str())
        .collect();
    assert!(streams.contains(&account_stream_id(TENANT).as_str()));
    let feed = ledger.store().read_all(0, 1000, None).await.unwrap();
    let retried = feed.iter().find(|e| e.event_type == "run.retried").unwrap();
    assert_eq!(retried.metadata["tenant_id"], TENANT);
    assert_eq!(retried.metadata["actor_id"], "ada");
    assert_eq!(
        retried.metadata["correlation_id"],
        context.correlation_id.unwrap().to_string()
    );
}

#[tokio::test]
async fn an_accounts_side_of_a_charge_names_the_run_event_that_caused_it() {
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 10).await;
    let run_id = run_with_failed_files(&ledger, 2, 2).await;
    let cause = Uuid::new_v4();
    let context = CommandContext {
        causation_id: Some(cause),
        ..CommandContext::default()
    };
    ledger
        .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &context)
        .await
        .unwrap();
    let feed = ledger.store().read_all(0, 1000, None).await.unwrap();
    let retried = feed
        .iter()
        .rfind(|e| e.event_type == "run.retried")
        .unwrap();
    let charged = feed
        .iter()
        .rfind(|e| e.event_type == "account.credits_deducted")
        .unwrap();
    assert_eq!(retried.metadata["causation_id"], cause.to_string());
    assert_eq!(
        charged.metadata["causation_id"],
        retried.event_id.to_string(),
        "the account's charge derives from the run's retry"
    );
}

#[tokio::test]
async fn executing_the_same_command_id_twice_appends_once() {
    let ledger = ledger().await;
    let context = CommandContext {
        command_id: Some(Uuid::new_v4()),
        ..CommandContext::default()
    };
    let command = AccountCommand::Grant {
        bucket: Bucket::Purchased,
        amount: 7,
        reason: None,
    };
    let first = ledger
        .account_command(&system(), TENANT, command.clone(), &context)
        .await
        .unwrap();
    assert!(first.changed);
    // A client retrying after a lost response sends the same command again.
    let again = ledger
        .account_command(&system(), TENANT, command, &context)
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.appended, first.appended);
    assert_eq!(
        again.account.purchased, 7,
        "the state as stored, not decided twice"
    );
    let (_, account) = replayed_balances(ledger.store()).await;
    assert_eq!(account.purchased, 7);
}

fn repeatable() -> CommandContext {
    CommandContext {
        command_id: Some(Uuid::new_v4()),
        ..CommandContext::default()
    }
}

/// Found by fault test F1: a retry-failed whose response was lost, sent
/// again once the run is running, must get its own result back, not the
/// 409 a new retry would get.
#[tokio::test]
async fn rule_10_a_repeated_command_that_already_ran_answers_its_result_not_a_conflict() {
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 10).await;
    let run_id = run_with_failed_files(&ledger, 3, 2).await;
    let context = repeatable();
    let first = ledger
        .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &context)
        .await
        .unwrap();
    let again = ledger
        .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &context)
        .await
        .expect("the repeat is answered, not refused because the run now runs");
    assert_eq!(again.appended, first.appended);
    assert_eq!(again.run_events, first.run_events);
    let fresh = ledger
        .billing_command(&owner(), run_id, BillingCommand::RetryFailed, &repeatable())
        .await;
    assert!(fresh.is_err(), "a new retry of a running run is refused");
    let (_, account) = replayed_balances(ledger.store()).await;
    assert_eq!(account.total(), 8, "charged once");
}

/// Found by fault test F1: facts reported without event ids, repeated
/// under the same command id, were charged twice.
#[tokio::test]
async fn rule_10_facts_repeated_under_one_command_id_are_charged_once() {
    use ledger_commands::{Fact, ReportedFact};
    let ledger = ledger().await;
    grant(&ledger, Bucket::Monthly, 10).await;
    let run_id = ledger
        .create_run(&owner(), create(1), &ctx())
        .await
        .unwrap()
        .run
        .run_id();
    let charge = || {
        vec![ReportedFact {
            event_id: None,
            fact: Fact::Billing(BillingCommand::Charge {
                amount: 3,
                reason: None,
            }),
        }]
    };
    let context = repeatable();
    let first = ledger
        .report_facts(&system(), run_id, None, charge(), &context)
        .await
        .unwrap();
    let again = ledger
        .report_facts(&system(), run_id, None, charge(), &context)
        .await
        .unwrap();
    assert_eq!(again.appended, first.appended);
    let (_, account) = replayed_balances(ledger.store()).await;
    assert_eq!(account.total(), 7, "charged once");
    ledger
        .report_facts(&system(), run_id, None, charge(), &repeatable())
        .await
        .unwrap();
    let (_, account) = replayed_balances(ledger.store()).await;
    assert_eq!(account.total(), 4, "another command charges again");
}
