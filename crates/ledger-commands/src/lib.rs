//! Command execution: load the streams a command touches (from a snapshot
//! and the events after it), fold them, decide, and append the decision
//! with the versions it was made on. A version conflict means another
//! command got there first: the command is re-loaded and re-decided, a
//! bounded number of times, then reported.
//!
//! This is the only place that turns domain decisions into appends; HTTP
//! handlers and the CLI call it and never append themselves.

use std::time::Duration;

use ledger_domain::account::{self, AccountCommand, AccountState};
use ledger_domain::billing::{self, BillingCommand};
use ledger_domain::events::{AccountEvent, KeyEvent, RunEvent, StreamEvent};
use ledger_domain::key::{self, key_stream_id, KeyCommand, KeyState};
use ledger_domain::run::{self, CreateRun, Run, RunCommand, RunState};
use ledger_domain::{account_stream_id, run_stream_id, Caller, DomainError};
use ledger_store::{
    AppendError, AppendOutcome, AppendRequest, AppendedEvent, EventMetadata, EventStore,
    ExpectedVersion, NewEvent, ReadError, ReadUntil, Snapshot, StreamAppend, UniqueClaim,
};
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

/// Format of snapshot states; bump when `RunState` or `AccountState` change
/// shape, and old snapshots are ignored (then replaced).
pub const STATE_FORMAT: u32 = 1;

/// Why a command did not take effect. Nothing was appended in any case but
/// `Store` during a commit (then retrying with the same command id is safe).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A rule refused it (status per `DomainError`).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Other commands kept changing the stream; HTTP 409 `version_conflict`.
    #[error("{stream_id} changed concurrently; retry the command")]
    VersionConflict {
        /// The contended stream.
        stream_id: String,
    },
    /// A client-supplied event id was used before for other events; HTTP 409 `event_id_reused`.
    #[error("event id {event_id} was already used for other events")]
    EventIdReused {
        /// The id.
        event_id: Uuid,
    },
    /// The input cannot be stored (for example a NUL character); HTTP 400 `invalid_input`.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A stored event cannot be read by this build; HTTP 500.
    #[error("stream {stream_id} holds an unreadable event: {reason}")]
    Corrupt {
        /// The stream.
        stream_id: String,
        /// Why.
        reason: String,
    },
    /// An event the command needs cannot be read by this build (see
    /// `ReadError::Undecodable`); HTTP 500 `event_unreadable`.
    #[error("the event at position {position} cannot be read: {reason}")]
    Unreadable {
        /// Its global position.
        position: u64,
        /// Why.
        reason: String,
    },
    /// The database is unavailable (`ledger_store::is_transient`); HTTP
    /// 503 `store_unavailable` with `Retry-After`.
    #[error("event store unavailable")]
    Store(#[source] StoreFailure),
    /// The database failed in a way retrying does not mend (a bug, a
    /// schema that is not this build's); HTTP 500 `internal_error`.
    #[error("event store failed")]
    StoreFailed(#[source] StoreFailure),
}

/// What the store reported, kept whole (with its sources) for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    /// A read failed.
    #[error(transparent)]
    Read(ReadError),
    /// An append failed.
    #[error(transparent)]
    Append(AppendError),
}

impl CommandError {
    /// The stable machine code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Domain(error) => error.code(),
            CommandError::VersionConflict { .. } => "version_conflict",
            CommandError::EventIdReused { .. } => "event_id_reused",
            CommandError::Invalid(_) => "invalid_input",
            CommandError::Corrupt { .. } => "internal_error",
            CommandError::Unreadable { .. } => "event_unreadable",
            CommandError::Store(_) => "store_unavailable",
            CommandError::StoreFailed(_) => "internal_error",
        }
    }
}

impl From<ReadError> for CommandError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Undecodable {
                position, reason, ..
            } => CommandError::Unreadable { position, reason },
            ReadError::Database(ref database) if ledger_store::is_transient(database) => {
                CommandError::Store(StoreFailure::Read(error))
            }
            ReadError::Database(_) => CommandError::StoreFailed(StoreFailure::Read(error)),
        }
    }
}

/// Who and why, recorded in every event's metadata.
#[derive(Debug, Clone, Default)]
pub struct CommandContext {
    /// Identifies the command: its events get ids derived from it, so
    /// executing the same command id again appends nothing.
    pub command_id: Option<Uuid>,
    /// Request or workflow id.
    pub correlation_id: Option<Uuid>,
    /// What caused the command.
    pub causation_id: Option<Uuid>,
    /// The idempotency key the command came with.
    pub idempotency_key: Option<String>,
    /// The caller (an API key id, `cli`, ...).
    pub source: Option<String>,
}

