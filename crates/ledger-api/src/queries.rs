//! Query endpoints: read models only, never the log. Every query is scoped
//! to the key's tenant, accepts `min_position` (answer only once the read
//! model has applied it), and answers with `X-Projection-Position`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use ledger_domain::run::RunState;
use ledger_projections::run_history::{json_column, Timeline};
use ledger_projections::ReadModel;
use ledger_store::EventStore;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{validate_id, Principal};
use crate::wire::RunView;
use crate::{ApiError, AppState, Problem};

/// The response header naming the read model position a query answered from.
pub const PROJECTION_POSITION: &str = "x-projection-position";
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest `limit`.
pub const MAX_LIMIT: u32 = 200;

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))
}

fn limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        0 => Err(ApiError::InvalidQuery("limit must be at least 1".into())),
        n if n > MAX_LIMIT => Err(ApiError::InvalidQuery(format!(
            "limit must be at most {MAX_LIMIT}"
        ))),
        n => Ok(i64::from(n)),
    }
}

fn cursor(cursor: Option<&str>) -> Result<i64, ApiError> {
    match cursor {
        None => Ok(i64::MAX),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|position| *position > 0)
            .ok_or_else(|| ApiError::InvalidQuery("cursor is not one this API gave out".into())),
    }
}

/// Waits for `min_position` and returns the read model's position.
async fn position(
    state: &AppState,
    model: ReadModel,
    min_position: Option<u64>,
) -> Result<u64, ApiError> {
    let reached = wait_for_position(state, model, min_position).await?;
    checkpoint_unless_read(state, model, reached).await
}

/// `reached`, the checkpoint `wait_for_position` read, or the read model's
/// checkpoint now when it read none.
async fn checkpoint_unless_read(
    state: &AppState,
    model: ReadModel,
    reached: Option<u64>,
) -> Result<u64, ApiError> {
    match reached {
        Some(reached) => Ok(reached),
        None => Ok(ledger_projections::checkpoint(&state.pool, model).await?),
    }
}

/// Waits until the read model has applied `min_position`, if one is given,
/// and returns the checkpoint it read on the way (none when it had no need
/// to read one).
async fn wait_for_position(
    state: &AppState,
    model: ReadModel,
    min_position: Option<u64>,
) -> Result<Option<u64>, ApiError> {
    let Some(wanted) = min_position else {
        return Ok(None);
    };
    let reached = ledger_projections::checkpoint(&state.pool, model).await?;
    if wanted <= reached {
        return Ok(Some(reached));
    }
    // Every write answers after its commit, so a position a write answered
    // with is at or below the log's head on every instance: one beyond it
    // was never handed out, and waiting for it would only end in a 503.
    let head = state.ledger.store().head_position().await?;
    if wanted > head {
        return Err(ApiError::InvalidQuery(format!(
            "min_position {wanted} is beyond the log's head ({head}): no write answered with it"
        )));
    }
    match ledger_projections::wait_for(&state.pool, model, wanted, state.min_position_timeout)
        .await?
    {
        Some(reached) => Ok(Some(reached)),
        None => Err(ApiError::ProjectionLagging {
            projection: model.name(),
            wanted,
            reached: ledger_projections::checkpoint(&state.pool, model).await?,
        }),
    }
}

fn answer<T: Serialize>(position: u64, body: &T) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        PROJECTION_POSITION,
        HeaderValue::from_str(&position.to_string()).expect("digits are a valid header"),
    );
    response
}

/// `min_position` alone.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MinPosition {
    /// Answer only once the read model has applied this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// Filters and paging of `GET /v1/runs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {
    /// Only this project's runs.
    pub project_id: Option<String>,
    /// Only this person's runs.
    pub owner_id: Option<String>,
    /// Only runs in this status.
    #[param(value_type = Option<crate::schema::RunStatus>)]
    pub status: Option<String>,
    /// Only reruns of this run.
    pub rerun_of: Option<Uuid>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Answer only once the read model has applied this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// A run as the run history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunView,
    /// Runs that rerun this one, oldest first.
    pub reruns: Vec<Uuid>,
    /// When it was created.
    #[serde(serialize_with = "ledger_domain::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "ledger_domain::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// When it ended (unset while it runs); the same as `finished_at`.
    #[serde(serialize_with = "ledger_domain::time::rfc3339_option")]
    pub completed_at: Option<DateTime<Utc>>,
    /// When its current attempt started (unset while it is queued).
    #[serde(serialize_with = "ledger_domain::time::rfc3339_option")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (unset while it runs).
    #[serde(serialize_with = "ledger_domain::time::rfc3339_option")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// A page of runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunPage {
    /// Newest first.
    pub runs: Vec<RunDetail>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A run row's columns, and the run history's checkpoint read in the same
