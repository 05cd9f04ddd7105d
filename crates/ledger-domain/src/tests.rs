//! Given/when/then tests of every rule of SPEC section 3 that one decision can break.
//! Rule 10 (concurrent commands) needs a store and is tested in `ledger-commands`.

use serde_json::json;
use uuid::Uuid;

use crate::account::{self, AccountCommand, AccountState};
use crate::billing::{self, BillingCommand, BillingDecision};
use crate::events::*;
use crate::run::{self, Completion, CreateRun, RunCommand, RunState, RunStatus};
use crate::{Actor, Caller, DomainError};

const TENANT: &str = "acme";
const OWNER: &str = "ada";

fn run_id() -> Uuid {
    Uuid::from_u128(0x5eed)
}

fn create_command() -> CreateRun {
    CreateRun {
        run_id: run_id(),
        tenant_id: TENANT.into(),
        owner_id: OWNER.into(),
        project_id: None,
        pipeline_version: Some("p7".into()),
        input_version: None,
        document: Some(Document {
            name: "report.pdf".into(),
            url: "https://blob/report.pdf".into(),
        }),
        company: Some(Company {
            id: "c1".into(),
            name: "Lactalis".into(),
        }),
        stages: vec![],
        files: vec![],
        credits_per_file: 2,
        max_retry_count: 3,
        idempotency_key: None,
        inputs: None,
    }
}

fn created(stages: &[&str], files: &[&str]) -> RunEvent {
    let command = CreateRun {
        stages: stages.iter().map(|name| name.to_string()).collect(),
        files: files.iter().map(|name| name.to_string()).collect(),
        ..create_command()
    };
    let events = run::decide(
        &RunState::default(),
        &Caller::system(),
        &RunCommand::Create(Box::new(command)),
    )
    .expect("a valid create");
    events.into_iter().next().expect("run.created")
}

fn started() -> RunEvent {
    RunEvent::Started(RunStarted {})
}

fn stage(stage: u32, status: StageStatus) -> RunEvent {
    RunEvent::StageUpdated(StageUpdated {
        stage,
        status,
        output: None,
        error: None,
    })
}

fn file(index: u32, status: FileStatus) -> RunEvent {
    RunEvent::FileUpdated(FileUpdated {
        index,
        status,
        error: None,
    })
}

fn completed(with_errors: bool) -> RunEvent {
    RunEvent::Completed(RunCompleted {
        with_errors,
        ..RunCompleted::default()
    })
}

fn failed(code: &str) -> RunEvent {
    RunEvent::Failed(RunFailed {
        code: code.into(),
        message: "boom".into(),
        detail: None,
    })
}

fn granted(bucket: Bucket, amount: i64, before: &AccountState) -> AccountEvent {
    account::decide(
        before,
        &AccountCommand::Grant {
            bucket,
            amount,
            reason: None,
        },
    )
    .expect("a valid grant")
    .remove(0)
}

fn account_with(monthly: i64, purchased: i64) -> Vec<AccountEvent> {
    let mut events = vec![];
    let mut state = AccountState::default();
    for (bucket, amount) in [(Bucket::Monthly, monthly), (Bucket::Purchased, purchased)] {
        if amount > 0 {
            let event = granted(bucket, amount, &state);
            state = account::evolve(state, &event);
            events.push(event);
        }
    }
    events
}

fn owner() -> Caller {
    acting_as(OWNER, false)
}

fn acting_as(id: &str, tenant_admin: bool) -> Caller {
    Caller {
        tenant_id: Some(TENANT.into()),
        actor: Some(Actor {
            id: id.into(),
            tenant_admin,
        }),
    }
}

fn other_tenant() -> Caller {
    Caller {
        tenant_id: Some("globex".into()),
        actor: None,
    }
}

/// A history of a run (and optionally its account) to decide against.
struct Given {
    run: RunState,
    account: AccountState,
    caller: Caller,
}

fn given(events: impl IntoIterator<Item = RunEvent>) -> Given {
    let events: Vec<RunEvent> = events.into_iter().collect();
    Given {
        run: RunState::from_events(&events),
        account: AccountState::default(),
        caller: Caller::system(),
    }
}

impl Given {
    fn account(mut self, events: Vec<AccountEvent>) -> Self {
        self.account = AccountState::from_events(&events);
        self
    }

    fn caller(mut self, caller: Caller) -> Self {
        self.caller = caller;
        self
    }

    fn when(&self, command: RunCommand) -> Result<Vec<RunEvent>, DomainError> {
        run::decide(&self.run, &self.caller, &command)
    }

    fn when_billing(&self, command: BillingCommand) -> Result<BillingDecision, DomainError> {
        billing::decide(&self.run, &self.account, &self.caller, &command)
    }

    /// The run after the events a command produced.
    fn run_after(&self, events: &[RunEvent]) -> crate::run::Run {
        events
            .iter()
            .fold(self.run.clone(), run::evolve)
            .run
            .expect("run exists")
    }
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, DomainError>, code: &str) {
    match result {
        Err(error) => assert_eq!(error.code(), code, "{error}"),
        Ok(value) => panic!("expected {code}, got {value:?}"),
    }
}

// Rule 1: create.

#[test]
fn rule_1_create_records_run_created_and_the_run_is_queued() {
    let events = given([])
        .when(RunCommand::Create(Box::new(create_command())))
        .unwrap();
    assert!(
        matches!(events.as_slice(), [RunEvent::Created(created)] if created.run_id == run_id())
    );
    let state = RunState::from_events(&events);
    assert_eq!(state.run.unwrap().status, RunStatus::Queued);
}