/// A stream folded to its current state.
#[derive(Debug, Clone)]
pub struct Loaded<S> {
    /// The state.
    pub state: S,
    /// The stream's version (`None`: no events).
    pub version: Option<u64>,
    /// Events read from the log to get here (the rest came from a snapshot).
    pub events_read: usize,
}

impl<S> Loaded<S> {
    fn expected(&self) -> ExpectedVersion {
        match self.version {
            Some(version) => ExpectedVersion::Exact(version),
            None => ExpectedVersion::NoStream,
        }
    }
}

/// The result of a command on a run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run after the command.
    pub run: Run,
    /// Where the command's events landed (empty when it changed nothing).
    pub appended: Vec<AppendedEvent>,
    /// False when the command was a repeat and appended nothing.
    pub changed: bool,
}

impl RunOutcome {
    /// The global position of the command's last event.
    pub fn last_position(&self) -> Option<u64> {
        self.appended.iter().map(|e| e.global_position).max()
    }
}

/// The result of a command that moves credits.
#[derive(Debug, Clone)]
pub struct BillingOutcome {
    /// The run after the command.
    pub run: Run,
    /// The run's account after the command.
    pub account: AccountState,
    /// The run's events of this command (empty when it was a repeat).
    pub run_events: Vec<RunEvent>,
    /// Where the command's events landed.
    pub appended: Vec<AppendedEvent>,
}

/// The result of a command on an account.
#[derive(Debug, Clone)]
pub struct AccountOutcome {
    /// The account after the command.
    pub account: AccountState,
    /// False when the command was a repeat and appended nothing.
    pub changed: bool,
    /// Where the command's events landed.
    pub appended: Vec<AppendedEvent>,
}

/// Executes commands against an event store.
#[derive(Debug, Clone)]
pub struct Ledger<S> {
    store: S,
    max_attempts: u32,
    snapshot_every: u64,
}

/// How often a command is decided again after version conflicts.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 25;
/// Events a load may replay before it saves a snapshot of what it folded.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 100;

impl<S: EventStore> Ledger<S> {
    /// A ledger with the default retry bound and snapshot interval.
    pub fn new(store: S) -> Self {
        Ledger {
            store,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
        }
    }

    /// Sets how many times a command is decided before a conflict is reported.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Loads a run.
    ///
    /// # Errors
    /// Store failures, or an event this build cannot read.
    pub async fn load_run(&self, run_id: Uuid) -> Result<Loaded<RunState>, CommandError> {
        self.load::<RunEvent, RunState>(&run_stream_id(run_id), run::evolve)
            .await
    }

    /// Loads a tenant's account.
    ///
    /// # Errors
    /// Store failures, or an event this build cannot read.
    pub async fn load_account(
        &self,
        tenant_id: &str,
    ) -> Result<Loaded<AccountState>, CommandError> {
        self.load::<AccountEvent, AccountState>(&account_stream_id(tenant_id), account::evolve)
            .await
    }

    async fn load<E, St>(
        &self,
        stream_id: &str,
        evolve: fn(St, &E) -> St,
    ) -> Result<Loaded<St>, CommandError>
    where
        E: StreamEvent,
        St: Default + DeserializeOwned + Serialize,
    {
        let snapshot = self
            .store
            .load_snapshot(stream_id)
            .await?
            .filter(|snapshot| snapshot.state_format == STATE_FORMAT)
            .and_then(|snapshot| {
                let state = serde_json::from_value::<St>(snapshot.state).ok()?;
                Some((state, snapshot.version))
            });
        let (mut state, from, snapshot_version) = match snapshot {
            Some((state, version)) => (state, version + 1, Some(version)),
            None => (St::default(), 0, None),
        };
        let events = self
            .store
            .read_stream(stream_id, from, ReadUntil::End)
            .await?;
        let mut version = snapshot_version;
        for recorded in &events {
            let event = E::decode(
                &recorded.event_type,
                recorded.schema_version,
                recorded.data.clone(),
            )
            .map_err(|error| CommandError::Corrupt {
                stream_id: stream_id.to_owned(),
                reason: error.to_string(),
            })?;
            state = evolve(state, &event);
            version = Some(recorded.stream_version);
        }
        if let Some(version) = version.filter(|_| events.len() as u64 >= self.snapshot_every) {
            self.save_snapshot(stream_id, version, &state).await;
        }
        Ok(Loaded {
            state,
            version,
            events_read: events.len(),
        })
    }