/// snapshot (`projection_position`): the position an answer names is the
/// one its rows are at, with no second round trip to read it. A run's
/// reruns are looked up only when it has any (`rerun_count`, kept in the
/// same transaction as the reruns' rows): most runs have none, and the
/// lookup per row was two thirds of a list page's execution time in the
/// database.
pub(crate) const RUN_COLUMNS: &str =
    "r.run_id, r.state, r.version, r.created_at, r.updated_at, r.completed_at, r.timeline, \
     r.created_position, CASE WHEN r.rerun_count > 0 THEN ARRAY(SELECT x.run_id FROM runs x \
     WHERE x.rerun_of = r.run_id ORDER BY x.created_position) ELSE '{}' END AS reruns, \
     (SELECT c.position FROM projection_checkpoints c WHERE c.name = 'run_history') \
     AS projection_position";

/// The run history's checkpoint as a row of `RUN_COLUMNS` read it.
fn row_position(row: &PgRow) -> Result<u64, ApiError> {
    Ok(row.try_get::<i64, _>("projection_position")? as u64)
}

/// A run row whose JSON the service cannot read: a fault of the projector
/// or of a hand edit, not of the request.
fn corrupt_row(error: ledger_projections::ProjectionError) -> ApiError {
    ApiError::Internal(Box::new(error))
}

pub(crate) fn run_detail(row: &PgRow) -> Result<RunDetail, ApiError> {
    // Read straight from the column's bytes into the types, with no
    // `serde_json::Value` between: most of a list page's CPU is here.
    let state: RunState = json_column(row, "state").map_err(corrupt_row)?;
    let run = state
        .run
        .ok_or_else(|| ApiError::Internal("a run row without a run".into()))?;
    let timeline: Timeline = json_column(row, "timeline").map_err(corrupt_row)?;
    let version: i64 = row.try_get("version")?;
    let mut view = RunView::of(run, Some(version as u64));
    for (stage, times) in view.stages.iter_mut().zip(timeline.stages) {
        stage.started_at = times.started_at;
        stage.completed_at = times.completed_at;
    }
    let completed_at = row.try_get("completed_at")?;
    Ok(RunDetail {
        run: view,
        reruns: row.try_get("reruns")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        completed_at,
        started_at: timeline.started_at,
        finished_at: completed_at,
    })
}

const RUN_STATUSES: [&str; 6] = [
    "queued",
    "running",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
];

/// The filters of a run list: the key's tenant (none for keys of every
/// tenant) and those the request names.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunListFilter<'a> {
    /// The key's tenant.
    pub tenant_id: Option<&'a str>,
    /// `project_id`.
    pub project_id: Option<&'a str>,
    /// `owner_id`.
    pub owner_id: Option<&'a str>,
    /// `status`.
    pub status: Option<&'a str>,
    /// `rerun_of`.
    pub rerun_of: Option<Uuid>,
}

