//! The PostgreSQL event store against a real server.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use ledger_embedded_pg::testing::fresh_database;
use ledger_store::*;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

mod support {
    pub mod direct_write;
}

async fn pool() -> sqlx::PgPool {
    let db = fresh_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(&db.url)
        .await
        .expect("connecting to the test database");
    MIGRATOR.run(&pool).await.expect("migrating");
    pool
}

async fn store() -> PgEventStore {
    PgEventStore::new(pool().await)
}

fn event(event_type: &str, data: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        data,
        metadata: EventMetadata {
            tenant_id: Some("acme".into()),
            ..EventMetadata::default()
        },
    }
}

fn events(count: usize) -> Vec<NewEvent> {
    (0..count)
        .map(|i| event("test.happened", json!({ "i": i })))
        .collect()
}

async fn all_events(store: &PgEventStore) -> Vec<RecordedEvent> {
    store.read_all(0, 1_000_000, None).await.unwrap()
}

#[tokio::test]
async fn appended_events_read_back_in_order_with_gap_free_versions() {
    let store = store().await;
    let first = store
        .append(AppendRequest::single(
            "s-1",
            ExpectedVersion::NoStream,
            events(3),
        ))
        .await
        .unwrap();
    assert_eq!(first.last_position(), Some(3));
    store
        .append(AppendRequest::single(
            "s-1",
            ExpectedVersion::Exact(2),
            events(2),
        ))
        .await
        .unwrap();
    let read = store.read_stream("s-1", 0, ReadUntil::End).await.unwrap();
    assert_eq!(
        read.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!(
        read.iter()
            .map(|e| e.data["i"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 0, 1]
    );
    assert_eq!(store.head_position().await.unwrap(), 5);
    let from_three = store.read_stream("s-1", 3, ReadUntil::End).await.unwrap();
    assert_eq!(from_three.len(), 2);
}

#[tokio::test]
async fn expected_versions_are_enforced() {
    let store = store().await;
    store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    let cases = [
        (ExpectedVersion::NoStream, Some(0)),
        (ExpectedVersion::Exact(1), Some(0)),
    ];
    for (expected, actual) in cases {
        let result = store
            .append(AppendRequest::single("s", expected, events(1)))
            .await;
        assert!(
            matches!(result, Err(AppendError::VersionConflict { actual: a, .. }) if a == actual),
            "{expected:?}: {result:?}"
        );
    }
    let missing = store
        .append(AppendRequest::single(
            "nope",
            ExpectedVersion::Exact(0),
            events(1),
        ))
        .await;
    assert!(matches!(
        missing,
        Err(AppendError::VersionConflict { actual: None, .. })
    ));
    store
        .append(AppendRequest::single("s", ExpectedVersion::Any, events(1)))
        .await
        .unwrap();
    assert_eq!(
        all_events(&store).await.len(),
        2,
        "refused appends wrote nothing"
    );
}

#[tokio::test]
async fn a_multi_stream_append_is_all_or_nothing() {
    let store = store().await;
    store
        .append(AppendRequest::single(
            "account",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    let request = AppendRequest {
        streams: vec![
            StreamAppend {
                stream_id: "run".into(),
                expected: ExpectedVersion::NoStream,
                events: events(2),
            },
            StreamAppend {
                stream_id: "account".into(),
                expected: ExpectedVersion::Exact(7),
                events: events(1),
            },
        ],
        claims: vec![],
    };
    assert!(matches!(
        store.append(request.clone()).await,
        Err(AppendError::VersionConflict { .. })
    ));
    assert!(store
        .read_stream("run", 0, ReadUntil::End)
        .await
        .unwrap()
        .is_empty());
    let mut fixed = request;
    fixed.streams[1].expected = ExpectedVersion::Exact(0);
    let outcome = store.append(fixed).await.unwrap();
    assert_eq!(outcome.events.len(), 3);
    assert_eq!(
        store
            .read_stream("account", 0, ReadUntil::End)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_repeated_event_id_is_a_no_op_returning_the_original_positions() {
    let store = store().await;
    let batch = events(2);
    let original = store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            batch.clone(),
        ))
        .await
        .unwrap();
    store
        .append(AppendRequest::single("s", ExpectedVersion::Any, events(1)))
        .await
        .unwrap();
    // The retry's expected version no longer holds: the duplicate check comes first.
    let retried = store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            batch.clone(),
        ))
        .await
        .unwrap();
    assert!(retried.duplicate);
    assert_eq!(retried.events, original.events);
    assert_eq!(all_events(&store).await.len(), 3);

    let mut partly_new = batch.clone();
    partly_new.push(event("test.happened", json!({})));
    assert!(matches!(
        store
            .append(AppendRequest::single("s", ExpectedVersion::Any, partly_new))
            .await,
        Err(AppendError::EventIdReused { .. })
    ));
    assert!(matches!(
        store
            .append(AppendRequest::single("other", ExpectedVersion::Any, batch))
            .await,
        Err(AppendError::EventIdReused { .. })
    ));
    assert_eq!(all_events(&store).await.len(), 3);
}

/// `find_events` answers each event found once, in log order, however
/// often it is asked for, and passes over ids the log does not hold.
#[tokio::test]
async fn found_events_come_once_each_in_log_order() {
    let store = store().await;
    let appended = store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            events(3),
        ))
        .await
        .unwrap()
        .events;
    let asked = [
        appended[2].event_id,
        Uuid::new_v4(),
        appended[0].event_id,
        appended[2].event_id,
    ];
    let found = store.find_events(&asked).await.unwrap();
    assert_eq!(found, vec![appended[0].clone(), appended[2].clone()]);
}

