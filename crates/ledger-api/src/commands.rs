//! Command and fact endpoints: parse, authorize, call the ledger, answer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ledger_commands::{CommandContext, Fact, ReportedFact};
use ledger_domain::account::AccountCommand;
use ledger_domain::billing::BillingCommand;
use ledger_domain::events::{Company, Document, RunEvent};
use ledger_domain::run::{Completion, CreateRun, Run, RunCommand, DEFAULT_MAX_RETRY_COUNT};
use ledger_domain::run_stream_id;
use ledger_store::{AppendedEvent, EventStore};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{validate_id, Principal, Scope};
use crate::body::{parse_json, RawBody};
use crate::idempotency::{once, response_body, IdempotentRequest, Invocation};
use crate::wire::*;
use crate::wire::{
    AmountData, CancelledData, CompletedData, FailedData, FileData, MetricsData, NoBody, StageData,
};
use crate::{ApiError, AppState, Problem};

/// Most events one `POST /v1/runs/{id}/events` may carry.
pub const MAX_FACTS_PER_REQUEST: usize = 1_000;

/// Commands without a body take none, `{}` or `null`.
fn parse_no_body(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let _: Option<NoBody> = parse_json(headers, body)?;
    Ok(())
}

/// What the bodiless run commands (rerun, retry, retry-failed) read from a
/// request: the run, the caller, and the idempotency key.
fn bodiless_run_command(
    principal: &Principal,
    run_id: &str,
    action: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Uuid, ledger_domain::Caller, Option<IdempotentRequest>), ApiError> {
    principal.require(Scope::Append)?;
    let run_id = ApiError::parse_id(run_id)?;
    parse_no_body(headers, body)?;
    let caller = principal.caller(headers)?;
    let path = format!("/v1/runs/{run_id}/{action}");
    let idempotent = IdempotentRequest::from_request(headers, principal, "POST", &path, body)?;
    Ok((run_id, caller, idempotent))
}

fn context(principal: &Principal, invocation: &Invocation) -> CommandContext {
    CommandContext {
        command_id: invocation.command_id,
        idempotency_key: invocation.idempotency_key.clone(),
        source: Some(principal.source()),
        correlation_id: crate::request::current_correlation_id(),
        ..CommandContext::default()
    }
}

/// The id of something a command creates: derived from the command id when
/// there is one, so a repeated command creates the same thing, else
/// time-ordered (UUIDv7), so that the indexes keyed by it (a run's row, its
/// stream head) grow at their end (docs/decisions.md).
fn new_id(command_id: Option<Uuid>, what: &str) -> Uuid {
    command_id.map_or_else(Uuid::now_v7, |id| Uuid::new_v5(&id, what.as_bytes()))
}

/// The run's view, with its stream version and the position of the write's
/// last event (of the run's last event when the write appended nothing).
async fn run_response(
    state: &AppState,
    run: &Run,
    appended: &[AppendedEvent],
) -> Result<RunResponse, ApiError> {
    let stream_id = run_stream_id(run.run_id());
    let version = appended
        .iter()
        .filter(|event| event.stream_id == stream_id)
        .map(|event| event.stream_version)
        .max();
    let position = appended.iter().map(|event| event.global_position).max();
    let (version, position) = match (version, position) {
        (Some(version), Some(position)) => (Some(version), Some(position)),
        _ => {
            let head = state
                .ledger
                .store()
                .stream_head(&stream_id)
                .await
                .map_err(|error| ApiError::Unavailable(error.into()))?;
            (
                version.or(head.map(|h| h.version)),
                position.or(head.map(|h| h.position)),
            )
        }
    };
    Ok(RunResponse {
        run: RunView::new(run, version),
        global_position: position,
        appended: appended.iter().map(AppendedView::from).collect(),
    })
}

