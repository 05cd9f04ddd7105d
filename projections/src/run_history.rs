//! Run history: `runs`, one row per run. Each row keeps the run as the
//! domain's `evolve` folds it (its stages and files included), and derives
//! the columns queries filter on from it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ledger_domain::events::{FileStatus, RunEvent, StageStatus};
use ledger_domain::run::{self, Run, RunState, RunStatus};
use ledger_domain::RUN_STREAM_PREFIX;
use ledger_store::FeedEvent;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::ProjectionError;

/// When a run's current attempt and each of its stages began and ended,
/// by the recorded times of the events that moved them. The read model
/// keeps it beside the folded run: the domain's `evolve` knows no time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// When the run last went from queued to running (unset while queued).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ledger_domain::time::rfc3339_option"
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// Stage n's times are `stages[n - 1]`.
    #[serde(default)]
    pub stages: Vec<StageTimes>,
}

/// When a stage began and ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// The event that took it out of `pending`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ledger_domain::time::rfc3339_option"
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// The event that made it `completed`, `failed` or `cancelled`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ledger_domain::time::rfc3339_option"
    )]
    pub completed_at: Option<DateTime<Utc>>,
}

/// The statuses an event can move, taken before it is applied.
struct Statuses {
    run: RunStatus,
    stages: Vec<StageStatus>,
}

impl Statuses {
    fn of(run: Option<&Run>) -> Option<Self> {
        run.map(|run| Statuses {
            run: run.status,
            stages: run.stages.iter().map(|stage| stage.status).collect(),
        })
    }
}

impl Timeline {
    /// Records what one event recorded at `at` changed, from the statuses
    /// `before` it (none before `run.created`) to the run `after` it.
    fn advance(&mut self, before: Option<&Statuses>, after: &Run, at: DateTime<Utc>) {
        let was = |stage: usize| {
            before
                .and_then(|before| before.stages.get(stage).copied())
                .unwrap_or(StageStatus::Pending)
        };
        match (before.map(|before| before.run), after.status) {
            (Some(RunStatus::Queued), RunStatus::Running) => self.started_at = Some(at),
            (_, RunStatus::Queued) => self.started_at = None,
            _ => {}
        }
        self.stages
            .resize_with(after.stages.len(), StageTimes::default);
        for (index, (stage, times)) in after.stages.iter().zip(&mut self.stages).enumerate() {
            if stage.status == was(index) {
                continue;
            }
            match stage.status {
                StageStatus::Pending => *times = StageTimes::default(),
                StageStatus::Processing => {
                    times.started_at.get_or_insert(at);
                    times.completed_at = None;
                }
                StageStatus::Completed | StageStatus::Failed | StageStatus::Cancelled => {
                    times.started_at.get_or_insert(at);
                    times.completed_at = Some(at);
                }
            }
        }
    }
}

/// A run's row while a batch is applied.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    state: RunState,
    created_at: DateTime<Utc>,
    created_position: i64,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    timeline: Timeline,
    version: i64,
    last_position: i64,
    /// Whether the run had a row before this batch.
    stored: bool,
}

/// The stored rows of the runs $1.
const LOOK_UP_RUNS: &str =
    "SELECT run_id, state, created_at, created_position, updated_at, completed_at, timeline,
            version, last_position
     FROM runs WHERE run_id = ANY($1)";

/// Raises the rerun count of each run in $1 by the times it is there: the
/// rows by their key, each counting itself in the array (a join of the
/// array to `runs` is hashed, scanning `runs`, when its statistics are of
/// a small table).
const COUNT_RERUNS: &str = "UPDATE runs
     SET rerun_count = rerun_count
         + (SELECT count(*)::int FROM UNNEST($1::uuid[]) AS original WHERE original = run_id)
     WHERE run_id = ANY($1)";