    /// Saves `state` at `version` as the stream's snapshot. A snapshot is a
    /// cache: failing to save one costs only speed.
    async fn save_snapshot<St: Serialize>(&self, stream_id: &str, version: u64, state: &St) {
        let snapshot = Snapshot {
            stream_id: stream_id.to_owned(),
            version,
            state_format: STATE_FORMAT,
            state: serde_json::to_value(state).expect("states serialize"),
        };
        if let Err(error) = self.store.save_snapshot(snapshot).await {
            tracing::warn!(%error, stream_id, "saving a snapshot failed");
        }
    }

    /// The events a command id appended, when its first event is in the
    /// log: the command ran already (its answer was lost, say, to a crash
    /// before the response). A repeat is answered from them, not decided
    /// again against a state the command itself changed.
    async fn earlier_execution(
        &self,
        context: &CommandContext,
    ) -> Result<Option<Vec<AppendedEvent>>, CommandError> {
        let Some(command_id) = context.command_id else {
            return Ok(None);
        };
        let ids: Vec<Uuid> = (0..MAX_EVENTS_PER_COMMAND)
            .map(|index| event_id(Some(command_id), index))
            .collect();
        let mut found = self.store.find_events(&ids).await?;
        if !found.iter().any(|event| event.event_id == ids[0]) {
            return Ok(None);
        }
        found.sort_by_key(|event| event.global_position);
        Ok(Some(found))
    }

    /// Creates a run (SPEC rule 1). With an idempotency key seen before in
    /// the tenant, returns the existing run and appends nothing.
    ///
    /// # Errors
    /// The rule broken, or store failures.
    #[tracing::instrument(skip_all, fields(run_id = %create.run_id, tenant = %create.tenant_id))]
    pub async fn create_run(
        &self,
        caller: &Caller,
        create: CreateRun,
        context: &CommandContext,
    ) -> Result<RunOutcome, CommandError> {
        let claim = create.idempotency_key.as_ref().map(|key| UniqueClaim {
            scope: idempotency_scope(&create.tenant_id),
            key: key.clone(),
            stream_id: run_stream_id(create.run_id),
        });
        if let Some(claim) = &claim {
            if let Some(existing) = self.store.find_claim(&claim.scope, &claim.key).await? {
                return self.existing_run(&existing).await;
            }
        }
        let tenant = create.tenant_id.clone();
        let events = run::decide(
            &RunState::default(),
            caller,
            &RunCommand::Create(Box::new(create.clone())),
        )?;
        let stream_id = run_stream_id(create.run_id);
        let mut request = AppendRequest::single(
            stream_id.clone(),
            ExpectedVersion::NoStream,
            encode_all(&events, Some(&tenant), caller, context, 0),
        );
        request.claims.extend(claim);
        match self.store.append(request).await {
            Ok(outcome) => Ok(RunOutcome {
                run: fold_new_run(&events),
                changed: !outcome.duplicate,
                appended: outcome.events,
            }),
            Err(AppendError::ClaimTaken { stream_id, .. }) => self.existing_run(&stream_id).await,
            Err(AppendError::VersionConflict { .. }) => Err(DomainError::RunAlreadyExists {
                run_id: create.run_id,
            }
            .into()),
            Err(error) => Err(append_error(error)),
        }
    }

