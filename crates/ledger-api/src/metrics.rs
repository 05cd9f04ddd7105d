//! `GET /metrics` in the Prometheus text format, and the HTTP middleware
//! that counts requests by route and status.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::{ApiError, AppState};

/// The process-wide recorder (metrics are per process, like the registry
/// Prometheus scrapes).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may have been installed first (a host program);
        // then its metrics are what it reports.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts and times every request by method, route template and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics: HTTP requests, append latency and batch sizes, and
/// each read model's checkpoint, the log's head and the lag between them.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let statuses = ledger_projections::statuses(&state.pool).await?;
    for status in &statuses {
        let projection = status.name.clone();
        metrics::gauge!("ledger_log_head_position").set(status.head as f64);
        metrics::gauge!("ledger_projection_checkpoint", "projection" => projection.clone())
            .set(status.checkpoint as f64);
        metrics::gauge!("ledger_projection_lag_events", "projection" => projection.clone())
            .set(status.lag_events as f64);
        metrics::gauge!("ledger_projection_lag_seconds", "projection" => projection.clone())
            .set(status.lag_seconds);
        metrics::gauge!("ledger_projection_stopped", "projection" => projection)
            .set(if status.state == "stopped" { 1.0 } else { 0.0 });
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response())
}
