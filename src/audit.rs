//! `run-ledger replay`, `verify` and `export`: what an auditor reads.

use std::fmt::Write as _;

use ledger_api::wire::RunView;
use ledger_domain::events::{RunEvent, StreamEvent};
use ledger_domain::run::{self, RunState};
use ledger_store::bundle::BundleReport;
use ledger_store::checkpoint::{self, LogAudit};
use ledger_store::note::NoteVerifier;
use ledger_store::{verify_streams, ChainReport, EventStore, PgEventStore, ReadUntil};
use sqlx::PgPool;
use uuid::Uuid;

/// Why an audit command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The run has no events (up to that point).
    #[error("run {0} has no events up to that point")]
    NoRun(Uuid),
    /// The log could not be read or decoded.
    #[error("{0}")]
    Log(String),
}

/// A run's timeline (time, version, event, who, what) and its state after
/// the last event, up to `until`.
///
/// # Errors
/// No such run, or a log that cannot be read.
pub async fn replay(
    store: &PgEventStore,
    run_id: Uuid,
    until: ReadUntil,
) -> Result<String, AuditError> {
    let events = store
        .read_stream(&ledger_domain::run_stream_id(run_id), 0, until)
        .await
        .map_err(|error| AuditError::Log(error.to_string()))?;
    let mut state = RunState::default();
    let mut out = String::new();
    for recorded in &events {
        let event = RunEvent::decode(
            &recorded.event_type,
            recorded.schema_version,
            recorded.data.clone(),
        )
        .map_err(|error| AuditError::Log(error.to_string()))?;
        let before = state.run.as_ref().map(|run| run.status);
        state = run::evolve(state, &event);
        let after = state.run.as_ref().map(|run| run.status);
        let who = recorded.metadata["actor_id"]
            .as_str()
            .or(recorded.metadata["source"].as_str())
            .unwrap_or("-");
        let status = match (before, after) {
            (Some(before), Some(after)) if before != after => {
                format!("  [{} -> {}]", before.as_str(), after.as_str())
            }
            (None, Some(after)) => format!("  [{}]", after.as_str()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{}  v{:<4} #{:<8} {:<22} by {:<16} {}{status}",
            ledger_store::hash::format_recorded_at(recorded.recorded_at),
            recorded.stream_version,
            recorded.global_position,
            recorded.event_type,
            who,
            recorded.data,
        );
    }
    let (Some(run), Some(last)) = (&state.run, events.last()) else {
        return Err(AuditError::NoRun(run_id));
    };
    let view = RunView::new(run, Some(last.stream_version));
    let _ = writeln!(out, "\nstate after v{}:", last.stream_version);
    out.push_str(&serde_json::to_string_pretty(&view).expect("views serialize"));
    out.push('\n');
    Ok(out)
}

/// What `run-ledger verify` found.
#[derive(Debug)]
pub struct Verification {
    /// Hash chains.
    pub chains: ChainReport,
    /// Where the read models differ from a fresh fold.
    pub read_model_differences: Vec<String>,
    /// Signed checkpoints against the events.
    pub checkpoints: LogAudit,
}

impl Verification {
    /// True when the chains and checkpoints verify and the read models agree.
    pub fn ok(&self) -> bool {
        self.chains.ok
            && self.read_model_differences.is_empty()
            && self.checkpoints.problems.is_empty()
    }

    /// A report for people.
    pub fn render(&self) -> String {
        let mut out = format!(
            "hash chains: {} streams, {} events: {}\n",
            self.chains.streams_checked,
            self.chains.events_checked,
            if self.chains.ok { "ok" } else { "BROKEN" }
        );
        if let Some(broken) = &self.chains.first_bad {
            let _ = writeln!(
                out,
                "  first bad event: stream {} version {} position {}: {}",
                broken.stream_id, broken.stream_version, broken.global_position, broken.reason
            );
        }
        let audit = &self.checkpoints;
        let _ = writeln!(
            out,
            "signed checkpoints: {} checked, events up to position {} covered{}: {}",
            audit.checkpoints_checked,
            audit.covered_size,
            signatures_note(audit.signatures_checked),
            if audit.problems.is_empty() {
                "ok"
            } else {
                "BROKEN"
            }
        );
        for problem in &audit.problems {
            let _ = writeln!(out, "  {problem}");
        }
        if self.read_model_differences.is_empty() {
            out.push_str("read models: agree with a fresh replay of the log\n");
        } else {
            let _ = writeln!(
                out,
                "read models: {} differences",
                self.read_model_differences.len()
            );
            for difference in &self.read_model_differences {
                let _ = writeln!(out, "  {difference}");
            }
        }
        out
    }
}

fn signatures_note(checked: bool) -> &'static str {
    if checked {
        ""
    } else {
        " (roots only: pass --key with the log's verifier key to check who signed)"
    }
}

/// A report of `verify --bundle` for people.
pub fn render_bundle_report(report: &BundleReport) -> String {
    let mut out = format!(
        "bundle: {} events in {} streams\n",
        report.events, report.streams
    );
    if report.tree_size == 0 {
        out.push_str("checkpoint: none in the bundle: no event is proven to be in the log\n");
    } else {
        let _ = writeln!(
            out,
            "checkpoint: tree size {}, {} events proven in it{}, {} witness cosignatures verified",
            report.tree_size,
            report.events_proven,
            signatures_note(report.signature_checked),
            report.witnesses_verified
        );
    }
    if report.unsigned_events > 0 {
        let _ = writeln!(
            out,
            "  {} events come after the checkpoint: their chains verify, \
             but no signature covers them yet",
            report.unsigned_events
        );
    }
    for problem in &report.problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    let _ = writeln!(out, "{}", if report.ok() { "OK" } else { "TAMPERED" });
    out
}

/// Checks every hash chain, every signed checkpoint (its root against the
/// events, its signature with `log_key` when given, the cosignatures of
/// `witnesses`), and every read model against a fresh fold.
///
/// # Errors
/// A log or read model that cannot be read.
pub async fn verify(
    pool: &PgPool,
    store: &PgEventStore,
    log_key: Option<&NoteVerifier>,
    witnesses: &[NoteVerifier],
) -> Result<Verification, AuditError> {
    let chains = verify_streams(store, None, None)
        .await
        .map_err(|error| AuditError::Log(error.to_string()))?;
    let read_model_differences = ledger_projections::compare_with_log(pool, store)
        .await
        .map_err(|error| AuditError::Log(error.to_string()))?;
    let checkpoints = checkpoint::audit(pool, log_key, witnesses)
        .await
        .map_err(|error| AuditError::Log(error.to_string()))?;
    Ok(Verification {
        chains,
        read_model_differences,
        checkpoints,
    })
}
