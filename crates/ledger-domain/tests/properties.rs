//! RELIABILITY B8: random command sequences through decide and evolve keep
//! the ledger's invariants.

use ledger_domain::account::{self, AccountCommand, AccountState};
use ledger_domain::billing::{self, BillingCommand};
use ledger_domain::events::{AccountEvent, Bucket, FileStatus, RunEvent, StageStatus};
use ledger_domain::run::{self, Completion, CreateRun, RunCommand, RunState};
use ledger_domain::{Caller, DomainError};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Grant(Bucket, i64),
    Charge(i64),
    Refund(i64),
    RetryFailed,
    Run(RunCommand),
}

fn stage_status() -> impl Strategy<Value = StageStatus> {
    prop_oneof![
        Just(StageStatus::Processing),
        Just(StageStatus::Completed),
        Just(StageStatus::Failed),
        Just(StageStatus::Cancelled),
    ]
}

fn file_status() -> impl Strategy<Value = FileStatus> {
    prop_oneof![
        Just(FileStatus::Running),
        Just(FileStatus::Completed),
        Just(FileStatus::Failed),
        Just(FileStatus::Error),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            prop_oneof![Just(Bucket::Monthly), Just(Bucket::Purchased)],
            1i64..20
        )
            .prop_map(|(bucket, amount)| Op::Grant(bucket, amount)),
        (-2i64..25).prop_map(Op::Charge),
        (-2i64..25).prop_map(Op::Refund),
        Just(Op::RetryFailed),
        Just(Op::Run(RunCommand::Start)),
        (0u32..4, stage_status()).prop_map(|(stage, status)| Op::Run(RunCommand::UpdateStage {
            stage,
            status,
            output: None,
            error: None
        })),
        (0u32..4, file_status()).prop_map(|(index, status)| Op::Run(RunCommand::UpdateFile {
            index,
            status,
            error: None
        })),
        Just(Op::Run(RunCommand::Complete(Completion::default()))),
        Just(Op::Run(RunCommand::Fail {
            code: "X".into(),
            message: "m".into(),
            detail: None
        })),
        Just(Op::Run(RunCommand::Cancel { reason: None })),
        Just(Op::Run(RunCommand::Retry)),
    ]
}

fn is_progress(command: &RunCommand) -> bool {
    !matches!(command, RunCommand::Retry | RunCommand::Create(_))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_command_sequences_keep_the_ledger_invariants(
        stages in 0usize..3,
        files in 0usize..4,
        max_retry_count in 1u32..4,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let caller = Caller::system();
        let create = CreateRun {
            run_id: Uuid::from_u128(1),
            tenant_id: "t".into(),
            owner_id: "o".into(),
            project_id: None,
            pipeline_version: None,
            input_version: None,
            document: None,
            company: None,
            stages: (0..stages).map(|i| format!("s{i}")).collect(),
            files: (0..files).map(|i| format!("f{i}")).collect(),
            credits_per_file: 2,
            max_retry_count,
            idempotency_key: None,
            inputs: None,
        };
        let mut run_log: Vec<RunEvent> =
            run::decide(&RunState::default(), &caller, &RunCommand::Create(Box::new(create))).unwrap();
        let mut account_log: Vec<AccountEvent> = vec![];
        let mut run_state = RunState::from_events(&run_log);
        let mut account_state = AccountState::default();

        for op in ops {
            let was_terminal = run_state.run.as_ref().unwrap().status.is_terminal();
            let (run_events, account_events) = match &op {
                Op::Grant(bucket, amount) => {
                    let command = AccountCommand::Grant { bucket: *bucket, amount: *amount, reason: None };
                    let first = account::decide(&account_state, &command);
                    prop_assert_eq!(&first, &account::decide(&account_state, &command), "decide is deterministic");
                    (vec![], first.unwrap_or_default())
                }
                Op::Charge(_) | Op::Refund(_) | Op::RetryFailed => {
                    let command = match op {
                        Op::Charge(amount) => BillingCommand::Charge { amount, reason: None },
                        Op::Refund(amount) => BillingCommand::Refund { amount, reason: None },
                        _ => BillingCommand::RetryFailed,
                    };
                    let first = billing::decide(&run_state, &account_state, &caller, &command);
                    let second = billing::decide(&run_state, &account_state, &caller, &command);
                    prop_assert_eq!(&first, &second, "decide is deterministic");
                    match first {
                        Ok(decision) => (decision.run, decision.account),
                        Err(DomainError::InsufficientCredits { required, available }) => {
                            prop_assert!(required > available);
                            (vec![], vec![])
                        }
                        Err(_) => (vec![], vec![]),
                    }
                }
                Op::Run(command) => {
                    let first = run::decide(&run_state, &caller, command);
                    prop_assert_eq!(&first, &run::decide(&run_state, &caller, command), "decide is deterministic");
                    let events = first.unwrap_or_default();
                    if was_terminal && is_progress(command) {
                        prop_assert!(events.is_empty(), "a terminal run took progress: {:?}", events);
                    }
                    (events, vec![])
                }
            };
            run_state = run_events.iter().fold(run_state, run::evolve);
            account_state = account_events.iter().fold(account_state, account::evolve);
            run_log.extend(run_events);
            account_log.extend(account_events);

            prop_assert!(account_state.monthly >= 0 && account_state.purchased >= 0, "negative balance");
            let run = run_state.run.as_ref().unwrap();
            prop_assert!(run.refunded.monthly <= run.charged.monthly);
            prop_assert!(run.refunded.purchased <= run.charged.purchased);
            prop_assert!(run.files.iter().all(|f| f.retry_attempt <= max_retry_count));
            prop_assert!(run.retry_count <= max_retry_count);
        }

        prop_assert_eq!(&RunState::from_events(&run_log), &run_state, "fold(events) == state");
        prop_assert_eq!(&AccountState::from_events(&account_log), &account_state);
        prop_assert_eq!(
            account_state.total(),
            account_state.granted - account_state.consumed + account_state.refunded,
            "the account balances as a ledger"
        );
        let run = run_state.run.as_ref().unwrap();
        prop_assert_eq!(run.charged.total(), account_state.consumed, "the run and its account agree");
    }
}
