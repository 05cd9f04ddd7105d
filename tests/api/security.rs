//! Keys, scopes and tenancy (RELIABILITY B5).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn missing_or_bad_keys_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    let cases = [
        app.client.post(app.url("/v1/runs")),
        app.client
            .post(app.url("/v1/runs"))
            .header("Authorization", "Basic abc"),
        app.client.post(app.url("/v1/runs")).bearer_auth("nope"),
        app.client
            .post(app.url("/v1/runs"))
            .bearer_auth(format!("rlk_{}_deadbeef", uuid::Uuid::new_v4().simple())),
    ];
    for request in cases {
        let reply = app.send(request.json(&run_body("ada", 0, &[]))).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.code(), "unauthorized");
        assert!(reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }
    // A real key id with a wrong secret.
    let key = app.append_key("acme").await;
    let forged = format!("{}x", &key[..key.len() - 1]);
    assert_eq!(
        app.post("/v1/runs", &forged, run_body("ada", 0, &[]))
            .await
            .status,
        401
    );
    assert_eq!(app.log_state().await.1, 0);
}

#[tokio::test]
async fn a_key_without_the_scope_gets_403() {
    let app = spawn_app().await;
    let read = app.key(Some("acme"), &["read"]).await;
    let reply = app.post("/v1/runs", &read, run_body("ada", 0, &[])).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "insufficient_scope")
    );
    let append = app.append_key("acme").await;
    for (path, body) in [
        ("/v1/keys", json!({"scopes": ["admin"]})),
        (
            "/v1/accounts/acme/grants",
            json!({"bucket": "monthly", "amount": 5}),
        ),
    ] {
        let reply = app.post(path, &append, body).await;
        assert_eq!(reply.status, 403, "{path}");
    }
    assert_eq!(app.log_state().await.1, 0);
}

#[tokio::test]
async fn another_tenants_run_is_404_in_both_directions() {
    let app = spawn_app().await;
    let acme = app.append_key("acme").await;
    let globex = app.append_key("globex").await;
    let acme_run = app.create_run(&acme, run_body("ada", 1, &[])).await;
    let globex_run = app.create_run(&globex, run_body("bob", 1, &[])).await;
    let before = app.log_state().await;
    for (key, run) in [(&globex, &acme_run), (&acme, &globex_run)] {
        let run_id = run["run_id"].as_str().unwrap();
        for (suffix, body) in [
            ("rerun", json!({})),
            ("retry-failed", json!({})),
            ("retry", json!({})),
            ("events", json!({"events": [{"type": "run.started"}]})),
        ] {
            let reply = app
                .post(&format!("/v1/runs/{run_id}/{suffix}"), key, body)
                .await;
            assert_eq!(reply.status, 404, "{suffix}");
            assert_eq!(
                reply.code(),
                "run_not_found",
                "{suffix}: same as a missing run"
            );
        }
    }
    let missing = uuid::Uuid::new_v4();
    let reply = app
        .post(&format!("/v1/runs/{missing}/retry"), &acme, json!({}))
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (404, "run_not_found")
    );
    assert_eq!(app.log_state().await, before, "0 successes");
}

#[tokio::test]
async fn a_body_naming_another_tenant_is_refused() {
    let app = spawn_app().await;
    let acme = app.append_key("acme").await;
    let mut body = run_body("ada", 0, &[]);
    body["tenant_id"] = json!("globex");
    let reply = app.post("/v1/runs", &acme, body.clone()).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (403, "forbidden"));
    assert_eq!(app.log_state().await.1, 0);
    // An admin key may name any tenant, and must name one.
    assert_eq!(app.post("/v1/runs", ADMIN_KEY, body).await.status, 201);
    let reply = app
        .post("/v1/runs", ADMIN_KEY, run_body("ada", 0, &[]))
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "invalid_input")
    );
}

#[tokio::test]
async fn keys_bind_append_and_read_to_a_tenant_and_audit_and_admin_to_none() {
    let app = spawn_app().await;
    for (body, ok) in [
        (
            json!({"tenant_id": "acme", "scopes": ["append", "read"]}),
            true,
        ),
        (json!({"scopes": ["audit"]}), true),
        (json!({"scopes": ["append"]}), false),
        (json!({"tenant_id": "acme", "scopes": ["admin"]}), false),
        (json!({"scopes": ["read", "audit"]}), false),
        (json!({"scopes": []}), false),
    ] {
        let reply = app.post("/v1/keys", ADMIN_KEY, body.clone()).await;
        if ok {
            assert_eq!(reply.status, 201, "{body}");
            assert!(reply.body["key"].as_str().unwrap().starts_with("rlk_"));
            assert!(reply.body["id"].is_string());
        } else {
            assert_eq!(
                (reply.status.as_u16(), reply.code()),
                (422, "invalid_input"),
                "{body}"
            );
        }
    }
    let unknown_scope = app
        .post("/v1/keys", ADMIN_KEY, json!({"scopes": ["root"]}))
        .await;
    assert_eq!(unknown_scope.status, 422);
}

