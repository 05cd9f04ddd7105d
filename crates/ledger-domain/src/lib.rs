//! The run ledger's rules, with no IO: event types (the stored contract),
//! run, account and API key states, `evolve` (state + event -> state) and `decide`
//! (state + command -> events or a `DomainError`).
//!
//! Time, new ids and prices come in with the command, so every decision is a
//! pure function of its inputs and can be replayed.

pub mod account;
pub mod billing;
mod error;
pub mod events;
pub mod key;
pub mod run;
pub mod time;

pub use error::DomainError;

/// The largest credit amount, and the largest balance of one bucket. It keeps
/// every sum of amounts far inside `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A person a backend acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The person's id (`X-Actor-Id`).
    pub id: String,
    /// Whether the person is an admin of the run's tenant (`X-Actor-Role: admin`).
    pub tenant_admin: bool,
}

/// Who issues a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the caller's key is bound to; `None` for all-tenant keys.
    pub tenant_id: Option<String>,
    /// The person acted for, if any; without one the backend acts for itself.
    pub actor: Option<Actor>,
}

impl Caller {
    /// A caller with access to every tenant and no person behind it.
    pub fn system() -> Self {
        Caller::default()
    }
}

/// What every run stream's id starts with.
pub const RUN_STREAM_PREFIX: &str = "run-";

/// What every credit account stream's id starts with.
pub const ACCOUNT_STREAM_PREFIX: &str = "account-";

/// The stream of a run: `run-{run_id}`.
pub fn run_stream_id(run_id: uuid::Uuid) -> String {
    format!("{RUN_STREAM_PREFIX}{run_id}")
}

/// The stream of a tenant's credit account: `account-{tenant_id}`.
pub fn account_stream_id(tenant_id: &str) -> String {
    format!("{ACCOUNT_STREAM_PREFIX}{tenant_id}")
}

#[cfg(test)]
mod tests;