#[tokio::test]
async fn concurrent_duplicates_of_one_append_write_it_once() {
    let store = store().await;
    let batch = events(3);
    let attempts = (0..16).map(|_| {
        let store = store.clone();
        let batch = batch.clone();
        tokio::spawn(async move {
            store
                .append(AppendRequest::single("s", ExpectedVersion::Any, batch))
                .await
                .unwrap()
        })
    });
    let outcomes: Vec<AppendOutcome> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1);
    assert!(outcomes.windows(2).all(|w| w[0].events == w[1].events));
    assert_eq!(all_events(&store).await.len(), 3);
}

#[tokio::test]
async fn each_stream_is_a_hash_chain_from_the_genesis_hash() {
    let store = store().await;
    for round in 0..3 {
        for stream in ["a", "b"] {
            let data = json!({"round": round, "float": 0.1, "big": 1u64 << 60, "neg": -7,
                              "e16": 1e16, "e300": 1e300, "negative_zero": -0.0, "tiny": 5e-324,
                              "nested": {"z": [1.5e-7, null, "é"], "a": true}, "ключ": "значение"});
            store
                .append(AppendRequest::single(
                    stream,
                    ExpectedVersion::Any,
                    vec![event("test.happened", data)],
                ))
                .await
                .unwrap();
        }
    }
    for stream in ["a", "b"] {
        let read = store.read_stream(stream, 0, ReadUntil::End).await.unwrap();
        assert_eq!(read[0].prev_hash, hash::GENESIS_HASH.to_vec());
        assert_eq!(read[1].prev_hash, read[0].hash);
        verify_chain(&read).expect("an untouched chain verifies");
    }
}

#[tokio::test]
async fn the_store_refuses_json_it_could_not_read_back_unchanged() {
    let store = store().await;
    for data in [
        json!({"x": [u64::MAX]}),
        json!({"x": 9_007_199_254_740_993u64}),
        json!({"x": "a\u{0}b"}),
        json!({"a\u{0}": 1}),
    ] {
        let refused = store
            .append(AppendRequest::single(
                "s",
                ExpectedVersion::Any,
                vec![event("test.happened", data.clone())],
            ))
            .await;
        assert!(
            matches!(refused, Err(AppendError::Invalid(_))),
            "{data}: {refused:?}"
        );
    }
    assert!(all_events(&store).await.is_empty());
}

#[tokio::test]
async fn a_stream_id_with_nul_is_no_stream_to_read_not_a_database_error() {
    let store = store().await;
    let id = "run-\u{0}x";
    assert!(store
        .read_stream(id, 0, ReadUntil::End)
        .await
        .unwrap()
        .is_empty());
    assert!(store.stream_head(id).await.unwrap().is_none());
}

/// Events written before hash v2 carry `hash_version` 1 and verify with
/// v1; a stream goes on with v2 events chained to them.
#[tokio::test]
async fn events_hashed_with_v1_keep_verifying_beside_v2() {
    let store = store().await;
    let data = json!({"amount": 5, "ratio": 0.25, "name": "é"});
    let metadata = json!({"tenant_id": "acme"});
    let recorded_at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
    let event_id = Uuid::new_v4();
    // As a build before v2 wrote it (the migration gives old rows version 1).
    let v1_hash = support::direct_write::write_first_event(
        store.pool(),
        hash::HashVersion::V1,
        event_id,
        &data,
        &metadata,
        recorded_at,
    )
    .await;
    store
        .append(AppendRequest::single(
            "old",
            ExpectedVersion::Exact(0),
            vec![event("test.happened", json!({"x": 1e16}))],
        ))
        .await
        .unwrap();
    let read = store.read_stream("old", 0, ReadUntil::End).await.unwrap();
    assert_eq!(read[0].hash_version, hash::HashVersion::V1);
    assert_eq!(read[1].hash_version, hash::HashVersion::V2);
    assert_eq!(read[1].prev_hash, v1_hash.to_vec());
    verify_chain(&read).expect("a v1 event and the v2 event after it verify");
    let report = verify_streams(&store, None, None).await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test]
