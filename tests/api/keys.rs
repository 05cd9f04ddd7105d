//! The API key lifecycle (issue 14, part 1): list, revoke (refused on every
//! instance at once), rotate with a grace period, expire, and every change an
//! event in the key's hash-chained stream.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// Two services on one database, with a key cache far longer than any wait
/// here: a key refused in time was refused because of the announcement.
async fn two_instances() -> (TestApp, TestApp) {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let long_cache = |config: &mut run_ledger::ServeConfig| config.key_cache_ms = 600_000;
    let first = spawn_app_with(db.clone(), long_cache).await;
    let second = spawn_app_with(db, long_cache).await;
    (first, second)
}

async fn create_key(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    let reply = app.post("/v1/keys", ADMIN_KEY, body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

async fn status_with(app: &TestApp, key: &str) -> u16 {
    app.get("/v1/runs", key).await.status.as_u16()
}

/// Polls until `app` answers `wanted` to `key`, for at most five seconds
/// (the key cache holds keys for ten minutes here).
async fn until_status(app: &TestApp, key: &str, wanted: u16) {
    for _ in 0..250 {
        if status_with(app, key).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{key} never got {wanted}");
}

fn secret_of(key: &str) -> &str {
    key.rsplit('_').next().unwrap()
}

async fn key_events(app: &TestApp, key_id: &str) -> Vec<serde_json::Value> {
    let audit = app.key(None, &["audit"]).await;
    let feed = app.get("/v1/events?after=0&limit=1000", &audit).await;
    feed.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["stream_id"] == format!("key-{key_id}"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn keys_are_listed_with_their_lifecycle_and_never_their_secrets() {
    let app = spawn_app().await;
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let created = create_key(
        &app,
        json!({"tenant_id": "acme", "scopes": ["read"], "label": "dashboard", "expires_at": expires_at}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(created["label"], "dashboard");
    assert_eq!(status_with(&app, &key).await, 200);

    let listed = app.get("/v1/keys", ADMIN_KEY).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let text = listed.body.to_string();
    assert!(!text.contains(secret_of(&key)), "no secret in {text}");
    assert!(!text.contains("hash"), "no hash in {text}");
    let row = listed.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == created["id"])
        .unwrap()
        .clone();
    assert_eq!(row["tenant_id"], "acme");
    assert_eq!(row["scopes"], json!(["read"]));
    assert_eq!(row["label"], "dashboard");
    assert!(row["created_at"].is_string());
    assert!(row["expires_at"].is_string());
    assert!(row["last_used_at"].is_string(), "used once: {row}");
    assert_eq!(row["revoked_at"], json!(null));
    let only_globex = app.get("/v1/keys?tenant_id=globex", ADMIN_KEY).await;
    assert_eq!(only_globex.body["keys"], json!([]));
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_on_every_instance() {
    let (first, second) = two_instances().await;
    let created = create_key(&first, json!({"tenant_id": "acme", "scopes": ["read"]})).await;
    let key = created["key"].as_str().unwrap();
    // Both instances have the key in their caches.
    assert_eq!(status_with(&first, key).await, 200);
    assert_eq!(status_with(&second, key).await, 200);

    let revoked = first
        .send(
            first
                .client
                .delete(first.url(&format!("/v1/keys/{}", created["id"].as_str().unwrap())))
                .bearer_auth(ADMIN_KEY),
        )
        .await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    assert_eq!(status_with(&first, key).await, 401);
    until_status(&second, key, 401).await;
}

#[tokio::test]
async fn a_rotated_key_keeps_its_old_secret_for_the_grace_period_then_only_the_new_one() {
    let (first, second) = two_instances().await;
    let created = create_key(&first, json!({"tenant_id": "acme", "scopes": ["read"]})).await;
    let id = created["id"].as_str().unwrap();
    let old = created["key"].as_str().unwrap();
    assert_eq!(status_with(&second, old).await, 200);

    let rotated = first
        .post(
            &format!("/v1/keys/{id}/rotate"),
            ADMIN_KEY,
            json!({"grace_seconds": 2}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["key"].as_str().unwrap().to_owned();
    assert_eq!(rotated.body["id"], id);
    assert_ne!(new, old);
    assert!(rotated.body["previous_valid_until"].is_string());
    for app in [&first, &second] {
        assert_eq!(
            status_with(app, &new).await,
            200,
            "the new secret works at once"
        );
        assert_eq!(
            status_with(app, old).await,
            200,
            "the old one during the grace period"
        );
    }
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    for app in [&first, &second] {
        assert_eq!(
            status_with(app, old).await,
            401,
            "the old secret after the grace period"
        );
        assert_eq!(status_with(app, &new).await, 200);
    }

    // Without a grace period the old secret stops at once, on both.
    let again = first
        .post(&format!("/v1/keys/{id}/rotate"), ADMIN_KEY, json!({}))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    let newest = again.body["key"].as_str().unwrap();
    assert_eq!(status_with(&first, &new).await, 401);
    until_status(&second, &new, 401).await;
    assert_eq!(status_with(&second, newest).await, 200);
}

#[tokio::test]
async fn a_key_stops_working_when_it_expires() {
    let app = spawn_app().await;
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1_500)).to_rfc3339();
    let created = create_key(
        &app,
        json!({"tenant_id": "acme", "scopes": ["read"], "expires_at": soon}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    assert_eq!(status_with(&app, key).await, 200);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(status_with(&app, key).await, 401, "expired, though cached");
}

#[tokio::test]
async fn every_key_change_is_an_event_of_its_stream_recording_who_made_it() {
    let app = spawn_app().await;
    let created = create_key(
        &app,
        json!({"tenant_id": "acme", "scopes": ["append"], "label": "worker"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let key = created["key"].as_str().unwrap();
    let as_ada = |request: reqwest::RequestBuilder| {
        request.bearer_auth(ADMIN_KEY).header("X-Actor-Id", "ada")
    };
    let rotated = app
        .send(
            as_ada(app.client.post(app.url(&format!("/v1/keys/{id}/rotate"))))
                .json(&json!({"grace_seconds": 60})),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new = rotated.body["key"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let revoked = app
            .send(as_ada(
                app.client.delete(app.url(&format!("/v1/keys/{id}"))),
            ))
            .await;
        assert_eq!(
            revoked.status, 200,
            "revoking twice is fine: {:?}",
            revoked.body
        );
    }
    let events = key_events(&app, id).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["key.created", "key.rotated", "key.revoked"],
        "one revocation"
    );
    assert_eq!(events[0]["data"]["scopes"], json!(["append"]));
    assert_eq!(events[0]["data"]["label"], "worker");
    assert_eq!(events[0]["metadata"]["source"], "admin-key");
    assert_eq!(events[0]["data"]["tenant_id"], "acme");
    assert_eq!(
        events[0]["metadata"]["tenant_id"],
        json!(null),
        "operators' events"
    );
    assert_eq!(events[1]["data"]["grace_seconds"], 60);
    assert_eq!(events[2]["metadata"]["actor_id"], "ada");
    assert_eq!(events[1]["prev_hash"], events[0]["hash"]);
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(secret_of(key)) && !text.contains(secret_of(&new)));
    let audit = app.key(None, &["audit"]).await;
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    // Key streams are no read model's: both stay caught up.
    let projections = app.get("/v1/projections", &audit).await;
    for projection in projections.body["projections"].as_array().unwrap() {
        assert_ne!(projection["state"], "stopped", "{projection}");
    }
}

#[tokio::test]
async fn key_endpoints_refuse_bad_requests_and_change_nothing() {
    let app = spawn_app().await;
    let tenant_admin_like = app.key(Some("acme"), &["append", "read"]).await;
    let created = create_key(&app, json!({"tenant_id": "acme", "scopes": ["read"]})).await;
    let id = created["id"].as_str().unwrap();
    let unknown = uuid::Uuid::new_v4();
    let before = app.event_count().await;
    let delete = |path: String, key: &str| {
        app.client
            .delete(app.url(&path))
            .bearer_auth(key.to_owned())
    };
    let cases = [
        (app.send(delete(format!("/v1/keys/{unknown}"), ADMIN_KEY)).await, 404, "key_not_found"),
        (app.send(delete("/v1/keys/nope".into(), ADMIN_KEY)).await, 400, "invalid_id"),
        (app.send(delete(format!("/v1/keys/{id}"), &tenant_admin_like)).await, 403, "insufficient_scope"),
        (app.get("/v1/keys", &tenant_admin_like).await, 403, "insufficient_scope"),
        (app.get("/v1/keys?tenant=acme", ADMIN_KEY).await, 400, "invalid_query"),
        (app.post(&format!("/v1/keys/{unknown}/rotate"), ADMIN_KEY, json!({})).await, 404, "key_not_found"),
        (app.post(&format!("/v1/keys/{id}/rotate"), ADMIN_KEY, json!({"grace_seconds": 2_592_001})).await, 422, "invalid_input"),
        (app.post(&format!("/v1/keys/{id}/rotate"), ADMIN_KEY, json!({"grace": 1})).await, 422, "invalid_body"),
        (app.post("/v1/keys", ADMIN_KEY, json!({"tenant_id": "acme", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"})).await, 422, "invalid_input"),
        (app.post("/v1/keys", ADMIN_KEY, json!({"tenant_id": "acme", "scopes": ["read"], "label": ""})).await, 422, "invalid_input"),
        (app.post("/v1/keys", ADMIN_KEY, json!({"tenant_id": "acme", "scopes": ["read"], "expires_at": "soon"})).await, 422, "invalid_body"),
    ];
    for (index, (reply, status, code)) in cases.iter().enumerate() {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (*status, *code),
            "case {index}: {:?}",
            reply.body
        );
    }
    assert_eq!(app.event_count().await, before, "refusals append nothing");

    let revoked = app.send(delete(format!("/v1/keys/{id}"), ADMIN_KEY)).await;
    assert_eq!(revoked.status, 200);
    let rotate_revoked = app
        .post(&format!("/v1/keys/{id}/rotate"), ADMIN_KEY, json!({}))
        .await;
    assert_eq!(
        (rotate_revoked.status.as_u16(), rotate_revoked.code()),
        (409, "key_revoked")
    );
}

/// The CLI does what the API does, and a running service refuses a key
/// the CLI revoked at once.
#[tokio::test]
async fn the_cli_creates_lists_rotates_and_revokes_keys() {
    let app = spawn_app_with(
        ledger_embedded_pg::testing::fresh_database().await,
        |config| config.key_cache_ms = 600_000,
    )
    .await;
    let json_of = |output: std::process::Output| -> serde_json::Value {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let created = json_of(cli(
        &app,
        &[
            "keys", "create", "--scopes", "read", "--tenant", "acme", "--label", "cli",
        ],
    ));
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(status_with(&app, &key).await, 200);
    let listed = json_of(cli(&app, &["keys", "list", "--tenant", "acme"]));
    assert_eq!(listed["keys"][0]["id"], id.as_str());
    assert_eq!(listed["keys"][0]["label"], "cli");
    let rotated = json_of(cli(&app, &["keys", "rotate", &id]));
    let new = rotated["key"].as_str().unwrap().to_owned();
    until_status(&app, &key, 401).await;
    assert_eq!(status_with(&app, &new).await, 200);
    let revoked = json_of(cli(&app, &["keys", "revoke", &id]));
    assert!(revoked["revoked_at"].is_string());
    until_status(&app, &new, 401).await;
    let events = key_events(&app, &id).await;
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|event| event["metadata"]["source"] == "cli"));
}
