//! Audit endpoints: the raw log, states folded from it at any point, and
//! verification of the hash chains and signed checkpoints (the
//! transparency log's own endpoints are in `transparency`). Scope `audit` (every tenant), or `read` for the
//! key's own tenant.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use ledger_domain::events::{RunEvent, StreamEvent};
use ledger_domain::run::{self, RunState};
use ledger_domain::run_stream_id;
use ledger_store::checkpoint::{self, LogAudit};
use ledger_store::{
    read_all_readable, verify_streams, ChainReport, EventStore, ReadUntil, RecordedEvent,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Scope};
use crate::wire::RunView;
use crate::{ApiError, AppState};

/// Events per page of `GET /v1/events` when `limit` is absent.
const DEFAULT_EVENTS: u32 = 100;
/// Largest `limit` of `GET /v1/events`.
const MAX_EVENTS: u32 = 1_000;

/// A position or version from a query: at most `i64::MAX`, as the log
/// stores them (the document's `int64`).
///
/// # Errors
/// `InvalidQuery` (400) above it.
pub(crate) fn position_param(name: &str, value: u64) -> Result<u64, ApiError> {
    if value > i64::MAX as u64 {
        return Err(ApiError::InvalidQuery(format!(
            "{name} must be at most {}",
            i64::MAX
        )));
    }
    Ok(value)
}

/// The tenant a key's audit reads are limited to (`None`: every tenant).
fn audit_tenant(principal: &Principal) -> Result<Option<String>, ApiError> {
    principal.require_read()?;
    let everywhere = principal
        .scopes
        .iter()
        .any(|scope| matches!(scope, Scope::Audit | Scope::Admin));
    Ok(if everywhere {
        None
    } else {
        principal.tenant_id.clone()
    })
}

/// A run's events up to `until`, if the key may see the run.
async fn run_events(
    state: &AppState,
    principal: &Principal,
    run_id: &str,
    until: ReadUntil,
) -> Result<Vec<RecordedEvent>, ApiError> {
    let tenant = audit_tenant(principal)?;
    let run_id = ApiError::parse_id(run_id)?;
    let stream = run_stream_id(run_id);
    if !stream_visible(state, tenant.as_deref(), &stream).await? {
        return Err(ApiError::run_not_found());
    }
    state
        .ledger
        .store()
        .read_stream(&stream, 0, until)
        .await
        .map_err(ApiError::from)
}

/// Whether `stream_id` exists and a key limited to `tenant` (none: every
/// tenant) may see it: its first event is the tenant's. One read of one
/// row, whatever the number of streams.
async fn stream_visible(
    state: &AppState,
    tenant: Option<&str>,
    stream_id: &str,
) -> Result<bool, ApiError> {
    let first = state
        .ledger
        .store()
        .read_stream(stream_id, 0, ReadUntil::Version(0))
        .await
        .map_err(ApiError::from)?;
    Ok(first
        .first()
        .is_some_and(|event| tenant.is_none_or(|tenant| event.metadata["tenant_id"] == tenant)))
}

/// A stream's raw events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Events with their envelopes and hashes (hex), in version order.
    #[schema(value_type = Vec<crate::schema::EventEnvelopeSchema>)]
    pub events: Vec<RecordedEvent>,
}

/// A run's raw events with envelopes and hashes.
#[utoipa::path(get, path = "/v1/runs/{run_id}/events", tag = "audit",
    params(("run_id" = Uuid, Path, description = "The run")),
    responses((status = 200, description = "The run's events", body = EventList), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn list_run_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
) -> Result<Response, ApiError> {
    let events = run_events(&state, &principal, &run_id, ReadUntil::End).await?;
    Ok(Json(EventList { events }).into_response())
}

/// Where to fold a run's state up to.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StateAt {
    /// Up to and including this stream version.
    pub version: Option<u64>,
    /// Up to and including events recorded at this time (RFC 3339).
    pub at: Option<DateTime<Utc>>,
}

/// A run folded from its events up to a point.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoldedState {
    /// The run at that point.
    pub run: RunView,
    /// Events folded.
    pub events_folded: usize,
    /// The last event's time.
    pub recorded_at: DateTime<Utc>,
}

/// A run's state folded from its events up to a version or a time.
#[utoipa::path(get, path = "/v1/runs/{run_id}/state", tag = "audit",
    params(("run_id" = Uuid, Path, description = "The run"), StateAt),
    responses((status = 200, description = "The folded state", body = FoldedState), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn run_state(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    at: Result<Query<StateAt>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(at) = at.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let until = match (at.version, at.at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidQuery(
                "give version or at, not both".into(),
            ))
        }
        (Some(version), None) => ReadUntil::Version(position_param("version", version)?),
        (None, Some(time)) => ReadUntil::RecordedAt(time),
        (None, None) => ReadUntil::End,
    };
    let events = run_events(&state, &principal, &run_id, until).await?;
    let mut folded = RunState::default();
    for recorded in &events {
        let event = RunEvent::decode(
            &recorded.event_type,
            recorded.schema_version,
            recorded.data.clone(),
        )
        .map_err(|error| ApiError::Internal(error.into()))?;
        folded = run::evolve(folded, &event);
    }
    let (Some(run), Some(last)) = (folded.run, events.last()) else {
        return Err(ApiError::run_not_found());
    };
    Ok(Json(FoldedState {
        run: RunView::new(&run, Some(last.stream_version)),
        events_folded: events.len(),
        recorded_at: last.recorded_at,
    })
    .into_response())
}

