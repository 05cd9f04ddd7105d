//! `Idempotency-Key` on commands, and event-id idempotency of facts.

use serde_json::json;

use crate::helpers::*;

async fn post_with_key(
    app: &TestApp,
    path: &str,
    key: &str,
    idempotency: &str,
    body: serde_json::Value,
) -> Reply {
    app.send(
        app.client
            .post(app.url(path))
            .bearer_auth(key)
            .header("Idempotency-Key", idempotency)
            .header("X-Actor-Id", "ada")
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn a_repeated_rerun_with_the_same_idempotency_key_makes_one_rerun() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 0, &[])).await;
    let path = format!("/v1/runs/{}/rerun", run["run_id"].as_str().unwrap());
    let first = post_with_key(&app, &path, &key, "k-1", json!({})).await;
    assert_eq!(first.status, 201);
    let before = app.log_state().await;
    let again = post_with_key(&app, &path, &key, "k-1", json!({})).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "the first response again");
    assert_eq!(app.log_state().await, before, "nothing appended");
    let other_body = post_with_key(&app, &path, &key, "k-1", json!(null)).await;
    assert_eq!(
        (other_body.status.as_u16(), other_body.code()),
        (422, "idempotency_key_reused")
    );
    let other_key = post_with_key(&app, &path, &key, "k-2", json!({})).await;
    assert_eq!(other_key.status, 201);
    assert_ne!(other_key.body["run_id"], first.body["run_id"]);
}

#[tokio::test]
async fn concurrent_repeats_of_one_idempotency_key_append_once() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let body = run_body("ada", 2, &[]);
    let replies = futures::future::join_all(
        (0..10).map(|_| post_with_key(&app, "/v1/runs", &key, "create-once", body.clone())),
    )
    .await;
    let ids: Vec<&serde_json::Value> = replies.iter().map(|r| &r.body["run_id"]).collect();
    assert!(
        replies.iter().all(|r| r.status.is_success()),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(app.log_state().await.1, 1, "one run.created");
}

#[tokio::test]
async fn idempotency_keys_survive_a_restart_and_are_per_tenant() {
    let app = spawn_app().await;
    let acme = app.append_key("acme").await;
    let globex = app.append_key("globex").await;
    let body = run_body("ada", 0, &[]);
    let first = post_with_key(&app, "/v1/runs", &acme, "same", body.clone()).await;
    // A new service process on the same database.
    let db = app.db.clone();
    drop(app);
    let restarted = spawn_app_on(db).await;
    let again = post_with_key(&restarted, "/v1/runs", &acme, "same", body.clone()).await;
    assert_eq!(again.body, first.body);
    let other_tenant = post_with_key(&restarted, "/v1/runs", &globex, "same", body).await;
    assert_eq!(other_tenant.status, 201);
    assert_ne!(other_tenant.body["run_id"], first.body["run_id"]);
    assert_eq!(restarted.log_state().await.1, 2);
}

#[tokio::test]
async fn a_repeated_event_id_appends_nothing_and_answers_200() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    app.grant("acme", "monthly", 10).await;
    let run = app.create_run(&key, run_body("ada", 1, &[])).await;
    let run_id = run["run_id"].as_str().unwrap();
    let charge = json!([{"event_id": uuid::Uuid::new_v4(), "type": "run.credits_deducted", "data": {"amount": 3}}]);
    let first = app.facts(&key, run_id, charge.clone()).await;
    assert_eq!(first.status, 200);
    let before = app.log_state().await;
    let again = app.facts(&key, run_id, charge).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["appended"], first.body["appended"],
        "the original positions"
    );
    assert_eq!(again.body["run"]["credits_charged"], 3);
    assert_eq!(app.log_state().await, before, "charged once");
}

#[tokio::test]
async fn expected_version_must_match_the_run() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 1, &[])).await;
    let run_id = run["run_id"].as_str().unwrap();
    let path = format!("/v1/runs/{run_id}/events");
    let stale = app
        .post(
            &path,
            &key,
            json!({"expected_version": 5, "events": [{"type": "run.started"}]}),
        )
        .await;
    assert_eq!(
        (stale.status.as_u16(), stale.code()),
        (409, "version_conflict")
    );
    let current = app
        .post(
            &path,
            &key,
            json!({"expected_version": 0, "events": [{"type": "run.started"}]}),
        )
        .await;
    assert_eq!(current.status, 200);
    assert_eq!(current.body["run"]["version"], 1);
}

