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