    async fn existing_run(&self, stream_id: &str) -> Result<RunOutcome, CommandError> {
        let run_id = stream_id
            .strip_prefix("run-")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| CommandError::Corrupt {
                stream_id: stream_id.to_owned(),
                reason: "an idempotency claim points at a stream that is not a run".into(),
            })?;
        let loaded = self.load_run(run_id).await?;
        let run = loaded.state.run.ok_or(DomainError::RunNotFound)?;
        Ok(RunOutcome {
            run,
            appended: vec![],
            changed: false,
        })
    }

    /// Starts a rerun of `original_run_id` as `new_run_id` (SPEC rule 5).
    ///
    /// # Errors
    /// The rule broken, or store failures.
    #[tracing::instrument(skip_all, fields(%original_run_id, %new_run_id))]
    pub async fn rerun(
        &self,
        caller: &Caller,
        original_run_id: Uuid,
        new_run_id: Uuid,
        context: &CommandContext,
    ) -> Result<RunOutcome, CommandError> {
        if let Some(appended) = self.earlier_execution(context).await? {
            let rerun = self.load_run(new_run_id).await?;
            return Ok(RunOutcome {
                run: rerun.state.visible_run(caller)?.clone(),
                appended,
                changed: false,
            });
        }
        let original = self.load_run(original_run_id).await?;
        let events = run::decide_rerun(&original.state, caller, new_run_id)?;
        let tenant = original
            .state
            .run
            .as_ref()
            .map(|run| run.created.tenant_id.clone())
            .unwrap_or_default();
        let request = AppendRequest::single(
            run_stream_id(new_run_id),
            ExpectedVersion::NoStream,
            encode_all(&events, Some(&tenant), caller, context, 0),
        );
        match self.store.append(request).await {
            Ok(outcome) => Ok(RunOutcome {
                run: fold_new_run(&events),
                changed: !outcome.duplicate,
                appended: outcome.events,
            }),
            Err(AppendError::VersionConflict { .. }) => {
                Err(DomainError::RunAlreadyExists { run_id: new_run_id }.into())
            }
            Err(error) => Err(append_error(error)),
        }
    }

    /// Executes a command on one run.
    ///
    /// # Errors
    /// The rule broken, a conflict that outlasted the retries, or store failures.
    #[tracing::instrument(skip_all, fields(%run_id))]
    pub async fn run_command(
        &self,
        caller: &Caller,
        run_id: Uuid,
        command: RunCommand,
        context: &CommandContext,
    ) -> Result<RunOutcome, CommandError> {
        if let Some(appended) = self.earlier_execution(context).await? {
            let loaded = self.load_run(run_id).await?;
            return Ok(RunOutcome {
                run: loaded.state.visible_run(caller)?.clone(),
                appended,
                changed: false,
            });
        }
        let stream_id = run_stream_id(run_id);
        self.with_retries(&stream_id, || async {
            let loaded = self.load_run(run_id).await?;
            let events = run::decide(&loaded.state, caller, &command)?;
            let run = loaded.state.visible_run(caller)?.clone();
            if events.is_empty() {
                return Ok(Attempt::Done(RunOutcome {
                    run,
                    appended: vec![],
                    changed: false,
                }));
            }
            let tenant = run.created.tenant_id.clone();
            let request = AppendRequest::single(
                stream_id.clone(),
                loaded.expected(),
                encode_all(&events, Some(&tenant), caller, context, 0),
            );
            let appended = self.store.append(request).await;
            let after = events.iter().fold(loaded.state.clone(), run::evolve);
            let Attempt::Done(outcome) = settle(appended)? else {
                return Ok(Attempt::Conflict(stream_id.clone()));
            };
            // A repeated command id: the events are the original ones, and
            // the run is as the log has it, not as this decision would make it.
            let run = if outcome.duplicate {
                self.load_run(run_id).await?.state.run
            } else {
                after.run
            };
            Ok(Attempt::Done(RunOutcome {
                run: run.expect("a run stays a run"),
                changed: !outcome.duplicate,
                appended: outcome.events,
            }))
        })
        .await
    }

    /// Executes a command that charges or refunds a run, or retries its
    /// failed files, appending to the run and its account atomically.
    ///
    /// # Errors
    /// The rule broken, a conflict that outlasted the retries, or store failures.
    #[tracing::instrument(skip_all, fields(%run_id))]
    pub async fn billing_command(
        &self,
        caller: &Caller,
        run_id: Uuid,
        command: BillingCommand,
        context: &CommandContext,
    ) -> Result<BillingOutcome, CommandError> {
        let stream_id = run_stream_id(run_id);
        if let Some(appended) = self.earlier_execution(context).await? {
            return self.billing_repeat(caller, run_id, appended).await;
        }
        self.with_retries(&stream_id, || async {
            let run = self.load_run(run_id).await?;
            let tenant = run.state.visible_run(caller)?.created.tenant_id.clone();
            let account = self.load_account(&tenant).await?;
            let decision = billing::decide(&run.state, &account.state, caller, &command)?;
            let account_stream = account_stream_id(&tenant);
            let mut request = AppendRequest::single(
                stream_id.clone(),
                run.expected(),
                encode_all(&decision.run, Some(&tenant), caller, context, 0),
            );
            if !decision.account.is_empty() {
                let mut events = encode_all(
                    &decision.account,
                    Some(&tenant),
                    caller,
                    context,
                    decision.run.len(),
                );
                if let Some(cause) = request.streams[0].events.last() {
                    caused_by(&mut events, |_| cause.event_id);
                }
                request.streams.push(StreamAppend {
                    stream_id: account_stream.clone(),
                    expected: account.expected(),
                    events,
                });
            }
            let run_after = decision.run.iter().fold(run.state.clone(), run::evolve);
            let account_after = decision
                .account
                .iter()
                .fold(account.state.clone(), account::evolve);
            match settle(self.store.append(request).await)? {
                Attempt::Done(outcome) if outcome.duplicate => Ok(Attempt::Done(
                    self.billing_repeat(caller, run_id, outcome.events).await?,
                )),
                Attempt::Done(outcome) => Ok(Attempt::Done(BillingOutcome {
                    run: run_after.run.expect("a run stays a run"),
                    account: account_after,
                    run_events: decision.run,
                    appended: outcome.events,
                })),
                Attempt::Conflict(stream) => Ok(Attempt::Conflict(stream)),
            }
        })
        .await
    }

    /// The answer to a billing command that ran already: the run and
    /// account as the log has them, and the run events it appended.
    async fn billing_repeat(
        &self,
        caller: &Caller,
        run_id: Uuid,
        appended: Vec<AppendedEvent>,
    ) -> Result<BillingOutcome, CommandError> {
        let stream_id = run_stream_id(run_id);
        let loaded = self.load_run(run_id).await?;
        let run = loaded.state.visible_run(caller)?.clone();
        let account = self.load_account(&run.created.tenant_id).await?.state;
        let mut run_events = Vec::new();
        let first = appended
            .iter()
            .filter(|event| event.stream_id == stream_id)
            .map(|event| event.stream_version)
            .min();
        if let Some(first) = first {
            for recorded in self
                .store
                .read_stream(&stream_id, first, ReadUntil::End)
                .await?
                .into_iter()
                .filter(|recorded| {
                    appended
                        .iter()
                        .any(|event| event.event_id == recorded.event_id)
                })
            {
                run_events.push(
                    RunEvent::decode(&recorded.event_type, recorded.schema_version, recorded.data)
                        .map_err(|error| CommandError::Corrupt {
                            stream_id: stream_id.clone(),
                            reason: error.to_string(),
                        })?,
                );
            }
        }
        Ok(BillingOutcome {
            run,
            account,
            run_events,
            appended,
        })
    }

    /// Executes a command on a tenant's account.
    ///
    /// # Errors
    /// The rule broken, a conflict that outlasted the retries, or store failures.
    #[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
    pub async fn account_command(
        &self,
        caller: &Caller,
        tenant_id: &str,
        command: AccountCommand,
        context: &CommandContext,
    ) -> Result<AccountOutcome, CommandError> {
        if let Some(appended) = self.earlier_execution(context).await? {
            return Ok(AccountOutcome {
                account: self.load_account(tenant_id).await?.state,
                changed: false,
                appended,
            });
        }
        let stream_id = account_stream_id(tenant_id);
        self.with_retries(&stream_id, || async {
            let loaded = self.load_account(tenant_id).await?;
            let events = account::decide(&loaded.state, &command)?;
            let after = events.iter().fold(loaded.state.clone(), account::evolve);
            let request = AppendRequest::single(
                stream_id.clone(),
                loaded.expected(),
                encode_all(&events, Some(tenant_id), caller, context, 0),
            );
            let appended = self.store.append(request).await;
            let Attempt::Done(outcome) = settle(appended)? else {
                return Ok(Attempt::Conflict(stream_id.clone()));
            };
            let account = if outcome.duplicate {
                self.load_account(tenant_id).await?.state
            } else {
                after
            };
            Ok(Attempt::Done(AccountOutcome {
                account,
                changed: !outcome.duplicate,
                appended: outcome.events,
            }))
        })
        .await
    }

    /// Records a change to API key `key_id` in the key's stream (events of
    /// no tenant: key changes are the operators', not a tenant's). Returns
    /// what was appended: nothing for a revocation already recorded.
    ///
    /// # Errors
    /// `KeyRevoked` for rotating a revoked key, a conflict that outlasted
    /// the retries, or store failures.
    #[tracing::instrument(skip_all, fields(key = %key_id))]
    pub async fn key_command(
        &self,
        caller: &Caller,
        key_id: Uuid,
        command: KeyCommand,
        context: &CommandContext,
    ) -> Result<Vec<AppendedEvent>, CommandError> {
        let stream_id = key_stream_id(key_id);
        self.with_retries(&stream_id, || async {
            let loaded = self
                .load::<KeyEvent, KeyState>(&stream_id, key::evolve)
                .await?;
            let events = key::decide(key_id, &loaded.state, &command)?;
            if events.is_empty() {
                return Ok(Attempt::Done(vec![]));
            }
            let request = AppendRequest::single(
                stream_id.clone(),
                loaded.expected(),
                encode_all(&events, None, caller, context, 0),
            );
            let appended = self.store.append(request).await;
            Ok(match settle(appended)? {
                Attempt::Done(outcome) => Attempt::Done(outcome.events),
                Attempt::Conflict(stream) => Attempt::Conflict(stream),
            })
        })
        .await
    }

    async fn with_retries<T, F, Fut>(
        &self,
        stream_id: &str,
        mut attempt: F,
    ) -> Result<T, CommandError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Attempt<T>, CommandError>>,
    {
        let mut contended = stream_id.to_owned();
        for round in 1..=self.max_attempts {
            match attempt().await? {
                Attempt::Done(value) => return Ok(value),
                Attempt::Conflict(stream) => {
                    tracing::debug!(stream = %stream, round, "version conflict; deciding again");
                    contended = stream;
                    tokio::time::sleep(backoff(round)).await;
                }
            }
        }
        Err(CommandError::VersionConflict {
            stream_id: contended,
        })
    }
}

