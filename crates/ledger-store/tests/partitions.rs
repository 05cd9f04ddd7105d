//! The partitioned events table (migration 0018) against a real server:
//! appends cross partition bounds with nothing changing for readers, event
//! ids stay unique across partitions, and a log from before the migration
//! stays in place as its first partition.

use std::borrow::Cow;

use ledger_embedded_pg::testing::fresh_database;
use ledger_store::partitions::ensure_event_partitions;
use ledger_store::*;
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

mod support {
    pub mod direct_write;
}

async fn unmigrated_pool() -> PgPool {
    let db = fresh_database().await;
    PgPoolOptions::new()
        .max_connections(10)
        .connect(&db.url)
        .await
        .expect("connecting to the test database")
}

/// A migrated store whose partitions span `size` positions, so a test
/// crosses their bounds in a few appends. Only an empty log can be cut
/// anew: its one (empty) partition is dropped first.
async fn store_with_partitions_of(size: i64) -> PgEventStore {
    let pool = unmigrated_pool().await;
    MIGRATOR.run(&pool).await.expect("migrating");
    sqlx::query("DROP TABLE events_p1")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE event_log_partitioning SET partition_size = $1, created_through = 1")
        .bind(size)
        .execute(&pool)
        .await
        .unwrap();
    ensure_event_partitions(&pool).await.unwrap();
    PgEventStore::new(pool)
}

fn event(i: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "test.happened".into(),
        schema_version: 1,
        data: json!({ "i": i }),
        metadata: EventMetadata {
            tenant_id: Some("acme".into()),
            ..EventMetadata::default()
        },
    }
}

fn events(count: usize) -> Vec<NewEvent> {
    (0..count).map(event).collect()
}

async fn append(
    store: &PgEventStore,
    stream_id: &str,
    expected: ExpectedVersion,
    count: usize,
) -> Result<AppendOutcome, AppendError> {
    store
        .append(AppendRequest::single(stream_id, expected, events(count)))
        .await
}

/// Each event's position and the partition holding it, in log order.
async fn partition_of_each_event(pool: &PgPool) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT global_position, tableoid::regclass::text FROM events ORDER BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn partitions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'events'::regclass ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn appends_cross_partition_bounds_and_read_back_in_one_order() {
    let store = store_with_partitions_of(3).await;
    let pool = store.pool().clone();
    assert_eq!(partitions(&pool).await, ["events_p1"]);

    let first = append(&store, "s", ExpectedVersion::NoStream, 2)
        .await
        .unwrap();
    // Two positions of three used: a whole partition past the head is
    // what maintenance keeps, so it makes the next one now.
    assert_eq!(ensure_event_partitions(&pool).await.unwrap(), 1);
    assert_eq!(ensure_event_partitions(&pool).await.unwrap(), 0);
    append(&store, "s", ExpectedVersion::Exact(1), 4)
        .await
        .unwrap();
    assert_eq!(
        partition_of_each_event(&pool).await,
        [
            (1, "events_p1".to_owned()),
            (2, "events_p1".to_owned()),
            (3, "events_p1".to_owned()),
            (4, "events_p4".to_owned()),
            (5, "events_p4".to_owned()),
            (6, "events_p4".to_owned()),
        ]
    );

    let stream = store.read_stream("s", 0, ReadUntil::End).await.unwrap();
    assert_eq!(
        stream.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(
        store
            .read_all(2, 10, None)
            .await
            .unwrap()
            .iter()
            .map(|e| e.global_position)
            .collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
    let report = verify_streams(&store, None, None).await.unwrap();
    assert!(report.ok, "{report:?}");

    // An event id from the first partition is still known: its retry is
    // answered with its original position, and its reuse is refused.
    let retried = store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_id: first.events[0].event_id,
                ..event(0)
            }],
        ))
        .await
        .unwrap();
    assert!(retried.duplicate);
    assert_eq!(retried.events, first.events[..1]);
    let reused = store
        .append(AppendRequest::single(
            "other",
            ExpectedVersion::Any,
            vec![NewEvent {
                event_id: first.events[1].event_id,
                ..event(0)
            }],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(reused, AppendError::EventIdReused { event_id } if event_id == first.events[1].event_id),
        "{reused:?}"
    );
}

#[tokio::test]
async fn an_append_past_the_last_partition_fails_and_changes_nothing() {
    let store = store_with_partitions_of(3).await;
    let pool = store.pool().clone();
    append(&store, "s", ExpectedVersion::NoStream, 3)
        .await
        .unwrap();
    // Positions 4 to 6 need a partition after [1, 4) that no one made.
    let error = append(&store, "t", ExpectedVersion::NoStream, 3)
        .await
        .unwrap_err();
    assert!(matches!(error, AppendError::Database(_)), "{error:?}");
    assert_eq!(store.head_position().await.unwrap(), 3);
    assert!(store.stream_head("t").await.unwrap().is_none());
    let ids: i64 = sqlx::query_scalar("SELECT count(*) FROM event_ids")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ids, 3);

    assert_eq!(ensure_event_partitions(&pool).await.unwrap(), 1);
    let appended = append(&store, "t", ExpectedVersion::NoStream, 3)
        .await
        .unwrap();
    assert_eq!(appended.last_position(), Some(6));
    assert_eq!(partitions(&pool).await, ["events_p1", "events_p4"]);
}