/// A batch folded and not yet written: its runs as they stand after it.
#[derive(Debug, Default)]
pub(crate) struct FoldedRuns {
    /// The batch's runs in the order their first events came.
    order: Vec<Uuid>,
    rows: HashMap<Uuid, RunRow>,
    /// The runs the batch's `run.rerun_of` events re-execute, once each.
    reruns: Vec<Uuid>,
    /// The `runs` table (its oid) the rows it started from were read from,
    /// when it was folded outside the transaction that writes it: a
    /// rebuild swaps another table in, whose rows may differ, and the
    /// batch must then be folded again (`RUNS_TABLE`).
    pub(crate) read_from: Option<i64>,
}

/// The oid of the `runs` table queries see now.
pub(crate) const RUNS_TABLE: &str = "SELECT 'runs'::regclass::oid::int8";

impl FoldedRuns {
    /// Each of this batch's runs as the next batch finds it once this one
    /// has committed: every run with a row then has it stored.
    fn committed(&self, run_id: &Uuid) -> Option<RunRow> {
        let mut row = self.rows.get(run_id)?.clone();
        row.stored |= row.state.run.is_some();
        Some(row)
    }
}

/// Applies a batch of events (those of run streams; others are ignored).
///
/// # Errors
/// An event that cannot be decoded, or a database failure.
pub async fn apply(conn: &mut PgConnection, events: &[FeedEvent]) -> Result<(), ProjectionError> {
    let mut before = RowsBefore::of(events, None);
    before.look_up(conn).await?;
    write(conn, &fold(events, before.into_rows())?).await
}

/// The rows a batch's runs have before it, while they are gathered: those
/// the batch before it left (folded and not yet committed), and the
/// others as stored. A run whose first event in the batch opens its stream
/// (version 0) has no row yet, so most of a burst of new runs, and of a
/// rebuild, needs no lookup at all.
pub(crate) struct RowsBefore {
    rows: HashMap<Uuid, RunRow>,
    /// The runs still to read from `runs`.
    lookups: Vec<Uuid>,
}

impl RowsBefore {
    /// The rows `earlier` leaves the batch's runs, and the runs to look up.
    pub(crate) fn of(events: &[FeedEvent], earlier: Option<&FoldedRuns>) -> Self {
        let mut rows: HashMap<Uuid, RunRow> = HashMap::new();
        let mut lookups: Vec<Uuid> = Vec::new();
        let mut seen: HashSet<Uuid> = HashSet::new();
        for event in events {
            let Some(run_id) = run_id_of(event) else {
                continue;
            };
            if !seen.insert(run_id) {
                continue;
            }
            match earlier.and_then(|earlier| earlier.committed(&run_id)) {
                Some(row) => {
                    rows.insert(run_id, row);
                }
                None if event.stream_version > 0 => lookups.push(run_id),
                None => {}
            }
        }
        RowsBefore { rows, lookups }
    }

    /// Whether some runs must be read from `runs`.
    pub(crate) fn needs_lookup(&self) -> bool {
        !self.lookups.is_empty()
    }

    /// Reads the runs not known yet from `runs`.
    pub(crate) async fn look_up(&mut self, conn: &mut PgConnection) -> Result<(), ProjectionError> {
        if self.lookups.is_empty() {
            return Ok(());
        }
        let existing = sqlx::query(LOOK_UP_RUNS)
            .bind(std::mem::take(&mut self.lookups))
            .fetch_all(&mut *conn)
            .await?;
        for row in existing {
            let state = json_column::<RunState>(&row, "state")?;
            let timeline = json_column::<Timeline>(&row, "timeline")?;
            self.rows.insert(
                row.try_get("run_id")?,
                RunRow {
                    state,
                    created_at: row.try_get("created_at")?,
                    created_position: row.try_get("created_position")?,
                    updated_at: row.try_get("updated_at")?,
                    completed_at: row.try_get("completed_at")?,
                    timeline,
                    version: row.try_get("version")?,
                    last_position: row.try_get("last_position")?,
                    stored: true,
                },
            );
        }
        Ok(())
    }

    /// The rows gathered.
    pub(crate) fn into_rows(self) -> HashMap<Uuid, RunRow> {
        self.rows
    }
}

