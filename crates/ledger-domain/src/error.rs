//! The one error type of the rules.

use serde::Serialize;

/// Why a command was refused. Each variant has a stable machine `code()`,
/// which the HTTP layer sends as the problem+json `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum DomainError {
    /// The API key was revoked: it cannot be rotated (HTTP 409, `key_revoked`).
    #[error("key {key_id} is revoked")]
    KeyRevoked {
        /// The key.
        key_id: uuid::Uuid,
    },
    /// The run does not exist, or belongs to another tenant (HTTP 404, `run_not_found`).
    #[error("run not found")]
    RunNotFound,
    /// A run with this id exists already (HTTP 409, `run_already_exists`).
    #[error("run {run_id} already exists")]
    RunAlreadyExists {
        /// The id that is taken.
        run_id: uuid::Uuid,
    },
    /// The actor may not do this to the run (HTTP 403, `forbidden`).
    #[error("forbidden: {reason}")]
    Forbidden {
        /// What the actor lacks.
        reason: String,
    },
    /// The run is queued or running, so it cannot be retried now (HTTP 409, `run_running`).
    #[error("run is {status}, not finished")]
    RunRunning {
        /// The run's current status.
        status: String,
    },
    /// The run has ended and accepts no more progress (HTTP 409, `run_terminal`).
    #[error("run is {status} and accepts no more progress")]
    RunTerminal {
        /// The run's terminal status.
        status: String,
    },
    /// Only failed runs can be retried as a whole (HTTP 409, `run_not_failed`).
    #[error("only failed runs can be retried; run is {status}")]
    RunNotFailed {
        /// The run's current status.
        status: String,
    },
    /// There is nothing a retry could do (HTTP 400, `nothing_to_retry`).
    #[error("nothing to retry: {reason}")]
    NothingToRetry {
        /// Why there is nothing to retry.
        reason: String,
    },
    /// A file or the run reached `max_retry_count` (HTTP 400, `max_retries_reached`).
    #[error("max retries reached ({max_retry_count})")]
    MaxRetriesReached {
        /// The run's limit.
        max_retry_count: u32,
        /// File indexes at the limit; empty for a whole-run retry.
        files: Vec<u32>,
    },
    /// The account cannot pay the whole charge (HTTP 402, `insufficient_credits`).
    #[error("insufficient credits: {required} required, {available} available")]
    InsufficientCredits {
        /// Credits the command needs.
        required: i64,
        /// Credits the account holds.
        available: i64,
    },
    /// A refund would return more than was charged and not yet refunded (HTTP 400, `refund_exceeds_charge`).
    #[error("refund of {requested} exceeds the {refundable} refundable")]
    RefundExceedsCharge {
        /// The refund asked for.
        requested: i64,
        /// What the run may still get back.
        refundable: i64,
    },
    /// A value of the command is out of range or malformed (HTTP 400, `invalid_input`).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl DomainError {
    /// The stable machine code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::KeyRevoked { .. } => "key_revoked",
            DomainError::RunNotFound => "run_not_found",
            DomainError::RunAlreadyExists { .. } => "run_already_exists",
            DomainError::Forbidden { .. } => "forbidden",
            DomainError::RunRunning { .. } => "run_running",
            DomainError::RunTerminal { .. } => "run_terminal",
            DomainError::RunNotFailed { .. } => "run_not_failed",
            DomainError::NothingToRetry { .. } => "nothing_to_retry",
            DomainError::MaxRetriesReached { .. } => "max_retries_reached",
            DomainError::InsufficientCredits { .. } => "insufficient_credits",
            DomainError::RefundExceedsCharge { .. } => "refund_exceeds_charge",
            DomainError::InvalidInput { .. } => "invalid_input",
        }
    }

    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        DomainError::InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}