#[test]
fn rule_1_project_run_without_inputs_is_recorded_and_fails_with_no_inputs() {
    let command = CreateRun {
        project_id: Some("proj".into()),
        inputs: None,
        ..create_command()
    };
    let events = given([])
        .when(RunCommand::Create(Box::new(command)))
        .unwrap();
    assert!(
        matches!(&events[..], [RunEvent::Created(_), RunEvent::Failed(f)] if f.code == "NO_INPUTS")
    );
    let run = RunState::from_events(&events).run.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.unwrap().code, "NO_INPUTS");
}

#[test]
fn rule_1_project_run_with_inputs_is_queued() {
    let command = CreateRun {
        project_id: Some("proj".into()),
        inputs: Some(json!({"hypothesis": "x"})),
        ..create_command()
    };
    let events = given([])
        .when(RunCommand::Create(Box::new(command)))
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn rule_1_creating_over_an_existing_run_is_refused() {
    assert_code(
        given([created(&[], &[])]).when(RunCommand::Create(Box::new(create_command()))),
        "run_already_exists",
    );
}

#[test]
fn rule_1_max_retry_count_must_be_between_1_and_10() {
    for bad in [0, 11, 1000] {
        let command = CreateRun {
            max_retry_count: bad,
            ..create_command()
        };
        assert_code(
            given([]).when(RunCommand::Create(Box::new(command))),
            "invalid_input",
        );
    }
    for good in [1, 10] {
        let command = CreateRun {
            max_retry_count: good,
            ..create_command()
        };
        assert!(given([])
            .when(RunCommand::Create(Box::new(command)))
            .is_ok());
    }
}

#[test]
fn rule_1_negative_credits_per_file_is_invalid() {
    let command = CreateRun {
        credits_per_file: -1,
        ..create_command()
    };
    assert_code(
        given([]).when(RunCommand::Create(Box::new(command))),
        "invalid_input",
    );
}

#[test]
fn rule_1_empty_owner_is_invalid() {
    let command = CreateRun {
        owner_id: " ".into(),
        ..create_command()
    };
    assert_code(
        given([]).when(RunCommand::Create(Box::new(command))),
        "invalid_input",
    );
}

#[test]
fn rule_1_a_tenant_key_cannot_create_for_another_tenant() {
    assert_code(
        given([])
            .caller(other_tenant())
            .when(RunCommand::Create(Box::new(create_command()))),
        "forbidden",
    );
}

// Rule 2: status machine; terminal runs accept no progress.

#[test]
fn rule_2_start_moves_queued_to_running_and_repeats_are_no_ops() {
    let events = given([created(&[], &[])]).when(RunCommand::Start).unwrap();
    assert_eq!(events, vec![started()]);
    assert!(given([created(&[], &[]), started()])
        .when(RunCommand::Start)
        .unwrap()
        .is_empty());
}

#[test]
fn rule_2_terminal_runs_accept_no_more_progress() {
    let endings = [
        completed(false),
        completed(true),
        failed("X"),
        RunEvent::Cancelled(RunCancelled { reason: None }),
    ];
    for ending in endings {
        let history = [created(&["a", "b"], &["f"]), started(), ending.clone()];
        let commands = [
            RunCommand::Start,
            RunCommand::UpdateStage {
                stage: 1,
                status: StageStatus::Processing,
                output: None,
                error: None,
            },
            RunCommand::UpdateFile {
                index: 0,
                status: FileStatus::Running,
                error: None,
            },
            RunCommand::Complete(Completion::default()),
            RunCommand::UpdateMetrics {
                metrics: metrics(json!({ "pages": 2 })),
            },
            RunCommand::Fail {
                code: "X".into(),
                message: "m".into(),
                detail: None,
            },
            RunCommand::Cancel { reason: None },
        ];
        for command in commands {
            assert_code(given(history.clone()).when(command), "run_terminal");
        }
    }
}

#[test]
fn rule_2_commands_on_a_missing_run_are_not_found() {
    assert_code(given([]).when(RunCommand::Start), "run_not_found");
}

#[test]
fn rule_2_another_tenants_run_is_not_found() {
    assert_code(
        given([created(&[], &[])])
            .caller(other_tenant())
            .when(RunCommand::Start),
        "run_not_found",
    );
}

#[test]
fn rule_2_explicit_completion_fail_and_cancel_end_the_run() {
    let history = [created(&[], &[]), started()];
    let cases = [
        (
            RunCommand::Complete(Completion::default()),
            RunStatus::Completed,
        ),
        (
            RunCommand::Fail {
                code: "OOM".into(),
                message: "m".into(),
                detail: Some(json!({"k": 1})),
            },
            RunStatus::Failed,
        ),
        (RunCommand::Cancel { reason: None }, RunStatus::Cancelled),
    ];
    for (command, status) in cases {
        let scenario = given(history.clone());
        let events = scenario.when(command).unwrap();
        assert_eq!(scenario.run_after(&events).status, status);
    }
}

fn metrics(value: serde_json::Value) -> Metrics {
    match value {
        serde_json::Value::Object(metrics) => metrics,
        _ => unreachable!("metrics are an object"),
    }
}

#[test]
fn metrics_merge_key_by_key_into_an_active_run() {
    let scenario = given([created(&[], &[]), started()]);
    let first = scenario
        .when(RunCommand::UpdateMetrics {
            metrics: metrics(json!({ "pages": 2, "tokens": { "in": 10 } })),
        })
        .unwrap();
    let after_first = scenario.run_after(&first);
    let scenario = given([created(&[], &[]), started()].into_iter().chain(first));
    let second = scenario
        .when(RunCommand::UpdateMetrics {
            metrics: metrics(json!({ "tokens": { "out": 5 }, "cost": 1.5 })),
        })
        .unwrap();
    assert_eq!(
        after_first.metrics,
        metrics(json!({ "pages": 2, "tokens": { "in": 10 } }))
    );
    assert_eq!(
        scenario.run_after(&second).metrics,
        metrics(json!({ "pages": 2, "tokens": { "out": 5 }, "cost": 1.5 }))
    );
}

#[test]
fn metrics_that_change_nothing_append_nothing() {
    let update = RunCommand::UpdateMetrics {
        metrics: metrics(json!({ "pages": 2 })),
    };
    let first = given([created(&[], &[]), started()])
        .when(update.clone())
        .unwrap();
    let again = given([created(&[], &[]), started()].into_iter().chain(first))
        .when(update)
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let empty = given([created(&[], &[]), started()]).when(RunCommand::UpdateMetrics {
        metrics: Metrics::new(),
    });
    assert!(empty.unwrap().is_empty());
}

#[test]
fn a_completion_keeps_its_output_and_merges_its_metrics() {
    let scenario = given([
        created(&[], &[]),
        started(),
        RunEvent::MetricsUpdated(RunMetricsUpdated {
            metrics: metrics(json!({ "pages": 2, "seconds": 1 })),
        }),
    ]);
    let events = scenario
        .when(RunCommand::Complete(Completion {
            output: Some(json!("## Summary\nAll good")),
            metrics: Some(metrics(json!({ "seconds": 9 }))),
        }))
        .unwrap();
    let run = scenario.run_after(&events);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.output, Some(json!("## Summary\nAll good")));
    assert_eq!(run.metrics, metrics(json!({ "pages": 2, "seconds": 9 })));
}

