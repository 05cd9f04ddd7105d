//! The HTTP API: the axum router, API keys, errors as problem+json, the
//! OpenAPI document, and the operational endpoints. Handlers stay thin:
//! they parse, authorize, call `ledger-commands`, and map errors.

mod audit;
pub mod auth;
mod body;
mod commands;
pub mod idempotency;
pub mod keys;
pub mod live;
mod metrics;
mod problem;
pub mod queries;
pub mod request;
pub mod schema;
pub mod stream_tokens;
mod transparency;
pub mod wire;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use ledger_commands::Ledger;
use ledger_store::{PgEventStore, MIGRATOR};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use body::BODY_LIMIT;
pub use commands::{FACT_TYPES, MAX_FACTS_PER_REQUEST};
pub use problem::{ApiError, Problem, PROBLEM_JSON};

/// A handle on what handlers share. axum clones the state for each
/// extractor of each request, so a clone is one reference count, not a copy
/// of every part.
#[derive(Debug, Clone)]
pub struct AppState(std::sync::Arc<SharedState>);

impl AppState {
    /// A handle on `parts`.
    pub fn new(parts: SharedState) -> Self {
        AppState(std::sync::Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// What handlers share.
#[derive(Debug)]
pub struct SharedState {
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
    /// Each key's request budget on this instance.
    pub rate_limits: auth::RateLimits,
    /// The key checkpoints are signed with, when this service signs them.
    pub log_key: Option<ledger_store::note::NoteVerifier>,
    /// Background work this instance started (rebuilds, live updates, the
    /// signer, projectors), waited for at shutdown.
    pub tasks: tokio_util::task::TaskTracker,
    /// Turns true when the instance begins to stop; background work ends.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The witnesses whose cosignatures this log accepts.
    pub witnesses: std::sync::Arc<[ledger_store::note::NoteVerifier]>,
}

/// What the OpenAPI 3.1 document says beside its operations, which come
/// from the routes `router` registers (`api`).
#[derive(OpenApi)]
#[openapi(
    info(title = "run-ledger", description = "Event-sourced ledger for pipeline and workflow runs"),
    tags((name = "commands", description = "Writes"), (name = "queries", description = "Read models"),
         (name = "keys", description = "API keys"), (name = "audit", description = "Raw history and verification"),
         (name = "operations", description = "Health"))
)]
struct ApiDoc;

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
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, ResponseBuilder, Type};
        let header = |description: &str, kind: Type| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(kind))
                .description(Some(description))
                .build()
        };
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
                for parameter in operation.parameters.iter_mut().flatten() {
                    // The limits the server checks (`idempotency.rs`, `Principal::caller`).
                    let limit = match parameter.name.as_str() {
                        "Idempotency-Key" => Some(idempotency::MAX_KEY_LEN),
                        "X-Actor-Id" => Some(auth::MAX_ID_LEN),
                        _ => None,
                    };
                    if let Some(max_length) = limit {
                        parameter.schema = Some(RefOr::T(utoipa::openapi::schema::Schema::Object(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .min_length(Some(1))
                                .max_length(Some(max_length))
                                .pattern(Some("^[ -~]*[!-~][ -~]*$"))
                                .build(),
                        )));
                    }
                }
                let authenticated = operation.security.is_some();
                // Answers read from a read model say at which position.
                let read_model = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|parameter| parameter.name == "min_position");
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
                        ("429", "Over the key's rate limit (see Retry-After)"),
                        ("500", "An unexpected failure, logged under the request id"),
                        ("503", "Database unavailable"),
                    ] {
                        responses.entry(status.to_owned()).or_insert_with(|| {
                            RefOr::T(ResponseBuilder::new().description(description).build())
                        });
                    }
                }
                for (status, response) in responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if status.starts_with('4') || status.starts_with('5') {
                        response.content.clear();
                        response.content.insert(PROBLEM_JSON.to_owned(), problem());
                    }
                    response
                        .headers
                        .insert("X-Request-Id".to_owned(), header(
                            "The request's id: the client's `X-Request-Id` when sane, else generated; \
                             the service's log lines of the request carry it",
                            Type::String,
                        ));
                    if status == "429" || status == "503" {
                        response.headers.insert(
                            "Retry-After".to_owned(),
                            header("Seconds to wait before retrying", Type::Integer),
                        );
                    }
                    if read_model && status == "200" {
                        response.headers.insert(
                            "X-Projection-Position".to_owned(),
                            header(
                                "The read model's position the answer was read at: at least \
                                 `min_position` when given",
                                Type::Integer,
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Every documented route, each registered with the handler whose
/// `#[utoipa::path]` documents it: the router and the OpenAPI document are
/// made from this one list, so neither can have a route the other lacks.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::rotate))
        .routes(routes!(commands::create_run, queries::list_runs))
        .routes(routes!(queries::get_run))
        .routes(routes!(queries::lineage))
        .routes(routes!(live::watch_run))
        .routes(routes!(live::event_stream))
        .routes(routes!(stream_tokens::create))
        .routes(routes!(queries::latest_project_run))
        .routes(routes!(queries::balance))
        .routes(routes!(queries::ledger))
        .routes(routes!(queries::projections))
        .routes(routes!(queries::rebuild))
        .routes(routes!(commands::rerun))
        .routes(routes!(commands::retry_failed))
        .routes(routes!(commands::retry))
        .routes(routes!(commands::report_facts, audit::list_run_events))
        .routes(routes!(audit::run_state))
        .routes(routes!(audit::feed))
        .routes(routes!(audit::verify))
        .routes(routes!(transparency::latest_checkpoint))
        .routes(routes!(transparency::checkpoint_key))
        .routes(routes!(transparency::list_checkpoints))
        .routes(routes!(transparency::inclusion_proof))
        .routes(routes!(transparency::consistency_proof))
        .routes(routes!(transparency::cosign))
        .routes(routes!(commands::grant))
}

/// The routes and the OpenAPI document that describes them, served at
/// `/openapi.json`.
fn routes_and_document() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = api().split_for_parts();
    BearerAuth.modify(&mut document);
    ProblemResponses.modify(&mut document);
    live::describe_streams(&mut document);
    (routes, document)
}

/// The OpenAPI document `/openapi.json` serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document().1
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    metrics::handle();
    let (routes, document) = routes_and_document();
    let document = std::sync::Arc::new(document);
    routes
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(request::track))
        .with_state(state)
}