async fn the_events_table_rejects_update_delete_and_truncate() {
    let store = store().await;
    let mut request = AppendRequest::single("s", ExpectedVersion::NoStream, events(1));
    request.claims.push(UniqueClaim {
        scope: "scope".into(),
        key: "key".into(),
        stream_id: "s".into(),
    });
    store.append(request).await.unwrap();
    for statement in [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
        "DELETE FROM unique_claims",
    ] {
        let error = sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(all_events(&store).await.len(), 1);
    assert!(store.find_claim("scope", "key").await.unwrap().is_some());
}

#[tokio::test]
async fn tampering_by_a_superuser_is_detected_and_located() {
    let store = store().await;
    store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            events(4),
        ))
        .await
        .unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    for statement in [
        "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete",
        "UPDATE events SET data = '{\"i\": 99}' WHERE stream_id = 's' AND stream_version = 2",
        "ALTER TABLE events ENABLE TRIGGER events_reject_update_delete",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let read = store.read_stream("s", 0, ReadUntil::End).await.unwrap();
    let broken = verify_chain(&read).expect_err("the edit must be detected");
    assert_eq!(broken.stream_version, 2);
    assert_eq!(broken.global_position, 3);
}

#[tokio::test]
async fn a_stream_reads_up_to_a_version_or_a_time() {
    let store = store().await;
    store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            events(3),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cutoff = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    store
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::Exact(2),
            events(2),
        ))
        .await
        .unwrap();
    let to_version = store
        .read_stream("s", 0, ReadUntil::Version(1))
        .await
        .unwrap();
    assert_eq!(to_version.len(), 2);
    let to_time = store
        .read_stream("s", 0, ReadUntil::RecordedAt(cutoff))
        .await
        .unwrap();
    assert_eq!(to_time.len(), 3);
}

#[tokio::test]
async fn concurrent_appends_get_dense_positions_and_the_feed_pages_through_each_once() {
    let store = store().await;
    let writers = (0..32).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..10 {
                store
                    .append(AppendRequest::single(
                        format!("s-{writer}"),
                        ExpectedVersion::Any,
                        events(2),
                    ))
                    .await
                    .unwrap();
            }
        })
    });
    join_all(writers).await.into_iter().for_each(Result::unwrap);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 37, None).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.global_position;
        seen.extend(page.iter().map(|e| e.global_position));
    }
    assert_eq!(seen, (1..=640).collect::<Vec<u64>>());
    for writer in 0..32 {
        assert_stream_is_dense_and_chained(&store, &format!("s-{writer}"), 20).await;
    }
}

/// Asserts that `stream_id` holds versions `0..count` and its chain verifies.
async fn assert_stream_is_dense_and_chained(store: &PgEventStore, stream_id: &str, count: u64) {
    let stream = store
        .read_stream(stream_id, 0, ReadUntil::End)
        .await
        .unwrap();
    assert_eq!(
        stream.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        (0..count).collect::<Vec<u64>>(),
        "{stream_id}"
    );
    verify_chain(&stream).unwrap();
}

/// The positions of the whole log, in feed order.
async fn positions(store: &PgEventStore) -> Vec<u64> {
    all_events(store)
        .await
        .iter()
        .map(|e| e.global_position)
        .collect()
}

