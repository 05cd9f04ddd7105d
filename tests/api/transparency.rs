//! The transparency log over HTTP and in the CLI, checked with code this
//! project did not write (`independent`): C2SP checkpoint notes, RFC 9162
//! proofs, witnesses, proof-carrying exports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use ledger_store::note::NoteSigner;
use serde_json::json;

use crate::audit::history;
use crate::helpers::*;
use crate::independent::{extends, includes, open_checkpoint, IndependentTree};

struct SignedLedger {
    app: TestApp,
    dir: PathBuf,
    key_file: PathBuf,
    witness: NoteSigner,
    witness_file: PathBuf,
}

impl Drop for SignedLedger {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A service that signs a checkpoint every 50 ms and accepts one witness.
async fn signed_ledger() -> SignedLedger {
    let dir = std::env::temp_dir().join(format!("run-ledger-tlog-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("signing.key");
    ledger_store::checkpoint::CheckpointSigner::load_or_create(&key_file).unwrap();
    let witness = NoteSigner::new("witness.example/w1", SigningKey::from_bytes(&[42; 32])).unwrap();
    let witness_file = dir.join("witness.key");
    std::fs::write(&witness_file, witness.private_key_text()).unwrap();
    let witness_key = witness.verifier().to_string();
    let app = spawn_app_with(
        ledger_embedded_pg::testing::fresh_database().await,
        |config| {
            config.checkpoint_interval_ms = 50;
            config.signing.signing_key_file = Some(key_file.clone());
            config.witness_keys = vec![witness_key];
        },
    )
    .await;
    SignedLedger {
        app,
        dir,
        key_file,
        witness,
        witness_file,
    }
}

/// The latest checkpoint note once it covers `position`.
async fn checkpoint_covering(app: &TestApp, key: &str, position: u64) -> String {
    for _ in 0..500 {
        let reply = app.get("/v1/audit/checkpoint", key).await;
        if reply.status == 200 {
            let size: u64 = reply.text.lines().nth(1).unwrap().parse().unwrap();
            if size >= position {
                return reply.text;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no checkpoint covered position {position}");
}

/// Every event's hash, in position order, from the feed.
async fn feed_hashes(app: &TestApp, audit: &str) -> Vec<Vec<u8>> {
    let mut hashes = Vec::new();
    loop {
        let page = app
            .get(
                &format!("/v1/events?after={}&limit=1000", hashes.len()),
                audit,
            )
            .await;
        let events = page.body["events"].as_array().unwrap().clone();
        if events.is_empty() {
            return hashes;
        }
        hashes.extend(
            events
                .iter()
                .map(|event| hex::decode(event["hash"].as_str().unwrap()).unwrap()),
        );
    }
}

fn base64_hash(value: &serde_json::Value) -> [u8; 32] {
    ledger_store::note::hash_from_base64(value.as_str().unwrap()).unwrap()
}

fn path_of(reply: &Reply) -> Vec<[u8; 32]> {
    reply.body["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(base64_hash)
        .collect()
}

/// Runs the binary with no database of its own, as a witness or auditor
/// elsewhere would.
async fn run(args: Vec<String>, api_key: &str) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_run-ledger"));
    command
        .args(&args)
        .env("RUN_LEDGER_API_KEY", api_key)
        .env_remove("DATABASE_URL")
        .env("RUN_LEDGER_DATA_DIR", "/nonexistent")
        .env("RUST_LOG", "warn");
    run_off_runtime(command).await
}

fn path_arg(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn checkpoints_are_c2sp_notes_and_proofs_are_rfc_9162_paths_an_independent_verifier_accepts()
{
    let ledger = signed_ledger().await;
    let app = &ledger.app;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let (_, first) = history(app, &key).await;
    let early = checkpoint_covering(app, &audit, first).await;
    let (_, last) = history(app, &key).await;
    let note = checkpoint_covering(app, &audit, last).await;

    let vkey = app.get("/v1/audit/checkpoint-key", &audit).await;
    assert_eq!(vkey.status, 200);
    assert!(vkey.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let vkey = vkey.text.trim().to_owned();
    let printed = cli(
        app,
        &[
            "keys",
            "public",
            "--signing-key-file",
            ledger.key_file.to_str().unwrap(),
        ],
    );
    assert!(printed.status.success(), "{}", output_text(&printed));
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), vkey);

    let (origin, size, root) = open_checkpoint(&note, &[&vkey]).expect("a valid note");
    assert!(origin.starts_with("run-ledger/"), "{origin}");
    assert!(
        vkey.starts_with(&format!("{origin}+")),
        "the key is named for the log"
    );
    let hashes = feed_hashes(app, &audit).await;
    let independent = IndependentTree::of(&hashes[..size as usize]);
    assert_eq!(
        root,
        independent.root(size),
        "the root of the events' hashes"
    );
    for position in 1..=size {
        let proof = app
            .get(
                &format!("/v1/audit/proof/inclusion?position={position}&tree_size={size}"),
                &audit,
            )
            .await;
        assert_eq!(proof.status, 200, "{:?}", proof.body);
        assert_eq!(proof.body["leaf_index"], position - 1);
        let event_hash = base64_hash(&proof.body["event_hash"]);
        assert_eq!(event_hash.as_slice(), hashes[position as usize - 1]);
        assert!(includes(
            root,
            size,
            position - 1,
            &event_hash,
            &path_of(&proof)
        ));
    }
    let (_, early_size, early_root) = open_checkpoint(&early, &[&vkey]).unwrap();
    let listed = app.get("/v1/audit/checkpoints?limit=1000", &audit).await;
    let listed = listed.body["checkpoints"].as_array().unwrap().clone();
    assert!(listed.iter().any(|c| c["note"] == early.as_str()));
    for checkpoint in &listed {
        let old = checkpoint["tree_size"].as_u64().unwrap();
        if old > size {
            continue;
        }
        let proof = app
            .get(
                &format!("/v1/audit/proof/consistency?from={old}&to={size}"),
                &audit,
            )
            .await;
        assert_eq!(proof.status, 200, "{:?}", proof.body);
        assert!(extends(
            old,
            base64_hash(&checkpoint["root_hash"]),
            size,
            root,
            &path_of(&proof)
        ));
    }
    assert!(early_size < size && early_root != root);

    // Out of range: a stable code, nothing else.
    for path in [
        "/v1/audit/proof/inclusion?position=0".to_owned(),
        format!("/v1/audit/proof/inclusion?position={}", size + 10_000),
        format!(
            "/v1/audit/proof/inclusion?position=1&tree_size={}",
            size + 10_000
        ),
        "/v1/audit/proof/inclusion?position=1&tree_size=0".to_owned(),
        "/v1/audit/proof/consistency?from=0".to_owned(),
        format!("/v1/audit/proof/consistency?from={size}&to=1"),
        format!("/v1/audit/proof/consistency?from=1&to={}", size + 10_000),
    ] {
        let refused = app.get(&path, &audit).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (400, "proof_out_of_range"),
            "{path}: {:?}",
            refused.body
        );
    }
    for path in [
        "/v1/audit/proof/inclusion",
        "/v1/audit/proof/inclusion?position=x",
        "/v1/audit/proof/consistency?from=1&size=2",
        "/v1/audit/checkpoints?limit=0",
    ] {
        assert_eq!(
            app.get(path, &audit).await.code(),
            "invalid_query",
            "{path}"
        );
    }
    let tenant_reader = app.key(Some("acme"), &["read"]).await;
    let appender = app.key(Some("acme"), &["append"]).await;
    assert_eq!(
        app.get("/v1/audit/proof/inclusion?position=1", &tenant_reader)
            .await
            .code(),
        "insufficient_scope"
    );
    assert_eq!(
        app.get("/v1/audit/checkpoint", &tenant_reader).await.status,
        200,
        "a checkpoint tells only the log's size and root"
    );
    assert_eq!(
        app.get("/v1/audit/checkpoint", &appender).await.code(),
        "insufficient_scope"
    );
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    assert!(verified.body["checkpoints"]["covered_position"].as_u64() >= Some(size));
}

#[tokio::test]
async fn a_ledger_without_a_signing_key_says_so_and_proves_nothing() {
    let app = spawn_app().await;
    let audit = app.key(None, &["audit"]).await;
    for path in [
        "/v1/audit/checkpoint",
        "/v1/audit/checkpoint-key",
        "/v1/audit/proof/inclusion?position=1",
        "/v1/audit/proof/consistency?from=1",
    ] {
        let reply = app.get(path, &audit).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, "checkpoints_not_signed"),
            "{path}"
        );
    }
    let listed = app.get("/v1/audit/checkpoints", &audit).await;
    assert_eq!(listed.body["checkpoints"], json!([]));
    assert_eq!(listed.body["verifier_key"], serde_json::Value::Null);
}

async fn post_note(app: &TestApp, key: &str, content_type: &str, note: &str) -> Reply {
    app.send(
        app.client
            .post(app.url("/v1/audit/cosignatures"))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(json!({ "note": note }).to_string()),
    )
    .await
}

#[tokio::test]
async fn cosignatures_are_refused_unless_a_configured_witness_signed_the_checkpoint_this_log_signed(
) {
    let ledger = signed_ledger().await;
    let app = &ledger.app;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let witness_key = app.key(None, &["witness"]).await;
    let audit = app.key(None, &["audit"]).await;
    let (_, last) = history(app, &key).await;
    let note = checkpoint_covering(app, &witness_key, last).await;
    let parsed = ledger_store::note::SignedNote::parse(&note).unwrap();
    let cosigned_by = |signer: &NoteSigner, text: &str| {
        let mut note = parsed.clone();
        note.text = text.to_owned();
        note.signatures.push(signer.sign(text));
        note.render()
    };
    let stranger = NoteSigner::new("stranger.example", SigningKey::from_bytes(&[7; 32])).unwrap();
    let good = cosigned_by(&ledger.witness, &parsed.text);

    assert_eq!(
        post_note(app, &audit, "application/json", &good)
            .await
            .code(),
        "insufficient_scope"
    );
    assert_eq!(
        post_note(app, &witness_key, "text/plain", &good)
            .await
            .code(),
        "unsupported_media_type"
    );
    assert_eq!(
        post_note(app, &witness_key, "application/json", "not a note")
            .await
            .code(),
        "malformed_note"
    );
    assert_eq!(
        post_note(
            app,
            &witness_key,
            "application/json",
            &cosigned_by(&stranger, &parsed.text)
        )
        .await
        .code(),
        "unknown_witness"
    );
    // The log's text with one line replaced, co-signed by the witness.
    let with_line = |index: usize, line: &str| {
        let mut lines: Vec<String> = parsed.text.lines().map(str::to_owned).collect();
        lines[index] = line.to_owned();
        cosigned_by(&ledger.witness, &format!("{}\n", lines.join("\n")))
    };
    for (note, refused) in [
        (with_line(1, "999999"), (404, "checkpoint_not_found")),
        (
            with_line(2, &ledger_store::note::base64(&[0; 32])),
            (409, "checkpoint_mismatch"),
        ),
    ] {
        let reply = post_note(app, &witness_key, "application/json", &note).await;
        assert_eq!((reply.status.as_u16(), reply.code()), refused);
    }
    let mut forged_note = ledger_store::note::SignedNote::parse(&good).unwrap();
    forged_note.signatures.last_mut().unwrap().signature[3] ^= 0x40;
    assert_eq!(
        post_note(app, &witness_key, "application/json", &forged_note.render())
            .await
            .code(),
        "bad_cosignature"
    );
    let before = app
        .get("/v1/audit/checkpoints?limit=1000", &audit)
        .await
        .body;
    assert!(!before
        .to_string()
        .contains(ledger.witness.verifier().name()));

    let accepted = post_note(app, &witness_key, "application/json", &good).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let served = app
        .get("/v1/audit/checkpoints?limit=1000", &audit)
        .await
        .body["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["note"].as_str().unwrap().starts_with(&parsed.text))
        .unwrap()["note"]
        .as_str()
        .unwrap()
        .to_owned();
    let log_key = app.get("/v1/audit/checkpoint-key", &audit).await.text;
    open_checkpoint(
        &served,
        &[log_key.trim(), &ledger.witness.verifier().to_string()],
    )
    .expect("the log's signature and the witness's");
}

#[tokio::test]
async fn a_witness_cosigns_what_extends_its_history_and_refuses_a_history_rewritten_and_signed_again_with_the_logs_key(
) {
    let ledger = signed_ledger().await;
    let app = &ledger.app;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let witness_api_key = app.key(None, &["witness"]).await;
    let audit = app.key(None, &["audit"]).await;
    let log_key = app
        .get("/v1/audit/checkpoint-key", &audit)
        .await
        .text
        .trim()
        .to_owned();
    let witness_vkey = ledger.witness.verifier().to_string();
    let state = ledger.dir.join("witness-state.json");
    let witness = || {
        run(
            vec![
                "witness".into(),
                "--log".into(),
                app.url(""),
                "--log-key".into(),
                log_key.clone(),
                "--key".into(),
                path_arg(&ledger.witness_file),
                "--state".into(),
                path_arg(&state),
            ],
            &witness_api_key,
        )
    };

    let (run_id, first) = history(app, &key).await;
    let first_note = checkpoint_covering(app, &audit, first).await;
    let witnessed = witness().await;
    assert!(witnessed.status.success(), "{}", output_text(&witnessed));
    let old_note = ledger.dir.join("old.note");
    std::fs::write(&old_note, &first_note).unwrap();
    let (_, last) = history(app, &key).await;
    let note = checkpoint_covering(app, &audit, last).await;
    let witnessed = witness().await;
    assert!(witnessed.status.success(), "{}", output_text(&witnessed));
    let report: serde_json::Value = serde_json::from_slice(&witnessed.stdout).unwrap();
    let (_, size, _) = open_checkpoint(&note, &[&log_key]).unwrap();
    assert_eq!(report["tree_size"], size);
    assert_eq!(report["witness_key"], witness_vkey.as_str());
    let cosigned = app.get("/v1/audit/checkpoint", &audit).await.text;
    open_checkpoint(&cosigned, &[&log_key, &witness_vkey]).expect("cosigned");
    let new_note = ledger.dir.join("new.note");
    std::fs::write(&new_note, &cosigned).unwrap();

    // One run's bundle: its events, the cosigned checkpoint, a proof each.
    let bundle = ledger.dir.join("run.ndjson");
    let stream = format!("run-{run_id}");
    let exported = cli(
        app,
        &[
            "export",
            "--stream",
            &stream,
            "--output",
            &path_arg(&bundle),
        ],
    );
    assert!(exported.status.success(), "{}", output_text(&exported));
    let bundle_text = std::fs::read_to_string(&bundle).unwrap();
    assert_eq!(
        bundle_text
            .lines()
            .filter(|l| l.contains("\"kind\":\"inclusion\""))
            .count(),
        bundle_text
            .lines()
            .filter(|l| l.contains("\"kind\":\"event\""))
            .count(),
    );
    let offline = |witnesses: Vec<String>| {
        let mut args = vec![
            "verify".to_owned(),
            "--bundle".into(),
            path_arg(&bundle),
            "--key".into(),
            log_key.clone(),
        ];
        for witness in witnesses {
            args.extend(["--witness".to_owned(), witness]);
        }
        run(args, "")
    };
    let checked = offline(vec![witness_vkey.clone()]).await;
    assert!(checked.status.success(), "{}", output_text(&checked));
    assert!(
        output_text(&checked).contains("OK"),
        "{}",
        output_text(&checked)
    );
    let stranger = NoteSigner::new("w2.example", SigningKey::from_bytes(&[5; 32])).unwrap();
    let unwitnessed = offline(vec![stranger.verifier().to_string()]).await;
    assert!(!unwitnessed.status.success(), "a witness that did not sign");

    // A range of the log, as a partition is archived (docs/scaling.md):
    // every event in it with its proof, checked offline like any bundle.
    let range = ledger.dir.join("range.ndjson");
    let until = size.to_string();
    let exported = cli(
        app,
        &[
            "export",
            "--after",
            "1",
            "--until",
            &until,
            "--output",
            &path_arg(&range),
        ],
    );
    assert!(exported.status.success(), "{}", output_text(&exported));
    let range_text = std::fs::read_to_string(&range).unwrap();
    assert_eq!(
        range_text
            .lines()
            .filter(|l| l.contains("\"kind\":\"inclusion\""))
            .count() as u64,
        size - 1
    );
    let checked = run(
        vec![
            "verify".into(),
            "--bundle".into(),
            path_arg(&range),
            "--key".into(),
            log_key.clone(),
        ],
        "",
    )
    .await;
    assert!(checked.status.success(), "{}", output_text(&checked));
    let empty = cli(app, &["export", "--after", "5", "--until", "5"]);
    assert!(!empty.status.success());
    assert!(
        output_text(&empty).contains("--until must be after --after"),
        "{}",
        output_text(&empty)
    );

    let consistency = |old: &Path, new: &Path| {
        run(
            vec![
                "verify".into(),
                "--consistency".into(),
                path_arg(old),
                path_arg(new),
                "--log".into(),
                app.url(""),
                "--key".into(),
                log_key.clone(),
            ],
            &witness_api_key,
        )
    };
    let consistent = consistency(&old_note, &new_note).await;
    assert!(consistent.status.success(), "{}", output_text(&consistent));

    // A superuser rewrites the run's version 1 and every hash after it,
    // throws the tree and its checkpoints away, and lets the service grow
    // and sign a new tree with the log's own key: every chain verifies and
    // every new checkpoint is validly signed.
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    rewrite_run(app, &audit, &pool, &run_id).await;
    let located = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(located.body["ok"], false);
    assert!(
        located.body["checkpoints"]["problems"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("stream {stream} version 1 (position")),
        "{:?}",
        located.body
    );
    sqlx::raw_sql(
        "ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_only_grow;
         ALTER TABLE log_cosignatures DISABLE TRIGGER log_cosignatures_reject_update_delete;
         ALTER TABLE log_checkpoints DISABLE TRIGGER log_checkpoints_reject_update_delete;
         DELETE FROM merkle_nodes; DELETE FROM log_cosignatures; DELETE FROM log_checkpoints;
         UPDATE merkle_tree SET size = 0;
         ALTER TABLE merkle_nodes ENABLE TRIGGER merkle_nodes_only_grow;
         ALTER TABLE log_cosignatures ENABLE TRIGGER log_cosignatures_reject_update_delete;
         ALTER TABLE log_checkpoints ENABLE TRIGGER log_checkpoints_reject_update_delete;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (_, newest) = history(app, &key).await;
    let rewritten = checkpoint_covering(app, &audit, newest).await;
    open_checkpoint(&rewritten, &[&log_key]).expect("validly signed by the log's key");
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(
        verified.body["ok"], true,
        "the rewrite is consistent in itself: {:?}",
        verified.body
    );

    let refused = witness().await;
    assert!(!refused.status.success(), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("REFUSED")
            && output_text(&refused).contains("history was rewritten"),
        "{}",
        output_text(&refused)
    );
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(kept["tree_size"], size, "the witness keeps what it saw");
    let rewritten_note = ledger.dir.join("rewritten.note");
    std::fs::write(&rewritten_note, &rewritten).unwrap();
    let inconsistent = consistency(&new_note, &rewritten_note).await;
    assert!(
        !inconsistent.status.success(),
        "{}",
        output_text(&inconsistent)
    );
    assert!(output_text(&inconsistent).contains("INCONSISTENT"));
    let exported = cli(
        app,
        &[
            "export",
            "--stream",
            &stream,
            "--output",
            &path_arg(&bundle),
        ],
    );
    assert!(exported.status.success());
    assert!(
        !offline(vec![witness_vkey.clone()]).await.status.success(),
        "no witness signed the rewritten tree"
    );
}

/// Edits the run's version 1 and recomputes every hash after it in its
/// stream, as someone who read docs/hash-chain.md would.
async fn rewrite_run(app: &TestApp, audit: &str, pool: &sqlx::PgPool, run_id: &str) {
    let events = app
        .get(&format!("/v1/runs/{run_id}/events"), audit)
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .clone();
    let mut recorded: Vec<ledger_store::RecordedEvent> = events
        .into_iter()
        .map(|event| serde_json::from_value(event).unwrap())
        .collect();
    recorded[1].data["stage"] = json!(2);
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_reject_update_delete")
        .execute(&mut *tx)
        .await
        .unwrap();
    for index in 1..recorded.len() {
        recorded[index].prev_hash = recorded[index - 1].hash.clone();
        recorded[index].hash = recorded[index].computed_hash().unwrap().to_vec();
        sqlx::query(
            "UPDATE events SET data = $1, prev_hash = $2, hash = $3 WHERE global_position = $4",
        )
        .bind(&recorded[index].data)
        .bind(&recorded[index].prev_hash)
        .bind(&recorded[index].hash)
        .bind(recorded[index].global_position as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_reject_update_delete")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