/// A handler that panicked answers 500 `internal_error` like any bug, inside
/// its request's span (so the log line has the request id), and the
/// service goes on serving.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    axum::response::IntoResponse::into_response(ApiError::Internal(
        format!("handler panicked: {message}").into(),
    ))
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
        .map_err(|error| ApiError::Unavailable(error.into()))?;
    let expected = MIGRATOR.iter().count() as i64;
    if applied < expected {
        return Err(ApiError::Unavailable(
            format!("{applied} of {expected} migrations applied").into(),
        ));
    }
    Ok(Json(json!({ "status": "ready", "migrations": applied })))
}

async fn route_not_found(request: Request) -> ApiError {
    ApiError::RouteNotFound(request.uri().path().chars().take(200).collect())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    /// The layer `router` uses, around a handler that panics on every other
    /// request: the panic is a 500 problem, and the next request is served.
    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_service_goes_on() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let app = Router::new()
            .route(
                "/",
                get(move || {
                    let calls = calls.clone();
                    async move {
                        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 2 == 0 {
                            panic!("boom");
                        }
                        "ok"
                    }
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let request = || Request::get("/").body(Body::empty()).unwrap();
        let panicked = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(panicked.headers()["content-type"], PROBLEM_JSON);
        let body = axum::body::to_bytes(panicked.into_body(), 10_000)
            .await
            .unwrap();
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "internal_error");
        assert!(!problem["detail"].as_str().unwrap().contains("boom"));
        let served = app.oneshot(request()).await.unwrap();
        assert_eq!(served.status(), StatusCode::OK);
    }
}