/// A writer takes a position and holds its transaction open while writers of
/// another service instance (another store on the same database) try to
/// append and a reader follows the feed. The reader must end up with every
/// event exactly once, in order: nothing committed late is skipped.
#[tokio::test]
async fn a_feed_reader_never_skips_an_event_whose_transaction_commits_late() {
    let pool = pool().await;
    let release = Arc::new(tokio::sync::Notify::new());
    let held = Arc::new(tokio::sync::Notify::new());
    let hook: BeforeCommitHook = {
        let release = release.clone();
        let held = held.clone();
        Arc::new(move |_, _| {
            let release = release.clone();
            let held = held.clone();
            Box::pin(async move {
                held.notify_one();
                release.notified().await;
            })
        })
    };
    let slow = PgEventStore::with_options(
        pool.clone(),
        PgEventStoreOptions {
            before_commit: Some(hook),
            ..PgEventStoreOptions::default()
        },
    );
    let fast = PgEventStore::new(pool.clone());

    let slow_append = tokio::spawn({
        let slow = slow.clone();
        async move {
            slow.append(AppendRequest::single(
                "slow",
                ExpectedVersion::Any,
                events(1),
            ))
            .await
            .unwrap()
        }
    });
    held.notified().await;
    let fast_appends: Vec<_> = (0..20)
        .map(|i| {
            let fast = fast.clone();
            tokio::spawn(async move {
                fast.append(AppendRequest::single(
                    format!("fast-{i}"),
                    ExpectedVersion::Any,
                    events(1),
                ))
                .await
                .unwrap()
            })
        })
        .collect();

    let reader = tokio::spawn({
        let fast = fast.clone();
        async move {
            let mut seen = Vec::new();
            let mut after = 0;
            while seen.len() < 21 {
                for event in fast.read_all(after, 100, None).await.unwrap() {
                    after = event.global_position;
                    seen.push(event.global_position);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        }
    });
    // Let the other writers and the reader run against the open transaction.
    tokio::time::sleep(Duration::from_millis(300)).await;
    release.notify_one();
    let slow_outcome = slow_append.await.unwrap();
    assert_eq!(slow_outcome.last_position(), Some(1));
    join_all(fast_appends).await.into_iter().for_each(|r| {
        r.unwrap();
    });
    let seen = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the reader caught up")
        .unwrap();
    assert_eq!(seen, (1..=21).collect::<Vec<u64>>(), "skipped or repeated");
    let distinct: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), 21);
}

#[tokio::test]
async fn a_unique_claim_is_held_by_one_stream() {
    let store = store().await;
    let claim = |stream: &str| UniqueClaim {
        scope: "run-idempotency/acme".into(),
        key: "p:1:2".into(),
        stream_id: stream.into(),
    };
    let mut first = AppendRequest::single("run-a", ExpectedVersion::NoStream, events(1));
    first.claims.push(claim("run-a"));
    store.append(first).await.unwrap();
    let mut second = AppendRequest::single("run-b", ExpectedVersion::NoStream, events(1));
    second.claims.push(claim("run-b"));
    let taken = store.append(second).await;
    assert!(
        matches!(taken, Err(AppendError::ClaimTaken { ref stream_id, .. }) if stream_id == "run-a")
    );
    assert!(store
        .read_stream("run-b", 0, ReadUntil::End)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .find_claim("run-idempotency/acme", "p:1:2")
            .await
            .unwrap()
            .as_deref(),
        Some("run-a")
    );
}

#[tokio::test]
async fn unstorable_input_is_refused_without_failing_other_appends() {
    let store = store().await;
    let bad = store.append(AppendRequest::single(
        "s",
        ExpectedVersion::Any,
        vec![event("test.happened", json!({"text": "nul\u{0}here"}))],
    ));
    let good = store.append(AppendRequest::single("t", ExpectedVersion::Any, events(1)));
    let (bad, good) = tokio::join!(bad, good);
    assert!(matches!(bad, Err(AppendError::Invalid(_))));
    good.unwrap();
    let twice = events(1).remove(0);
    assert!(matches!(
        store
            .append(AppendRequest::single(
                "s",
                ExpectedVersion::Any,
                vec![twice.clone(), twice]
            ))
            .await,
        Err(AppendError::Invalid(_))
    ));
    assert_eq!(all_events(&store).await.len(), 1);
}

#[tokio::test]
async fn the_newest_snapshot_wins() {
    let store = store().await;
    let snapshot = |version: u64| Snapshot {
        stream_id: "s".into(),
        version,
        state_format: 1,
        state: json!({ "version": version }),
    };
    store.save_snapshot(snapshot(5)).await.unwrap();
    store.save_snapshot(snapshot(3)).await.unwrap();
    assert_eq!(store.load_snapshot("s").await.unwrap().unwrap().version, 5);
    store.save_snapshot(snapshot(9)).await.unwrap();
    assert_eq!(store.load_snapshot("s").await.unwrap().unwrap().version, 9);
    assert!(store.load_snapshot("other").await.unwrap().is_none());
}

#[tokio::test]
async fn the_feed_can_be_read_for_one_tenant() {
    let store = store().await;
    let mut other = event("test.happened", json!({}));
    other.metadata.tenant_id = Some("globex".into());
    store
        .append(AppendRequest::single("a", ExpectedVersion::Any, events(2)))
        .await
        .unwrap();
    store
        .append(AppendRequest::single(
            "b",
            ExpectedVersion::Any,
            vec![other],
        ))
        .await
        .unwrap();
    let globex = store.read_all(0, 100, Some("globex")).await.unwrap();
    assert_eq!(
        globex.iter().map(|e| e.global_position).collect::<Vec<_>>(),
        vec![3]
    );
    assert_eq!(store.read_all(0, 100, Some("acme")).await.unwrap().len(), 2);
}

