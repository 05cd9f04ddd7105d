//! Signed checkpoints and export bundles against a real server.

use ledger_embedded_pg::testing::fresh_database;
use ledger_store::bundle::{export, verify_bundle, BundleReport};
use ledger_store::checkpoint::{
    audit_checkpoints, list_checkpoints, load_heads, CheckpointError, CheckpointSigner,
    Checkpointer, Heads, SignedHead,
};
use ledger_store::*;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

async fn store() -> PgEventStore {
    let db = fresh_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&db.url)
        .await
        .expect("connecting to the test database");
    MIGRATOR.run(&pool).await.expect("migrating");
    PgEventStore::new(pool)
}

fn signer(seed: u8) -> CheckpointSigner {
    CheckpointSigner::from_seed([seed; 32])
}

async fn append(store: &PgEventStore, stream: &str, count: usize) {
    let events = (0..count)
        .map(|i| NewEvent {
            event_id: Uuid::new_v4(),
            event_type: "test.happened".into(),
            schema_version: 1,
            data: json!({ "i": i, "amount": 10 }),
            metadata: EventMetadata::default(),
        })
        .collect();
    store
        .append(AppendRequest::single(stream, ExpectedVersion::Any, events))
        .await
        .expect("appending");
}

/// Every stream's head at `position`, straight from the log.
async fn heads_in_log(pool: &PgPool, position: u64) -> Heads {
    let rows: Vec<(String, i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT DISTINCT ON (stream_id) stream_id, stream_version, global_position, hash
         FROM events WHERE global_position <= $1 ORDER BY stream_id, stream_version DESC",
    )
    .bind(position as i64)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(stream_id, version, position, hash)| {
            (
                stream_id.clone(),
                SignedHead {
                    stream_id,
                    stream_version: version as u64,
                    global_position: position as u64,
                    hash,
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn a_checkpoint_signs_every_stream_head_and_stores_only_the_changed_ones() {
    let store = store().await;
    let pool = store.pool().clone();
    let key = signer(7);
    let mut checkpointer = Checkpointer::new(pool.clone(), signer(7));
    assert!(checkpointer.make().await.unwrap().is_none(), "empty log");
    append(&store, "a", 3).await;
    append(&store, "b", 2).await;
    append(&store, "c", 1).await;
    let first = checkpointer.make().await.unwrap().expect("a checkpoint");
    assert_eq!((first.position, first.stream_count), (6, 3));
    let heads = load_heads(&pool, 6, false).await.unwrap();
    assert_eq!(heads, heads_in_log(&pool, 6).await);
    first.verify(&heads, Some(&key.verifying_key())).unwrap();
    assert!(
        checkpointer.make().await.unwrap().is_none(),
        "no new events"
    );

    append(&store, "b", 2).await;
    // Another instance, with no heads cached, makes the next one.
    let second = Checkpointer::new(pool.clone(), signer(7))
        .make()
        .await
        .unwrap()
        .expect("a checkpoint");
    assert_eq!((second.position, second.stream_count), (8, 3));
    let changed = load_heads(&pool, 8, true).await.unwrap();
    assert_eq!(changed.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(changed["b"].stream_version, 3);
    let heads = load_heads(&pool, 8, false).await.unwrap();
    assert_eq!(heads, heads_in_log(&pool, 8).await);
    second.verify(&heads, Some(&key.verifying_key())).unwrap();

    append(&store, "d", 1).await;
    let third = checkpointer.make().await.unwrap().expect("a checkpoint");
    assert_eq!(third.stream_count, 4, "the cached heads were refreshed");
    let listed = list_checkpoints(&pool, 0, 10).await.unwrap();
    assert_eq!(listed, vec![first, second, third]);
    let audit = audit_checkpoints(&pool, Some(&key.verifying_key()))
        .await
        .unwrap();
    assert_eq!((audit.checkpoints_checked, audit.covered_position), (3, 9));
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
}

#[tokio::test]
async fn a_checkpoint_fails_with_another_key_another_signature_or_other_heads() {
    let store = store().await;
    append(&store, "a", 2).await;
    let checkpoint = Checkpointer::new(store.pool().clone(), signer(1))
        .make()
        .await
        .unwrap()
        .unwrap();
    let heads = heads_in_log(store.pool(), checkpoint.position).await;
    checkpoint.verify(&heads, None).unwrap();
    assert!(matches!(
        checkpoint.verify(&heads, Some(&signer(2).verifying_key())),
        Err(CheckpointError::UntrustedKey { .. })
    ));
    let mut forged = checkpoint.clone();
    forged.position += 1;
    assert!(matches!(
        forged.verify(&heads, None),
        Err(CheckpointError::BadSignature(_))
    ));
    let mut other_heads = heads.clone();
    other_heads.get_mut("a").unwrap().hash[0] ^= 1;
    assert!(matches!(
        checkpoint.verify(&other_heads, None),
        Err(CheckpointError::HeadsMismatch(_))
    ));
}

async fn export_bundle(store: &PgEventStore, streams: Option<Vec<String>>, after: u64) -> Vec<u8> {
    let mut bundle = Vec::new();
    export(store, store.pool(), streams, after, &mut bundle)
        .await
        .expect("exporting");
    bundle
}

fn check(bundle: &[u8], key: &CheckpointSigner) -> BundleReport {
    verify_bundle(bundle, Some(&key.verifying_key())).expect("a readable bundle")
}

/// What a database superuser does: disable the trigger and run `sql`.
async fn as_superuser(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_reject_update_delete")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_reject_update_delete")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Edits `version` of `stream` and recomputes every hash after it, as
/// someone who read docs/hash-chain.md would.
async fn rewrite_with_hashes(store: &PgEventStore, stream: &str, version: u64) {
    let mut events = store.read_stream(stream, 0, ReadUntil::End).await.unwrap();
    events[version as usize].data["amount"] = json!(1_000_000);
    for index in version as usize..events.len() {
        if index > 0 {
            events[index].prev_hash = events[index - 1].hash.clone();
        }
        events[index].hash = events[index].computed_hash().unwrap().to_vec();
        let event = &events[index];
        as_superuser(
            store.pool(),
            &format!(
                "UPDATE events SET data = '{}', prev_hash = '\\x{}', hash = '\\x{}'
                 WHERE global_position = {}",
                event.data,
                hex::encode(&event.prev_hash),
                hex::encode(&event.hash),
                event.global_position
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn an_export_verifies_offline_and_tampering_is_located_by_the_bundle_and_the_database_check()
{
    let store = store().await;
    let key = signer(3);
    let mut checkpointer = Checkpointer::new(store.pool().clone(), signer(3));
    append(&store, "a", 3).await;
    append(&store, "b", 2).await;
    checkpointer.make().await.unwrap();
    append(&store, "a", 2).await;
    checkpointer.make().await.unwrap();
    append(&store, "b", 1).await;

    let whole = export_bundle(&store, None, 0).await;
    let report = check(&whole, &key);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(
        (report.events, report.streams, report.checkpoints),
        (8, 2, 2)
    );
    assert_eq!((report.covered_position, report.unsigned_events), (7, 1));
    let part = export_bundle(&store, Some(vec!["a".into()]), 2).await;
    let report = check(&part, &key);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.events, report.checkpoints), (3, 2));
    let untrusted = check(&whole, &signer(4));
    assert!(!untrusted.ok(), "another key did not sign it");

    // The bundle itself edited: a changed amount, then a dropped event.
    let text = String::from_utf8(whole.clone()).unwrap();
    let edited = text.replacen("\"amount\":10", "\"amount\":99", 1);
    let report = check(edited.as_bytes(), &key);
    assert!(
        report.problems[0].starts_with("stream a version 0 (position 1): hash does not match"),
        "{:?}",
        report.problems
    );
    let dropped: String = text
        .lines()
        .filter(|line| !line.contains("\"global_position\":4,"))
        .map(|line| format!("{line}\n"))
        .collect();
    let report = check(dropped.as_bytes(), &key);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("stream b version 1 (position 5)")),
        "{:?}",
        report.problems
    );

    // A superuser edits stream a's version 1 and recomputes the chain after
    // it: every chain still verifies, the signed heads do not.
    rewrite_with_hashes(&store, "a", 1).await;
    assert!(verify_streams(&store, None, None).await.unwrap().ok);
    let audit = audit_checkpoints(store.pool(), Some(&key.verifying_key()))
        .await
        .unwrap();
    assert_eq!(audit.problems.len(), 2, "{:?}", audit.problems);
    assert!(
        audit.problems[0].starts_with("stream a version 2 (position 3) differs"),
        "{:?}",
        audit.problems
    );
    let report = check(&export_bundle(&store, None, 0).await, &key);
    assert!(
        report.problems[0].starts_with("stream a version 2 (position 3) differs"),
        "{:?}",
        report.problems
    );

    // Covering the edit by also rewriting the stored heads breaks the
    // signature over them instead.
    as_superuser(
        store.pool(),
        "ALTER TABLE audit_checkpoint_heads DISABLE TRIGGER audit_checkpoint_heads_reject_update_delete;
         UPDATE audit_checkpoint_heads h SET hash = e.hash FROM events e
         WHERE e.stream_id = h.stream_id AND e.stream_version = h.stream_version;
         ALTER TABLE audit_checkpoint_heads ENABLE TRIGGER audit_checkpoint_heads_reject_update_delete",
    )
    .await;
    let audit = audit_checkpoints(store.pool(), Some(&key.verifying_key()))
        .await
        .unwrap();
    assert!(
        audit.problems[0].contains("its stream heads do not match the signed digest"),
        "{:?}",
        audit.problems
    );
}