/// A fact a backend reports about a run, as a command to validate.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// Progress or a terminal transition.
    Run(RunCommand),
    /// A charge or a refund (moves the account too).
    Billing(BillingCommand),
}

/// A reported fact and the event id the reporter gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedFact {
    /// The id of the fact's first event; the events it derives get ids
    /// derived from it, so re-reporting the fact appends nothing.
    pub event_id: Option<Uuid>,
    /// The fact.
    pub fact: Fact,
}

/// The result of reporting facts.
#[derive(Debug, Clone)]
pub struct FactsOutcome {
    /// The run after the facts.
    pub run: Run,
    /// The run stream's version after the facts.
    pub version: Option<u64>,
    /// Where the facts' events landed (the original positions for a repeat).
    pub appended: Vec<AppendedEvent>,
}

impl<S: EventStore> Ledger<S> {
    /// Validates reported facts in order against the run (and its account)
    /// and appends all their events, derived ones included, atomically.
    /// With `expected_version`, the run must be at that version (no retry);
    /// without, a conflict is re-decided like any command. Facts whose event
    /// ids are all in the log already are a repeat: nothing is appended.
    ///
    /// # Errors
    /// The first fact a rule refuses (nothing is appended then), a conflict,
    /// reused event ids, or store failures.
    #[tracing::instrument(skip_all, fields(%run_id, facts = facts.len()))]
    pub async fn report_facts(
        &self,
        caller: &Caller,
        run_id: Uuid,
        expected_version: Option<u64>,
        facts: Vec<ReportedFact>,
        context: &CommandContext,
    ) -> Result<FactsOutcome, CommandError> {
        let stream_id = run_stream_id(run_id);
        // Each fact's first event id: the reporter's, else derived from the
        // command id (so a repeated request writes nothing again), else new
        // and time-ordered.
        let first_ids: Vec<Uuid> = facts
            .iter()
            .enumerate()
            .map(|(index, fact)| {
                fact.event_id.unwrap_or_else(|| match context.command_id {
                    Some(command_id) => {
                        Uuid::new_v5(&command_id, format!("fact:{index}").as_bytes())
                    }
                    None => Uuid::now_v7(),
                })
            })
            .collect();
        let given_ids: Vec<Uuid> = facts.iter().filter_map(|fact| fact.event_id).collect();
        let traceable_ids: Vec<Uuid> = match context.command_id {
            Some(_) => first_ids.clone(),
            None => given_ids.clone(),
        };
        if !traceable_ids.is_empty() {
            let known = self.store.find_events(&traceable_ids).await?;
            if !known.is_empty() {
                // The repeat is answered with every event the facts wrote,
                // derived ones included, found by their derived ids.
                let candidates: Vec<Uuid> = traceable_ids
                    .iter()
                    .flat_map(|id| {
                        (0..MAX_EVENTS_PER_FACT).map(move |index| fact_event_id(*id, index))
                    })
                    .collect();
                let written = self.store.find_events(&candidates).await?;
                let loaded = self.load_run(run_id).await?;
                let run = loaded.state.visible_run(caller)?.clone();
                // Reported ids must all be there; a derived one is absent
                // when its fact changed nothing the first time.
                let all_given_known = given_ids
                    .iter()
                    .all(|id| known.iter().any(|event| event.event_id == *id));
                if !all_given_known || known.iter().any(|e| e.stream_id != stream_id) {
                    return Err(CommandError::EventIdReused {
                        event_id: known[0].event_id,
                    });
                }
                return Ok(FactsOutcome {
                    run,
                    version: loaded.version,
                    appended: written,
                });
            }
        }
        let attempts = if expected_version.is_some() {
            1
        } else {
            self.max_attempts
        };
        let mut contended = stream_id.clone();
        for round in 1..=attempts {
            let loaded = self.load_run(run_id).await?;
            let run = loaded.state.visible_run(caller)?;
            if let Some(expected) = expected_version {
                if loaded.version != Some(expected) {
                    return Err(CommandError::VersionConflict { stream_id });
                }
            }
            let tenant = run.created.tenant_id.clone();
            let needs_account = facts.iter().any(|f| matches!(f.fact, Fact::Billing(_)));
            let account = if needs_account {
                Some(self.load_account(&tenant).await?)
            } else {
                None
            };
            let mut run_state = loaded.state.clone();
            let mut account_state = account
                .as_ref()
                .map(|a| a.state.clone())
                .unwrap_or_default();
            let mut run_events = Vec::new();
            let mut run_ids = Vec::new();
            let mut account_events = Vec::new();
            let mut account_ids = Vec::new();
            // The run event each account event mirrors, which caused it.
            let mut account_causes = Vec::new();
            for (reported, first_id) in facts.iter().zip(first_ids.iter().copied()) {
                let id_of = |index: usize| fact_event_id(first_id, index);
                match &reported.fact {
                    Fact::Run(command) => {
                        let (events, after) = run::decide_and_evolve(run_state, caller, command)?;
                        run_state = after;
                        run_ids.extend((0..events.len()).map(id_of));
                        run_events.extend(events);
                    }
                    Fact::Billing(command) => {
                        let decision =
                            billing::decide(&run_state, &account_state, caller, command)?;
                        run_state = decision.run.iter().fold(run_state, run::evolve);
                        account_state =
                            decision.account.iter().fold(account_state, account::evolve);
                        let run_count = decision.run.len();
                        run_ids.extend((0..run_count).map(id_of));
                        account_ids
                            .extend((run_count..run_count + decision.account.len()).map(id_of));
                        if let Some(last) = run_count.checked_sub(1) {
                            account_causes
                                .extend(std::iter::repeat_n(id_of(last), decision.account.len()));
                        }
                        run_events.extend(decision.run);
                        account_events.extend(decision.account);
                    }
                }
            }
            let run_after = run_state.run.clone().expect("a run stays a run");
            if run_events.is_empty() {
                return Ok(FactsOutcome {
                    run: run_after,
                    version: loaded.version,
                    appended: vec![],
                });
            }
            let mut request = AppendRequest::single(
                stream_id.clone(),
                loaded.expected(),
                encode_with_ids(&run_events, Some(&tenant), caller, context, |i| run_ids[i]),
            );
            if let (Some(account), false) = (&account, account_events.is_empty()) {
                let mut events =
                    encode_with_ids(&account_events, Some(&tenant), caller, context, |i| {
                        account_ids[i]
                    });
                if account_causes.len() == events.len() {
                    caused_by(&mut events, |i| account_causes[i]);
                }
                request.streams.push(StreamAppend {
                    stream_id: account_stream_id(&tenant),
                    expected: account.expected(),
                    events,
                });
            }
            match self.store.append(request).await {
                Ok(outcome) => {
                    let version = outcome
                        .events
                        .iter()
                        .filter(|e| e.stream_id == stream_id)
                        .map(|e| e.stream_version)
                        .max();
                    return Ok(FactsOutcome {
                        run: run_after,
                        version,
                        appended: outcome.events,
                    });
                }
                Err(AppendError::VersionConflict {
                    stream_id: stream, ..
                }) if expected_version.is_none() => {
                    contended = stream;
                    tokio::time::sleep(backoff(round)).await;
                }
                Err(error) => return Err(append_error(error)),
            }
        }
        Err(CommandError::VersionConflict {
            stream_id: contended,
        })
    }
}

