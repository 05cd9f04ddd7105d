//! Commands that move credits: they decide on a run and its tenant's account
//! together, and their events are appended to both streams atomically.

use uuid::Uuid;

use crate::account::{validate_amount, AccountState};
use crate::error::DomainError;
use crate::events::*;
use crate::run::{Run, RunState, RunStatus};
use crate::Caller;

/// Commands on a run and its tenant's account together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingCommand {
    /// Charge the run (`run.credits_deducted`).
    Charge {
        /// Credits.
        amount: i64,
        /// Why.
        reason: Option<String>,
    },
    /// Return credits charged to the run (SPEC rule 8).
    Refund {
        /// Credits.
        amount: i64,
        /// Why.
        reason: Option<String>,
    },
    /// Retry failed and pending files (SPEC rule 6).
    RetryFailed,
}

/// The events of a billing command, per stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BillingDecision {
    /// For the run's stream.
    pub run: Vec<RunEvent>,
    /// For the account's stream.
    pub account: Vec<AccountEvent>,
}

/// Decides a billing command. `account` must be the account of the run's tenant.
///
/// # Errors
/// The rule the command breaks (see `DomainError`).
pub fn decide(
    run: &RunState,
    account: &AccountState,
    caller: &Caller,
    command: &BillingCommand,
) -> Result<BillingDecision, DomainError> {
    let run = run.visible_run(caller)?;
    match command {
        BillingCommand::Charge { amount, reason } => {
            validate_amount(*amount)?;
            let split = account.split_deduction(*amount)?;
            Ok(charge(run, account, split, reason.clone()))
        }
        BillingCommand::Refund { amount, reason } => {
            validate_amount(*amount)?;
            refund(run, account, *amount, reason.clone())
        }
        BillingCommand::RetryFailed => retry_failed(run, account, caller),
    }
}

fn charge(
    run: &Run,
    account: &AccountState,
    split: BucketSplit,
    reason: Option<String>,
) -> BillingDecision {
    BillingDecision {
        run: vec![RunEvent::CreditsDeducted(RunCreditsDeducted {
            amount: split.total(),
            split,
            reason,
        })],
        account: vec![AccountEvent::CreditsDeducted(AccountCreditsDeducted {
            amount: split.total(),
            split,
            run_id: run.run_id(),
            monthly_after: account.monthly - split.monthly,
            purchased_after: account.purchased - split.purchased,
        })],
    }
}

/// Refunds go back to the buckets the charges came from, purchased credits
/// first: they were paid for, while the monthly allowance expires.
fn refund(
    run: &Run,
    account: &AccountState,
    amount: i64,
    reason: Option<String>,
) -> Result<BillingDecision, DomainError> {
    let refundable = BucketSplit {
        monthly: run.charged.monthly - run.refunded.monthly,
        purchased: run.charged.purchased - run.refunded.purchased,
    };
    if amount > refundable.total() {
        return Err(DomainError::RefundExceedsCharge {
            requested: amount,
            refundable: refundable.total(),
        });
    }
    let purchased = amount.min(refundable.purchased);
    let split = BucketSplit {
        monthly: amount - purchased,
        purchased,
    };
    Ok(BillingDecision {
        run: vec![RunEvent::Refunded(RunRefunded {
            amount,
            split,
            reason,
        })],
        account: vec![AccountEvent::CreditsRefunded(AccountCreditsRefunded {
            amount,
            split,
            run_id: run.run_id(),
            monthly_after: account.monthly + split.monthly,
            purchased_after: account.purchased + split.purchased,
        })],
    })
}

fn retry_failed(
    run: &Run,
    account: &AccountState,
    caller: &Caller,
) -> Result<BillingDecision, DomainError> {
    run.authorize_owner(caller)?;
    if run.status == RunStatus::Queued || run.status == RunStatus::Running {
        return Err(DomainError::RunRunning {
            status: run.status.as_str().into(),
        });
    }
    if run.status == RunStatus::Completed {
        return Err(DomainError::NothingToRetry {
            reason: "the run completed with no errors".into(),
        });
    }
    let retried: Vec<(u32, &crate::run::RunFile)> = run
        .files
        .iter()
        .enumerate()
        .filter(|(_, file)| matches!(file.status, FileStatus::Failed | FileStatus::Pending))
        .map(|(index, file)| (index as u32, file))
        .collect();
    if retried.is_empty() {
        return Err(DomainError::NothingToRetry {
            reason: "no file is failed or pending".into(),
        });
    }
    let exhausted: Vec<u32> = retried
        .iter()
        .filter(|(_, file)| file.retry_attempt >= run.created.max_retry_count)
        .map(|(index, _)| *index)
        .collect();
    if !exhausted.is_empty() {
        return Err(DomainError::MaxRetriesReached {
            max_retry_count: run.created.max_retry_count,
            files: exhausted,
        });
    }
    let failed_count = retried
        .iter()
        .filter(|(_, file)| file.status == FileStatus::Failed)
        .count() as i64;
    let price = failed_count
        .checked_mul(run.created.credits_per_file)
        .ok_or_else(|| DomainError::invalid("credits_per_file", "the charge overflows"))?;
    let mut decision = if price > 0 {
        let split = account.split_deduction(price)?;
        charge(run, account, split, Some("retry failed files".into()))
    } else {
        BillingDecision::default()
    };
    decision.run.push(RunEvent::Retried(RunRetried {
        scope: RetryScope::Files,
        files: retried
            .iter()
            .map(|(index, file)| RetriedFile {
                index: *index,
                retry_attempt: file.retry_attempt + 1,
                charged: file.status == FileStatus::Failed,
            })
            .collect(),
        credits_charged: price,
        job_ids: retried
            .iter()
            .map(|(index, _)| file_job_id(run.run_id(), *index))
            .collect(),
    }));
    Ok(decision)
}

/// The job id a retried file is enqueued under, so a queue deduplicates it.
pub fn file_job_id(run_id: Uuid, index: u32) -> String {
    format!("{run_id}:file:{index}")
}
