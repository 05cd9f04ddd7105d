//! `GET /metrics` in the Prometheus text format (the HTTP request metrics
//! are recorded by `request::track`).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
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

/// Prometheus metrics: HTTP requests, append latency, the writer's batch
/// sizes and times, and each read model's checkpoint, the log's head and
/// the lag between them.
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