/// Turns an append's result into an attempt's result: a version conflict
/// (on whichever stream) means deciding again.
fn settle(
    appended: Result<AppendOutcome, AppendError>,
) -> Result<Attempt<AppendOutcome>, CommandError> {
    match appended {
        Ok(outcome) => Ok(Attempt::Done(outcome)),
        Err(AppendError::VersionConflict { stream_id, .. }) => Ok(Attempt::Conflict(stream_id)),
        Err(error) => Err(append_error(error)),
    }
}

/// Most events one command appends (a rerun's creation, a retry with its
/// charge on the run and the account): how far a repeat looks for them.
const MAX_EVENTS_PER_COMMAND: usize = 16;

/// Most events one fact decides into: a derived `run.started`, the fact,
/// and a derived terminal event; or a charge on the run and on the account.
const MAX_EVENTS_PER_FACT: usize = 3;

/// The id of a fact's `index`-th event: the reporter's id first, then ids
/// derived from it.
fn fact_event_id(first: Uuid, index: usize) -> Uuid {
    if index == 0 {
        first
    } else {
        Uuid::new_v5(&first, format!("derived:{index}").as_bytes())
    }
}

/// One decide-and-append attempt.
enum Attempt<T> {
    Done(T),
    Conflict(String),
}

/// Randomized, growing pause so that contenders spread out.
fn backoff(round: u32) -> Duration {
    let jitter = Uuid::new_v4().as_u128() as u64 % (u64::from(round.min(10)) * 2 + 1);
    Duration::from_millis(jitter)
}