#[tokio::test]
async fn keys_are_stored_hashed() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let secret = key.rsplit('_').next().unwrap().to_owned();
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM api_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&secret));
}

#[tokio::test]
async fn the_cli_creates_keys_that_the_api_accepts() {
    let app = spawn_app().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_run-ledger"))
        .args([
            "keys",
            "create",
            "--scopes",
            "append",
            "--tenant",
            "acme",
            "--allow-unsafe-durability",
        ])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let key = created["key"].as_str().unwrap();
    assert_eq!(created["tenant_id"], "acme");
    let run = app.create_run(key, run_body("ada", 0, &[])).await;
    assert_eq!(run["tenant_id"], "acme");
}

#[tokio::test]
async fn the_actor_is_recorded_in_event_metadata() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 0, &[])).await;
    let run_id = run["run_id"].as_str().unwrap();
    let reply = app
        .post_as(
            &format!("/v1/runs/{run_id}/rerun"),
            &key,
            "ada",
            false,
            json!({}),
        )
        .await;
    let new_run = reply.body["run_id"].as_str().unwrap();
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let metadata: serde_json::Value = sqlx::query_scalar(
        "SELECT metadata FROM events WHERE stream_id = $1 AND stream_version = 0",
    )
    .bind(format!("run-{new_run}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(metadata["actor_id"], "ada");
    assert_eq!(metadata["tenant_id"], "acme");
    assert!(metadata["source"].as_str().unwrap().starts_with("key:"));
}

#[tokio::test]
async fn a_cached_key_still_checks_its_secret_and_a_revoked_key_stops_within_the_cache_time() {
    let app = spawn_app_with(
        ledger_embedded_pg::testing::fresh_database().await,
        |config| config.key_cache_ms = 300,
    )
    .await;
    let key = app.key(Some("acme"), &["read"]).await;
    assert_eq!(app.get("/v1/runs", &key).await.status, 200);
    let forged = format!("{}x", &key[..key.len() - 1]);
    assert_eq!(
        app.get("/v1/runs", &forged).await.status,
        401,
        "the cached key's secret is still compared"
    );
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    sqlx::query("UPDATE api_keys SET revoked_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let revoked = app.get("/v1/runs", &key).await;
    assert_eq!(revoked.status, 401, "{:?}", revoked.body);
}

/// Issue 14, part 4: a key over its budget gets 429 `rate_limited` with
/// `Retry-After`; other keys and the health endpoints are not held back.
#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let app = spawn_app_with(
        ledger_embedded_pg::testing::fresh_database().await,
        |config| {
            config.rate_limit_per_key = 1;
            config.rate_limit_burst = 3;
        },
    )
    .await;
    let busy = app.key(Some("acme"), &["read"]).await;
    let quiet = app.key(Some("acme"), &["read"]).await;
    let statuses: Vec<u16> = futures::future::join_all(
        (0..5).map(|_| async { app.get("/v1/runs", &busy).await.status.as_u16() }),
    )
    .await;
    // The burst, and at most one more if a second passed meanwhile.
    let served = statuses.iter().filter(|status| **status == 200).count();
    assert!((3..=4).contains(&served), "{statuses:?}");
    assert!(
        statuses.iter().all(|status| [200, 429].contains(status)),
        "{statuses:?}"
    );
    let mut limited = app.get("/v1/runs", &busy).await;
    for _ in 0..3 {
        if limited.status == 429 {
            break;
        }
        limited = app.get("/v1/runs", &busy).await;
    }
    assert_eq!(
        (limited.status.as_u16(), limited.code()),
        (429, "rate_limited")
    );
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(
        app.get("/v1/runs", &quiet).await.status,
        200,
        "another key has its own budget"
    );
    for path in ["/healthz", "/readyz", "/metrics"] {
        for _ in 0..5 {
            let reply = app.send(app.client.get(app.url(path))).await;
            assert_eq!(reply.status, 200, "{path} is never limited");
        }
    }
}
