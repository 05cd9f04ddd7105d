//! RFC 9457 problem details: every error the API sends, with one status table.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger_commands::CommandError;
use ledger_domain::DomainError;
use serde::Serialize;
use serde_json::{json, Value};

/// The media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error as the client sees it. `code` is stable; clients match on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// Stable machine code.
    pub code: String,
    /// Facts about this occurrence (for example the credits required).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    /// The request's id (`X-Request-Id`), as the service's log has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A failure's cause, kept with its own sources for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every failure a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an unknown API key (HTTP 401, `unauthorized`, with `WWW-Authenticate`).
    #[error("{0}")]
    Unauthorized(String),
    /// The key lacks the scope the route needs (HTTP 403, `insufficient_scope`).
    #[error("this key lacks the `{0}` scope")]
    MissingScope(&'static str),
    /// A key bound to one tenant named another tenant's account (HTTP 404, `account_not_found`).
    #[error("account not found")]
    AccountNotFound,
    /// The body is not JSON (HTTP 400, `malformed_json`).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON of the wrong shape: unknown or missing fields, wrong types (HTTP 422, `invalid_body`).
    #[error("invalid body: {0}")]
    InvalidBody(String),
    /// A value is out of range or malformed (HTTP 422, `invalid_input`).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// An event type the endpoint does not take (HTTP 422, `unknown_event_type`).
    #[error("unknown event type {found:?}; allowed: {}", allowed.join(", "))]
    UnknownEventType {
        /// What was sent.
        found: String,
        /// What is allowed.
        allowed: Vec<&'static str>,
    },
    /// The body is not of the media type the route takes (HTTP 415, `unsupported_media_type`).
    #[error("expected Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    /// The body exceeds the limit (HTTP 413, `payload_too_large`).
    #[error("the body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive in time (HTTP 408, `body_timeout`).
    #[error("the request body did not arrive within {0:?}")]
    BodyTimeout(std::time::Duration),
    /// A query parameter is unknown or malformed (HTTP 400, `invalid_query`).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The read model did not reach `min_position` in time (HTTP 503, `projection_lagging`, with `Retry-After`).
    #[error("the {projection} read model is at {reached}, not yet at {wanted}")]
    ProjectionLagging {
        /// The read model.
        projection: &'static str,
        /// The position asked for.
        wanted: u64,
        /// Where it is.
        reached: u64,
    },
    /// No read model of that name (HTTP 404, `projection_not_found`).
    #[error("no read model named {0:?}")]
    ProjectionNotFound(String),
    /// The read model is being rebuilt already (HTTP 409, `rebuild_in_progress`).
    #[error("{0} is being rebuilt already")]
    RebuildInProgress(&'static str),
    /// The key made more requests than its budget on this instance allows
    /// (HTTP 429, `rate_limited`, with `Retry-After`).
    #[error("too many requests with this key; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until a request fits the budget again.
        retry_after_seconds: u64,
    },
    /// No API key has this id (HTTP 404, `key_not_found`).
    #[error("no key with this id")]
    KeyNotFound,
    /// No run of this project is visible to the key (HTTP 404, `run_not_found`).
    #[error("no run found")]
    NoRun,
    /// An id in the path is not a UUID (HTTP 400, `invalid_id`).
    #[error("{0:?} is not a UUID")]
    InvalidId(String),
    /// An `Idempotency-Key` was used before with another request (HTTP 422, `idempotency_key_reused`).
    #[error("the Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// A command failed (status per `CommandError`; see `command_parts`).
    #[error(transparent)]
    Command(#[from] CommandError),
    /// No route matches the path (HTTP 404, `route_not_found`).
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The route exists but not for this method (HTTP 405, `method_not_allowed`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The database cannot be used now (`ledger_store::is_transient`); the
    /// cause is logged, not sent (HTTP 503, `store_unavailable`, with `Retry-After`).
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// A stored event this build cannot read, named by position; the
    /// reason is logged, not sent (HTTP 500, `event_unreadable`).
    #[error("the event at position {position} cannot be read by this build; the reason is in the service's log")]
    UnreadableEvent {
        /// Its global position.
        position: u64,
        /// Why (logged).
        reason: String,
    },
    /// This service signs no checkpoints: it has no signing key (HTTP 404, `checkpoints_not_signed`).
    #[error("this service signs no checkpoints: it has no signing key")]
    NotSigning,
    /// No checkpoint is signed yet, or none of that tree size (HTTP 404, `checkpoint_not_found`).
    #[error("{0}")]
    CheckpointNotFound(String),
    /// A proof asked of a tree size or position outside the latest signed
    /// tree, of size 0, or from a larger tree to a smaller (HTTP 400, `proof_out_of_range`).
    #[error("{0}")]
    ProofOutOfRange(String),
    /// A body that is not a signed checkpoint note (HTTP 400, `malformed_note`).
    #[error("{0}")]
    MalformedNote(String),
    /// A cosigned note whose text is not the checkpoint this log signed at
    /// its tree size (HTTP 409, `checkpoint_mismatch`).
    #[error("the note's text is not the checkpoint this log signed at tree size {0}")]
    CheckpointMismatch(u64),
    /// No signature by a witness this log accepts (HTTP 400, `unknown_witness`).
    #[error("no signature by a witness this log accepts (RUN_LEDGER_WITNESS_KEYS)")]
    UnknownWitness,
    /// A witness's signature that does not verify (HTTP 400, `bad_cosignature`).
    #[error("the signature of witness {0} does not verify")]
    BadCosignature(String),
    /// A bug or an unexpected failure; the cause is logged, not sent (HTTP 500, `internal_error`).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl From<ledger_store::ReadError> for ApiError {
    fn from(error: ledger_store::ReadError) -> Self {
        match error {
            ledger_store::ReadError::Undecodable {
                position, reason, ..
            } => ApiError::UnreadableEvent { position, reason },
            ledger_store::ReadError::Database(ref database)
                if ledger_store::is_transient(database) =>
            {
                ApiError::Unavailable(error.into())
            }
            ledger_store::ReadError::Database(_) => ApiError::Internal(error.into()),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError::Command(CommandError::Domain(error))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if ledger_store::is_transient(&error) {
            ApiError::Unavailable(error.into())
        } else {
            ApiError::Internal(error.into())
        }
    }
}

impl ApiError {
    /// The run does not exist or belongs to another tenant (404 `run_not_found`).
    pub fn run_not_found() -> Self {
        ApiError::Command(CommandError::Domain(DomainError::RunNotFound))
    }

    /// Parses an id from a path.
    ///
    /// # Errors
    /// `InvalidId` (400) for anything but a UUID.
    pub fn parse_id(text: &str) -> Result<uuid::Uuid, ApiError> {
        text.parse()
            .map_err(|_| ApiError::InvalidId(text.chars().take(64).collect()))
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::MissingScope(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            ApiError::AccountNotFound => (StatusCode::NOT_FOUND, "account_not_found"),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ApiError::InvalidBody(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            ApiError::InvalidInput { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ApiError::UnknownEventType { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_event_type")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::InvalidId(_) => (StatusCode::BAD_REQUEST, "invalid_id"),
            ApiError::InvalidQuery(_) => (StatusCode::BAD_REQUEST, "invalid_query"),
            ApiError::ProjectionLagging { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "projection_lagging")
            }
            ApiError::NoRun => (StatusCode::NOT_FOUND, "run_not_found"),
            ApiError::KeyNotFound => (StatusCode::NOT_FOUND, "key_not_found"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::ProjectionNotFound(_) => (StatusCode::NOT_FOUND, "projection_not_found"),
            ApiError::RebuildInProgress(_) => (StatusCode::CONFLICT, "rebuild_in_progress"),
            ApiError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            ApiError::Command(error) => command_parts(error),
            ApiError::RouteNotFound(_) => (StatusCode::NOT_FOUND, "route_not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            ApiError::UnreadableEvent { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "event_unreadable")
            }
            ApiError::NotSigning => (StatusCode::NOT_FOUND, "checkpoints_not_signed"),
            ApiError::CheckpointNotFound(_) => (StatusCode::NOT_FOUND, "checkpoint_not_found"),
            ApiError::ProofOutOfRange(_) => (StatusCode::BAD_REQUEST, "proof_out_of_range"),
            ApiError::MalformedNote(_) => (StatusCode::BAD_REQUEST, "malformed_note"),
            ApiError::CheckpointMismatch(_) => (StatusCode::CONFLICT, "checkpoint_mismatch"),
            ApiError::UnknownWitness => (StatusCode::BAD_REQUEST, "unknown_witness"),
            ApiError::BadCosignature(_) => (StatusCode::BAD_REQUEST, "bad_cosignature"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    fn context(&self) -> Option<Value> {
        match self {
            ApiError::Command(CommandError::Domain(error)) => match error {
                DomainError::InsufficientCredits {
                    required,
                    available,
                } => Some(json!({ "required": required, "available": available })),
                DomainError::MaxRetriesReached {
                    max_retry_count,
                    files,
                } => Some(json!({ "max_retry_count": max_retry_count, "files": files })),
                DomainError::InvalidInput { field, .. } => Some(json!({ "field": field })),
                _ => None,
            },
            ApiError::InvalidInput { field, .. } => Some(json!({ "field": field })),
            ApiError::UnreadableEvent { position, .. }
            | ApiError::Command(CommandError::Unreadable { position, .. }) => {
                Some(json!({ "position": position }))
            }
            ApiError::UnknownEventType { allowed, .. } => Some(json!({ "allowed": allowed })),
            _ => None,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The problem body of this error.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.parts();
        // Server errors name no database or internal text: the log has it,
        // under the request id the body carries.
        let logged = "an unexpected error occurred; it has been logged under the request id";
        let unavailable = "the database is unavailable; retry after the Retry-After delay";
        let detail = match self {
            ApiError::Internal(_)
            | ApiError::Command(CommandError::Corrupt { .. } | CommandError::StoreFailed(_)) => {
                logged.to_owned()
            }
            ApiError::Unavailable(_) | ApiError::Command(CommandError::Store(_)) => {
                unavailable.to_owned()
            }
            ApiError::Command(CommandError::Unreadable { position, reason }) => {
                ApiError::UnreadableEvent {
                    position: *position,
                    reason: reason.clone(),
                }
                .to_string()
            }
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("https://run-ledger.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            context: self.context(),
            request_id: crate::request::current_request_id(),
        }
    }
}

/// The status table of command failures.
fn command_parts(error: &CommandError) -> (StatusCode, &'static str) {
    let status = match error {
        CommandError::Domain(domain) => match domain {
            DomainError::RunNotFound => StatusCode::NOT_FOUND,
            DomainError::Forbidden { .. } => StatusCode::FORBIDDEN,
            DomainError::RunAlreadyExists { .. }
            | DomainError::KeyRevoked { .. }
            | DomainError::RunRunning { .. }
            | DomainError::RunTerminal { .. }
            | DomainError::RunNotFailed { .. } => StatusCode::CONFLICT,
            DomainError::NothingToRetry { .. }
            | DomainError::MaxRetriesReached { .. }
            | DomainError::RefundExceedsCharge { .. } => StatusCode::BAD_REQUEST,
            DomainError::InsufficientCredits { .. } => StatusCode::PAYMENT_REQUIRED,
            DomainError::InvalidInput { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        },
        CommandError::VersionConflict { .. } | CommandError::EventIdReused { .. } => {
            StatusCode::CONFLICT
        }
        CommandError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CommandError::Corrupt { .. }
        | CommandError::Unreadable { .. }
        | CommandError::StoreFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        CommandError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, error.code())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %ledger_store::error_chain(&self), "request failed");
        }
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::RateLimited {
            retry_after_seconds,
        } = &self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"run-ledger\""),
                );
            }
            _ => {}
        }
        response
    }
}