/// The claim scope of run idempotency keys: unique per tenant.
pub fn idempotency_scope(tenant_id: &str) -> String {
    format!("run-idempotency/{tenant_id}")
}

fn fold_new_run(events: &[RunEvent]) -> Run {
    RunState::from_events(events)
        .run
        .expect("creation events create a run")
}

fn encode_all<E: StreamEvent>(
    events: &[E],
    tenant_id: Option<&str>,
    caller: &Caller,
    context: &CommandContext,
    first_index: usize,
) -> Vec<NewEvent> {
    encode_with_ids(events, tenant_id, caller, context, |offset| {
        event_id(context.command_id, first_index + offset)
    })
}

fn encode_with_ids<E: StreamEvent>(
    events: &[E],
    tenant_id: Option<&str>,
    caller: &Caller,
    context: &CommandContext,
    id_of: impl Fn(usize) -> Uuid,
) -> Vec<NewEvent> {
    events
        .iter()
        .enumerate()
        .map(|(offset, event)| {
            let encoded = event.encode();
            NewEvent {
                event_id: id_of(offset),
                event_type: encoded.event_type,
                schema_version: encoded.schema_version,
                data: encoded.data,
                metadata: EventMetadata {
                    tenant_id: tenant_id.map(str::to_owned),
                    actor_id: caller.actor.as_ref().map(|actor| actor.id.clone()),
                    correlation_id: context.correlation_id,
                    causation_id: context.causation_id,
                    idempotency_key: context.idempotency_key.clone(),
                    source: context.source.clone(),
                },
            }
        })
        .collect()
}

