//! A run's state, how events change it, and which events a command produces.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::DomainError;
use crate::events::*;
use crate::{Caller, MAX_AMOUNT};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started.
    Queued,
    /// Being worked on.
    Running,
    /// Ended with all work done.
    Completed,
    /// Ended with every file finished, some of them failed or errored.
    CompletedWithErrors,
    /// Ended in failure.
    Failed,
    /// Stopped.
    Cancelled,
}

impl RunStatus {
    /// Whether the run has ended (it accepts no more progress).
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    /// The snake_case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::CompletedWithErrors => "completed_with_errors",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// One stage of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// Current status.
    pub status: StageStatus,
    /// Last reported output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Last reported error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFile {
    /// File name.
    pub name: String,
    /// Current status.
    pub status: FileStatus,
    /// How many retries this file has had.
    pub retry_attempt: u32,
    /// Last reported error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    /// Machine code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Structured detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// An existing run, folded from its stream.
///
/// Its stored form (a row of run history, a snapshot) leaves out its
/// stages', files' and its own unset fields: every run is stored so, and
/// most runs leave most of them unset. Reads take a missing field as unset,
/// so rows written with them all, as earlier versions did, read the same.
/// `created` keeps the event's own form, `null`s and all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// How the run was created (never changes).
    pub created: RunCreated,
    /// Current status.
    pub status: RunStatus,
    /// Stages in order (stage n is `stages[n - 1]`).
    pub stages: Vec<Stage>,
    /// Files in order (file i is `files[i]`).
    pub files: Vec<RunFile>,
    /// The run this one re-executes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<Uuid>,
    /// Whole-run retries so far.
    pub retry_count: u32,
    /// Credits charged so far, by bucket.
    pub charged: BucketSplit,
    /// Credits refunded so far, by bucket.
    pub refunded: BucketSplit,
    /// Why the run failed, while it is failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    /// What the run produced, as its completion reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Its measurements, merged from `run.metrics_updated` and `run.completed`.
    #[serde(default, skip_serializing_if = "Metrics::is_empty")]
    pub metrics: Metrics,
}

impl Run {
    /// The run's id.
    pub fn run_id(&self) -> Uuid {
        self.created.run_id
    }

    /// The 1-based number of the stage being worked on: the first not completed, 0 with no stages.
    pub fn current_stage(&self) -> u32 {
        match self
            .stages
            .iter()
            .position(|stage| stage.status != StageStatus::Completed)
        {
            Some(index) => index as u32 + 1,
            None => self.stages.len() as u32,
        }
    }

    fn visible_to(&self, caller: &Caller) -> bool {
        caller
            .tenant_id
            .as_deref()
            .is_none_or(|tenant| tenant == self.created.tenant_id)
    }