/// Create a run.
#[utoipa::path(post, path = "/v1/runs", tag = "commands",
    request_body = CreateRunRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Answer repeats of this request with the first response")),
    responses(
        (status = 201, description = "Created", body = RunResponse),
        (status = 200, description = "The run with this idempotency key", body = RunResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_run(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::Append)?;
    let request: CreateRunRequest = parse_json(&headers, &body)?;
    let caller = principal.caller(&headers)?;
    let tenant_id = match (&principal.tenant_id, request.tenant_id) {
        (_, Some(tenant)) => tenant,
        (Some(own), None) => own.clone(),
        (None, None) => {
            return Err(ApiError::InvalidInput {
                field: "tenant_id".into(),
                reason: "keys bound to no tenant must name the run's tenant".into(),
            })
        }
    };
    validate_id("tenant_id", &tenant_id)?;
    validate_id("owner_id", &request.owner_id)?;
    for (field, value) in [
        ("project_id", &request.project_id),
        ("idempotency_key", &request.idempotency_key),
    ] {
        if let Some(value) = value {
            validate_id(field, value)?;
        }
    }
    let max_retry_count = match request.max_retry_count {
        None => DEFAULT_MAX_RETRY_COUNT,
        Some(count) => u32::try_from(count).unwrap_or(0),
    };
    let idempotent =
        IdempotentRequest::from_request(&headers, &principal, "POST", "/v1/runs", &body)?;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let create = CreateRun {
            run_id: request
                .run_id
                .unwrap_or_else(|| new_id(invocation.command_id, "run")),
            tenant_id,
            owner_id: request.owner_id,
            project_id: request.project_id,
            pipeline_version: request.pipeline_version,
            input_version: request.input_version,
            document: request.document.map(|d| Document {
                name: d.name,
                url: d.url,
            }),
            company: request.company.map(|c| Company {
                id: c.id,
                name: c.name,
            }),
            stages: request.stages.unwrap_or_default(),
            files: request
                .files
                .unwrap_or_default()
                .into_iter()
                .map(|file| file.name)
                .collect(),
            credits_per_file: request.credits_per_file.unwrap_or(1),
            max_retry_count,
            idempotency_key: request.idempotency_key,
            inputs: request.inputs,
        };
        let outcome = state
            .ledger
            .create_run(&caller, create, &context(&principal, &invocation))
            .await?;
        let status = if outcome.changed {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let response = run_response(&state, &outcome.run, &outcome.appended).await?;
        Ok((status, response_body(&response)))
    })
    .await
}

/// Rerun a run: a new run with the same inputs.
#[utoipa::path(post, path = "/v1/runs/{run_id}/rerun", tag = "commands",
    params(("run_id" = Uuid, Path, description = "The run to rerun"),
           ("Idempotency-Key" = Option<String>, Header, description = "Answer repeats with the first response"),
           ("X-Actor-Id" = Option<String>, Header, description = "The person asking; must own the run unless a tenant admin"),
           ("X-Actor-Role" = Option<String>, Header, description = "`admin` for a tenant admin")),
    responses((status = 201, description = "The new run", body = RunResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn rerun(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (run_id, caller, idempotent) =
        bodiless_run_command(&principal, &run_id, "rerun", &headers, &body)?;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let outcome = state
            .ledger
            .rerun(
                &caller,
                run_id,
                new_id(invocation.command_id, "rerun"),
                &context(&principal, &invocation),
            )
            .await?;
        let response = run_response(&state, &outcome.run, &outcome.appended).await?;
        Ok((StatusCode::CREATED, response_body(&response)))
    })
    .await
}

