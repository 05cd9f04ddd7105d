//! The HTTP API: the axum router, API keys, errors as problem+json, the
//! OpenAPI document, and the operational endpoints. Handlers stay thin:
//! they parse, authorize, call `ledger-commands`, and map errors.

mod audit;
pub mod auth;
mod body;
mod commands;
pub mod idempotency;
pub mod live;
mod metrics;
mod problem;
pub mod queries;
pub mod wire;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use ledger_commands::Ledger;
use ledger_store::{PgEventStore, MIGRATOR};
use serde_json::{json, Value};
use sqlx::PgPool;
use utoipa::OpenApi;

pub use body::BODY_LIMIT;
pub use commands::{FACT_TYPES, MAX_FACTS_PER_REQUEST};
pub use problem::{ApiError, Problem, PROBLEM_JSON};

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// Command execution.
    pub ledger: Ledger<PgEventStore>,
    /// SHA-256 of `RUN_LEDGER_ADMIN_KEY`, when configured.
    pub admin_key_hash: Option<[u8; 32]>,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// How long a query waits for its read model to reach `min_position`.
    pub min_position_timeout: std::time::Duration,
    /// Live updates (server-sent events).
    pub live: live::Live,
    /// API keys recently read from the database.
    pub keys: auth::KeyCache,
    /// The key checkpoints are signed with, when this service signs them.
    pub checkpoint_key: Option<ledger_store::checkpoint::PublicKey>,
}

/// The OpenAPI 3.1 document, generated from the handlers and wire types.
#[derive(OpenApi)]
#[openapi(
    info(title = "run-ledger", description = "Event-sourced ledger for pipeline and workflow runs"),
    paths(
        commands::create_run,
        commands::rerun,
        commands::retry_failed,
        commands::retry,
        commands::grant,
        commands::report_facts,
        commands::create_key,
        queries::list_runs,
        queries::get_run,
        queries::latest_project_run,
        queries::lineage,
        queries::balance,
        queries::ledger,
        queries::projections,
        queries::rebuild,
        live::watch_run,
        live::event_stream,
        audit::list_run_events,
        audit::run_state,
        audit::feed,
        audit::verify,
        audit::checkpoints,
        healthz,
        readyz,
        metrics::metrics,
    ),
    modifiers(&BearerAuth, &ProblemResponses),
    tags((name = "commands", description = "Writes"), (name = "queries", description = "Read models"),
         (name = "keys", description = "API keys"), (name = "audit", description = "Raw history and verification"),
         (name = "operations", description = "Health"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Error responses are problem+json, and every authenticated operation
/// documents the failures any request can meet (bad key, scope, body,
/// headers, an unavailable database), so the handlers list only their own.
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let authenticated = operation.security.is_some();
                let responses = &mut operation.responses.responses;
                if authenticated {
                    for (status, description) in [
                        ("400", "Malformed request"),
                        ("401", "Missing or unknown key"),
                        ("403", "The key may not do this"),
                        ("413", "Body too large"),
                        ("408", "Body too slow"),
                        ("415", "Body is not JSON"),
                        ("422", "Invalid values"),
                        ("503", "Database unavailable"),
                    ] {
                        responses.entry(status.to_owned()).or_insert_with(|| {
                            RefOr::T(ResponseBuilder::new().description(description).build())
                        });
                    }
                }
                for (status, response) in responses.iter_mut() {
                    if let (RefOr::T(response), true) =
                        (response, status.starts_with('4') || status.starts_with('5'))
                    {
                        response.content.clear();
                        response.content.insert(PROBLEM_JSON.to_owned(), problem());
                    }
                }
            }
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    metrics::handle();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics::metrics))
        .route("/v1/keys", post(commands::create_key))
        .route(
            "/v1/runs",
            post(commands::create_run).get(queries::list_runs),
        )
        .route("/v1/runs/{run_id}", get(queries::get_run))
        .route("/v1/runs/{run_id}/lineage", get(queries::lineage))
        .route("/v1/runs/{run_id}/watch", get(live::watch_run))
        .route("/v1/events/stream", get(live::event_stream))
        .route(
            "/v1/projects/{project_id}/runs/latest",
            get(queries::latest_project_run),
        )
        .route("/v1/accounts/{tenant_id}/balance", get(queries::balance))
        .route("/v1/accounts/{tenant_id}/ledger", get(queries::ledger))
        .route("/v1/projections", get(queries::projections))
        .route("/v1/projections/{name}/rebuild", post(queries::rebuild))
        .route("/v1/runs/{run_id}/rerun", post(commands::rerun))
        .route(
            "/v1/runs/{run_id}/retry-failed",
            post(commands::retry_failed),
        )
        .route("/v1/runs/{run_id}/retry", post(commands::retry))
        .route(
            "/v1/runs/{run_id}/events",
            post(commands::report_facts).get(audit::list_run_events),
        )
        .route("/v1/runs/{run_id}/state", get(audit::run_state))
        .route("/v1/events", get(audit::feed))
        .route("/v1/audit/verify", get(audit::verify))
        .route("/v1/audit/checkpoints", get(audit::checkpoints))
        .route("/v1/accounts/{tenant_id}/grants", post(commands::grant))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Object)))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers and every migration of this build is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Object), (status = 503, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&state.pool)
        .await
        .map_err(|error| ApiError::Unavailable(format!("database not reachable: {error}")))?;
    let expected = MIGRATOR.iter().count() as i64;
    if applied < expected {
        return Err(ApiError::Unavailable(format!(
            "{applied} of {expected} migrations applied"
        )));
    }
    Ok(Json(json!({ "status": "ready", "migrations": applied })))
}

async fn route_not_found(request: Request) -> ApiError {
    ApiError::RouteNotFound(request.uri().path().chars().take(200).collect())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