    pub(crate) fn authorize_owner(&self, caller: &Caller) -> Result<(), DomainError> {
        match &caller.actor {
            Some(actor) if !actor.tenant_admin && actor.id != self.created.owner_id => {
                Err(DomainError::Forbidden {
                    reason: "only the run's owner or a tenant admin may do this".into(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether all stages completed and all files finished, with some work to judge by.
    fn work_done(&self) -> bool {
        (!self.stages.is_empty() || !self.files.is_empty())
            && self
                .stages
                .iter()
                .all(|stage| stage.status == StageStatus::Completed)
            && self.files.iter().all(|file| file.status.is_finished())
    }

    fn has_file_errors(&self) -> bool {
        self.files
            .iter()
            .any(|file| matches!(file.status, FileStatus::Failed | FileStatus::Error))
    }
}

/// A run stream's state: `None` until `run.created`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run, once created.
    pub run: Option<Run>,
}

impl RunState {
    /// Folds events onto the empty state.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RunEvent>) -> Self {
        events.into_iter().fold(RunState::default(), evolve)
    }

    /// The run, if it exists and the caller's tenant may see it.
    ///
    /// # Errors
    /// `RunNotFound` when it does not exist or belongs to another tenant.
    pub fn visible_run(&self, caller: &Caller) -> Result<&Run, DomainError> {
        self.run
            .as_ref()
            .filter(|run| run.visible_to(caller))
            .ok_or(DomainError::RunNotFound)
    }
}

/// Applies one event. Events come from the log, so they are applied as facts:
/// evolve never refuses, and ignores what cannot apply (an event before
/// `run.created`, an index out of range).
pub fn evolve(state: RunState, event: &RunEvent) -> RunState {
    let RunState { run } = state;
    let run = match (run, event) {
        (None, RunEvent::Created(created)) => Some(Run {
            status: RunStatus::Queued,
            stages: created
                .stages
                .iter()
                .map(|name| Stage {
                    name: name.clone(),
                    status: StageStatus::Pending,
                    output: None,
                    error: None,
                })
                .collect(),
            files: created
                .files
                .iter()
                .map(|file| RunFile {
                    name: file.name.clone(),
                    status: FileStatus::Pending,
                    retry_attempt: 0,
                    error: None,
                })
                .collect(),
            rerun_of: None,
            retry_count: 0,
            charged: BucketSplit::default(),
            refunded: BucketSplit::default(),
            error: None,
            output: None,
            metrics: Metrics::new(),
            created: (**created).clone(),
        }),
        (None, _) => None,
        (Some(mut run), event) => {
            apply(&mut run, event);
            Some(run)
        }
    };
    RunState { run }
}

/// Key by key: a key given replaces the run's, the others stay.
fn merge_metrics(metrics: &mut Metrics, update: &Metrics) {
    for (name, value) in update {
        metrics.insert(name.clone(), value.clone());
    }
}

fn apply(run: &mut Run, event: &RunEvent) {
    match event {
        RunEvent::Created(_) => {}
        RunEvent::RerunOf(rerun) => run.rerun_of = Some(rerun.original_run_id),
        RunEvent::Started(_) => run.status = RunStatus::Running,
        RunEvent::StageUpdated(update) => {
            if let Some(stage) = stage_mut(run, update.stage) {
                stage.status = update.status;
                if update.output.is_some() {
                    stage.output = update.output.clone();
                }
                stage.error = update.error.clone();
            }
        }
        RunEvent::FileUpdated(update) => {
            if let Some(file) = run.files.get_mut(update.index as usize) {
                file.status = update.status;
                file.error = update.error.clone();
            }
        }
        RunEvent::CreditsDeducted(charge) => {
            run.charged.monthly += charge.split.monthly;
            run.charged.purchased += charge.split.purchased;
        }
        RunEvent::Refunded(refund) => {
            run.refunded.monthly += refund.split.monthly;
            run.refunded.purchased += refund.split.purchased;
        }
        RunEvent::Retried(retry) => {
            run.error = None;
            match retry.scope {
                RetryScope::Files => {
                    run.status = RunStatus::Running;
                    for retried in &retry.files {
                        if let Some(file) = run.files.get_mut(retried.index as usize) {
                            file.status = FileStatus::Pending;
                            file.retry_attempt = retried.retry_attempt;
                            file.error = None;
                        }
                    }
                }
                RetryScope::Run => {
                    run.status = RunStatus::Queued;
                    run.retry_count += 1;
                    for stage in &mut run.stages {
                        stage.status = StageStatus::Pending;
                        stage.error = None;
                    }
                }
            }
        }
        RunEvent::MetricsUpdated(update) => merge_metrics(&mut run.metrics, &update.metrics),
        RunEvent::Completed(done) => {
            run.status = if done.with_errors {
                RunStatus::CompletedWithErrors
            } else {
                RunStatus::Completed
            };
            if done.output.is_some() {
                run.output = done.output.clone();
            }
            if let Some(metrics) = &done.metrics {
                merge_metrics(&mut run.metrics, metrics);
            }
        }
        RunEvent::Failed(failed) => {
            run.status = RunStatus::Failed;
            run.error = Some(RunError {
                code: failed.code.clone(),
                message: failed.message.clone(),
                detail: failed.detail.clone(),
            });
        }
        RunEvent::Cancelled(_) => run.status = RunStatus::Cancelled,
    }
}

fn stage_mut(run: &mut Run, number: u32) -> Option<&mut Stage> {
    let index = (number as usize).checked_sub(1)?;
    run.stages.get_mut(index)
}

/// What creating a run needs; the ids and the tenant come from the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRun {
    /// The new run's id.
    pub run_id: Uuid,
    /// Owning tenant.
    pub tenant_id: String,
    /// Owning person.
    pub owner_id: String,
    /// Project, if any; then `inputs` are required or the run fails with `NO_INPUTS`.
    pub project_id: Option<String>,
    /// Pipeline version.
    pub pipeline_version: Option<String>,
    /// Input version.
    pub input_version: Option<String>,
    /// Document.
    pub document: Option<Document>,
    /// Company.
    pub company: Option<Company>,
    /// Stage names.
    pub stages: Vec<String>,
    /// File names.
    pub files: Vec<String>,
    /// Credits per failed file on retry (default 1).
    pub credits_per_file: i64,
    /// Retry limit, 1..=10 (default 3).
    pub max_retry_count: u32,
    /// Unique per tenant; the command layer resolves repeats before deciding.
    pub idempotency_key: Option<String>,
    /// Inputs.
    pub inputs: Option<Value>,
}

/// Commands on one run stream.
#[derive(Debug, Clone, PartialEq)]
pub enum RunCommand {
    /// Create the run (SPEC rule 1).
    Create(Box<CreateRun>),
    /// queued -> running.
    Start,
    /// Report a stage's status (SPEC rule 3).
    UpdateStage {
        /// 1-based stage number.
        stage: u32,
        /// New status; `pending` is refused.
        status: StageStatus,
        /// Output.
        output: Option<Value>,
        /// Error message.
        error: Option<String>,
    },
    /// Report a file's status (SPEC rule 4).
    UpdateFile {
        /// 0-based index.
        index: u32,
        /// New status; `pending` is refused.
        status: FileStatus,
        /// Error message.
        error: Option<String>,
    },
    /// End the run as completed (with errors when files failed).
    Complete(Completion),
    /// Merge measurements into an active run's metrics.
    UpdateMetrics {
        /// The measurements; a key given replaces the run's.
        metrics: Metrics,
    },
    /// End the run as failed.
    Fail {
        /// Machine code.
        code: String,
        /// Message.
        message: String,
        /// Detail.
        detail: Option<Value>,
    },
    /// Stop the run.
    Cancel {
        /// Why.
        reason: Option<String>,
    },
    /// Retry a failed run as a whole (SPEC rule 7).
    Retry,
}

/// What a pipeline reports when it completes a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    /// What the run produced.
    pub output: Option<Value>,
    /// Final measurements, merged into the run's.
    pub metrics: Option<Metrics>,
}

/// The retry limit used when a run does not name one.
pub const DEFAULT_MAX_RETRY_COUNT: u32 = 3;
/// The inclusive range `max_retry_count` must fall in.
pub const MAX_RETRY_COUNT_RANGE: std::ops::RangeInclusive<u32> = 1..=10;
/// Suffix of a rerun's document name.
pub const RERUN_SUFFIX: &str = " (rerun)";

/// Decides the events of a run command, derived events included.
///
/// # Errors
/// The rule the command breaks (see `DomainError`).
pub fn decide(
    state: &RunState,
    caller: &Caller,
    command: &RunCommand,
) -> Result<Vec<RunEvent>, DomainError> {
    match decide_primary(state, caller, command)? {
        Decision::Final(events) => Ok(events),
        Decision::Progress(mut events) => {
            // The state after the progress, on a copy: `state` stays as it was.
            let after = events.iter().fold(state.clone(), evolve);
            events.extend(implied(after.run.as_ref().expect("a run stays a run")));
            Ok(events)
        }
    }
}

/// Decides `command` on `state` and applies its events, derived events
/// included: the same events and state as `decide` and then folding them,
/// without the copy of the run `decide` makes to look at it after a
/// progress event. A caller that folds a request's commands one after
/// another (`report_facts`) would otherwise copy the whole run once per
/// command.
///
/// # Errors
/// The rule the command breaks (see `DomainError`).
pub fn decide_and_evolve(
    state: RunState,
    caller: &Caller,
    command: &RunCommand,
) -> Result<(Vec<RunEvent>, RunState), DomainError> {
    match decide_primary(&state, caller, command)? {
        Decision::Final(events) => {
            let state = events.iter().fold(state, evolve);
            Ok((events, state))
        }
        Decision::Progress(mut events) => {
            let state = events.iter().fold(state, evolve);
            let implied = implied(state.run.as_ref().expect("a run stays a run"));
            let state = implied.iter().fold(state, evolve);
            events.extend(implied);
            Ok((events, state))
        }
    }
}

/// What a run command decides before its events are applied.
enum Decision {
    /// These events, which imply no other.
    Final(Vec<RunEvent>),
    /// A progress event (after `run.started` for a queued run), which may
    /// imply a terminal event once applied (`implied`).
    Progress(Vec<RunEvent>),
}

fn decide_primary(
    state: &RunState,
    caller: &Caller,
    command: &RunCommand,
) -> Result<Decision, DomainError> {
    if let RunCommand::Create(create) = command {
        return decide_create(state, caller, create).map(Decision::Final);
    }
    let run = state.visible_run(caller)?;
    let primary = match command {
        RunCommand::Create(_) => unreachable!("handled above"),
        RunCommand::Start => match run.status {
            RunStatus::Queued => vec![RunEvent::Started(RunStarted {})],
            RunStatus::Running => vec![],
            status => return Err(terminal(status)),
        },
        RunCommand::UpdateStage {
            stage,
            status,
            output,
            error,
        } => {
            if *status == StageStatus::Pending {
                return Err(DomainError::invalid(
                    "status",
                    "a stage can be reported processing, completed, failed or cancelled",
                ));
            }
            let current = run
                .stages
                .get((*stage as usize).wrapping_sub(1))
                .ok_or_else(|| {
                    DomainError::invalid(
                        "stage",
                        format!("stage must be between 1 and {}", run.stages.len()),
                    )
                })?;
            if current.status == *status {
                return Ok(Decision::Final(vec![]));
            }
            return progress(
                run,
                RunEvent::StageUpdated(StageUpdated {
                    stage: *stage,
                    status: *status,
                    output: output.clone(),
                    error: error.clone(),
                }),
            )
            .map(Decision::Progress);
        }
        RunCommand::UpdateFile {
            index,
            status,
            error,
        } => {
            if *status == FileStatus::Pending {
                return Err(DomainError::invalid(
                    "status",
                    "a file can be reported running, completed, failed or error",
                ));
            }
            let current = run.files.get(*index as usize).ok_or_else(|| {
                DomainError::invalid(
                    "index",
                    format!("file index must be below {}", run.files.len()),
                )
            })?;
            if current.status == *status {
                return Ok(Decision::Final(vec![]));
            }
            return progress(
                run,
                RunEvent::FileUpdated(FileUpdated {
                    index: *index,
                    status: *status,
                    error: error.clone(),
                }),
            )
            .map(Decision::Progress);
        }
        RunCommand::Complete(completion) => {
            ensure_not_terminal(run)?;
            vec![RunEvent::Completed(RunCompleted {
                with_errors: run.has_file_errors(),
                output: completion.output.clone(),
                metrics: completion.metrics.clone(),
            })]
        }
        RunCommand::UpdateMetrics { metrics } => {
            ensure_not_terminal(run)?;
            let changes = metrics
                .iter()
                .any(|(name, value)| run.metrics.get(name) != Some(value));
            if !changes {
                return Ok(Decision::Final(vec![]));
            }
            vec![RunEvent::MetricsUpdated(RunMetricsUpdated {
                metrics: metrics.clone(),
            })]
        }
        RunCommand::Fail {
            code,
            message,
            detail,
        } => {
            ensure_not_terminal(run)?;
            if code.trim().is_empty() {
                return Err(DomainError::invalid("code", "must not be empty"));
            }
            vec![RunEvent::Failed(RunFailed {
                code: code.clone(),
                message: message.clone(),
                detail: detail.clone(),
            })]
        }
        RunCommand::Cancel { reason } => {
            ensure_not_terminal(run)?;
            vec![RunEvent::Cancelled(RunCancelled {
                reason: reason.clone(),
            })]
        }
        RunCommand::Retry => {
            run.authorize_owner(caller)?;
            if run.status != RunStatus::Failed {
                return Err(DomainError::RunNotFailed {
                    status: run.status.as_str().into(),
                });
            }
            if run.retry_count >= run.created.max_retry_count {
                return Err(DomainError::MaxRetriesReached {
                    max_retry_count: run.created.max_retry_count,
                    files: vec![],
                });
            }
            vec![RunEvent::Retried(RunRetried {
                scope: RetryScope::Run,
                files: vec![],
                credits_charged: 0,
                job_ids: vec![run.run_id().to_string()],
            })]
        }
    };
    Ok(Decision::Final(primary))
}

/// A progress event on a live run, after `run.started` when the run is
/// queued (SPEC rule 3's start).
fn progress(run: &Run, event: RunEvent) -> Result<Vec<RunEvent>, DomainError> {
    ensure_not_terminal(run)?;
    let mut events = Vec::with_capacity(3);
    if run.status == RunStatus::Queued {
        events.push(RunEvent::Started(RunStarted {}));
    }
    events.push(event);
    Ok(events)
}

/// The terminal event the run's state after a progress event implies
/// (SPEC rules 3 and 4): a failed stage fails it; all work done completes it.
fn implied(after: &Run) -> Option<RunEvent> {
    if let Some(failed) = after
        .stages
        .iter()
        .position(|stage| stage.status == StageStatus::Failed)
    {
        let stage = &after.stages[failed];
        Some(RunEvent::Failed(RunFailed {
            code: "STAGE_FAILED".into(),
            message: stage
                .error
                .clone()
                .unwrap_or_else(|| format!("stage {} ({}) failed", failed + 1, stage.name)),
            detail: Some(serde_json::json!({ "stage": failed + 1 })),
        }))
    } else if after.work_done() {
        Some(RunEvent::Completed(RunCompleted {
            with_errors: after.has_file_errors(),
            ..RunCompleted::default()
        }))
    } else {
        None
    }
}

fn terminal(status: RunStatus) -> DomainError {
    DomainError::RunTerminal {
        status: status.as_str().into(),
    }
}

fn ensure_not_terminal(run: &Run) -> Result<(), DomainError> {
    if run.status.is_terminal() {
        Err(terminal(run.status))
    } else {
        Ok(())
    }
}

fn decide_create(
    state: &RunState,
    caller: &Caller,
    create: &CreateRun,
) -> Result<Vec<RunEvent>, DomainError> {
    if let Some(run) = &state.run {
        return Err(DomainError::RunAlreadyExists {
            run_id: run.run_id(),
        });
    }
    if let Some(tenant) = &caller.tenant_id {
        if *tenant != create.tenant_id {
            return Err(DomainError::Forbidden {
                reason: "a key bound to one tenant cannot create runs for another".into(),
            });
        }
    }
    require_text("tenant_id", &create.tenant_id)?;
    require_text("owner_id", &create.owner_id)?;
    if !MAX_RETRY_COUNT_RANGE.contains(&create.max_retry_count) {
        return Err(DomainError::invalid(
            "max_retry_count",
            "must be between 1 and 10",
        ));
    }
    if !(0..=MAX_AMOUNT).contains(&create.credits_per_file) {
        return Err(DomainError::invalid(
            "credits_per_file",
            format!("must be between 0 and {MAX_AMOUNT}"),
        ));
    }
    if let Some(key) = &create.idempotency_key {
        require_text("idempotency_key", key)?;
    }
    let created = RunCreated {
        run_id: create.run_id,
        tenant_id: create.tenant_id.clone(),
        owner_id: create.owner_id.clone(),
        project_id: create.project_id.clone(),
        pipeline_version: create.pipeline_version.clone(),
        input_version: create.input_version.clone(),
        document: create.document.clone(),
        company: create.company.clone(),
        stages: create.stages.clone(),
        files: create
            .files
            .iter()
            .map(|name| FileSpec { name: name.clone() })
            .collect(),
        credits_per_file: create.credits_per_file,
        max_retry_count: create.max_retry_count,
        idempotency_key: create.idempotency_key.clone(),
        inputs: create.inputs.clone(),
    };
    Ok(creation_events(created, None))
}

/// `run.created`, then `run.rerun_of` for a rerun, then `run.failed` with
/// `NO_INPUTS` for a project run without inputs.
fn creation_events(created: RunCreated, rerun_of: Option<Uuid>) -> Vec<RunEvent> {
    let missing_inputs = created.project_id.is_some() && created.inputs.is_none();
    let mut events = vec![RunEvent::Created(Box::new(created))];
    if let Some(original_run_id) = rerun_of {
        events.push(RunEvent::RerunOf(RunRerunOf { original_run_id }));
    }
    if missing_inputs {
        events.push(RunEvent::Failed(RunFailed {
            code: "NO_INPUTS".into(),
            message: "the run's project has no inputs".into(),
            detail: None,
        }));
    }
    events
}

fn require_text(field: &str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        Err(DomainError::invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Decides the events that start a rerun of `original` as the new run
/// `new_run_id` (SPEC rule 5); they go to the new run's stream, and the
/// original's stream is not touched.
///
/// # Errors
/// `RunNotFound` for a missing or foreign run, `Forbidden` for an actor who
/// is neither the owner nor a tenant admin.
pub fn decide_rerun(
    original: &RunState,
    caller: &Caller,
    new_run_id: Uuid,
) -> Result<Vec<RunEvent>, DomainError> {
    let run = original.visible_run(caller)?;
    run.authorize_owner(caller)?;
    let source = &run.created;
    let created = RunCreated {
        run_id: new_run_id,
        document: source.document.as_ref().map(|document| Document {
            name: format!("{}{RERUN_SUFFIX}", document.name),
            url: document.url.clone(),
        }),
        // The key identifies the original's inputs; a rerun must not claim it.
        idempotency_key: None,
        ..source.clone()
    };
    Ok(creation_events(created, Some(run.run_id())))
}
