//! The HTTP API: the axum router, errors as problem+json, and the
//! operational endpoints. Handlers stay thin: they parse, authorize, call
//! `ledger-commands` or a read model, and map errors.

mod problem;

use axum::extract::{Request, State};
use axum::routing::get;
use axum::{Json, Router};
use ledger_commands::Ledger;
use ledger_store::{PgEventStore, MIGRATOR};
use serde_json::{json, Value};
use sqlx::PgPool;

pub use problem::{ApiError, Problem, PROBLEM_JSON};

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// Command execution.
    pub ledger: Ledger<PgEventStore>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The process is up.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers and every migration of this build is applied.
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
    ApiError::RouteNotFound(request.uri().path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
