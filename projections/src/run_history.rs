//! Run history: `runs`, `run_stages` and `run_files`. Each run's row keeps
//! the run as the domain's `evolve` folds it, and derives its columns from it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ledger_domain::events::{FileStatus, RunEvent};
use ledger_domain::run::{self, Run, RunState};
use ledger_store::RecordedEvent;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::ProjectionError;

/// A run's row while a batch is applied.
struct RunRow {
    state: RunState,
    created_at: DateTime<Utc>,
    created_position: i64,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    version: i64,
    last_position: i64,
}

/// Applies a batch of events (those of run streams; others are ignored).
///
/// # Errors
/// An event that cannot be decoded, or a database failure.
pub async fn apply(
    conn: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut rows: HashMap<Uuid, RunRow> = HashMap::new();
    let mut order: Vec<Uuid> = Vec::new();
    let run_ids: Vec<Uuid> = events.iter().filter_map(run_id_of).collect();
    if run_ids.is_empty() {
        return Ok(());
    }
    for row in sqlx::query(
        "SELECT run_id, state, created_at, created_position, updated_at, completed_at, version, last_position
         FROM runs WHERE run_id = ANY($1)",
    )
    .bind(&run_ids)
    .fetch_all(&mut *conn)
    .await?
    {
        let state: serde_json::Value = row.try_get("state")?;
        rows.insert(
            row.try_get("run_id")?,
            RunRow {
                state: serde_json::from_value(state).map_err(|error| ProjectionError::Corrupt(error.to_string()))?,
                created_at: row.try_get("created_at")?,
                created_position: row.try_get("created_position")?,
                updated_at: row.try_get("updated_at")?,
                completed_at: row.try_get("completed_at")?,
                version: row.try_get("version")?,
                last_position: row.try_get("last_position")?,
            },
        );
    }
    let mut reruns: Vec<Uuid> = Vec::new();
    for recorded in events {
        let Some(run_id) = run_id_of(recorded) else {
            continue;
        };
        let event: RunEvent = crate::decode(recorded)?;
        if let RunEvent::RerunOf(rerun) = &event {
            reruns.push(rerun.original_run_id);
        }
        let position = recorded.global_position as i64;
        let row = rows.entry(run_id).or_insert_with(|| RunRow {
            state: RunState::default(),
            created_at: recorded.recorded_at,
            created_position: position,
            updated_at: recorded.recorded_at,
            completed_at: None,
            version: 0,
            last_position: position,
        });
        if !order.contains(&run_id) {
            order.push(run_id);
        }
        let was_terminal = row
            .state
            .run
            .as_ref()
            .is_some_and(|r| r.status.is_terminal());
        row.state = run::evolve(std::mem::take(&mut row.state), &event);
        let is_terminal = row
            .state
            .run
            .as_ref()
            .is_some_and(|r| r.status.is_terminal());
        row.completed_at = match (was_terminal, is_terminal) {
            (false, true) => Some(recorded.recorded_at),
            (_, false) => None,
            (true, true) => row.completed_at,
        };
        row.updated_at = recorded.recorded_at;
        row.version = recorded.stream_version as i64;
        row.last_position = position;
    }
    for run_id in &order {
        let row = &rows[run_id];
        let Some(run) = &row.state.run else {
            // Events before run.created cannot be shown; the log is kept as is.
            continue;
        };
        write_run(conn, run, row).await?;
    }
    for original in reruns {
        sqlx::query("UPDATE runs SET rerun_count = rerun_count + 1 WHERE run_id = $1")
            .bind(original)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn run_id_of(event: &RecordedEvent) -> Option<Uuid> {
    event.stream_id.strip_prefix("run-")?.parse().ok()
}

fn snake(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

async fn write_run(
    conn: &mut PgConnection,
    run: &Run,
    row: &RunRow,
) -> Result<(), ProjectionError> {
    let created = &run.created;
    let count = |status: FileStatus| run.files.iter().filter(|f| f.status == status).count() as i32;
    let error = run
        .error
        .as_ref()
        .map(|e| serde_json::json!({ "code": e.code, "message": e.message, "detail": e.detail }));
    sqlx::query(
        "INSERT INTO runs (run_id, tenant_id, owner_id, project_id, status, current_stage,
            document_name, document_url, company_id, company_name, pipeline_version, input_version,
            rerun_of, retry_count, max_retry_count, file_count, files_completed, files_failed,
            credits_charged, credits_refunded, error, created_at, updated_at, completed_at,
            version, created_position, last_position, state)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28)
         ON CONFLICT (run_id) DO UPDATE SET
            status = EXCLUDED.status, current_stage = EXCLUDED.current_stage, rerun_of = EXCLUDED.rerun_of,
            retry_count = EXCLUDED.retry_count, files_completed = EXCLUDED.files_completed,
            files_failed = EXCLUDED.files_failed, credits_charged = EXCLUDED.credits_charged,
            credits_refunded = EXCLUDED.credits_refunded, error = EXCLUDED.error,
            updated_at = EXCLUDED.updated_at, completed_at = EXCLUDED.completed_at,
            version = EXCLUDED.version, last_position = EXCLUDED.last_position, state = EXCLUDED.state",
    )
    .bind(created.run_id)
    .bind(&created.tenant_id)
    .bind(&created.owner_id)
    .bind(&created.project_id)
    .bind(snake(run.status))
    .bind(run.current_stage() as i32)
    .bind(created.document.as_ref().map(|d| &d.name))
    .bind(created.document.as_ref().map(|d| &d.url))
    .bind(created.company.as_ref().map(|c| &c.id))
    .bind(created.company.as_ref().map(|c| &c.name))
    .bind(&created.pipeline_version)
    .bind(&created.input_version)
    .bind(run.rerun_of)
    .bind(run.retry_count as i32)
    .bind(created.max_retry_count as i32)
    .bind(run.files.len() as i32)
    .bind(count(FileStatus::Completed))
    .bind(count(FileStatus::Failed) + count(FileStatus::Error))
    .bind(run.charged.total())
    .bind(run.refunded.total())
    .bind(error)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(row.completed_at)
    .bind(row.version)
    .bind(row.created_position)
    .bind(row.last_position)
    .bind(serde_json::to_value(&row.state).expect("states serialize"))
    .execute(&mut *conn)
    .await?;

    sqlx::query("DELETE FROM run_stages WHERE run_id = $1")
        .bind(created.run_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO run_stages (run_id, number, name, status, output, error)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::text[])",
    )
    .bind(created.run_id)
    .bind((1..=run.stages.len() as i32).collect::<Vec<_>>())
    .bind(
        run.stages
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        run.stages
            .iter()
            .map(|s| snake(s.status))
            .collect::<Vec<_>>(),
    )
    .bind(
        run.stages
            .iter()
            .map(|s| s.output.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        run.stages
            .iter()
            .map(|s| s.error.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM run_files WHERE run_id = $1")
        .bind(created.run_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO run_files (run_id, file_index, name, status, retry_attempt, error)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::int[], $6::text[])",
    )
    .bind(created.run_id)
    .bind((0..run.files.len() as i32).collect::<Vec<_>>())
    .bind(run.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>())
    .bind(
        run.files
            .iter()
            .map(|f| snake(f.status))
            .collect::<Vec<_>>(),
    )
    .bind(
        run.files
            .iter()
            .map(|f| f.retry_attempt as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        run.files
            .iter()
            .map(|f| f.error.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