/// Folds a batch into its runs' `rows` (as `rows_before` found them), with
/// the domain's `evolve`: no IO, so a projector folds one batch while the
/// database writes the one before it.
///
/// # Errors
/// `Undecodable` for an event this build cannot read.
pub(crate) fn fold(
    events: &[FeedEvent],
    mut rows: HashMap<Uuid, RunRow>,
) -> Result<FoldedRuns, ProjectionError> {
    let mut order: Vec<Uuid> = Vec::new();
    let mut seen: HashSet<Uuid> = HashSet::new();
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
            timeline: Timeline::default(),
            version: 0,
            last_position: position,
            stored: false,
        });
        if seen.insert(run_id) {
            order.push(run_id);
        }
        let before = Statuses::of(row.state.run.as_ref());
        let was_terminal = before
            .as_ref()
            .is_some_and(|before| before.run.is_terminal());
        row.state = run::evolve(std::mem::take(&mut row.state), &event);
        if let Some(after) = &row.state.run {
            row.timeline
                .advance(before.as_ref(), after, recorded.recorded_at);
        }
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
    Ok(FoldedRuns {
        order,
        rows,
        reruns,
        read_from: None,
    })
}

/// Writes a folded batch: its runs' rows and the rerun counts it raises.
///
/// # Errors
/// A database failure, or a run that does not serialize.
pub(crate) async fn write(
    conn: &mut PgConnection,
    folded: &FoldedRuns,
) -> Result<(), ProjectionError> {
    let shown: Vec<(&Run, &RunRow)> = folded
        .order
        .iter()
        .filter_map(|run_id| {
            let row = &folded.rows[run_id];
            // Events before run.created cannot be shown; the log is kept as is.
            row.state.run.as_ref().map(|run| (run, row))
        })
        .collect();
    write_runs(conn, &shown).await?;
    if !folded.reruns.is_empty() {
        sqlx::query(COUNT_RERUNS)
            .bind(&folded.reruns)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Splits a batch into at most `parts` parts, in log order within each,
/// that can be applied at once, each in a transaction of its own, because
/// no two write one row: a run's events stay together, and so do those of
/// a rerun and the run it re-executes (whose rerun count it raises). Parts
/// are filled by events, a run at a time, whichever holds fewest taking
/// the next run.
///
/// # Errors
/// `Undecodable` for a `run.rerun_of` event that does not decode.
pub(crate) fn split(
    events: Vec<FeedEvent>,
    parts: usize,
) -> Result<Vec<Vec<FeedEvent>>, ProjectionError> {
    let parts = parts.max(1);
    let mut groups = RunGroups::default();
    let mut numbers: Vec<Option<usize>> = Vec::with_capacity(events.len());
    for event in &events {
        let number = run_id_of(event).map(|run_id| groups.number(run_id));
        if let (Some(number), true) = (number, event.event_type == RunEvent::RERUN_OF_TYPE) {
            if let RunEvent::RerunOf(rerun) = crate::decode::<RunEvent>(event)? {
                let original = groups.number(rerun.original_run_id);
                groups.join(number, original);
            }
        }
        numbers.push(number);
    }
    let roots: Vec<Option<usize>> = numbers
        .iter()
        .map(|number| number.map(|number| groups.root(number)))
        .collect();
    let mut sizes = vec![0usize; groups.parent.len()];
    for root in roots.iter().flatten() {
        sizes[*root] += 1;
    }
    // A run's part, by its group's root, given as the group first appears.
    let mut part_of: Vec<Option<usize>> = vec![None; groups.parent.len()];
    let mut loads = vec![0usize; parts];
    let mut split: Vec<Vec<FeedEvent>> = (0..parts).map(|_| Vec::new()).collect();
    for (event, root) in events.into_iter().zip(roots) {
        // An event of no run is passed over by `apply`: any part will do.
        let part = match root {
            None => 0,
            Some(root) => *part_of[root].get_or_insert_with(|| {
                let lightest = (0..parts).min_by_key(|&part| loads[part]).unwrap_or(0);
                loads[lightest] += sizes[root];
                lightest
            }),
        };
        split[part].push(event);
    }
    split.retain(|part| !part.is_empty());
    Ok(split)
}

/// Runs joined into groups (a union-find over numbers given to runs as
/// they are first seen).
#[derive(Default)]
struct RunGroups {
    numbers: HashMap<Uuid, usize>,
    parent: Vec<usize>,
}

impl RunGroups {
    fn number(&mut self, run_id: Uuid) -> usize {
        let next = self.parent.len();
        let number = *self.numbers.entry(run_id).or_insert(next);
        if number == next {
            self.parent.push(next);
        }
        number
    }

    fn root(&mut self, mut number: usize) -> usize {
        while self.parent[number] != number {
            self.parent[number] = self.parent[self.parent[number]];
            number = self.parent[number];
        }
        number
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        self.parent[a.max(b)] = a.min(b);
    }
}

fn run_id_of(event: &FeedEvent) -> Option<Uuid> {
    event
        .stream_id
        .strip_prefix(RUN_STREAM_PREFIX)?
        .parse()
        .ok()
}

fn snake(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// The columns both writes fill, in the order their values are given.
const WRITTEN_COLUMNS: &str = "run_id, tenant_id, owner_id, project_id, status, current_stage,
    document_name, document_url, company_id, company_name, pipeline_version, input_version,
    rerun_of, retry_count, max_retry_count, file_count, files_completed, files_failed,
    credits_charged, credits_refunded, error, created_at, updated_at, completed_at,
    version, created_position, last_position, state, timeline";

/// How many columns `WRITTEN_COLUMNS` names: a COPY row's field count.
const WRITTEN_COLUMN_COUNT: i16 = 29;

/// A run row's values, in `WRITTEN_COLUMNS` order.
struct Columns<'r> {
    run_id: Uuid,
    tenant_id: &'r str,
    owner_id: &'r str,
    project_id: Option<&'r str>,
    status: String,
    current_stage: i32,
    document_name: Option<&'r str>,
    document_url: Option<&'r str>,
    company_id: Option<&'r str>,
    company_name: Option<&'r str>,
    pipeline_version: Option<&'r str>,
    input_version: Option<&'r str>,
    rerun_of: Option<Uuid>,
    retry_count: i32,
    max_retry_count: i32,
    file_count: i32,
    files_completed: i32,
    files_failed: i32,
    credits_charged: i64,
    credits_refunded: i64,
    /// JSON text.
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    version: i64,
    created_position: i64,
    last_position: i64,
    /// JSON text, kept as it is in `text` columns (migration 0021).
    state: String,
    timeline: String,
}

impl<'r> Columns<'r> {
    fn of(run: &'r Run, row: &'r RunRow) -> Result<Self, ProjectionError> {
        let created = &run.created;
        let count = |statuses: &[FileStatus]| {
            run.files
                .iter()
                .filter(|file| statuses.contains(&file.status))
                .count() as i32
        };
        Ok(Columns {
            run_id: created.run_id,
            tenant_id: &created.tenant_id,
            owner_id: &created.owner_id,
            project_id: created.project_id.as_deref(),
            status: snake(run.status),
            current_stage: run.current_stage() as i32,
            document_name: created.document.as_ref().map(|d| d.name.as_str()),
            document_url: created.document.as_ref().map(|d| d.url.as_str()),
            company_id: created.company.as_ref().map(|c| c.id.as_str()),
            company_name: created.company.as_ref().map(|c| c.name.as_str()),
            pipeline_version: created.pipeline_version.as_deref(),
            input_version: created.input_version.as_deref(),
            rerun_of: run.rerun_of,
            retry_count: run.retry_count as i32,
            max_retry_count: created.max_retry_count as i32,
            file_count: run.files.len() as i32,
            files_completed: count(&[FileStatus::Completed]),
            files_failed: count(&[FileStatus::Failed, FileStatus::Error]),
            credits_charged: run.charged.total(),
            credits_refunded: run.refunded.total(),
            error: run
                .error
                .as_ref()
                .map(|e| {
                    json_text(&serde_json::json!({
                        "code": e.code, "message": e.message, "detail": e.detail
                    }))
                })
                .transpose()?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            completed_at: row.completed_at,
            version: row.version,
            created_position: row.created_position,
            last_position: row.last_position,
            state: json_text(&row.state)?,
            timeline: json_text(&row.timeline)?,
        })
    }
}

/// Writes the batch's runs: those it opened with one binary COPY, those
/// that had a row with one multi-row upsert, so a projector's speed does
/// not hang on round trips.
async fn write_runs(
    conn: &mut PgConnection,
    runs: &[(&Run, &RunRow)],
) -> Result<(), ProjectionError> {
    let (stored, opened): (Vec<_>, Vec<_>) = runs.iter().partition(|(_, row)| row.stored);
    copy_runs(conn, &opened).await?;
    let stored = stored
        .iter()
        .map(|(run, row)| Columns::of(run, row))
        .collect::<Result<Vec<_>, _>>()?;
    update_runs(conn, &stored).await
}

/// Inserts runs that have no row. The projector holds its lock and read
/// every row the batch's events could touch, so a row that is there after
/// all means the log was applied twice: the unique key fails the batch,
/// and the projection stops at it rather than fold a run over again.
async fn copy_runs(
    conn: &mut PgConnection,
    runs: &[&(&Run, &RunRow)],
) -> Result<(), ProjectionError> {
    if runs.is_empty() {
        return Ok(());
    }
    let mut copy =
        crate::copy::BinaryCopy::start(conn, &format!("runs ({WRITTEN_COLUMNS})")).await?;
    for (run, row) in runs {
        let c = Columns::of(run, row)?;
        copy.row(WRITTEN_COLUMN_COUNT)
            .uuid(Some(c.run_id))
            .text(Some(c.tenant_id))
            .text(Some(c.owner_id))
            .text(c.project_id)
            .text(Some(&c.status))
            .int4(c.current_stage)
            .text(c.document_name)
            .text(c.document_url)
            .text(c.company_id)
            .text(c.company_name)
            .text(c.pipeline_version)
            .text(c.input_version)
            .uuid(c.rerun_of)
            .int4(c.retry_count)
            .int4(c.max_retry_count)
            .int4(c.file_count)
            .int4(c.files_completed)
            .int4(c.files_failed)
            .int8(c.credits_charged)
            .int8(c.credits_refunded)
            .jsonb(c.error.as_deref())
            .timestamptz(Some(c.created_at))
            .timestamptz(Some(c.updated_at))
            .timestamptz(c.completed_at)
            .int8(c.version)
            .int8(c.created_position)
            .int8(c.last_position)
            .text(Some(&c.state))
            .text(Some(&c.timeline));
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Rewrites runs that have a row, in one statement.
async fn update_runs(conn: &mut PgConnection, runs: &[Columns<'_>]) -> Result<(), ProjectionError> {
    if runs.is_empty() {
        return Ok(());
    }
    fn each<T>(runs: &[Columns<'_>], value: impl Fn(&Columns<'_>) -> T) -> Vec<T> {
        runs.iter().map(value).collect()
    }
    let owned = |value: Option<&str>| value.map(str::to_owned);
    sqlx::query(&format!(
        "INSERT INTO runs ({WRITTEN_COLUMNS})
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
            $13::uuid[], $14::int[], $15::int[], $16::int[], $17::int[], $18::int[],
            $19::bigint[], $20::bigint[], $21::jsonb[], $22::timestamptz[], $23::timestamptz[],
            $24::timestamptz[], $25::bigint[], $26::bigint[], $27::bigint[], $28::text[],
            $29::text[])
         ON CONFLICT (run_id) DO UPDATE SET
            status = EXCLUDED.status, current_stage = EXCLUDED.current_stage, rerun_of = EXCLUDED.rerun_of,
            retry_count = EXCLUDED.retry_count, files_completed = EXCLUDED.files_completed,
            files_failed = EXCLUDED.files_failed, credits_charged = EXCLUDED.credits_charged,
            credits_refunded = EXCLUDED.credits_refunded, error = EXCLUDED.error,
            updated_at = EXCLUDED.updated_at, completed_at = EXCLUDED.completed_at,
            version = EXCLUDED.version, last_position = EXCLUDED.last_position, state = EXCLUDED.state,
            timeline = EXCLUDED.timeline"
    ))
    .bind(each(runs, |c| c.run_id))
    .bind(each(runs, |c| c.tenant_id.to_owned()))
    .bind(each(runs, |c| c.owner_id.to_owned()))
    .bind(each(runs, |c| owned(c.project_id)))
    .bind(each(runs, |c| c.status.clone()))
    .bind(each(runs, |c| c.current_stage))
    .bind(each(runs, |c| owned(c.document_name)))
    .bind(each(runs, |c| owned(c.document_url)))
    .bind(each(runs, |c| owned(c.company_id)))
    .bind(each(runs, |c| owned(c.company_name)))
    .bind(each(runs, |c| owned(c.pipeline_version)))
    .bind(each(runs, |c| owned(c.input_version)))
    .bind(each(runs, |c| c.rerun_of))
    .bind(each(runs, |c| c.retry_count))
    .bind(each(runs, |c| c.max_retry_count))
    .bind(each(runs, |c| c.file_count))
    .bind(each(runs, |c| c.files_completed))
    .bind(each(runs, |c| c.files_failed))
    .bind(each(runs, |c| c.credits_charged))
    .bind(each(runs, |c| c.credits_refunded))
    .bind(each(runs, |c| c.error.clone()))
    .bind(each(runs, |c| c.created_at))
    .bind(each(runs, |c| c.updated_at))
    .bind(each(runs, |c| c.completed_at))
    .bind(each(runs, |c| c.version))
    .bind(each(runs, |c| c.created_position))
    .bind(each(runs, |c| c.last_position))
    .bind(each(runs, |c| c.state.clone()))
    .bind(each(runs, |c| c.timeline.clone()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `value` as JSON text.
fn json_text(value: &impl Serialize) -> Result<String, ProjectionError> {
    serde_json::to_string(value).map_err(|error| {
        ProjectionError::Corrupt(format!("a run that does not serialize: {error}"))
    })
}

/// A JSON column of a `runs` row (`state`, `timeline`: text, migration
/// 0021), read straight into `T`; a value `T` does not accept is a
/// corrupt row.
///
/// # Errors
/// `Corrupt` for text that is not a `T`; `Database` for a missing column.
pub fn json_column<T: serde::de::DeserializeOwned>(
    row: &sqlx::postgres::PgRow,
    column: &str,
) -> Result<T, ProjectionError> {
    let text: &str = row.try_get(column)?;
    serde_json::from_str(text)
        .map_err(|error| ProjectionError::Corrupt(format!("runs.{column}: {error}")))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use ledger_domain::events::*;
    use serde_json::json;

    use super::*;

    /// Whatever the statistics say of `runs` (never analyzed, or analyzed
    /// while empty, as a new ledger's may be long after it has grown), a
    /// projector batch looks its runs up, and raises rerun counts, one
    /// index probe a run: the generic plans its transaction's settings give
    /// scan no table and hash no join.
    #[tokio::test]
    async fn a_batch_looks_runs_up_by_index_whatever_the_statistics_say() {
        let db = ledger_embedded_pg::testing::fresh_database().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .unwrap();
        ledger_store::MIGRATOR.run(&pool).await.unwrap();
        for (round, (runs, change)) in [("never analyzed", ""), ("analyzed empty", "ANALYZE runs")]
            .into_iter()
            .enumerate()
        {
            sqlx::raw_sql(change).execute(&pool).await.unwrap();
            let mut tx = pool.begin_with(crate::BATCH_TRANSACTION).await.unwrap();
            for (name, statement) in [("look_up", LOOK_UP_RUNS), ("count", COUNT_RERUNS)] {
                let name_in_round = format!("{name}_{round}");
                let plan = ledger_embedded_pg::testing::generic_plan(
                    &mut tx,
                    &name_in_round,
                    "uuid[]",
                    statement,
                )
                .await;
                assert!(
                    !ledger_embedded_pg::testing::plan_reads_a_whole_table(&plan),
                    "{name}, runs {runs}:\n{plan}"
                );
            }
            tx.rollback().await.unwrap();
        }
    }

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, second).unwrap()
    }

    fn stage(stage: u32, status: StageStatus) -> RunEvent {
        RunEvent::StageUpdated(StageUpdated {
            stage,
            status,
            output: None,
            error: None,
        })
    }

    /// Folds `events`, the nth recorded at second n, into a timeline.
    fn timeline(events: &[RunEvent]) -> Timeline {
        let mut state = RunState::default();
        let mut timeline = Timeline::default();
        for (second, event) in events.iter().enumerate() {
            let before = Statuses::of(state.run.as_ref());
            state = run::evolve(state, event);
            timeline.advance(
                before.as_ref(),
                state.run.as_ref().unwrap(),
                at(second as u32),
            );
        }
        timeline
    }

    fn created() -> RunEvent {
        RunEvent::Created(Box::new(
            serde_json::from_value(json!({
                "run_id": "8a3c8f6e-1f7b-4a53-9a51-2e0c1b7f0a01", "tenant_id": "acme",
                "owner_id": "ada", "stages": ["a", "b"], "credits_per_file": 1, "max_retry_count": 3
            }))
            .unwrap(),
        ))
    }

    /// Event `event` of run `run` at `position`, as the feed gives it.
    fn fed(position: u64, run: u128, version: u64, event: RunEvent) -> FeedEvent {
        use ledger_domain::events::StreamEvent;
        let encoded = event.encode();
        FeedEvent {
            global_position: position,
            stream_id: ledger_domain::run_stream_id(Uuid::from_u128(run)),
            stream_version: version,
            event_type: encoded.event_type,
            schema_version: encoded.schema_version,
            data: encoded.data.to_string(),
            recorded_at: at(0),
        }
    }

    #[test]
    fn a_split_keeps_each_run_with_the_run_it_reruns_in_log_order() {
        let rerun_of = |original: u128| {
            RunEvent::RerunOf(RunRerunOf {
                original_run_id: Uuid::from_u128(original),
            })
        };
        let events = vec![
            fed(1, 1, 0, created()),
            fed(2, 2, 0, created()),
            fed(3, 3, 0, created()),
            fed(4, 3, 1, rerun_of(1)),
            fed(5, 4, 0, created()),
            fed(6, 2, 1, stage(1, StageStatus::Processing)),
            fed(7, 1, 1, stage(1, StageStatus::Processing)),
            fed(8, 4, 1, stage(1, StageStatus::Processing)),
            fed(9, 5, 0, rerun_of(2)),
        ];
        let parts = split(events, 2).unwrap();
        assert_eq!(parts.len(), 2);
        let positions: Vec<Vec<u64>> = parts
            .iter()
            .map(|part| part.iter().map(|event| event.global_position).collect())
            .collect();
        // Runs 1 and 3 (its rerun) go first, to the first part; run 2 and
        // its rerun 5 to the second, the lighter; run 4 to the second too,
        // which holds 3 events against the first's 4 when run 4 comes.
        assert_eq!(positions, [vec![1, 3, 4, 7], vec![2, 5, 6, 8, 9]]);
        assert_eq!(split(Vec::new(), 2).unwrap().len(), 0);
        assert_eq!(split(parts.concat(), 1).unwrap().len(), 1);
    }

    /// A batch folded from the rows the batch before it left, before that
    /// one commits, folds to what the two batches fold to as one: its runs
    /// in the earlier batch are taken from it (no lookup, and written as
    /// rows that exist, not copied in anew), and only runs the earlier one
    /// did not touch are looked up.
    #[test]
    fn a_batch_folded_after_an_uncommitted_one_starts_from_the_rows_it_left() {
        let events = vec![
            fed(1, 1, 0, created()),
            fed(2, 1, 1, RunEvent::Started(RunStarted {})),
            fed(3, 1, 2, stage(1, StageStatus::Processing)),
            fed(4, 2, 3, stage(1, StageStatus::Processing)),
            fed(5, 1, 3, stage(1, StageStatus::Completed)),
            fed(6, 3, 0, created()),
        ];
        let (first, second) = events.split_at(3);
        let earlier = fold(first, RowsBefore::of(first, None).into_rows()).unwrap();
        let before = RowsBefore::of(second, Some(&earlier));
        assert_eq!(
            before.lookups,
            [Uuid::from_u128(2)],
            "run 1 is carried, run 3 is new"
        );
        let carried = &before.rows[&Uuid::from_u128(1)];
        assert!(carried.stored, "the earlier batch writes run 1's row");
        assert_eq!(carried.version, 2);
        let later = fold(second, before.into_rows()).unwrap();
        let whole = fold(&events, RowsBefore::of(&events, None).into_rows()).unwrap();
        let run = |folded: &FoldedRuns, run: u128| {
            let row = &folded.rows[&Uuid::from_u128(run)];
            (
                row.state.clone(),
                row.timeline.clone(),
                row.version,
                row.last_position,
            )
        };
        assert_eq!(run(&later, 1), run(&whole, 1));
        assert_eq!(run(&later, 3), run(&whole, 3));
        assert!(!later.rows[&Uuid::from_u128(3)].stored);
        assert_eq!(
            later.order,
            [Uuid::from_u128(2), Uuid::from_u128(1), Uuid::from_u128(3)]
        );
    }

    #[test]
    fn a_copied_row_has_a_field_for_each_written_column() {
        let columns = WRITTEN_COLUMNS.split(',').count();
        assert_eq!(columns, WRITTEN_COLUMN_COUNT as usize);
    }

    #[test]
    fn a_stage_starts_when_it_leaves_pending_and_ends_when_it_finishes() {
        let timeline = timeline(&[
            created(),
            RunEvent::Started(RunStarted {}),
            stage(1, StageStatus::Processing),
            stage(1, StageStatus::Completed),
            stage(2, StageStatus::Failed),
        ]);
        assert_eq!(timeline.started_at, Some(at(1)));
        assert_eq!(
            timeline.stages,
            [
                StageTimes {
                    started_at: Some(at(2)),
                    completed_at: Some(at(3))
                },
                StageTimes {
                    started_at: Some(at(4)),
                    completed_at: Some(at(4))
                },
            ]
        );
    }

    #[test]
    fn a_whole_run_retry_clears_the_times_of_the_attempt_before() {
        let timeline = timeline(&[
            created(),
            RunEvent::Started(RunStarted {}),
            stage(1, StageStatus::Failed),
            RunEvent::Failed(RunFailed {
                code: "STAGE_FAILED".into(),
                message: "m".into(),
                detail: None,
            }),
            RunEvent::Retried(RunRetried {
                scope: RetryScope::Run,
                files: vec![],
                credits_charged: 0,
                job_ids: vec![],
            }),
        ]);
        assert_eq!(timeline.started_at, None);
        assert_eq!(
            timeline.stages,
            [StageTimes::default(), StageTimes::default()]
        );
    }

    #[test]
    fn a_stage_reported_processing_again_is_no_longer_finished() {
        let timeline = timeline(&[
            created(),
            stage(1, StageStatus::Cancelled),
            stage(1, StageStatus::Processing),
        ]);
        assert_eq!(
            timeline.stages[0],
            StageTimes {
                started_at: Some(at(1)),
                completed_at: None
            }
        );
    }
}