#[test]
fn rule_2_a_failure_needs_a_code() {
    assert_code(
        given([created(&[], &[])]).when(RunCommand::Fail {
            code: "".into(),
            message: "m".into(),
            detail: None,
        }),
        "invalid_input",
    );
}

// Rule 3: stages.

fn update_stage(number: u32, status: StageStatus) -> RunCommand {
    RunCommand::UpdateStage {
        stage: number,
        status,
        output: Some(json!("# markdown")),
        error: None,
    }
}

#[test]
fn rule_3_last_stage_completed_completes_the_run() {
    let scenario = given([
        created(&["a", "b"], &[]),
        started(),
        stage(1, StageStatus::Completed),
    ]);
    let events = scenario
        .when(update_stage(2, StageStatus::Completed))
        .unwrap();
    assert!(matches!(events.last(), Some(RunEvent::Completed(c)) if !c.with_errors));
    let run = scenario.run_after(&events);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.stages[1].output, Some(json!("# markdown")));
}

#[test]
fn rule_3_any_stage_failed_fails_the_run() {
    let scenario = given([created(&["a", "b", "c"], &[]), started()]);
    let events = scenario
        .when(RunCommand::UpdateStage {
            stage: 2,
            status: StageStatus::Failed,
            output: None,
            error: Some("model timeout".into()),
        })
        .unwrap();
    assert!(
        matches!(events.last(), Some(RunEvent::Failed(f)) if f.code == "STAGE_FAILED" && f.message == "model timeout")
    );
    assert_eq!(scenario.run_after(&events).status, RunStatus::Failed);
}

#[test]
fn rule_3_same_stage_same_status_twice_appends_nothing() {
    let events = given([
        created(&["a", "b"], &[]),
        started(),
        stage(1, StageStatus::Processing),
    ])
    .when(update_stage(1, StageStatus::Processing))
    .unwrap();
    assert!(events.is_empty());
}

#[test]
fn rule_3_repeated_last_stage_completion_after_the_run_completed_is_a_no_op() {
    let events = given([
        created(&["a"], &[]),
        started(),
        stage(1, StageStatus::Completed),
        completed(false),
    ])
    .when(update_stage(1, StageStatus::Completed))
    .unwrap();
    assert!(events.is_empty());
}

#[test]
fn rule_3_a_stage_update_on_a_queued_run_starts_it() {
    let events = given([created(&["a", "b"], &[])])
        .when(update_stage(1, StageStatus::Processing))
        .unwrap();
    assert!(matches!(
        &events[..],
        [RunEvent::Started(_), RunEvent::StageUpdated(_)]
    ));
}

#[test]
fn rule_3_stage_numbers_outside_the_run_are_invalid() {
    for number in [0, 3, u32::MAX] {
        assert_code(
            given([created(&["a", "b"], &[])]).when(update_stage(number, StageStatus::Processing)),
            "invalid_input",
        );
    }
    assert_code(
        given([created(&["a"], &[])]).when(update_stage(1, StageStatus::Pending)),
        "invalid_input",
    );
}

// Rule 4: files.

fn update_file(index: u32, status: FileStatus) -> RunCommand {
    RunCommand::UpdateFile {
        index,
        status,
        error: None,
    }
}

#[test]
fn rule_4_files_start_pending() {
    let run = given([created(&[], &["a", "b"])]).run.run.unwrap();
    assert!(run
        .files
        .iter()
        .all(|f| f.status == FileStatus::Pending && f.retry_attempt == 0));
}

#[test]
fn rule_4_all_files_completed_completes_the_run() {
    let scenario = given([
        created(&[], &["a", "b"]),
        started(),
        file(0, FileStatus::Completed),
    ]);
    let events = scenario
        .when(update_file(1, FileStatus::Completed))
        .unwrap();
    assert_eq!(scenario.run_after(&events).status, RunStatus::Completed);
}

#[test]
fn rule_4_all_files_finished_with_failures_completes_with_errors() {
    let scenario = given([
        created(&[], &["a", "b", "c"]),
        started(),
        file(0, FileStatus::Completed),
        file(1, FileStatus::Error),
    ]);
    let events = scenario.when(update_file(2, FileStatus::Failed)).unwrap();
    assert!(matches!(events.last(), Some(RunEvent::Completed(c)) if c.with_errors));
    assert_eq!(
        scenario.run_after(&events).status,
        RunStatus::CompletedWithErrors
    );
}

