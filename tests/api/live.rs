//! Server-sent events: run watches and the global event stream.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn watching_a_run_delivers_each_change_and_ends_when_the_run_ends() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let created = app
        .post("/v1/runs", &key, run_body("ada", 0, &["a", "b"]))
        .await;
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let at = created.body["global_position"].as_u64().unwrap();
    app.get(&format!("/v1/runs/{run_id}?min_position={at}"), &key)
        .await;
    let mut watch = SseReader::open(&app, &format!("/v1/runs/{run_id}/watch"), &key, None).await;
    let first = watch.next().await.expect("the state now");
    assert_eq!(first.event.as_deref(), Some("run"));
    assert_eq!(first.data["status"], "queued");
    app.facts(
        &key,
        &run_id,
        json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "completed"}}]),
    )
    .await;
    let second = watch.next().await.expect("the stage change");
    assert_eq!(second.data["status"], "running");
    assert_eq!(second.data["stages"][0]["status"], "completed");
    app.facts(
        &key,
        &run_id,
        json!([{"type": "run.stage_updated", "data": {"stage": 2, "status": "completed"}}]),
    )
    .await;
    let last = watch.next().await.expect("the completion");
    assert_eq!(last.data["status"], "completed");
    assert!(watch.next().await.is_none(), "the stream ends with the run");
    // Watching the ended run: 204, which stops an EventSource.
    let ended = app.get(&format!("/v1/runs/{run_id}/watch"), &key).await;
    assert_eq!(ended.status, 204);

    let other = app.key(Some("globex"), &["read"]).await;
    let hidden = app.get(&format!("/v1/runs/{run_id}/watch"), &other).await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn the_event_stream_resumed_with_last_event_id_misses_and_repeats_nothing() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let other = app.append_key("globex").await;
    // Writers keep appending, for two tenants, while the reader disconnects and resumes.
    let writer = {
        let client = app.client.clone();
        let base = app.url("");
        let (key, other) = (key.clone(), other.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                let key = if i % 4 == 3 { &other } else { &key };
                let response = client
                    .post(format!("{base}/v1/runs"))
                    .bearer_auth(key)
                    .json(&run_body("ada", 0, &[]))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let mut seen: Vec<u64> = vec![];
    let mut stream = SseReader::open(&app, "/v1/events/stream", &key, None).await;
    while seen.len() < 12 {
        let event = stream.next().await.expect("events while writers run");
        seen.push(event.id.unwrap().parse().unwrap());
    }
    drop(stream); // the client goes away mid-stream
    writer.await.unwrap();
    let mut resumed = SseReader::open(&app, "/v1/events/stream", &key, seen.last().copied()).await;
    while seen.len() < 30 {
        let event = resumed.next().await.expect("the rest after resuming");
        assert_eq!(
            event.data["metadata"]["tenant_id"], "acme",
            "only the key's tenant"
        );
        seen.push(event.id.unwrap().parse().unwrap());
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in order, no repeat: {seen:?}"
    );
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let expected: Vec<i64> = sqlx::query_scalar(
        "SELECT global_position FROM events WHERE tenant_id = 'acme' ORDER BY global_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected: BTreeSet<u64> = expected.into_iter().map(|p| p as u64).collect();
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<u64>>(),
        expected,
        "no hole"
    );
}

#[tokio::test]
async fn a_bad_last_event_id_is_400() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["read"]).await;
    let reply = app
        .send(
            app.client
                .get(app.url("/v1/events/stream"))
                .bearer_auth(&key)
                .header("Last-Event-ID", "soon"),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "invalid_query")
    );
}

/// A browser's EventSource cannot send `Authorization`: it opens the
/// streams with a stream token, which keeps its key's tenant, works on
/// every instance, opens nothing but streams, and dies with its key.
#[tokio::test]
async fn a_stream_token_opens_the_streams_for_a_browser_and_nothing_else() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let app = spawn_app_on(db.clone()).await;
    let other_instance = spawn_app_on(db).await;
    let created_key = app
        .post(
            "/v1/keys",
            ADMIN_KEY,
            json!({"tenant_id": "acme", "scopes": ["append", "read"]}),
        )
        .await;
    let key = created_key.body["key"].as_str().unwrap().to_owned();
    let key_id = created_key.body["id"].as_str().unwrap().to_owned();
    let globex = app.key(Some("globex"), &["append", "read"]).await;
    app.post("/v1/runs", &globex, run_body("bo", 0, &["a"]))
        .await;
    let created = app
        .post("/v1/runs", &key, run_body("ada", 0, &["a", "b"]))
        .await;
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let at = created.body["global_position"].as_u64().unwrap();
    app.get(&format!("/v1/runs/{run_id}?min_position={at}"), &key)
        .await;

    let issued = app.post("/v1/stream-tokens", &key, json!({})).await;
    assert_eq!(issued.status, 201, "{:?}", issued.body);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    assert!(issued.body["expires_at"].is_string());

    let mut watch =
        SseReader::open_with_token(&other_instance, &format!("/v1/runs/{run_id}/watch"), &token)
            .await;
    assert_eq!(watch.next().await.unwrap().data["status"], "queued");
    let mut feed = SseReader::open_with_token(&app, "/v1/events/stream?after=0", &token).await;
    let first = feed.next().await.unwrap();
    assert_eq!(
        first.data["metadata"]["tenant_id"], "acme",
        "the token sees its key's tenant only: {:?}",
        first.data
    );

    // No other route takes it, and made-up tokens open nothing.
    let unauthenticated = |path: String| {
        let request = app.client.get(app.url(&path));
        app.send(request)
    };
    assert_eq!(
        unauthenticated(format!("/v1/runs/{run_id}?token={token}"))
            .await
            .code(),
        "unauthorized"
    );
    assert_eq!(
        unauthenticated(format!("/v1/runs/{run_id}/watch?token=rlst_forged"))
            .await
            .code(),
        "unauthorized"
    );
    let appender = app.key(Some("acme"), &["append"]).await;
    assert_eq!(
        app.post("/v1/stream-tokens", &appender, json!({}))
            .await
            .code(),
        "insufficient_scope"
    );

    // Revoking the key ends its tokens, on every instance.
    let revoked = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/keys/{key_id}")))
                .bearer_auth(ADMIN_KEY),
        )
        .await;
    assert!(revoked.status.is_success(), "{:?}", revoked.body);
    assert_eq!(
        unauthenticated(format!("/v1/events/stream?token={token}"))
            .await
            .code(),
        "unauthorized"
    );
    let refused = other_instance
        .send(
            other_instance
                .client
                .get(other_instance.url(&format!("/v1/runs/{run_id}/watch?token={token}"))),
        )
        .await;
    assert_eq!(refused.code(), "unauthorized");
}
