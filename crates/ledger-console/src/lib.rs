//! The web console: the ledger's runs, stage timelines, lineage, credits,
//! projections and audit as server-rendered pages, with rerun and retry.
//!
//! The console is a client of the API that runs in the same process. A
//! person signs in with an API key once (`session`); every page then calls
//! the API router in process (`api::Api`) with the session's principal and
//! actor, so each read and each action goes through exactly the checks,
//! idempotency and metadata an HTTP client meets. Pages are plain HTML
//! with one small script (`assets/console.js`) for dialogs and live
//! updates; no Node.js builds or runs anything. Every response carries a
//! strict Content-Security-Policy (`security_headers`).

mod api;
mod pages;
mod runs;
mod session;
mod views;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ledger_api::AppState;

pub use session::SESSION_LIFETIME;

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    /// The service's own state (the pool, the keys).
    pub(crate) state: AppState,
    /// The API router, called in process.
    pub(crate) api: api::Api,
}

/// The console's routes: `/` and everything under `/console/`. Requests
/// the console does not serve go to `api` (the API router, which answers
/// unknown paths with its problem+json 404).
pub fn router(state: AppState, api: Router) -> Router {
    let console = Console {
        state,
        api: api::Api::new(api.clone()),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/runs") }))
        .route(
            "/console/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/stream-token", post(session::stream_token))
        .route("/console/runs", get(runs::list))
        .route("/console/runs/{run_id}", get(runs::detail))
        .route("/console/runs/{run_id}/{action}", post(runs::act))
        .route("/console/projects/{project_id}", get(runs::project))
        .route("/console/credits", get(pages::credits))
        .route("/console/operations", get(pages::operations))
        .route("/console/operations/rebuild/{name}", post(pages::rebuild))
        .route("/console/operations/verify", post(pages::verify))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .route("/console/assets/icon.svg", get(icon))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
        .fallback_service(api)
}

/// The policy every console response carries: scripts and styles from
/// this origin only (no inline script or style anywhere), no framing, no
/// plugins, forms posting only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

const STYLESHEET: &str = include_str!("../assets/console.css");
const SCRIPT: &str = include_str!("../assets/console.js");
const ICON: &str = include_str!("../assets/icon.svg");

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