/// Retry a run's failed and pending files, charging for the failed ones.
#[utoipa::path(post, path = "/v1/runs/{run_id}/retry-failed", tag = "commands",
    params(("run_id" = Uuid, Path, description = "The run"),
           ("Idempotency-Key" = Option<String>, Header, description = "Answer repeats with the first response"),
           ("X-Actor-Id" = Option<String>, Header, description = "The person asking"),
           ("X-Actor-Role" = Option<String>, Header, description = "`admin` for a tenant admin")),
    responses((status = 200, description = "The retry began", body = RetryFailedResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 402, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry_failed(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (run_id, caller, idempotent) =
        bodiless_run_command(&principal, &run_id, "retry-failed", &headers, &body)?;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let outcome = state
            .ledger
            .billing_command(
                &caller,
                run_id,
                BillingCommand::RetryFailed,
                &context(&principal, &invocation),
            )
            .await?;
        let (credits_charged, job_ids) = outcome
            .run_events
            .iter()
            .find_map(|event| match event {
                RunEvent::Retried(retried) => {
                    Some((retried.credits_charged, retried.job_ids.clone()))
                }
                _ => None,
            })
            .unwrap_or_default();
        let run = run_response(&state, &outcome.run, &outcome.appended).await?;
        let response = RetryFailedResponse {
            run: run.run,
            credits_charged,
            job_ids,
            global_position: run.global_position,
            appended: run.appended,
        };
        Ok((StatusCode::OK, response_body(&response)))
    })
    .await
}

/// Retry a failed run as a whole.
#[utoipa::path(post, path = "/v1/runs/{run_id}/retry", tag = "commands",
    params(("run_id" = Uuid, Path, description = "The run"),
           ("Idempotency-Key" = Option<String>, Header, description = "Answer repeats with the first response"),
           ("X-Actor-Id" = Option<String>, Header, description = "The person asking"),
           ("X-Actor-Role" = Option<String>, Header, description = "`admin` for a tenant admin")),
    responses((status = 200, description = "Queued again", body = RunResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (run_id, caller, idempotent) =
        bodiless_run_command(&principal, &run_id, "retry", &headers, &body)?;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let outcome = state
            .ledger
            .run_command(
                &caller,
                run_id,
                RunCommand::Retry,
                &context(&principal, &invocation),
            )
            .await?;
        let response = run_response(&state, &outcome.run, &outcome.appended).await?;
        Ok((StatusCode::OK, response_body(&response)))
    })
    .await
}

/// Grant credits to a tenant (admin keys only).
#[utoipa::path(post, path = "/v1/accounts/{tenant_id}/grants", tag = "commands",
    request_body = GrantRequest,
    params(("tenant_id" = String, Path, description = "The tenant"),
           ("Idempotency-Key" = Option<String>, Header, description = "Answer repeats with the first response")),
    responses((status = 201, description = "The balance after the grant", body = BalanceResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    principal: Principal,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::Admin)?;
    validate_id("tenant_id", &tenant_id)?;
    let request: GrantRequest = parse_json(&headers, &body)?;
    let caller = principal.caller(&headers)?;
    let path = format!("/v1/accounts/{tenant_id}/grants");
    let idempotent = IdempotentRequest::from_request(&headers, &principal, "POST", &path, &body)?;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let command = AccountCommand::Grant {
            bucket: request.bucket,
            amount: request.amount,
            reason: request.reason,
        };
        let outcome = state
            .ledger
            .account_command(
                &caller,
                &tenant_id,
                command,
                &context(&principal, &invocation),
            )
            .await?;
        let response = BalanceResponse::new(&tenant_id, &outcome.account, &outcome.appended);
        Ok((StatusCode::CREATED, response_body(&response)))
    })
    .await
}

/// The event types `POST /v1/runs/{id}/events` takes.
pub const FACT_TYPES: [&str; 9] = [
    "run.started",
    "run.stage_updated",
    "run.file_updated",
    "run.credits_deducted",
    "run.refunded",
    "run.metrics_updated",
    "run.completed",
    "run.failed",
    "run.cancelled",
];

fn fact_data<T: DeserializeOwned>(index: usize, data: Option<Value>) -> Result<T, ApiError> {
    serde_json::from_value(data.unwrap_or_else(|| Value::Object(Default::default())))
        .map_err(|error| ApiError::InvalidBody(format!("events[{index}].data: {error}")))
}

