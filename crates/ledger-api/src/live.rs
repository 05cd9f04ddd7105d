//! Live updates over server-sent events.
//!
//! One `Live` per service instance: while any stream is open on it, a
//! notifier task learns the log's head (from the store's NOTIFY, with
//! polling as a fallback) and the run-history checkpoint, and publishes
//! both; a hub turns each checkpoint advance into one query for every
//! watched run that changed, whatever the number of watchers, and fans the
//! new states out to them. With no stream open, the notifier reads nothing:
//! an instance taking appends would otherwise read both positions once for
//! every batch its writer commits, for no one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::TaskTracker;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream, StreamExt};
use ledger_projections::ReadModel;
use ledger_store::{read_all_readable, AppendNotifications, ReadError, RecordedEvent};
use serde::Deserialize;
use serde_json::Value;
use sqlx::{PgPool, Row};
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{Principal, Scope};
use crate::queries::{run_detail, visible_run_detail, RUN_COLUMNS};
use crate::{ApiError, AppState};

/// Positions the live endpoints follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Positions {
    /// The log's head.
    pub head: u64,
    /// What the run history has applied.
    pub run_history: u64,
}

/// Shared live-update machinery of one service instance.
#[derive(Debug, Clone)]
pub struct Live {
    positions: watch::Receiver<Positions>,
    shutdown: watch::Receiver<bool>,
    watchers: Arc<Watchers>,
    /// Streams open on this instance (`Following`).
    followers: Arc<AtomicUsize>,
}

/// Held by each open stream: positions are read while any is held.
struct Following(Arc<AtomicUsize>);

