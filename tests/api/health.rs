//! Operational endpoints, error bodies, and start-up checks.

use reqwest::StatusCode;
use run_ledger::{Application, StartError};
use serde_json::Value;

use crate::helpers::{config_for, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn readyz_answers_503_with_a_problem_when_migrations_are_missing() {
    let app = spawn_app().await;
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&pool)
        .await
        .unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "store_unavailable");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problem_json() {
    let app = spawn_app().await;
    let cases = [
        (
            reqwest::Method::GET,
            "/no/such/route",
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
        (
            reqwest::Method::POST,
            "/healthz",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code);
        assert_eq!(problem["status"], status.as_u16());
        assert!(problem["title"].is_string() && problem["detail"].is_string());
    }
}

#[tokio::test]
async fn the_service_refuses_a_database_that_could_lose_acknowledged_appends() {
    // The test server runs with fsync off.
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let mut config = config_for(&db);
    config.database.allow_unsafe_durability = false;
    let error = Application::build(config).await.expect_err("must refuse");
    assert!(
        matches!(error, StartError::UnsafeDurability { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("fsync=off"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_append_latency_and_projection_lag() {
    let app = crate::helpers::spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let created = app
        .post("/v1/runs", &key, crate::helpers::run_body("ada", 0, &[]))
        .await;
    let at = created.body["global_position"].as_u64().unwrap();
    app.get(&format!("/v1/runs?min_position={at}"), &key).await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for expected in [
        r#"http_requests_total{method="POST",route="/v1/runs",status="201"}"#,
        r#"http_requests_total{method="GET",route="/v1/runs",status="200"}"#,
        "ledger_append_duration_seconds",
        "ledger_append_batch_seconds_sum",
        "ledger_log_head_position",
        r#"ledger_projection_checkpoint{projection="run_history"}"#,
        r#"ledger_projection_lag_events{projection="credits"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

/// The pool pings a connection only once it has been idle a while (not
/// before every query), so that a connection the server dropped while idle
/// (a restart, a failover, an operator's `pg_terminate_backend`) is still
/// replaced before a query meets it.
#[tokio::test]
async fn a_connection_dropped_while_idle_is_replaced_before_a_query_uses_it() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let config = config_for(&db).database;
    // Opening warms the pool up: every connection is made, then idle.
    let database = run_ledger::Database::open(&config).await.unwrap();
    let admin = sqlx::PgPool::connect(&db.url).await.unwrap();
    let dropped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS terminated",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(dropped, i64::from(config.max_connections));
    tokio::time::sleep(ledger_store::PING_AFTER_IDLE + std::time::Duration::from_millis(300)).await;
    let queries = (0..config.max_connections).map(|_| async {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&database.pool)
            .await
    });
    for answer in futures::future::join_all(queries).await {
        assert_eq!(
            answer.expect("a query after the idle connections were dropped"),
            1
        );
    }
}