#[tokio::test]
async fn an_event_id_reused_for_other_events_is_409_and_a_taken_run_id_is_409() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 2, &[])).await;
    let run_id = run["run_id"].as_str().unwrap();
    let event_id = uuid::Uuid::new_v4();
    let first = app
        .facts(
            &key,
            run_id,
            json!([{"event_id": event_id, "type": "run.started"}]),
        )
        .await;
    assert_eq!(first.status, 200);
    let before = app.log_state().await;
    // The id again, with a new event beside it: not a repeat of one report.
    let mixed = app
        .facts(
            &key,
            run_id,
            json!([
                {"event_id": event_id, "type": "run.started"},
                {"event_id": uuid::Uuid::new_v4(), "type": "run.file_updated", "data": {"index": 0, "status": "running"}}
            ]),
        )
        .await;
    assert_eq!(
        (mixed.status.as_u16(), mixed.code()),
        (409, "event_id_reused")
    );
    // The id under another run.
    let other = app.create_run(&key, run_body("ada", 0, &[])).await;
    let before_other = app.log_state().await;
    let moved = app
        .facts(
            &key,
            other["run_id"].as_str().unwrap(),
            json!([{"event_id": event_id, "type": "run.started"}]),
        )
        .await;
    assert_eq!(
        (moved.status.as_u16(), moved.code()),
        (409, "event_id_reused")
    );
    assert_eq!(app.log_state().await, before_other);
    assert_eq!(
        before.1 + 1,
        before_other.1,
        "only the second run was created"
    );

    let mut same_id = run_body("ada", 0, &[]);
    same_id["run_id"] = json!(run_id);
    let taken = app.post("/v1/runs", &key, same_id).await;
    assert_eq!(
        (taken.status.as_u16(), taken.code()),
        (409, "run_already_exists")
    );
}

#[tokio::test]
async fn an_expired_idempotency_record_still_applies_a_retried_rerun_once() {
    let app = spawn_app_with(
        ledger_embedded_pg::testing::fresh_database().await,
        |config| config.idempotency_retention_seconds = 1,
    )
    .await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 0, &[])).await;
    let path = format!("/v1/runs/{}/rerun", run["run_id"].as_str().unwrap());
    let first = post_with_key(&app, &path, &key, "k-expiring", json!({})).await;
    assert_eq!(first.status, 201);
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let records = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM idempotency_records")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(records().await, 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while records().await > 0 {
        assert!(std::time::Instant::now() < deadline, "the record expires");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let before = app.log_state().await;
    let again = post_with_key(&app, &path, &key, "k-expiring", json!({})).await;
    assert_eq!(again.status, 201, "answered from the log: {:?}", again.body);
    assert_eq!(again.body["run_id"], first.body["run_id"], "the same rerun");
    assert_eq!(again.body["version"], first.body["version"]);
    assert_eq!(app.log_state().await, before, "nothing appended again");
}

/// Ids the ledger makes itself for a command without an `Idempotency-Key`
/// (a run's id, its events' ids) are UUIDv7, in the order they were made,
/// so that the indexes keyed by them (`runs`, `streams`, `event_ids`) grow
/// at their end. With a key they are derived from it (UUIDv5), so that a
/// repeat makes the same ones.
#[tokio::test]
async fn ids_made_without_an_idempotency_key_are_time_ordered_and_with_one_derived() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run_id = |reply: &serde_json::Value| {
        uuid::Uuid::parse_str(reply["run_id"].as_str().unwrap()).unwrap()
    };
    let first = run_id(&app.create_run(&key, run_body("ada", 0, &[])).await);
    let second = run_id(&app.create_run(&key, run_body("ada", 0, &[])).await);
    assert_eq!((first.get_version_num(), second.get_version_num()), (7, 7));
    assert!(first < second, "{first} then {second}");
    let keyed = post_with_key(&app, "/v1/runs", &key, "k-7", run_body("ada", 0, &[])).await;
    assert_eq!(keyed.status, 201, "{:?}", keyed.body);
    let keyed = run_id(&keyed.body);
    assert_eq!(keyed.get_version_num(), 5);

    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let event_ids = |run: uuid::Uuid| {
        sqlx::query_scalar::<_, uuid::Uuid>(
            "SELECT event_id FROM events WHERE stream_id = $1 ORDER BY stream_version",
        )
        .bind(format!("run-{run}"))
        .fetch_all(&pool)
    };
    let unkeyed_events: Vec<uuid::Uuid> = [event_ids(first).await, event_ids(second).await]
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    assert!(!unkeyed_events.is_empty());
    assert!(
        unkeyed_events.iter().all(|id| id.get_version_num() == 7),
        "{unkeyed_events:?}"
    );
    assert!(
        unkeyed_events.windows(2).all(|pair| pair[0] < pair[1]),
        "{unkeyed_events:?}"
    );
    let keyed_events = event_ids(keyed).await.unwrap();
    assert!(
        keyed_events.iter().all(|id| id.get_version_num() == 5),
        "{keyed_events:?}"
    );
    pool.close().await;
}