impl RunListFilter<'_> {
    /// The page's statement, with a condition for each filter given and
    /// none for the others: each combination is its own statement, planned
    /// for the index that serves it (a condition such as `$1 IS NULL OR
    /// tenant_id = $1` leaves a generic plan no index to use). Its
    /// parameters are the filters given, then the cursor (`bind`).
    /// `tests/api/queries.rs` checks with EXPLAIN that an index serves every
    /// combination, its order included, in the generic plan.
    ///
    /// At most `rows` rows, written into the statement rather than bound:
    /// a generic plan cannot know a bound LIMIT and is costed as if it read
    /// a tenth of the table, so PostgreSQL never settled on one and planned
    /// the page afresh on every execution (half its time on a list page),
    /// and a generic plan forced on it could choose to read every row of a
    /// tenant and sort them. Page sizes are few (1 to 201), so the
    /// statements stay few.
    pub fn statement(&self, rows: i64) -> String {
        let given = self.given();
        let conditions: String = given
            .iter()
            .enumerate()
            .map(|(index, (column, value))| {
                format!("r.{column} = ${}::{} AND ", index + 1, value.sql_type())
            })
            .collect();
        format!(
            "SELECT {RUN_COLUMNS} FROM runs r WHERE {conditions}r.created_position < ${} \
             ORDER BY r.created_position DESC LIMIT {rows}",
            given.len() + 1,
        )
    }

    /// Binds `statement`'s parameters: the filters given, in its order,
    /// then rows before position `before`.
    pub fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        before: i64,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        self.given()
            .into_iter()
            .fold(query, |query, (_, value)| match value {
                FilterValue::Text(text) => query.bind(text.to_owned()),
                FilterValue::Uuid(id) => query.bind(id),
            })
            .bind(before)
    }

    /// The filters given, each with its column, in the order of
    /// `statement`'s parameters (the cursor comes after them).
    pub fn given(&self) -> Vec<(&'static str, FilterValue<'_>)> {
        [
            ("tenant_id", self.tenant_id.map(FilterValue::Text)),
            ("project_id", self.project_id.map(FilterValue::Text)),
            ("owner_id", self.owner_id.map(FilterValue::Text)),
            ("status", self.status.map(FilterValue::Text)),
            ("rerun_of", self.rerun_of.map(FilterValue::Uuid)),
        ]
        .into_iter()
        .filter_map(|(column, value)| Some((column, value?)))
        .collect()
    }
}

/// The value a run list filter compares its column with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterValue<'a> {
    /// A text column's value.
    Text(&'a str),
    /// A uuid column's value.
    Uuid(Uuid),
}

impl FilterValue<'_> {
    fn sql_type(self) -> &'static str {
        match self {
            FilterValue::Text(_) => "text",
            FilterValue::Uuid(_) => "uuid",
        }
    }
}

impl std::fmt::Display for FilterValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterValue::Text(text) => f.write_str(text),
            FilterValue::Uuid(id) => write!(f, "{id}"),
        }
    }
}

/// List runs, newest first.
#[utoipa::path(get, path = "/v1/runs", tag = "queries", params(ListRuns),
    responses((status = 200, description = "A page of runs", body = RunPage)),
    security(("bearer" = [])))]
pub async fn list_runs(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListRuns>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let params = query(params)?;
    if let Some(status) = &params.status {
        if !RUN_STATUSES.contains(&status.as_str()) {
            return Err(ApiError::InvalidQuery(format!(
                "status must be one of {}",
                RUN_STATUSES.join(", ")
            )));
        }
    }
    let limit = limit(params.limit)?;
    let before = cursor(params.cursor.as_deref())?;
    let reached = wait_for_position(&state, ReadModel::RunHistory, params.min_position).await?;
    let filter = RunListFilter {
        tenant_id: principal.tenant_id.as_deref(),
        project_id: params.project_id.as_deref(),
        owner_id: params.owner_id.as_deref(),
        status: params.status.as_deref(),
        rerun_of: params.rerun_of,
    };
    let statement = filter.statement(limit + 1);
    let rows = filter
        .bind(sqlx::query(&statement), before)
        .fetch_all(&state.pool)
        .await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next_cursor = if more {
        rows.last()
            .map(|row| row.try_get::<i64, _>("created_position"))
            .transpose()?
            .map(|position| position.to_string())
    } else {
        None
    };
    let position = match (rows.first(), reached) {
        (Some(row), _) => row_position(row)?,
        (None, reached) => checkpoint_unless_read(&state, ReadModel::RunHistory, reached).await?,
    };
    let runs = rows.iter().map(run_detail).collect::<Result<Vec<_>, _>>()?;
    Ok(answer(position, &RunPage { runs, next_cursor }))
}