#[tokio::test]
async fn every_partition_and_the_event_ids_are_append_only() {
    let store = store_with_partitions_of(3).await;
    let pool = store.pool().clone();
    append(&store, "s", ExpectedVersion::NoStream, 2)
        .await
        .unwrap();
    ensure_event_partitions(&pool).await.unwrap();
    for statement in [
        "UPDATE events_p1 SET data = '{}'",
        "DELETE FROM events_p1",
        "TRUNCATE events_p1",
        "TRUNCATE events_p4",
        "UPDATE event_ids SET global_position = 0",
        "DELETE FROM event_ids",
        "TRUNCATE event_ids",
    ] {
        let error = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(partition_of_each_event(&pool).await.len(), 2);
}

/// Partitions created concurrently by two services on one database: the
/// bookkeeping row serializes them, and neither fails or doubles a range.
#[tokio::test]
async fn two_services_making_partitions_at_once_make_each_one_once() {
    let store = store_with_partitions_of(3).await;
    let pool = store.pool().clone();
    append(&store, "s", ExpectedVersion::NoStream, 3)
        .await
        .unwrap();
    let other = PgPoolOptions::new()
        .max_connections(2)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let (one, two) = tokio::join!(
        ensure_event_partitions(&pool),
        ensure_event_partitions(&other)
    );
    assert_eq!(one.unwrap() + two.unwrap(), 1);
    assert_eq!(partitions(&pool).await, ["events_p1", "events_p4"]);
}

/// A log written before migration 0018 becomes the first partition with
/// every event where it was, and its event ids keep answering retries.
#[tokio::test]
async fn the_partitioning_migration_keeps_an_existing_log_in_place() {
    let pool = unmigrated_pool().await;
    let before_partitions = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|migration| migration.version < 18)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    before_partitions
        .run(&pool)
        .await
        .expect("migrating to 0017");
    let event_id = Uuid::new_v4();
    let data = json!({"amount": 5});
    let metadata = json!({"tenant_id": "acme"});
    let recorded_at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    support::direct_write::write_first_event(
        &pool,
        hash::HashVersion::CURRENT,
        event_id,
        &data,
        &metadata,
        recorded_at,
    )
    .await;

    MIGRATOR.run(&pool).await.expect("migrating through 0018");
    let bounds: String = sqlx::query_scalar(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'events_p1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bounds, "FOR VALUES FROM ('1') TO ('10000001')");
    assert_eq!(
        partition_of_each_event(&pool).await,
        [(1, "events_p1".to_owned())]
    );

    let store = PgEventStore::new(pool);
    assert_eq!(
        store.find_events(&[event_id]).await.unwrap(),
        [AppendedEvent {
            event_id,
            stream_id: "old".into(),
            stream_version: 0,
            global_position: 1,
        }]
    );
    let retried = store
        .append(AppendRequest::single(
            "old",
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_id,
                event_type: "test.happened".into(),
                schema_version: 1,
                data,
                metadata: EventMetadata {
                    tenant_id: Some("acme".into()),
                    ..EventMetadata::default()
                },
            }],
        ))
        .await
        .unwrap();
    assert!(retried.duplicate);
    append(&store, "old", ExpectedVersion::Exact(0), 1)
        .await
        .unwrap();
    let report = verify_streams(&store, None, None).await.unwrap();
    assert!(report.ok, "{report:?}");
}

/// A writer that has not seen a stream takes it to be new and writes it in
/// one statement; when the stream's events are all in an older partition,
/// no unique index is there to refuse a second version 0, and the write's
/// check of the stream heads must.
#[tokio::test]
async fn a_stream_from_an_older_partition_goes_on_at_its_next_version() {
    let store = store_with_partitions_of(3).await;
    let pool = store.pool().clone();
    append(&store, "old", ExpectedVersion::NoStream, 1)
        .await
        .unwrap();
    append(&store, "filler", ExpectedVersion::NoStream, 2)
        .await
        .unwrap();
    ensure_event_partitions(&pool).await.unwrap();

    // A second instance: its first batch learns the log's head, and not
    // the stream `old`.
    let other = PgEventStore::new(pool.clone());
    append(&other, "warm-up", ExpectedVersion::NoStream, 1)
        .await
        .unwrap();
    let appended = append(&other, "old", ExpectedVersion::Any, 1)
        .await
        .unwrap();
    assert_eq!(appended.events[0].stream_version, 1);
    let refused = append(&other, "old", ExpectedVersion::NoStream, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            AppendError::VersionConflict {
                actual: Some(1),
                ..
            }
        ),
        "{refused:?}"
    );
    let stream = store.read_stream("old", 0, ReadUntil::End).await.unwrap();
    assert_eq!(
        stream.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [0, 1]
    );
    let report = verify_streams(&store, None, None).await.unwrap();
    assert!(report.ok, "{report:?}");
}
