//! Audit endpoints and the replay and verify commands.

use serde_json::json;

use crate::helpers::*;

pub async fn history(app: &TestApp, key: &str) -> (String, u64) {
    let run = app.post("/v1/runs", key, run_body("ada", 1, &["a"])).await;
    let run_id = run.body["run_id"].as_str().unwrap().to_owned();
    app.facts(
        key,
        &run_id,
        json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "processing"}}]),
    )
    .await;
    let last = app
        .facts(
            key,
            &run_id,
            json!([{"type": "run.file_updated", "data": {"index": 0, "status": "completed"}}]),
        )
        .await;
    (run_id, last.body["global_position"].as_u64().unwrap())
}

#[tokio::test]
async fn a_runs_raw_events_and_its_state_at_any_point_are_readable() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let (run_id, _) = history(&app, &key).await;
    let events = app.get(&format!("/v1/runs/{run_id}/events"), &key).await;
    assert_eq!(events.status, 200);
    let list = events.body["events"].as_array().unwrap();
    let types: Vec<&str> = list
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    // Stage 1 is still processing, so the finished file does not complete the run.
    assert_eq!(
        types,
        [
            "run.created",
            "run.started",
            "run.stage_updated",
            "run.file_updated"
        ]
    );
    assert_eq!(list[0]["prev_hash"], "0".repeat(64));
    assert_eq!(list[1]["prev_hash"], list[0]["hash"]);
    assert_eq!(list[0]["metadata"]["tenant_id"], "acme");

    let at_zero = app
        .get(&format!("/v1/runs/{run_id}/state?version=0"), &key)
        .await;
    assert_eq!(at_zero.body["run"]["status"], "queued");
    assert_eq!(at_zero.body["events_folded"], 1);
    let at_two = app
        .get(&format!("/v1/runs/{run_id}/state?version=2"), &key)
        .await;
    assert_eq!(at_two.body["run"]["stages"][0]["status"], "processing");
    let when = list[2]["recorded_at"].as_str().unwrap();
    let at_time = app
        .get(
            &format!("/v1/runs/{run_id}/state?at={}", when.replace('+', "%2B")),
            &key,
        )
        .await;
    assert_eq!(at_time.body["run"]["version"], 2, "{:?}", at_time.body);
    let now = app.get(&format!("/v1/runs/{run_id}/state"), &key).await;
    assert_eq!(now.body["run"]["status"], "running");
    assert_eq!(now.body["run"]["files"][0]["status"], "completed");
    let before = app
        .get(
            &format!("/v1/runs/{run_id}/state?at=2000-01-01T00:00:00Z"),
            &key,
        )
        .await;
    assert_eq!(before.status, 404);
    let both = app
        .get(
            &format!("/v1/runs/{run_id}/state?version=1&at=2000-01-01T00:00:00Z"),
            &key,
        )
        .await;
    assert_eq!((both.status.as_u16(), both.code()), (400, "invalid_query"));

    let other = app.key(Some("globex"), &["read"]).await;
    assert_eq!(
        app.get(&format!("/v1/runs/{run_id}/events"), &other)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/runs/{run_id}/state"), &other)
            .await
            .status,
        404
    );
    let audit = app.key(None, &["audit"]).await;
    assert_eq!(
        app.get(&format!("/v1/runs/{run_id}/events"), &audit)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_feed_pages_in_order_as_json_or_ndjson_and_read_keys_see_their_tenant() {
    let app = spawn_app().await;
    let acme = app.key(Some("acme"), &["append", "read"]).await;
    let globex = app.key(Some("globex"), &["append", "read"]).await;
    history(&app, &acme).await;
    history(&app, &globex).await;
    let audit = app.key(None, &["audit"]).await;
    let page = app.get("/v1/events?after=0&limit=3", &audit).await;
    let positions: Vec<u64> = page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["global_position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(page.body["next_after"], 3);
    // Two runs of four events, and the three keys' key.created.
    let rest = app.get("/v1/events?after=3&limit=1000", &audit).await;
    assert_eq!(rest.body["events"].as_array().unwrap().len(), 8);
    let ndjson = app
        .client
        .get(app.url("/v1/events?limit=1000"))
        .bearer_auth(&acme)
        .header("Accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = ndjson
        .text()
        .await
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines
        .iter()
        .all(|event| event["metadata"]["tenant_id"] == "acme"));
    for path in [
        "/v1/events?limit=0",
        "/v1/events?limit=1001",
        "/v1/events?after=-1",
    ] {
        assert_eq!(app.get(path, &audit).await.status, 400, "{path}");
    }
}

#[tokio::test]
async fn tampering_by_a_superuser_is_detected_and_located_by_the_api_and_the_cli() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    app.grant("acme", "monthly", 5).await;
    let (run_id, last) = history(&app, &key).await;
    let audit = app.key(None, &["audit"]).await;
    let clean = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(clean.body["ok"], true, "{:?}", clean.body);
    // A run, an account, and the two keys' streams.
    assert_eq!(clean.body["streams_checked"], 4);
    assert_eq!(clean.body["events_checked"], 7);
    app.get(&format!("/v1/runs?min_position={last}"), &key)
        .await;
    app.get(
        &format!("/v1/accounts/acme/balance?min_position={last}"),
        &key,
    )
    .await;
    let verified = cli(&app, &["verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let replayed = cli(&app, &["replay", &run_id, "--version", "2"]);
    let timeline = String::from_utf8_lossy(&replayed.stdout);
    assert!(replayed.status.success());
    assert!(
        timeline.contains("run.stage_updated") && !timeline.contains("run.file_updated"),
        "{timeline}"
    );
    assert!(timeline.contains("[queued -> running]"), "{timeline}");

    // A database superuser disables the trigger and edits one event.
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for statement in [
        "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete".to_owned(),
        format!("UPDATE events SET data = jsonb_set(data, '{{status}}', '\"failed\"') WHERE stream_id = 'run-{run_id}' AND stream_version = 3"),
        "ALTER TABLE events ENABLE TRIGGER events_reject_update_delete".to_owned(),
    ] {
        sqlx::query(&statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();

    let broken = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(broken.body["ok"], false);
    assert_eq!(
        broken.body["first_bad"]["stream_id"],
        format!("run-{run_id}")
    );
    assert_eq!(broken.body["first_bad"]["stream_version"], 3);
    let one = app
        .get("/v1/audit/verify?stream=account-acme", &audit)
        .await;
    assert_eq!(one.body["ok"], true, "the account's chain is untouched");
    let failed = cli(&app, &["verify"]);
    let report = String::from_utf8_lossy(&failed.stdout);
    assert!(!failed.status.success(), "{report}");
    assert!(
        report.contains(&format!("stream run-{run_id} version 3")),
        "{report}"
    );
    assert!(
        report.contains("differs from its events"),
        "the read model now disagrees with the edited log: {report}"
    );
}

/// Positions are int64 in the document and in the log: a larger one is a
/// bad query, not a position that wraps around to the start of the log.
#[tokio::test]
async fn a_position_beyond_int64_is_400_not_the_whole_log() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let (run_id, _) = history(&app, &key).await;
    let beyond = (i64::MAX as u64) + 1;
    for path in [
        format!("/v1/events?after={beyond}"),
        format!("/v1/audit/checkpoints?after={beyond}"),
        format!("/v1/runs/{run_id}/state?version={beyond}"),
        format!("/v1/events/stream?after={beyond}"),
    ] {
        let reply = app.get(&path, &audit).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_query"),
            "{path}: {:?}",
            reply.body
        );
    }
    let at_most = app
        .get(&format!("/v1/events?after={}", i64::MAX), &audit)
        .await;
    assert_eq!(at_most.body["events"], json!([]));
}