/// One run, with stages, files, lineage and charges.
#[utoipa::path(get, path = "/v1/runs/{run_id}", tag = "queries",
    params(("run_id" = Uuid, Path, description = "The run"), MinPosition),
    responses((status = 200, description = "The run", body = RunDetail), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    params: Result<Query<MinPosition>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let run_id = ApiError::parse_id(&run_id)?;
    let params = query(params)?;
    wait_for_position(&state, ReadModel::RunHistory, params.min_position).await?;
    let row = visible_run_row(&state, &principal, run_id).await?;
    Ok(answer(row_position(&row)?, &run_detail(&row)?))
}

/// A run from the run history, if the key's tenant may see it.
///
/// # Errors
/// `run_not_found` for a missing or foreign run; database failures.
pub(crate) async fn visible_run_detail(
    state: &AppState,
    principal: &Principal,
    run_id: Uuid,
) -> Result<RunDetail, ApiError> {
    run_detail(&visible_run_row(state, principal, run_id).await?)
}

/// The row of `visible_run_detail`, in `RUN_COLUMNS`.
async fn visible_run_row(
    state: &AppState,
    principal: &Principal,
    run_id: Uuid,
) -> Result<PgRow, ApiError> {
    sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_id = $1 AND ($2::text IS NULL OR r.tenant_id = $2)"
    ))
    .bind(run_id)
    .bind(&principal.tenant_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(ApiError::run_not_found)
}

/// The newest run of a project.
#[utoipa::path(get, path = "/v1/projects/{project_id}/runs/latest", tag = "queries",
    params(("project_id" = String, Path, description = "The project"), MinPosition),
    responses((status = 200, description = "The newest run", body = RunDetail), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn latest_project_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    params: Result<Query<MinPosition>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    validate_id("project_id", &project_id)?;
    let params = query(params)?;
    wait_for_position(&state, ReadModel::RunHistory, params.min_position).await?;
    // The project's newest run: the first row of its list.
    let filter = RunListFilter {
        tenant_id: principal.tenant_id.as_deref(),
        project_id: Some(&project_id),
        ..RunListFilter::default()
    };
    let statement = filter.statement(1);
    let row = filter
        .bind(sqlx::query(&statement), i64::MAX)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NoRun)?;
    Ok(answer(row_position(&row)?, &run_detail(&row)?))
}

/// A run in a lineage tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineageNode {
    /// Id.
    pub run_id: Uuid,
    /// Status.
    #[schema(value_type = crate::schema::RunStatus)]
    pub status: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Credits charged to it.
    pub credits_charged: i64,
    /// Credits refunded to it.
    pub credits_refunded: i64,
    /// Its reruns, oldest first.
    #[schema(no_recursion)]
    pub reruns: Vec<LineageNode>,
}

/// A run's lineage: the original run and every rerun descending from it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lineage {
    /// The original run at the root of the tree.
    pub root: LineageNode,
    /// Runs in the lineage.
    pub run_count: usize,
    /// Credits charged over the lineage.
    pub credits_charged: i64,
    /// Credits refunded over the lineage.
    pub credits_refunded: i64,
}

/// A run's lineage tree.
#[utoipa::path(get, path = "/v1/runs/{run_id}/lineage", tag = "queries",
    params(("run_id" = Uuid, Path, description = "Any run of the lineage"), MinPosition),
    responses((status = 200, description = "The lineage", body = Lineage), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn lineage(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    params: Result<Query<MinPosition>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let run_id = ApiError::parse_id(&run_id)?;
    let params = query(params)?;
    let position = position(&state, ReadModel::RunHistory, params.min_position).await?;
    let rows = sqlx::query(
        "WITH RECURSIVE up AS (
             SELECT run_id, rerun_of, 0 AS depth FROM runs
             WHERE run_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
           UNION ALL
             SELECT r.run_id, r.rerun_of, up.depth + 1 FROM runs r JOIN up ON r.run_id = up.rerun_of
             WHERE up.depth < 10000
         ),
         root AS (SELECT run_id FROM up ORDER BY depth DESC LIMIT 1),
         down AS (
             SELECT r.run_id, r.rerun_of, r.status, r.created_at, r.created_position,
                    r.credits_charged, r.credits_refunded
             FROM runs r JOIN root ON r.run_id = root.run_id
           UNION ALL
             SELECT r.run_id, r.rerun_of, r.status, r.created_at, r.created_position,
                    r.credits_charged, r.credits_refunded
             FROM runs r JOIN down ON r.rerun_of = down.run_id
         )
         SELECT * FROM down ORDER BY created_position",
    )
    .bind(run_id)
    .bind(&principal.tenant_id)
    .fetch_all(&state.pool)
    .await?;
    let nodes = rows
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<Option<Uuid>, _>("rerun_of")?,
                LineageNode {
                    run_id: row.try_get("run_id")?,
                    status: row.try_get("status")?,
                    created_at: row.try_get("created_at")?,
                    credits_charged: row.try_get("credits_charged")?,
                    credits_refunded: row.try_get("credits_refunded")?,
                    reruns: vec![],
                },
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let Some((_, root)) = nodes.first().cloned() else {
        return Err(ApiError::run_not_found());
    };
    let credits_charged = nodes.iter().map(|(_, node)| node.credits_charged).sum();
    let credits_refunded = nodes.iter().map(|(_, node)| node.credits_refunded).sum();
    let run_count = nodes.len();
    let tree = attach(root, &nodes);
    Ok(answer(
        position,
        &Lineage {
            root: tree,
            run_count,
            credits_charged,
            credits_refunded,
        },
    ))
}