/// Makes derived events (an account's side of a charge or refund) name the
/// event that caused them (SPEC section 2): the run event they mirror, in
/// place of what caused the command.
fn caused_by(events: &mut [NewEvent], cause_of: impl Fn(usize) -> Uuid) {
    for (index, event) in events.iter_mut().enumerate() {
        event.metadata.causation_id = Some(cause_of(index));
    }
}

/// The id of a command's `index`-th event: derived from the command id when
/// there is one (so re-executing the command appends nothing), else
/// time-ordered (UUIDv7), so that `event_ids`' key grows at its end.
pub fn event_id(command_id: Option<Uuid>, index: usize) -> Uuid {
    match command_id {
        Some(command) => Uuid::new_v5(&command, format!("event:{index}").as_bytes()),
        None => Uuid::now_v7(),
    }
}

fn append_error(error: AppendError) -> CommandError {
    match error {
        AppendError::VersionConflict { stream_id, .. } => {
            CommandError::VersionConflict { stream_id }
        }
        AppendError::EventIdReused { event_id } => CommandError::EventIdReused { event_id },
        AppendError::Invalid(reason) => CommandError::Invalid(reason),
        AppendError::ClaimTaken { scope, key, .. } => {
            CommandError::Invalid(format!("{scope}/{key} is taken"))
        }
        AppendError::Database(ref database) if ledger_store::is_transient(database) => {
            CommandError::Store(StoreFailure::Append(error))
        }
        error @ AppendError::Database(_) => CommandError::StoreFailed(StoreFailure::Append(error)),
        error @ AppendError::ShuttingDown => CommandError::Store(StoreFailure::Append(error)),
    }
}