fn to_fact(index: usize, body: FactBody) -> Result<ReportedFact, ApiError> {
    let fact = match body.event_type.as_str() {
        "run.started" => {
            let NoBody {} = fact_data(index, body.data)?;
            Fact::Run(RunCommand::Start)
        }
        "run.stage_updated" => {
            let data: StageData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::UpdateStage {
                stage: data.stage,
                status: data.status,
                output: data.output,
                error: data.error,
            })
        }
        "run.file_updated" => {
            let data: FileData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::UpdateFile {
                index: data.index,
                status: data.status,
                error: data.error,
            })
        }
        "run.credits_deducted" => {
            let data: AmountData = fact_data(index, body.data)?;
            Fact::Billing(BillingCommand::Charge {
                amount: data.amount,
                reason: data.reason,
            })
        }
        "run.refunded" => {
            let data: AmountData = fact_data(index, body.data)?;
            Fact::Billing(BillingCommand::Refund {
                amount: data.amount,
                reason: data.reason,
            })
        }
        "run.metrics_updated" => {
            let data: MetricsData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::UpdateMetrics {
                metrics: data.metrics,
            })
        }
        "run.completed" => {
            let data: CompletedData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::Complete(Completion {
                output: data.output,
                metrics: data.metrics,
            }))
        }
        "run.failed" => {
            let data: FailedData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::Fail {
                code: data.code,
                message: data.message,
                detail: data.detail,
            })
        }
        "run.cancelled" => {
            let data: CancelledData = fact_data(index, body.data)?;
            Fact::Run(RunCommand::Cancel {
                reason: data.reason,
            })
        }
        other => {
            return Err(ApiError::UnknownEventType {
                found: other.chars().take(100).collect(),
                allowed: FACT_TYPES.to_vec(),
            })
        }
    };
    Ok(ReportedFact {
        event_id: body.event_id,
        fact,
    })
}

/// Report what happened to a run; derived events (completion, failure) are
/// appended with the facts, atomically.
#[utoipa::path(post, path = "/v1/runs/{run_id}/events", tag = "commands",
    request_body = FactsRequest,
    params(("run_id" = Uuid, Path, description = "The run"),
           ("Idempotency-Key" = Option<String>, Header, description = "Answer repeats with the first response")),
    responses((status = 200, description = "Appended, or a repeat that appended nothing", body = FactsResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 402, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn report_facts(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::Append)?;
    let run_id = ApiError::parse_id(&run_id)?;
    let request: FactsRequest = parse_json(&headers, &body)?;
    if request.events.is_empty() || request.events.len() > MAX_FACTS_PER_REQUEST {
        return Err(ApiError::InvalidInput {
            field: "events".into(),
            reason: format!("must hold 1 to {MAX_FACTS_PER_REQUEST} events"),
        });
    }
    let facts = request
        .events
        .into_iter()
        .enumerate()
        .map(|(index, fact)| to_fact(index, fact))
        .collect::<Result<Vec<_>, _>>()?;
    let caller = principal.caller(&headers)?;
    let path = format!("/v1/runs/{run_id}/events");
    let idempotent = IdempotentRequest::from_request(&headers, &principal, "POST", &path, &body)?;
    let expected_version = request.expected_version;
    once(&state.pool.clone(), idempotent, |invocation| async move {
        let outcome = state
            .ledger
            .report_facts(
                &caller,
                run_id,
                expected_version,
                facts,
                &context(&principal, &invocation),
            )
            .await?;
        let run = run_response(&state, &outcome.run, &outcome.appended).await?;
        let response = FactsResponse {
            run: run.run,
            appended: run.appended,
            global_position: run.global_position,
        };
        Ok((StatusCode::OK, response_body(&response)))
    })
    .await
}
