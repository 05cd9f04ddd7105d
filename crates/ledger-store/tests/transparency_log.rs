//! The transparency log against a real server, checked with code this
//! project did not write (tests/support/independent.rs): the tree, signed
//! checkpoints, proofs, cosignatures, export bundles and the whole-log audit.

#[path = "support/independent.rs"]
mod independent;

use ed25519_dalek::SigningKey;
use independent::{extends, includes, open_checkpoint, IndependentTree};
use ledger_embedded_pg::testing::fresh_database;
use ledger_store::bundle::{export, verify_bundle, BundleReport};
use ledger_store::checkpoint::{self, CheckpointSigner, Checkpointer, CosignError};
use ledger_store::merkle;
use ledger_store::note::{NoteSigner, NoteVerifier, SignedNote};
use ledger_store::tlog;
use ledger_store::*;
use proptest::prelude::*;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

const ORIGIN: &str = "example.com/run-ledger";

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

fn signer(seed: u8) -> NoteSigner {
    CheckpointSigner::from_seed([seed; 32])
        .note_signer(ORIGIN)
        .unwrap()
}

fn witness(seed: u8) -> NoteSigner {
    NoteSigner::new(
        &format!("witness-{seed}.example"),
        SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
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

/// Every event's hash, in position order, straight from the table.
async fn event_hashes(pool: &PgPool) -> Vec<Vec<u8>> {
    sqlx::query_scalar("SELECT hash FROM events ORDER BY global_position")
        .fetch_all(pool)
        .await
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Grown in batches of any size, the tree has the roots, inclusion
    /// paths and consistency paths that tlog_tiles computes and accepts.
    #[test]
    fn the_tree_agrees_with_an_independent_rfc_6962_implementation(
        batches in proptest::collection::vec(1usize..40, 1..8),
    ) {
        let total: usize = batches.iter().sum();
        let event_hashes: Vec<Vec<u8>> =
            (0..total).map(|i| merkle::leaf_hash(&(i as u64).to_be_bytes()).to_vec()).collect();
        let independent = IndependentTree::of(&event_hashes);
        let mut nodes = std::collections::HashMap::new();
        let mut size = 0u64;
        let node_root = |nodes: &std::collections::HashMap<merkle::NodeId, merkle::Hash>, range| {
            let pieces: Vec<merkle::Hash> =
                merkle::complete_subtrees(range).iter().map(|n| nodes[n]).collect();
            merkle::range_root(&pieces)
        };
        let mut sizes = Vec::new();
        for batch in batches {
            let edge: Vec<merkle::Hash> =
                merkle::frontier(size).iter().map(|n| nodes[n]).collect();
            let leaves: Vec<merkle::Hash> = event_hashes[size as usize..size as usize + batch]
                .iter()
                .map(|hash| merkle::leaf_hash(hash))
                .collect();
            nodes.extend(merkle::grow(size, &edge, &leaves));
            size += batch as u64;
            sizes.push(size);
            let root = node_root(&nodes, (0, size));
            prop_assert_eq!(root, independent.root(size));
            for index in [0, size / 2, size - 1] {
                let path: Vec<merkle::Hash> = merkle::inclusion_ranges(index, size)
                    .into_iter()
                    .map(|range| node_root(&nodes, range))
                    .collect();
                prop_assert!(includes(root, size, index, &event_hashes[index as usize], &path));
            }
        }
        for &old in &sizes {
            let new = size;
            let path: Vec<merkle::Hash> = merkle::consistency_ranges(old, new)
                .into_iter()
                .map(|range| node_root(&nodes, range))
                .collect();
            prop_assert!(extends(old, independent.root(old), new, independent.root(new), &path));
            prop_assert!(merkle::verify_consistency(
                old, new, &independent.root(old), &independent.root(new), &path
            ));
        }
    }
}

#[tokio::test]
async fn checkpoints_are_c2sp_notes_an_independent_verifier_checks_against_the_events() {
    let store = store().await;
    let pool = store.pool().clone();
    let log = signer(7);
    let vkey = log.verifier().to_string();
    let checkpointer = Checkpointer::new(pool.clone(), signer(7));
    assert!(checkpointer.make().await.unwrap().is_none(), "empty log");
    let mut signed = Vec::new();
    for (stream, count) in [("a", 3), ("b", 1), ("a", 5), ("c", 8)] {
        append(&store, stream, count).await;
        let checkpoint = checkpointer.make().await.unwrap().expect("a checkpoint");
        assert!(
            checkpointer.make().await.unwrap().is_none(),
            "nothing new: no checkpoint"
        );
        signed.push(checkpoint);
    }
    let hashes = event_hashes(&pool).await;
    let independent = IndependentTree::of(&hashes);
    let mut conn = pool.acquire().await.unwrap();
    for checkpoint in &signed {
        let (origin, size, root) =
            open_checkpoint(&checkpoint.note.render(), &[&vkey]).expect("a valid note");
        assert_eq!(origin, ORIGIN);
        assert_eq!((size, root), (checkpoint.tree_size, independent.root(size)));
        for index in 0..size {
            let path = tlog::inclusion_path(&mut conn, index, size).await.unwrap();
            assert!(
                includes(root, size, index, &hashes[index as usize], &path),
                "leaf {index} of {size}"
            );
        }
        for old in 1..=size {
            let path = tlog::consistency_path(&mut conn, old, size).await.unwrap();
            assert!(extends(old, independent.root(old), size, root, &path));
        }
    }
    assert_eq!(
        signed.iter().map(|c| c.tree_size).collect::<Vec<_>>(),
        [3, 4, 9, 17]
    );
    let listed = checkpoint::list(&pool, 3, 2).await.unwrap();
    assert_eq!(listed, signed[1..3]);
    assert_eq!(
        checkpoint::latest(&pool).await.unwrap().as_ref(),
        signed.last()
    );
    assert!(
        open_checkpoint(
            &signed[0].note.render(),
            &[&signer(8).verifier().to_string()]
        )
        .is_err(),
        "another key did not sign it"
    );

    // A second signer, as on another instance, signs nothing twice.
    let other = Checkpointer::new(pool.clone(), signer(7));
    append(&store, "b", 2).await;
    let (first, second) = tokio::join!(checkpointer.make(), other.make());
    let made: Vec<_> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(made.len(), 1, "one of them signs size 19");
    assert_eq!(made[0].tree_size, 19);
}

#[tokio::test]
async fn cosignatures_of_configured_witnesses_are_checked_stored_and_served_on_the_note() {
    let store = store().await;
    let pool = store.pool().clone();
    let checkpointer = Checkpointer::new(pool.clone(), signer(1));
    append(&store, "a", 4).await;
    let checkpoint = checkpointer.make().await.unwrap().unwrap();
    let (w1, w2, stranger) = (witness(21), witness(22), witness(23));
    let accepted = [w1.verifier().clone(), w2.verifier().clone()];
    let cosigned_by = |signer: &NoteSigner, text: &str| {
        let mut note = checkpoint.note.clone();
        note.signatures.push(signer.sign(text));
        note.render()
    };
    let text = checkpoint.note.text.clone();

    let refused = checkpoint::add_cosignatures(&pool, &cosigned_by(&stranger, &text), &accepted)
        .await
        .unwrap_err();
    assert!(matches!(refused, CosignError::UnknownWitness), "{refused}");
    let mut forged = SignedNote::parse(&cosigned_by(&w1, &text)).unwrap();
    forged.signatures.last_mut().unwrap().signature[0] ^= 1;
    let refused = checkpoint::add_cosignatures(&pool, &forged.render(), &accepted)
        .await
        .unwrap_err();
    assert!(matches!(refused, CosignError::BadSignature(_)), "{refused}");
    let other_text = text.replace("\n4\n", "\n5\n");
    let refused = checkpoint::add_cosignatures(
        &pool,
        &SignedNote {
            text: other_text.clone(),
            signatures: vec![w1.sign(&other_text)],
        }
        .render(),
        &accepted,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, CosignError::UnknownCheckpoint(5)),
        "{refused}"
    );
    assert!(checkpoint::add_cosignatures(&pool, "not a note", &accepted)
        .await
        .is_err());

    checkpoint::add_cosignatures(&pool, &cosigned_by(&w1, &text), &accepted)
        .await
        .unwrap();
    let both = checkpoint::add_cosignatures(&pool, &cosigned_by(&w2, &text), &accepted)
        .await
        .unwrap();
    assert_eq!(
        both.note.signatures.len(),
        3,
        "the log's and two witnesses'"
    );
    let served = checkpoint::latest(&pool)
        .await
        .unwrap()
        .unwrap()
        .note
        .render();
    open_checkpoint(
        &served,
        &[
            &signer(1).verifier().to_string(),
            &w1.verifier().to_string(),
            &w2.verifier().to_string(),
        ],
    )
    .expect("signed by the log and both witnesses");
    let audit = checkpoint::audit(&pool, Some(signer(1).verifier()), &accepted)
        .await
        .unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    assert_eq!((audit.checkpoints_checked, audit.covered_size), (1, 4));
}

async fn export_bundle(store: &PgEventStore, streams: Option<Vec<String>>, after: u64) -> Vec<u8> {
    export_range(store, streams, after, None).await
}

async fn export_range(
    store: &PgEventStore,
    streams: Option<Vec<String>>,
    after: u64,
    until: Option<u64>,
) -> Vec<u8> {
    let mut bundle = Vec::new();
    export(store, store.pool(), streams, after, until, &mut bundle)
        .await
        .expect("exporting");
    bundle
}

fn check(bundle: &[u8], key: &NoteSigner, witnesses: &[NoteVerifier]) -> BundleReport {
    verify_bundle(bundle, Some(key.verifier()), witnesses).expect("a readable bundle")
}

/// What a database superuser does: disable `table`'s trigger and run `sql`.
async fn as_superuser(pool: &PgPool, table: &str, trigger: &str, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
    sqlx::raw_sql(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
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
            "events",
            "events_reject_update_delete",
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
async fn an_export_verifies_offline_with_its_proofs_and_tampering_is_located_by_the_bundle_and_the_audit(
) {
    let store = store().await;
    let pool = store.pool().clone();
    let log = signer(3);
    let checkpointer = Checkpointer::new(pool.clone(), signer(3));
    append(&store, "a", 3).await;
    append(&store, "b", 2).await;
    checkpointer.make().await.unwrap();
    append(&store, "a", 2).await;
    let checkpoint = checkpointer.make().await.unwrap().unwrap();
    let w = witness(31);
    let mut cosigned = checkpoint.note.clone();
    cosigned.signatures.push(w.sign(&cosigned.text));
    checkpoint::add_cosignatures(&pool, &cosigned.render(), &[w.verifier().clone()])
        .await
        .unwrap();
    append(&store, "b", 1).await;

    let whole = export_bundle(&store, None, 0).await;
    let report = check(&whole, &log, &[w.verifier().clone()]);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.events, report.streams, report.tree_size), (8, 2, 7));
    assert_eq!(
        (
            report.events_proven,
            report.unsigned_events,
            report.witnesses_verified
        ),
        (7, 1, 1)
    );
    let part = export_bundle(&store, Some(vec!["a".into()]), 0).await;
    let text = String::from_utf8(part.clone()).unwrap();
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"kind\":\"inclusion\""))
            .count(),
        5,
        "one proof per event of a; none in the whole log's bundle"
    );
    let report = check(&part, &log, &[w.verifier().clone()]);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.events, report.events_proven), (5, 5));
    assert!(
        !check(&whole, &signer(4), &[]).ok(),
        "another key did not sign it"
    );
    assert!(
        !check(&part, &log, &[witness(32).verifier().clone()]).ok(),
        "that witness did not sign it"
    );

    // The bundle itself edited: a changed amount, a dropped event, a
    // dropped proof.
    let whole_text = String::from_utf8(whole.clone()).unwrap();
    let edited = whole_text.replacen("\"amount\":10", "\"amount\":99", 1);
    let report = check(edited.as_bytes(), &log, &[]);
    assert!(
        report.problems[0].starts_with("stream a version 0 (position 1): hash does not match"),
        "{:?}",
        report.problems
    );
    let dropped: String = whole_text
        .lines()
        .filter(|line| !line.contains("\"global_position\":4,"))
        .map(|line| format!("{line}\n"))
        .collect();
    let report = check(dropped.as_bytes(), &log, &[]);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("stream b version 1 (position 5)")),
        "{:?}",
        report.problems
    );
    let mut lines: Vec<&str> = text.lines().collect();
    let proof = lines.iter().rposition(|l| l.contains("inclusion")).unwrap();
    lines.remove(proof);
    let report = check(lines.join("\n").as_bytes(), &log, &[]);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.ends_with("no inclusion proof")),
        "{:?}",
        report.problems
    );

    // A superuser edits stream a's version 1 (position 2) and recomputes
    // the chain after it: every chain still verifies; the signed roots, the
    // stored leaves and the bundles' proofs do not.
    rewrite_with_hashes(&store, "a", 1).await;
    assert!(verify_streams(&store, None, None).await.unwrap().ok);
    let audit = checkpoint::audit(&pool, Some(log.verifier()), &[])
        .await
        .unwrap();
    assert!(
        audit.problems[0].starts_with("stream a version 1 (position 2) differs from the leaf"),
        "{:?}",
        audit.problems
    );
    assert!(
        audit
            .problems
            .iter()
            .any(|p| p.starts_with("checkpoint of tree size 7: the root of the log's events")),
        "{:?}",
        audit.problems
    );
    let report = check(
        &export_bundle(&store, Some(vec!["a".into()]), 0).await,
        &log,
        &[],
    );
    assert!(
        report.problems[0].starts_with("stream a version 1 (position 2): not in the tree"),
        "{:?}",
        report.problems
    );
    let report = check(&export_bundle(&store, None, 0).await, &log, &[]);
    assert!(
        report.problems[0].starts_with("the root of the bundle's events is not the root signed"),
        "{:?}",
        report.problems
    );
    // The stored tree cannot be rewritten to match, short of a superuser.
    let refused = sqlx::query("UPDATE merkle_nodes SET hashes = hashes WHERE level = 0")
        .execute(&pool)
        .await;
    assert!(refused.is_ok(), "an unchanged row may be written");
    let refused = sqlx::query("DELETE FROM merkle_nodes").execute(&pool).await;
    assert!(refused.is_err(), "the tree only grows");
}