#[test]
fn rule_4_a_run_with_unfinished_files_does_not_complete() {
    let events = given([created(&[], &["a", "b"]), started()])
        .when(update_file(0, FileStatus::Completed))
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn rule_4_a_failed_run_keeps_pending_files_pending() {
    let run = given([
        created(&[], &["a", "b"]),
        started(),
        file(0, FileStatus::Completed),
        failed("WORKER_LOST"),
    ])
    .run
    .run
    .unwrap();
    assert_eq!(run.files[1].status, FileStatus::Pending);
}

#[test]
fn rule_4_file_indexes_outside_the_run_are_invalid() {
    assert_code(
        given([created(&[], &["a"])]).when(update_file(1, FileStatus::Running)),
        "invalid_input",
    );
    assert_code(
        given([created(&[], &["a"])]).when(update_file(0, FileStatus::Pending)),
        "invalid_input",
    );
}

// Rule 5: rerun.

fn new_run_id() -> Uuid {
    Uuid::from_u128(0xbeef)
}

#[test]
fn rule_5_rerun_copies_the_run_with_a_rerun_suffix_and_records_rerun_of() {
    let original =
        given([created(&["a", "b"], &["x.pdf"]), started(), failed("X")]).caller(owner());
    let events = run::decide_rerun(&original.run, &original.caller, new_run_id()).unwrap();
    let [RunEvent::Created(copy), RunEvent::RerunOf(rerun_of)] = &events[..] else {
        panic!("expected created + rerun_of, got {events:?}");
    };
    assert_eq!(rerun_of.original_run_id, run_id());
    assert_eq!(copy.run_id, new_run_id());
    assert_eq!(copy.document.as_ref().unwrap().name, "report.pdf (rerun)");
    assert_eq!(
        copy.document.as_ref().unwrap().url,
        "https://blob/report.pdf"
    );
    let source = &original.run.run.as_ref().unwrap().created;
    assert_eq!(copy.tenant_id, source.tenant_id);
    assert_eq!(copy.owner_id, source.owner_id);
    assert_eq!(copy.company, source.company);
    assert_eq!(copy.pipeline_version, source.pipeline_version);
    assert_eq!(copy.stages, source.stages);
    assert_eq!(copy.files, source.files);
    let new_run = RunState::from_events(&events).run.unwrap();
    assert_eq!(new_run.status, RunStatus::Queued);
    assert_eq!(new_run.rerun_of, Some(run_id()));
}

#[test]
fn rule_5_completed_and_failed_runs_can_be_rerun() {
    for ending in [completed(false), failed("X")] {
        let original = given([created(&[], &[]), started(), ending]);
        assert!(run::decide_rerun(&original.run, &owner(), new_run_id()).is_ok());
    }
}

#[test]
fn rule_5_only_the_owner_or_a_tenant_admin_may_rerun() {
    let original = given([created(&[], &[])]);
    assert_code(
        run::decide_rerun(&original.run, &acting_as("mallory", false), new_run_id()),
        "forbidden",
    );
    assert!(run::decide_rerun(&original.run, &acting_as("boss", true), new_run_id()).is_ok());
}

#[test]
fn rule_5_rerun_of_another_tenants_run_is_not_found() {
    let original = given([created(&[], &[])]);
    assert_code(
        run::decide_rerun(&original.run, &other_tenant(), new_run_id()),
        "run_not_found",
    );
    assert_code(
        run::decide_rerun(&RunState::default(), &owner(), new_run_id()),
        "run_not_found",
    );
}

#[test]
fn rule_5_rerun_does_not_claim_the_originals_idempotency_key() {
    let command = CreateRun {
        idempotency_key: Some("p:1:2".into()),
        ..create_command()
    };
    let history = given([])
        .when(RunCommand::Create(Box::new(command)))
        .unwrap();
    let original = RunState::from_events(&history);
    let events = run::decide_rerun(&original, &owner(), new_run_id()).unwrap();
    assert!(matches!(&events[0], RunEvent::Created(c) if c.idempotency_key.is_none()));
}

// Rule 6: retry failed files.

fn finished_with(files: &[FileStatus]) -> Vec<RunEvent> {
    let names: Vec<String> = (0..files.len()).map(|i| format!("f{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut history = vec![created(&[], &names), started()];
    history.extend(
        files
            .iter()
            .enumerate()
            .filter(|(_, status)| **status != FileStatus::Pending)
            .map(|(index, status)| file(index as u32, *status)),
    );
    let state = RunState::from_events(&history);
    let run = state.run.as_ref().unwrap();
    if !run.status.is_terminal() {
        history.push(failed("INTERRUPTED"));
    }
    history
}

#[test]
fn rule_6_retry_failed_is_409_while_the_run_is_running_or_queued() {
    assert_code(
        given([created(&[], &["a"]), started()])
            .account(account_with(10, 0))
            .when_billing(BillingCommand::RetryFailed),
        "run_running",
    );
    assert_code(
        given([created(&[], &["a"])]).when_billing(BillingCommand::RetryFailed),
        "run_running",
    );
}

#[test]
fn rule_6_retry_failed_is_400_when_the_run_completed_with_no_errors() {
    assert_code(
        given(finished_with(&[FileStatus::Completed])).when_billing(BillingCommand::RetryFailed),
        "nothing_to_retry",
    );
}

#[test]
fn rule_6_retry_failed_is_400_when_no_file_is_failed_or_pending() {
    assert_code(
        given(finished_with(&[FileStatus::Completed, FileStatus::Error]))
            .when_billing(BillingCommand::RetryFailed),
        "nothing_to_retry",
    );
}

#[test]
fn rule_6_retry_failed_is_all_or_nothing_at_max_retry_count() {
    let mut history = finished_with(&[FileStatus::Failed, FileStatus::Failed]);
    let scenario = given(history.clone()).account(account_with(100, 0));
    let mut state = scenario.run.clone();
    // Retry three times: file 0 fails every attempt, file 1 completes on its first retry.
    for _ in 0..3 {
        let account = scenario.account.clone();
        let decision =
            billing::decide(&state, &account, &owner(), &BillingCommand::RetryFailed).unwrap();
        history.extend(decision.run.clone());
        history.push(file(0, FileStatus::Failed));
        history.push(file(1, FileStatus::Completed));
        history.push(completed(true));
        state = RunState::from_events(&history);
    }
    let run = state.run.as_ref().unwrap();
    assert_eq!(run.files[0].retry_attempt, 3);
    assert_eq!(run.files[1].retry_attempt, 1);
    let result = billing::decide(
        &state,
        &scenario.account,
        &owner(),
        &BillingCommand::RetryFailed,
    );
    assert!(
        matches!(result, Err(DomainError::MaxRetriesReached { ref files, .. }) if files == &vec![0])
    );
}

#[test]
fn rule_6_error_files_are_never_retried() {
    let decision = given(finished_with(&[FileStatus::Error, FileStatus::Failed]))
        .account(account_with(10, 0))
        .when_billing(BillingCommand::RetryFailed)
        .unwrap();
    let RunEvent::Retried(retried) = decision.run.last().unwrap() else {
        panic!("expected run.retried");
    };
    assert_eq!(
        retried.files.iter().map(|f| f.index).collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn rule_6_failed_files_are_charged_and_pending_files_are_free() {
    let scenario = given(finished_with(&[
        FileStatus::Failed,
        FileStatus::Pending,
        FileStatus::Failed,
        FileStatus::Completed,
    ]))
    .account(account_with(10, 0))
    .caller(owner());
    let decision = scenario.when_billing(BillingCommand::RetryFailed).unwrap();
    let [RunEvent::CreditsDeducted(charge), RunEvent::Retried(retried)] = &decision.run[..] else {
        panic!("expected a charge and a retry, got {:?}", decision.run);
    };
    assert_eq!(charge.amount, 4, "two failed files at 2 credits each");
    assert_eq!(retried.credits_charged, 4);
    assert_eq!(
        retried.job_ids,
        vec![
            format!("{}:file:0", run_id()),
            format!("{}:file:1", run_id()),
            format!("{}:file:2", run_id())
        ]
    );
    assert!(
        matches!(&decision.account[..], [AccountEvent::CreditsDeducted(d)] if d.amount == 4 && d.monthly_after == 6)
    );
    let run = scenario.run_after(&decision.run);
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(
        run.files
            .iter()
            .map(|f| (f.status, f.retry_attempt))
            .collect::<Vec<_>>(),
        vec![
            (FileStatus::Pending, 1),
            (FileStatus::Pending, 1),
            (FileStatus::Pending, 1),
            (FileStatus::Completed, 0)
        ]
    );
    assert_eq!(run.charged.total(), 4);
}

#[test]
fn rule_6_retrying_only_pending_files_charges_nothing() {
    let decision = given(finished_with(&[FileStatus::Pending, FileStatus::Completed]))
        .when_billing(BillingCommand::RetryFailed)
        .unwrap();
    assert!(decision.account.is_empty());
    assert!(matches!(&decision.run[..], [RunEvent::Retried(r)] if r.credits_charged == 0));
}

#[test]
fn rule_6_retry_failed_is_402_without_credits_for_the_whole_charge() {
    let result = given(finished_with(&[FileStatus::Failed, FileStatus::Failed]))
        .account(account_with(3, 0))
        .when_billing(BillingCommand::RetryFailed);
    assert!(matches!(
        result,
        Err(DomainError::InsufficientCredits {
            required: 4,
            available: 3
        })
    ));
}

#[test]
fn rule_6_only_the_owner_or_a_tenant_admin_may_retry_failed_files() {
    let scenario = given(finished_with(&[FileStatus::Failed])).account(account_with(10, 0));
    assert_code(
        scenario
            .caller(acting_as("mallory", false))
            .when_billing(BillingCommand::RetryFailed),
        "forbidden",
    );
}

// Rule 7: retry a failed run.

#[test]
fn rule_7_a_failed_run_goes_back_to_queued_with_the_error_cleared() {
    let scenario = given([
        created(&["a"], &[]),
        started(),
        stage(1, StageStatus::Failed),
        failed("STAGE_FAILED"),
    ])
    .caller(owner());
    let events = scenario.when(RunCommand::Retry).unwrap();
    let run = scenario.run_after(&events);
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(run.error, None);
    assert_eq!(run.retry_count, 1);
    assert_eq!(run.stages[0].status, StageStatus::Pending);
}

#[test]
fn rule_7_only_failed_runs_can_be_retried() {
    for history in [
        vec![created(&[], &[])],
        vec![created(&[], &[]), started()],
        vec![created(&[], &[]), started(), completed(false)],
    ] {
        assert_code(given(history).when(RunCommand::Retry), "run_not_failed");
    }
}

#[test]
fn rule_7_retry_count_must_stay_below_max_retry_count() {
    let mut history = vec![created(&[], &[]), started(), failed("X")];
    for _ in 0..3 {
        let events = given(history.clone()).when(RunCommand::Retry).unwrap();
        history.extend(events);
        history.push(started());
        history.push(failed("X"));
    }
    assert_code(
        given(history).when(RunCommand::Retry),
        "max_retries_reached",
    );
}

#[test]
fn rule_7_only_the_owner_or_a_tenant_admin_may_retry_a_run() {
    assert_code(
        given([created(&[], &[]), started(), failed("X")])
            .caller(acting_as("mallory", false))
            .when(RunCommand::Retry),
        "forbidden",
    );
}

// Rule 8: refunds.

fn charged_run(monthly: i64, purchased: i64, charge: i64) -> (Vec<RunEvent>, Vec<AccountEvent>) {
    let mut account_events = account_with(monthly, purchased);
    let scenario = given([created(&[], &[])]).account(account_events.clone());
    let decision = scenario
        .when_billing(BillingCommand::Charge {
            amount: charge,
            reason: None,
        })
        .unwrap();
    let mut run_events = vec![created(&[], &[])];
    run_events.extend(decision.run);
    account_events.extend(decision.account);
    (run_events, account_events)
}

#[test]
fn rule_8_a_refund_never_exceeds_what_was_charged_and_not_yet_refunded() {
    let (run_events, account_events) = charged_run(5, 5, 8);
    let scenario = given(run_events.clone()).account(account_events.clone());
    assert_code(
        scenario.when_billing(BillingCommand::Refund {
            amount: 9,
            reason: None,
        }),
        "refund_exceeds_charge",
    );
    let first = scenario
        .when_billing(BillingCommand::Refund {
            amount: 6,
            reason: None,
        })
        .unwrap();
    let mut run_after = run_events;
    run_after.extend(first.run);
    let mut account_after = account_events;
    account_after.extend(first.account);
    let scenario = given(run_after).account(account_after);
    assert_code(
        scenario.when_billing(BillingCommand::Refund {
            amount: 3,
            reason: None,
        }),
        "refund_exceeds_charge",
    );
    assert!(scenario
        .when_billing(BillingCommand::Refund {
            amount: 2,
            reason: None
        })
        .is_ok());
}

#[test]
fn rule_8_a_refund_goes_back_to_the_buckets_the_charge_came_from() {
    // 8 charged: 5 monthly, 3 purchased. Refund 4: 3 purchased back, then 1 monthly.
    let (run_events, account_events) = charged_run(5, 5, 8);
    let decision = given(run_events)
        .account(account_events)
        .when_billing(BillingCommand::Refund {
            amount: 4,
            reason: Some("worker crash".into()),
        })
        .unwrap();
    let [AccountEvent::CreditsRefunded(refund)] = &decision.account[..] else {
        panic!("expected one refund");
    };
    assert_eq!(
        refund.split,
        BucketSplit {
            monthly: 1,
            purchased: 3
        }
    );
    assert_eq!((refund.monthly_after, refund.purchased_after), (1, 5));
}

#[test]
fn rule_8_an_uncharged_run_cannot_be_refunded() {
    assert_code(
        given([created(&[], &[])]).when_billing(BillingCommand::Refund {
            amount: 1,
            reason: None,
        }),
        "refund_exceeds_charge",
    );
}

// Rule 9: balances.

#[test]
fn rule_9_deductions_take_monthly_credits_first_then_purchased() {
    let (_, account_events) = charged_run(5, 5, 8);
    let AccountEvent::CreditsDeducted(deduction) = account_events.last().unwrap() else {
        panic!("expected a deduction");
    };
    assert_eq!(
        deduction.split,
        BucketSplit {
            monthly: 5,
            purchased: 3
        }
    );
    assert_eq!((deduction.monthly_after, deduction.purchased_after), (0, 2));
    let state = AccountState::from_events(&account_events);
    assert_eq!((state.total(), state.consumed), (2, 8));
}

#[test]
fn rule_9_a_balance_never_goes_below_zero() {
    let scenario = given([created(&[], &[])]).account(account_with(2, 1));
    assert!(matches!(
        scenario.when_billing(BillingCommand::Charge {
            amount: 4,
            reason: None
        }),
        Err(DomainError::InsufficientCredits {
            required: 4,
            available: 3
        })
    ));
    assert!(scenario
        .when_billing(BillingCommand::Charge {
            amount: 3,
            reason: None
        })
        .is_ok());
}

#[test]
fn rule_9_amounts_must_be_positive_and_bounded() {
    let scenario = given([created(&[], &[])]).account(account_with(2, 0));
    for amount in [0, -1, crate::MAX_AMOUNT + 1] {
        assert_code(
            scenario.when_billing(BillingCommand::Charge {
                amount,
                reason: None,
            }),
            "invalid_input",
        );
        assert_code(
            account::decide(
                &AccountState::default(),
                &AccountCommand::Grant {
                    bucket: Bucket::Monthly,
                    amount,
                    reason: None,
                },
            ),
            "invalid_input",
        );
    }
}

#[test]
fn rule_9_grants_credit_their_bucket_and_carry_the_balance_after() {
    let events = account_with(7, 3);
    let state = AccountState::from_events(&events);
    assert_eq!((state.monthly, state.purchased, state.granted), (7, 3, 10));
    assert!(
        matches!(events.last(), Some(AccountEvent::CreditsGranted(g)) if g.monthly_after == 7 && g.purchased_after == 3)
    );
}

// The serialization contract.

#[test]
fn event_type_names_are_the_contract() {
    let names: Vec<String> = [
        created(&[], &[]),
        RunEvent::RerunOf(RunRerunOf {
            original_run_id: run_id(),
        }),
        started(),
        stage(1, StageStatus::Completed),
        file(0, FileStatus::Failed),
        charged_run(1, 0, 1).0[1].clone(),
        RunEvent::Refunded(RunRefunded {
            amount: 1,
            split: BucketSplit::default(),
            reason: None,
        }),
        RunEvent::Retried(RunRetried {
            scope: RetryScope::Files,
            files: vec![],
            credits_charged: 0,
            job_ids: vec![],
        }),
        RunEvent::MetricsUpdated(RunMetricsUpdated {
            metrics: Metrics::new(),
        }),
        completed(false),
        failed("X"),
        RunEvent::Cancelled(RunCancelled::default()),
    ]
    .iter()
    .map(|event| event.encode().event_type)
    .collect();
    assert_eq!(
        names,
        [
            "run.created",
            "run.rerun_of",
            "run.started",
            "run.stage_updated",
            "run.file_updated",
            "run.credits_deducted",
            "run.refunded",
            "run.retried",
            "run.metrics_updated",
            "run.completed",
            "run.failed",
            "run.cancelled"
        ]
    );
    assert_eq!(names[1], RunEvent::RERUN_OF_TYPE);
    let account_names: Vec<String> = charged_run(1, 0, 1)
        .1
        .iter()
        .map(|event| event.encode().event_type)
        .collect();
    assert_eq!(
        account_names,
        ["account.credits_granted", "account.credits_deducted"]
    );
}

#[test]
fn encoded_events_decode_to_themselves() {
    let events = finished_with(&[FileStatus::Failed, FileStatus::Completed]);
    for event in events {
        let encoded = event.encode();
        let text = encoded.data.to_string();
        let decoded =
            RunEvent::decode(&encoded.event_type, encoded.schema_version, encoded.data).unwrap();
        assert_eq!(decoded, event);
        let from_text =
            RunEvent::decode_json(&encoded.event_type, encoded.schema_version, &text).unwrap();
        assert_eq!(from_text, event, "{text}");
    }
    for event in charged_run(2, 0, 1).1 {
        let encoded = event.encode();
        let text = encoded.data.to_string();
        assert_eq!(
            AccountEvent::decode_json(&encoded.event_type, encoded.schema_version, &text).unwrap(),
            event
        );
    }
}

#[test]
fn events_read_from_text_are_upcast_refused_and_checked_as_from_values() {
    let v1 = r#"{"run_id": "8a3c8f6e-1f7b-4a53-9a51-2e0c1b7f0a01", "tenant_id": "acme",
        "owner_id": "ada", "document_name": "report.pdf", "document_url": "https://blob/report.pdf",
        "credits_per_file": 1, "max_retry_count": 3}"#;
    let upcast = RunEvent::decode_json("run.created", 1, v1).unwrap();
    assert_eq!(
        upcast,
        RunEvent::decode("run.created", 1, serde_json::from_str(v1).unwrap()).unwrap()
    );
    let started = started().encode();
    let future = RunEvent::decode_json("run.started", started.schema_version + 1, "{}");
    assert!(matches!(future, Err(DecodeError::FutureSchema { .. })));
    let account = account_with(1, 0)[0].encode();
    let text = account.data.to_string();
    assert!(matches!(
        RunEvent::decode_json(&account.event_type, account.schema_version, &text),
        Err(DecodeError::Malformed { .. })
    ));
    for bad in [
        "",
        "{",
        r#"{"stage": "one", "status": "completed"}"#,
        "1e400",
    ] {
        assert!(
            matches!(
                RunEvent::decode_json("run.stage_updated", 1, bad),
                Err(DecodeError::Malformed { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn run_created_v1_is_upcast_to_nested_document_and_company() {
    let v1 = json!({
        "run_id": run_id(),
        "tenant_id": TENANT,
        "owner_id": OWNER,
        "document_name": "report.pdf",
        "document_url": "https://blob/report.pdf",
        "company_id": "c1",
        "company_name": "Lactalis",
        "credits_per_file": 1,
        "max_retry_count": 3
    });
    let event = RunEvent::decode("run.created", 1, v1).unwrap();
    let RunEvent::Created(created) = event else {
        panic!("expected run.created");
    };
    assert_eq!(
        created.document,
        Some(Document {
            name: "report.pdf".into(),
            url: "https://blob/report.pdf".into()
        })
    );
    assert_eq!(created.company.unwrap().name, "Lactalis");
}

#[test]
fn events_from_a_future_schema_version_are_refused() {
    let encoded = started().encode();
    let error = RunEvent::decode("run.started", encoded.schema_version + 1, encoded.data);
    assert!(matches!(error, Err(DecodeError::FutureSchema { .. })));
}

#[test]
fn an_account_event_is_not_a_run_event() {
    let encoded = account_with(1, 0)[0].encode();
    assert!(RunEvent::decode(&encoded.event_type, 1, encoded.data).is_err());
}

fn created_key(key_id: Uuid) -> crate::key::KeyCreated {
    crate::key::KeyCreated {
        key_id,
        tenant_id: Some("acme".into()),
        scopes: vec!["read".into()],
        label: None,
        expires_at: None,
    }
}

fn key_after(key_id: Uuid, commands: &[crate::key::KeyCommand]) -> crate::key::KeyState {
    commands.iter().fold(Default::default(), |state, command| {
        crate::key::decide(key_id, &state, command)
            .unwrap()
            .iter()
            .fold(state, crate::key::evolve)
    })
}

#[test]
fn revoking_a_revoked_key_records_nothing_more() {
    use crate::key::{decide, KeyCommand};
    let key_id = Uuid::from_u128(7);
    let revoked = key_after(
        key_id,
        &[KeyCommand::Create(created_key(key_id)), KeyCommand::Revoke],
    );
    assert!(revoked.revoked);
    assert_eq!(
        decide(key_id, &revoked, &KeyCommand::Revoke).unwrap(),
        vec![]
    );
}

#[test]
fn a_revoked_key_cannot_be_rotated() {
    use crate::key::{decide, KeyCommand};
    let key_id = Uuid::from_u128(7);
    let revoked = key_after(key_id, &[KeyCommand::Revoke]);
    let rotate = KeyCommand::Rotate {
        grace_seconds: 0,
        previous_valid_until: chrono::DateTime::from_timestamp(0, 0).unwrap(),
    };
    assert!(matches!(
        decide(key_id, &revoked, &rotate),
        Err(DomainError::KeyRevoked { .. })
    ));
}

#[test]
fn a_key_is_created_once_and_keys_from_before_key_events_can_be_rotated() {
    use crate::key::{decide, KeyCommand};
    let key_id = Uuid::from_u128(7);
    let create = KeyCommand::Create(created_key(key_id));
    let created = key_after(key_id, std::slice::from_ref(&create));
    assert!(decide(key_id, &created, &create).is_err());
    let rotate = KeyCommand::Rotate {
        grace_seconds: 60,
        previous_valid_until: chrono::DateTime::from_timestamp(60, 0).unwrap(),
    };
    let legacy = key_after(key_id, &[rotate.clone(), rotate]);
    assert_eq!(legacy.rotations, 2);
    assert!(legacy.created.is_none());
}

/// `decide_and_evolve` is `decide` followed by folding its events, for
/// every kind of command, implied terminal events and refusals included.
#[test]
fn deciding_and_evolving_at_once_equals_deciding_then_folding() {
    let commands = [
        RunCommand::Create(Box::new(CreateRun {
            stages: vec!["a".into(), "b".into()],
            files: vec!["x".into(), "y".into(), "z".into()],
            ..create_command()
        })),
        update_stage(1, StageStatus::Processing),
        update_file(0, FileStatus::Running),
        update_file(0, FileStatus::Running),
        RunCommand::UpdateMetrics {
            metrics: metrics(json!({"pages": 3})),
        },
        update_file(0, FileStatus::Completed),
        update_stage(2, StageStatus::Pending),
        update_stage(1, StageStatus::Failed),
        RunCommand::Retry,
        update_stage(9, StageStatus::Completed),
        update_stage(1, StageStatus::Completed),
        update_stage(2, StageStatus::Completed),
        update_file(0, FileStatus::Completed),
        update_file(1, FileStatus::Error),
        update_file(2, FileStatus::Completed),
        RunCommand::Cancel { reason: None },
    ];
    let mut state = RunState::default();
    let mut implied = 0;
    for command in &commands {
        let decided = run::decide(&state, &owner(), command);
        let at_once = run::decide_and_evolve(state.clone(), &owner(), command);
        match (decided, at_once) {
            (Ok(events), Ok((same_events, after))) => {
                assert_eq!(same_events, events, "{command:?}");
                implied += events
                    .iter()
                    .filter(|e| matches!(e, RunEvent::Failed(_) | RunEvent::Completed(_)))
                    .count();
                state = events.iter().fold(state, run::evolve);
                assert_eq!(after, state, "{command:?}");
            }
            (Err(refused), Err(same)) => assert_eq!(same, refused, "{command:?}"),
            (decided, at_once) => panic!("{command:?}: {decided:?} against {at_once:?}"),
        }
    }
    assert!(
        implied >= 2,
        "the commands imply a failure and a completion"
    );
}

#[test]
fn a_stored_run_leaves_out_what_is_unset_and_reads_back_as_itself() {
    let queued = RunState::from_events(&[created(&["extract", "load"], &["a.pdf"])]);
    let text = serde_json::to_string(&queued).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = stored["run"].as_object().unwrap();
    let stage = stored["run"]["stages"][0].as_object().unwrap();
    let file = stored["run"]["files"][0].as_object().unwrap();
    for (fields, unset) in [
        (run, &["rerun_of", "error", "output", "metrics"][..]),
        (stage, &["output", "error"][..]),
        (file, &["error"][..]),
    ] {
        for field in unset {
            assert!(!fields.contains_key(*field), "{field} in {text}");
        }
    }
    assert_eq!(serde_json::from_str::<RunState>(&text).unwrap(), queued);

    let mut history = finished_with(&[FileStatus::Failed, FileStatus::Completed]);
    history.push(failed("X"));
    let failed_run = RunState::from_events(&history);
    assert!(failed_run.run.as_ref().unwrap().error.is_some());
    let text = serde_json::to_string(&failed_run).unwrap();
    assert_eq!(serde_json::from_str::<RunState>(&text).unwrap(), failed_run);
}

#[test]
fn a_run_stored_with_every_field_spelled_out_reads_as_the_same_run() {
    // A row of run history as versions before the compact form wrote it.
    let spelled_out = json!({"run": {
        "created": {
            "run_id": "8a3c8f6e-1f7b-4a53-9a51-2e0c1b7f0a01", "tenant_id": "bench",
            "owner_id": "bench", "project_id": null, "pipeline_version": null,
            "input_version": null, "document": null, "company": null,
            "stages": ["extract", "load"], "files": [{"name": "a.pdf"}],
            "credits_per_file": 1, "max_retry_count": 3, "idempotency_key": null,
            "inputs": null
        },
        "status": "queued",
        "stages": [
            {"name": "extract", "status": "pending", "output": null, "error": null},
            {"name": "load", "status": "pending", "output": null, "error": null}
        ],
        "files": [{"name": "a.pdf", "status": "pending", "retry_attempt": 0, "error": null}],
        "rerun_of": null, "retry_count": 0,
        "charged": {"monthly": 0, "purchased": 0},
        "refunded": {"monthly": 0, "purchased": 0},
        "error": null, "output": null, "metrics": {}
    }});
    let created: RunCreated = serde_json::from_value(json!({
        "run_id": "8a3c8f6e-1f7b-4a53-9a51-2e0c1b7f0a01", "tenant_id": "bench",
        "owner_id": "bench", "stages": ["extract", "load"], "files": [{"name": "a.pdf"}],
        "credits_per_file": 1, "max_retry_count": 3
    }))
    .unwrap();
    let folded = RunState::from_events(&[RunEvent::Created(Box::new(created))]);
    assert_eq!(
        serde_json::from_value::<RunState>(spelled_out).unwrap(),
        folded
    );
}