fn attach(mut node: LineageNode, nodes: &[(Option<Uuid>, LineageNode)]) -> LineageNode {
    node.reruns = nodes
        .iter()
        .filter(|(parent, _)| *parent == Some(node.run_id))
        .map(|(_, child)| attach(child.clone(), nodes))
        .collect();
    node
}

/// A tenant's credit balance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    /// Tenant.
    pub tenant_id: String,
    /// Monthly allowance left.
    pub monthly: i64,
    /// Purchased credits left.
    pub purchased: i64,
    /// `monthly + purchased`.
    pub total: i64,
    /// Credits ever deducted.
    pub consumed: i64,
    /// Credits ever refunded.
    pub refunded: i64,
}

/// A tenant's balance.
#[utoipa::path(get, path = "/v1/accounts/{tenant_id}/balance", tag = "queries",
    params(("tenant_id" = String, Path, description = "The tenant"), MinPosition),
    responses((status = 200, description = "The balance", body = Balance), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn balance(
    State(state): State<AppState>,
    principal: Principal,
    Path(tenant_id): Path<String>,
    params: Result<Query<MinPosition>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    principal.require_tenant(&tenant_id)?;
    validate_id("tenant_id", &tenant_id)?;
    let params = query(params)?;
    let position = position(&state, ReadModel::Credits, params.min_position).await?;
    let row = sqlx::query(
        "SELECT monthly, purchased, total, consumed, refunded FROM credit_balances WHERE tenant_id = $1",
    )
    .bind(&tenant_id)
    .fetch_optional(&state.pool)
    .await?;
    // An account that never had credits has a zero balance.
    let balance = match row {
        Some(row) => Balance {
            tenant_id,
            monthly: row.try_get("monthly")?,
            purchased: row.try_get("purchased")?,
            total: row.try_get("total")?,
            consumed: row.try_get("consumed")?,
            refunded: row.try_get("refunded")?,
        },
        None => Balance {
            tenant_id,
            monthly: 0,
            purchased: 0,
            total: 0,
            consumed: 0,
            refunded: 0,
        },
    };
    Ok(answer(position, &balance))
}

/// Paging of the credit ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Answer only once the read model has applied this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// One credit transaction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntry {
    /// The event's global position.
    pub global_position: i64,
    /// What the entry did.
    #[schema(value_type = crate::schema::LedgerEntryKind)]
    pub kind: String,
    /// Credits moved.
    pub amount: i64,
    /// Of which monthly.
    pub monthly: i64,
    /// Of which purchased.
    pub purchased: i64,
    /// The run charged or refunded.
    pub run_id: Option<Uuid>,
    /// Why (grants).
    pub reason: Option<String>,
    /// Monthly balance after.
    pub monthly_after: i64,
    /// Purchased balance after.
    pub purchased_after: i64,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// A page of the credit ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerPage {
    /// Newest first.
    pub entries: Vec<LedgerEntry>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A tenant's credit transactions, newest first.
#[utoipa::path(get, path = "/v1/accounts/{tenant_id}/ledger", tag = "queries",
    params(("tenant_id" = String, Path, description = "The tenant"), LedgerQuery),
    responses((status = 200, description = "A page of entries", body = LedgerPage), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn ledger(
    State(state): State<AppState>,
    principal: Principal,
    Path(tenant_id): Path<String>,
    params: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    principal.require_tenant(&tenant_id)?;
    validate_id("tenant_id", &tenant_id)?;
    let params = query(params)?;
    let limit = limit(params.limit)?;
    let before = cursor(params.cursor.as_deref())?;
    let position = position(&state, ReadModel::Credits, params.min_position).await?;
    let rows = sqlx::query(
        "SELECT global_position, kind, amount, monthly, purchased, run_id, reason,
                monthly_after, purchased_after, recorded_at
         FROM credit_ledger WHERE tenant_id = $1 AND global_position < $2
         ORDER BY global_position DESC LIMIT $3",
    )
    .bind(&tenant_id)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await?;
    let more = rows.len() as i64 > limit;
    let entries = rows
        .iter()
        .take(limit as usize)
        .map(|row| {
            Ok(LedgerEntry {
                global_position: row.try_get("global_position")?,
                kind: row.try_get("kind")?,
                amount: row.try_get("amount")?,
                monthly: row.try_get("monthly")?,
                purchased: row.try_get("purchased")?,
                run_id: row.try_get("run_id")?,
                reason: row.try_get("reason")?,
                monthly_after: row.try_get("monthly_after")?,
                purchased_after: row.try_get("purchased_after")?,
                recorded_at: row.try_get("recorded_at")?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let next_cursor = if more {
        entries
            .last()
            .map(|entry| entry.global_position.to_string())
    } else {
        None
    };
    Ok(answer(
        position,
        &LedgerPage {
            entries,
            next_cursor,
        },
    ))
}

/// Every read model's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Projections {
    /// One per read model.
    #[schema(value_type = Vec<crate::schema::ProjectionStatusSchema>)]
    pub projections: Vec<ledger_projections::ProjectionStatus>,
}

/// Read models: checkpoint, head, lag, state and last error.
#[utoipa::path(get, path = "/v1/projections", tag = "queries",
    responses((status = 200, description = "Every read model", body = Projections)),
    security(("bearer" = [])))]
pub async fn projections(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let _ = headers;
    principal.require_read()?;
    let projections = ledger_projections::statuses(&state.pool).await?;
    Ok(Json(Projections { projections }).into_response())
}

/// A rebuild that was started.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RebuildStarted {
    /// The read model.
    pub name: String,
    /// `rebuilding`: follow it in `GET /v1/projections`.
    #[schema(value_type = crate::schema::ProjectionState)]
    pub state: String,
}

/// Rebuild a read model from the log (admin keys only). Queries keep
/// answering from the current tables until the rebuilt ones are swapped in.
#[utoipa::path(post, path = "/v1/projections/{name}/rebuild", tag = "queries",
    params(("name" = String, Path, description = "`run_history` or `credits`")),
    responses((status = 202, description = "Started", body = RebuildStarted),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn rebuild(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(crate::auth::Scope::Admin)?;
    let model = ReadModel::from_name(&name)
        .ok_or_else(|| ApiError::ProjectionNotFound(name.chars().take(64).collect()))?;
    // The rebuild lock is taken before answering: of two requests (on any
    // instances) exactly one gets 202, the other 409.
    let rebuild = ledger_projections::Rebuild::claim(&state.pool, model)
        .await
        .map_err(|error| match error {
            ledger_projections::RebuildError::InProgress(name) => ApiError::RebuildInProgress(name),
            other => ApiError::Internal(other.into()),
        })?;
    let store = state.ledger.store().clone();
    let stopping = state.stopping.clone();
    state.tasks.spawn(async move {
        match rebuild.run(&store, stopping).await {
            Ok(report) => tracing::info!(?report, "rebuild finished"),
            Err(error) => tracing::error!(
                error = %ledger_store::error_chain(&error),
                projection = model.name(),
                "rebuild failed"
            ),
        }
    });
    let body = RebuildStarted {
        name: model.name().to_owned(),
        state: "rebuilding".to_owned(),
    };
    Ok((axum::http::StatusCode::ACCEPTED, Json(body)).into_response())
}
