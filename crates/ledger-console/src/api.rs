//! The console's calls to the API, in process: the request a browser's
//! action stands for, sent to the API router with the session's principal
//! (`InProcessCaller`) and actor, as any client's request would be.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use ledger_api::auth::{InProcessCaller, Scope};
use serde_json::Value;
use tower::ServiceExt;

use crate::session::Session;

/// The largest API answer a page reads (a page of runs, a run's events).
const ANSWER_LIMIT: usize = 64 * 1024 * 1024;

/// The API router, as the console calls it.
#[derive(Clone)]
pub(crate) struct Api {
    router: Router,
}

/// An API answer: its status and JSON body (a problem for errors).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// The body as text (for `text/plain` answers such as a checkpoint).
    pub text: String,
    /// The read model's position the answer was read at
    /// (`X-Projection-Position`).
    pub position: Option<u64>,
}

impl Answer {
    /// The problem's stable `code`, for an error answer.
    pub fn code(&self) -> Option<&str> {
        if self.status.is_success() {
            return None;
        }
        self.body["code"].as_str()
    }

    /// The body of a success, or the problem's code.
    pub fn ok(self) -> Result<Value, String> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            Err(self.code().unwrap_or("unexpected").to_owned())
        }
    }
}

impl Api {
    pub fn new(router: Router) -> Self {
        Api { router }
    }

    /// `GET path` for the session.
    pub async fn get(&self, session: &Session, path: impl Into<String>) -> Answer {
        self.call(session, Method::GET, path.into(), None, None)
            .await
    }

    /// `POST path` for the session, with a body and the `Idempotency-Key`
    /// of the form it comes from (a form sent twice acts once).
    pub async fn post(
        &self,
        session: &Session,
        path: impl Into<String>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Answer {
        self.call(session, Method::POST, path.into(), body, idempotency_key)
            .await
    }

    async fn call(
        &self,
        session: &Session,
        method: Method,
        path: String,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("x-actor-id", &session.actor_id);
        // A tenant admin acts on runs it does not own only with an admin key.
        if session.principal.scopes.contains(&Scope::Admin) {
            request = request.header("x-actor-role", "admin");
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let request = request
            .extension(InProcessCaller(session.principal.clone()))
            .body(body);
        let request = match request {
            Ok(request) => request,
            Err(error) => return failure(StatusCode::BAD_REQUEST, "invalid_query", &error),
        };
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let position = response
            .headers()
            .get("x-projection-position")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok());
        match axum::body::to_bytes(response.into_body(), ANSWER_LIMIT).await {
            Ok(bytes) => Answer {
                status,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                position,
            },
            Err(error) => failure(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", &error),
        }
    }
}

fn failure(status: StatusCode, code: &str, error: &dyn std::fmt::Display) -> Answer {
    tracing::warn!(%error, "a console call to the API failed");
    Answer {
        status,
        body: serde_json::json!({ "code": code }),
        text: String::new(),
        position: None,
    }
}