/// A range of the log (a partition to archive, say) exports with a proof
/// for each event, verifies offline, and a copy cut short of its range is
/// found out.
#[tokio::test]
async fn a_range_of_the_log_exports_with_its_proofs_and_a_range_cut_short_is_found() {
    let store = store().await;
    let log = signer(5);
    let checkpointer = Checkpointer::new(store.pool().clone(), signer(5));
    append(&store, "a", 3).await;
    append(&store, "b", 2).await;
    checkpointer.make().await.unwrap();
    append(&store, "a", 2).await;

    for after in [0, 2] {
        let range = export_range(&store, None, after, Some(5)).await;
        let report = check(&range, &log, &[]);
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(
            (report.events, report.events_proven, report.unsigned_events),
            (5 - after, 5 - after, 0),
            "after {after}"
        );
    }
    let range = String::from_utf8(export_range(&store, None, 2, Some(5)).await).unwrap();
    assert!(range.lines().next().unwrap().contains("\"until\":5"));
    let cut: String = range
        .lines()
        .filter(|line| {
            !line.contains("\"position\":5,") && !line.contains("\"global_position\":5,")
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let report = check(cut.as_bytes(), &log, &[]);
    assert_eq!(
        report.problems,
        ["the bundle ends at position 4; its header says it covers up to 5"]
    );
    // Without `until`, the header is as before this field existed.
    let after = String::from_utf8(export_bundle(&store, None, 2).await).unwrap();
    assert!(!after.lines().next().unwrap().contains("until"));
}