impl Drop for Following {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

type Watchers = Mutex<HashMap<Uuid, broadcast::Sender<Value>>>;

/// The watchers map, even after a panic while it was held: it is a map of
/// senders, whole after any insert or remove, so live updates go on.
fn lock_watchers(
    watchers: &Watchers,
) -> std::sync::MutexGuard<'_, HashMap<Uuid, broadcast::Sender<Value>>> {
    watchers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How often positions are read when no notification arrives.
const POLL: Duration = Duration::from_millis(100);
/// Events per read of the feed.
const FEED_PAGE: u32 = 500;

impl Live {
    /// Starts the notifier and the watch hub on `pool`, as tasks of
    /// `tasks`. They stop when `shutdown` turns true.
    pub fn start(pool: PgPool, shutdown: watch::Receiver<bool>, tasks: &TaskTracker) -> Self {
        let (publish, positions) = watch::channel(Positions::default());
        let live = Live {
            positions,
            shutdown: shutdown.clone(),
            watchers: Arc::default(),
            followers: Arc::default(),
        };
        tasks.spawn(notify_positions(
            pool.clone(),
            publish,
            live.followers.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(fan_out_runs(pool, live.clone(), shutdown));
        live
    }

    /// Positions are read from now until the `Following` is dropped.
    fn follow(&self) -> Following {
        self.followers.fetch_add(1, Ordering::Relaxed);
        Following(self.followers.clone())
    }

    fn subscribe(&self, run_id: Uuid) -> broadcast::Receiver<Value> {
        let mut watchers = lock_watchers(&self.watchers);
        watchers
            .entry(run_id)
            .or_insert_with(|| broadcast::channel(16).0)
            .subscribe()
    }
}

async fn read_positions(pool: &PgPool) -> Result<Positions, sqlx::Error> {
    let row = sqlx::query(
        "SELECT (SELECT position FROM event_log_head) AS head,
                (SELECT position FROM projection_checkpoints WHERE name = $1) AS run_history",
    )
    .bind(ReadModel::RunHistory.name())
    .fetch_one(pool)
    .await?;
    Ok(Positions {
        head: row.try_get::<i64, _>("head")? as u64,
        run_history: row.try_get::<Option<i64>, _>("run_history")?.unwrap_or(0) as u64,
    })
}

async fn notify_positions(
    pool: PgPool,
    publish: watch::Sender<Positions>,
    followers: Arc<AtomicUsize>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut appends = AppendNotifications::listen(&pool).await;
    while !*shutdown.borrow() {
        // A stream opened while none was reads the state it starts from
        // itself; what changes after comes with the next notification or
        // poll, and the hub fans out every run changed since it last looked.
        if followers.load(Ordering::Relaxed) > 0 {
            if let Ok(positions) = read_positions(&pool).await {
                publish.send_if_modified(|current| {
                    let changed = *current != positions;
                    *current = positions;
                    changed
                });
            }
        }
        tokio::select! {
            _ = appends.next() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The watched runs ($1) whose rows moved past $2, read in a
/// `WATCH_TRANSACTION`.
fn watched_runs_changed_since() -> String {
    format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_id = ANY($1) AND r.last_position > $2")
}

/// How the read of the watched runs begins. It looks runs up by key, which
/// no statistics of `runs` should turn into a scan of the table: the
/// generic plan a pooled connection keeps for it scanned `runs` whole when
/// the table had never been analyzed, or had been analyzed while empty, as
/// the projectors' lookups did (docs/decisions.md).
const WATCH_TRANSACTION: &str = "BEGIN READ ONLY; SET LOCAL enable_seqscan = off";

async fn read_watched_runs(
    pool: &PgPool,
    watched: &[Uuid],
    seen: u64,
) -> Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> {
    let mut tx = pool.begin_with(WATCH_TRANSACTION).await?;
    let rows = sqlx::query(&watched_runs_changed_since())
        .bind(watched)
        .bind(seen as i64)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

async fn fan_out_runs(pool: PgPool, live: Live, mut shutdown: watch::Receiver<bool>) {
    let mut positions = live.positions.clone();
    let mut seen = positions.borrow().run_history;
    loop {
        tokio::select! {
            changed = positions.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
        let checkpoint = positions.borrow().run_history;
        if checkpoint <= seen {
            continue;
        }
        let watched: Vec<Uuid> = {
            let mut watchers = lock_watchers(&live.watchers);
            watchers.retain(|_, sender| sender.receiver_count() > 0);
            watchers.keys().copied().collect()
        };
        if !watched.is_empty() {
            let rows = read_watched_runs(&pool, &watched, seen).await;
            match rows {
                Ok(rows) => {
                    let watchers = lock_watchers(&live.watchers);
                    for row in rows {
                        let (Ok(run_id), Ok(detail)) =
                            (row.try_get::<Uuid, _>("run_id"), run_detail(&row))
                        else {
                            continue;
                        };
                        if let Some(sender) = watchers.get(&run_id) {
                            let _ = sender.send(serde_json::to_value(&detail).expect("serializes"));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "reading watched runs failed");
                    continue;
                }
            }
        }
        seen = checkpoint;
    }
}

/// Streams end when the service shuts down, so they never hold up a
/// graceful shutdown; clients reconnect (with `Last-Event-ID`) elsewhere.
fn sse_response<S>(live: &Live, events: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let mut shutdown = live.shutdown.clone();
    // The stream follows the positions for as long as it is open: the
    // `Following` lives in the future it runs until, dropped with it.
    let following = live.follow();
    let stopping = async move {
        let _following = following;
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    };
    Sse::new(events.take_until(stopping))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn is_finished(run: &Value) -> bool {
    !matches!(run["status"].as_str(), Some("queued" | "running"))
}

/// Follow one run: its state now, then after each change, until it ends
/// (its final state is the last event). A run that has ended already
/// answers 204 No Content, on which an EventSource stops reconnecting.
#[utoipa::path(get, path = "/v1/runs/{run_id}/watch", tag = "queries",
    params(("run_id" = Uuid, Path, description = "The run"),
           ("token" = Option<String>, Query, description = "A stream token (`POST /v1/stream-tokens`), for browsers, whose `EventSource` cannot send `Authorization`")),
    responses((status = 200, description = "`text/event-stream` of events named `run`, `data:` the run as `GET /v1/runs/{id}` shows it (`RunDetail` as JSON): its state now, then after each change, the last when it ends (each message's schema: `x-item-schema`)", content_type = "text/event-stream", body = String),
        (status = 204, description = "The run has ended: nothing to follow"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn watch_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let run_id = ApiError::parse_id(&run_id)?;
    // Subscribe first, so no change between the first read and the
    // subscription is lost (a repeat is harmless: it is the same state).
    let updates = state.live.subscribe(run_id);
    let first = serde_json::to_value(visible_run_detail(&state, &principal, run_id).await?)
        .expect("serializes");
    let first_version = first["version"].as_u64().unwrap_or(0);
    let done = is_finished(&first);
    // A standard EventSource reconnects to a stream that ends, for ever,
    // but stops on 204: a finished run has nothing to follow.
    if done {
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    }
    let initial = stream::once(async move { first });
    let later = stream::unfold(
        (updates, first_version, false),
        |(mut updates, version, done)| async move {
            if done {
                return None;
            }
            loop {
                match updates.recv().await {
                    Ok(run) if run["version"].as_u64().unwrap_or(0) > version => {
                        let version = run["version"].as_u64().unwrap_or(0);
                        let done = is_finished(&run);
                        return Some((run, (updates, version, done)));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let events = initial.chain(later).map(|run| {
        Ok(Event::default()
            .event("run")
            .json_data(run)
            .expect("serializes"))
    });
    Ok(sse_response(&state.live, events))
}

/// Where to start the event stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamFrom {
    /// Start after this global position (`Last-Event-ID` takes precedence).
    pub after: Option<u64>,
    /// A stream token (`POST /v1/stream-tokens`), for browsers, whose
    /// `EventSource` cannot send `Authorization`.
    pub token: Option<String>,
}

fn sse_event(event: &RecordedEvent) -> Event {
    Event::default()
        .id(event.global_position.to_string())
        .event(event.event_type.clone())
        .json_data(event)
        .expect("recorded events serialize")
}

/// The global feed as server-sent events: the key's tenant's events (every
/// tenant's for audit and admin keys), `id:` the global position. A client
/// that reconnects with `Last-Event-ID` continues after it, with no hole
/// and no repeat.
#[utoipa::path(get, path = "/v1/events/stream", tag = "queries",
    params(StreamFrom, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this position")),
    responses((status = 200, description = "`text/event-stream`: one server-sent event per recorded event, named by its `event_type` (for example `run.stage_updated`), `id:` its global position, `data:` its `EventEnvelope` as JSON (each message's schema: `x-item-schema`)", content_type = "text/event-stream", body = String)),
    security(("bearer" = [])))]
pub async fn event_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    from: Result<Query<StreamFrom>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let from = from
        .map(|Query(from)| from)
        .map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let after = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::InvalidQuery("Last-Event-ID must be a position".into()))?,
        None => from.after.unwrap_or(0),
    };
    let after = crate::audit::position_param("after", after)?;
    let all_tenants =
        principal.scopes.contains(&Scope::Audit) || principal.scopes.contains(&Scope::Admin);
    let tenant = if all_tenants {
        None
    } else {
        principal.tenant_id.clone()
    };
    let store = state.ledger.store().clone();
    let positions = state.live.positions.clone();
    let pages = stream::unfold(Some((after, positions)), move |state| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            let (after, mut positions) = state?;
            loop {
                let page =
                    match read_all_readable(&store, after, FEED_PAGE, tenant.as_deref()).await {
                        Ok(page) => page,
                        // The stream cannot go past it: say so, once, and end.
                        Err(ReadError::Undecodable {
                            position, reason, ..
                        }) => {
                            tracing::error!(
                                position,
                                reason,
                                "event stream stopped at an unreadable event"
                            );
                            return Some((Err(position), None));
                        }
                        Err(error) => {
                            tracing::warn!(%error, "event stream read failed");
                            tokio::time::sleep(POLL).await;
                            continue;
                        }
                    };
                if let Some(last) = page.last() {
                    let next = last.global_position;
                    return Some((Ok(page), Some((next, positions))));
                }
                tokio::select! {
                    changed = positions.changed() => if changed.is_err() { return None },
                    _ = tokio::time::sleep(POLL * 10) => {}
                }
            }
        }
    });
    let events = pages.flat_map(|page| match page {
        Ok(page) => stream::iter(page.into_iter().map(|event| Ok(sse_event(&event)))).left_stream(),
        Err(position) => stream::once(async move { Ok(unreadable_event(position)) }).right_stream(),
    });
    Ok(sse_response(&state.live, events))
}

/// The `error` event that ends a stream at an event this build cannot
/// read. A reconnecting client would meet it again at once, so it asks
/// for a minute between attempts.
fn unreadable_event(position: u64) -> Event {
    let problem = ApiError::UnreadableEvent {
        position,
        reason: String::new(),
    }
    .problem();
    Event::default()
        .event("error")
        .retry(Duration::from_secs(60))
        .json_data(problem)
        .expect("problems serialize")
}

/// The document's extension on a `text/event-stream` response that gives
/// the schema of each message, as OpenAPI 3.2's `itemSchema` does (3.1,
/// which the document is, has no field for it).
pub const ITEM_SCHEMA_EXTENSION: &str = "x-item-schema";

/// Describes the messages of the two streams in the document: their
/// `event:` names, `id:`, and the JSON schema of their `data:`.
pub(crate) fn describe_streams(document: &mut utoipa::openapi::OpenApi) {
    use serde_json::json;
    let event_types = crate::schema::event_types();
    let message = |event: Value, id: Value, data: &str, description: &str| {
        json!({
            "type": "object",
            "description": description,
            "required": ["event", "data"],
            "properties": {
                "event": event,
                "id": id,
                "retry": { "type": "integer", "description": "Milliseconds a reconnecting client waits" },
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": { "$ref": format!("#/components/schemas/{data}") },
                },
            },
        })
    };
    let unreadable = message(
        json!({ "const": "error" }),
        json!({ "type": "string" }),
        "Problem",
        "The stream stops at an event this build cannot read (`code` \
         `unreadable_event`), asking a reconnecting client to wait a minute",
    );
    let feed = json!({ "oneOf": [
        message(
            json!({ "type": "string", "enum": event_types }),
            json!({ "type": "string", "pattern": "^[1-9][0-9]*$",
                    "description": "The event's global position: send it back as `Last-Event-ID`" }),
            "EventEnvelope",
            "A recorded event, named by its type",
        ),
        unreadable,
    ]});
    let watch = message(
        json!({ "const": "run" }),
        json!({ "type": "string" }),
        "RunDetail",
        "The run as `GET /v1/runs/{run_id}` shows it: first its state now, \
         then after each change; the stream ends after the run does",
    );
    for (path, items) in [
        ("/v1/events/stream", feed),
        ("/v1/runs/{run_id}/watch", watch),
    ] {
        let content = document
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.get.as_mut())
            .and_then(|operation| operation.responses.responses.get_mut("200"))
            .and_then(|response| match response {
                utoipa::openapi::RefOr::T(response) => {
                    response.content.get_mut("text/event-stream")
                }
                utoipa::openapi::RefOr::Ref(_) => None,
            })
            .unwrap_or_else(|| panic!("{path} is documented as a text/event-stream"));
        content
            .extensions
            .get_or_insert_with(Default::default)
            .merge(
                [(ITEM_SCHEMA_EXTENSION.to_owned(), items)]
                    .into_iter()
                    .collect(),
            );
    }
}

#[cfg(test)]
mod tests {
    use ledger_embedded_pg::testing::{fresh_database, TestDatabase};
    use ledger_store::{
        AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore, MIGRATOR,
    };
    use sqlx::postgres::PgPoolOptions;

    use super::*;

    /// A fresh database with the ledger's tables, and a pool of
    /// `connections` to it.
    async fn migrated_database(connections: u32) -> (TestDatabase, PgPool) {
        let db = fresh_database().await;
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .connect(&db.url)
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        (db, pool)
    }

    /// Whatever the statistics say of `runs` (never analyzed, or analyzed
    /// while empty, as a new ledger's may be long after it has grown), the
    /// read of the watched runs probes them by key: its generic plan, in
    /// the transaction it runs in, scans no table and hashes no join.
    #[tokio::test]
    async fn the_watched_runs_are_read_by_index_whatever_the_statistics_say() {
        let (_db, pool) = migrated_database(1).await;
        for (round, (runs, change)) in [("never analyzed", ""), ("analyzed empty", "ANALYZE runs")]
            .into_iter()
            .enumerate()
        {
            sqlx::raw_sql(change).execute(&pool).await.unwrap();
            let mut tx = pool.begin_with(WATCH_TRANSACTION).await.unwrap();
            let plan = ledger_embedded_pg::testing::generic_plan(
                &mut tx,
                &format!("watched_{round}"),
                "uuid[], bigint",
                &watched_runs_changed_since(),
            )
            .await;
            assert!(
                !ledger_embedded_pg::testing::plan_reads_a_whole_table(&plan),
                "runs {runs}:\n{plan}"
            );
            tx.rollback().await.unwrap();
        }
    }

    /// An instance with no stream open reads no positions however much is
    /// appended (it would read them once a batch its writer commits); a
    /// stream opened starts the reads, and closing it stops them.
    #[tokio::test]
    async fn positions_are_read_only_while_a_stream_is_open() {
        let (_db, pool) = migrated_database(4).await;
        let store = PgEventStore::new(pool.clone());
        let (stop, shutdown) = watch::channel(false);
        let tasks = TaskTracker::new();
        let live = Live::start(pool.clone(), shutdown, &tasks);
        let append = |index: usize| {
            store.append(AppendRequest::single(
                format!("test-{index}"),
                ExpectedVersion::NoStream,
                vec![NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "test.happened".into(),
                    schema_version: 1,
                    data: serde_json::json!({}),
                    metadata: EventMetadata::default(),
                }],
            ))
        };
        // Several polls' and notifications' worth of time.
        let settle = || tokio::time::sleep(POLL * 4);

        append(1).await.unwrap();
        settle().await;
        assert_eq!(*live.positions.borrow(), Positions::default());

        let following = live.follow();
        let mut positions = live.positions.clone();
        tokio::time::timeout(
            Duration::from_secs(5),
            positions.wait_for(|positions| positions.head == 1),
        )
        .await
        .expect("an open stream's instance reads the head")
        .unwrap();

        drop(following);
        settle().await;
        append(2).await.unwrap();
        settle().await;
        assert_eq!(live.positions.borrow().head, 1);

        stop.send(true).unwrap();
        tasks.close();
        tasks.wait().await;
    }
}