/// Paging of the global feed (and of the checkpoint history, by tree size).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedPage {
    /// Items after this global position (default 0).
    #[param(minimum = 0, default = 0)]
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<u32>,
}

impl FeedPage {
    /// `after` and `limit`, checked and defaulted.
    pub(crate) fn bounds(
        page: Result<Query<FeedPage>, QueryRejection>,
    ) -> Result<(u64, u32), ApiError> {
        let Query(page) =
            page.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
        let limit = page.limit.unwrap_or(DEFAULT_EVENTS);
        if !(1..=MAX_EVENTS).contains(&limit) {
            return Err(ApiError::InvalidQuery(format!(
                "limit must be 1 to {MAX_EVENTS}"
            )));
        }
        Ok((position_param("after", page.after.unwrap_or(0))?, limit))
    }
}

/// A page of the global feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResponse {
    /// Events in position order.
    #[schema(value_type = Vec<crate::schema::EventEnvelopeSchema>)]
    pub events: Vec<RecordedEvent>,
    /// Pass as `after` for the next page.
    pub next_after: u64,
}

/// The global feed in order; NDJSON with `Accept: application/x-ndjson`.
#[utoipa::path(get, path = "/v1/events", tag = "audit", params(FeedPage),
    responses((status = 200, description = "A page of the feed: JSON, or with `Accept: application/x-ndjson` one envelope per line",
        content((FeedResponse = "application/json"), (crate::schema::EventEnvelopeSchema = "application/x-ndjson")))),
    security(("bearer" = [])))]
pub async fn feed(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    page: Result<Query<FeedPage>, QueryRejection>,
) -> Result<Response, ApiError> {
    let tenant = audit_tenant(&principal)?;
    let (after, limit) = FeedPage::bounds(page)?;
    let events = read_all_readable(state.ledger.store(), after, limit, tenant.as_deref())
        .await
        .map_err(ApiError::from)?;
    let next_after = events.last().map_or(after, |event| event.global_position);
    let ndjson = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/x-ndjson"));
    if ndjson {
        let mut body = String::new();
        for event in &events {
            body.push_str(&serde_json::to_string(event).expect("events serialize"));
            body.push('\n');
        }
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return Ok(response);
    }
    Ok(Json(FeedResponse { events, next_after }).into_response())
}

/// Which stream to verify.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyStream {
    /// One stream (`run-{id}` or `account-{tenant}`); all the key may see when absent.
    pub stream: Option<String>,
}

/// The hash-chain check's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Streams checked.
    pub streams_checked: u64,
    /// Events checked.
    pub events_checked: u64,
    /// True when every chain verified.
    pub ok: bool,
    /// The first event that does not verify: stream, version, position, reason.
    #[schema(value_type = Option<crate::schema::ChainBreakSchema>)]
    pub first_bad: Option<ledger_store::ChainBreak>,
    /// The signed checkpoints of the transparency log, checked against the
    /// events, for keys that see every tenant when no stream is named.
    pub checkpoints: Option<CheckpointCheck>,
}

/// The signed checkpoints' check: each signed root recomputed from the
/// events' hashes, each signature and cosignature verified.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointCheck {
    /// Checkpoints checked.
    pub checked: u64,
    /// Events up to this position are under a checkpoint that verified.
    pub covered_position: u64,
    /// What does not verify, with where it is.
    pub problems: Vec<String>,
}

impl VerifyResponse {
    fn new(report: ChainReport, checkpoints: Option<LogAudit>) -> Self {
        let checkpoints = checkpoints.map(|audit| CheckpointCheck {
            checked: audit.checkpoints_checked,
            covered_position: audit.covered_size,
            problems: audit.problems,
        });
        VerifyResponse {
            streams_checked: report.streams_checked,
            events_checked: report.events_checked,
            ok: report.ok && checkpoints.as_ref().is_none_or(|c| c.problems.is_empty()),
            first_bad: report.first_bad,
            checkpoints,
        }
    }
}

/// Check the hash chain of one stream or of every stream the key may see.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", params(VerifyStream),
    responses((status = 200, description = "The check's outcome", body = VerifyResponse)),
    security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
    stream: Result<Query<VerifyStream>, QueryRejection>,
) -> Result<Response, ApiError> {
    let tenant = audit_tenant(&principal)?;
    let Query(stream) =
        stream.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let store = state.ledger.store();
    let streams = match stream.stream {
        None => None,
        Some(stream_id) => {
            let visible =
                tenant.is_none() || stream_visible(&state, tenant.as_deref(), &stream_id).await?;
            if !visible {
                return Err(ApiError::InvalidQuery(format!(
                    "no stream {:?} visible to this key",
                    stream_id.chars().take(100).collect::<String>()
                )));
            }
            Some(vec![stream_id])
        }
    };
    let whole_ledger = tenant.is_none() && streams.is_none();
    let report = verify_streams(store, streams, tenant.as_deref())
        .await
        .map_err(ApiError::from)?;
    let checkpoints = if whole_ledger {
        Some(checkpoint::audit(&state.pool, state.log_key.as_ref(), &state.witnesses).await?)
    } else {
        None
    };
    Ok(Json(VerifyResponse::new(report, checkpoints)).into_response())
}