/// Two service instances (two stores, each with its own writer and what it
/// knows of the log) append to shared streams at once, so each often
/// writes on out-of-date knowledge: the log stays dense, every stream's
/// versions stay gap-free and its chain verifies.
#[tokio::test]
async fn two_instances_appending_to_shared_streams_keep_the_log_dense_and_chained() {
    let pool = pool().await;
    let instances = [PgEventStore::new(pool.clone()), PgEventStore::new(pool)];
    let tasks = (0..32).map(|task| {
        let store = instances[task % 2].clone();
        tokio::spawn(async move {
            for round in 0..8 {
                let shared = format!("shared-{}", round % 4);
                store
                    .append(AppendRequest::single(
                        shared,
                        ExpectedVersion::Any,
                        events(1),
                    ))
                    .await
                    .unwrap();
                store
                    .append(AppendRequest::single(
                        format!("own-{task}-{round}"),
                        ExpectedVersion::NoStream,
                        events(1),
                    ))
                    .await
                    .unwrap();
            }
        })
    });
    join_all(tasks).await.into_iter().for_each(Result::unwrap);
    let store = &instances[0];
    assert_eq!(positions(store).await, (1..=512).collect::<Vec<u64>>());
    assert_eq!(store.head_position().await.unwrap(), 512);
    for shared in 0..4 {
        assert_stream_is_dense_and_chained(store, &format!("shared-{shared}"), 64).await;
    }
}

/// An instance's writer decides on what it knows of a stream; when another
/// instance has appended since, the log refuses that write and the writer
/// decides again on the log's word.
#[tokio::test]
async fn a_writer_that_knows_an_old_stream_head_decides_on_the_real_one() {
    let pool = pool().await;
    let (first, second) = (PgEventStore::new(pool.clone()), PgEventStore::new(pool));
    first
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    second
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::Exact(0),
            events(1),
        ))
        .await
        .unwrap();
    let stale = first
        .append(AppendRequest::single(
            "s",
            ExpectedVersion::Exact(0),
            events(1),
        ))
        .await;
    assert!(
        matches!(
            stale,
            Err(AppendError::VersionConflict {
                actual: Some(1),
                ..
            })
        ),
        "{stale:?}"
    );
    let any = first
        .append(AppendRequest::single("s", ExpectedVersion::Any, events(1)))
        .await
        .unwrap();
    assert_eq!(any.events[0].stream_version, 2);
    assert_eq!(any.last_position(), Some(3));
    assert_stream_is_dense_and_chained(&first, "s", 3).await;
}

/// The log's head is further than the writer knows, with no event at the
/// positions it would take (as after a restore): the head check refuses
/// the write, and the batch lands after the real head.
#[tokio::test]
async fn a_writer_that_knows_an_old_log_head_writes_after_the_real_one() {
    let store = store().await;
    store
        .append(AppendRequest::single(
            "a",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    sqlx::query("UPDATE event_log_head SET position = position + 5")
        .execute(store.pool())
        .await
        .unwrap();
    let outcome = store
        .append(AppendRequest::single(
            "b",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    assert_eq!(outcome.last_position(), Some(7));
    assert_eq!(positions(&store).await, vec![1, 7]);
}

/// Appends that commit while a reader is busy wake it once, not once each:
/// it reads up to the head whichever woke it, so each further wake-up
/// would cost it a read that finds nothing new.
#[tokio::test]
async fn notifications_that_arrive_while_a_reader_is_busy_wake_it_once() {
    let store = store().await;
    let mut notifications = AppendNotifications::listen(store.pool()).await;
    for index in 0..5 {
        store
            .append(AppendRequest::single(
                format!("test-{index}"),
                ExpectedVersion::NoStream,
                events(1),
            ))
            .await
            .unwrap();
    }
    // NOTIFY is delivered at commit; give the listener's connection time
    // to receive all five.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::timeout(Duration::from_secs(5), notifications.next())
        .await
        .expect("the appends wake the reader");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), notifications.next())
            .await
            .is_err(),
        "the reader was woken again by an append it had already been woken for"
    );
    store
        .append(AppendRequest::single(
            "test-late",
            ExpectedVersion::NoStream,
            events(1),
        ))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), notifications.next())
        .await
        .expect("a later append wakes the reader again");
}
