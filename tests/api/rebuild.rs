//! Rebuilding read models while queries keep answering.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// Every read model row, as JSON, in a stable order.
async fn read_model_rows(app: &TestApp) -> Vec<serde_json::Value> {
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let mut rows = vec![];
    for (table, order) in [
        ("runs", "run_id"),
        ("credit_balances", "tenant_id"),
        ("credit_ledger", "global_position"),
    ] {
        let table_rows: Vec<serde_json::Value> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t) FROM {table} t ORDER BY {order}"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        rows.push(json!({ table: table_rows }));
    }
    pool.close().await;
    rows
}

/// Each read model table's indexes (name and definition) and storage
/// parameters.
async fn read_model_schema(app: &TestApp) -> Vec<serde_json::Value> {
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let mut tables = vec![];
    for table in ["runs", "credit_balances", "credit_ledger"] {
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = format('public.%I', $1::text)::regclass ORDER BY 1",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
        let options: Option<Vec<String>> = sqlx::query_scalar(
            "SELECT reloptions FROM pg_class WHERE oid = format('public.%I', $1::text)::regclass",
        )
        .bind(table)
        .fetch_one(&pool)
        .await
        .unwrap();
        tables.push(json!({ "table": table, "indexes": indexes, "options": options }));
    }
    pool.close().await;
    tables
}

async fn workload(app: &TestApp, key: &str) -> u64 {
    app.grant("acme", "monthly", 100).await;
    let mut last = 0;
    for i in 0..12 {
        let run = app
            .post("/v1/runs", key, run_body("ada", 2, &["a", "b"]))
            .await;
        let run_id = run.body["run_id"].as_str().unwrap().to_owned();
        let facts = app
            .facts(
                key,
                &run_id,
                json!([
                    {"type": "run.stage_updated", "data": {"stage": 1, "status": "completed", "output": {"i": i}}},
                    {"type": "run.credits_deducted", "data": {"amount": 2}},
                    {"type": "run.file_updated", "data": {"index": 0, "status": "failed"}}
                ]),
            )
            .await;
        last = facts.body["global_position"].as_u64().unwrap();
        if i % 3 == 0 {
            let rerun = app
                .post(&format!("/v1/runs/{run_id}/rerun"), key, json!({}))
                .await;
            last = rerun.body["global_position"].as_u64().unwrap();
        }
    }
    last
}

async fn wait_until_rebuilt(app: &TestApp, key: &str, names: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = app.get("/v1/projections", key).await;
        let done = status.body["projections"]
            .as_array()
            .unwrap_or_else(|| panic!("{:?}", status.body))
            .iter()
            .all(|p| {
                !names.contains(&p["name"].as_str().unwrap())
                    || (p["rebuilt_at"].is_string() && p["state"] != "rebuilding")
            });
        if done {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", status.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn queries_keep_answering_during_a_rebuild_and_the_rebuilt_tables_equal_the_old() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let last = workload(&app, &key).await;
    let listed = app
        .get(&format!("/v1/runs?min_position={last}&limit=1"), &key)
        .await;
    let some_run = listed.body["runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(
        &format!("/v1/accounts/acme/balance?min_position={last}"),
        &key,
    )
    .await;
    let before = read_model_rows(&app).await;
    let schema_before = read_model_schema(&app).await;
    assert_eq!(schema_before[0]["options"], json!(["fillfactor=80"]));

    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let reading = reading.clone();
        let client = app.client.clone();
        let base = app.url("");
        let key = key.clone();
        tokio::spawn(async move {
            let mut statuses = vec![];
            while reading.load(Ordering::SeqCst) {
                for path in [
                    format!("/v1/runs/{some_run}"),
                    "/v1/accounts/acme/balance".to_owned(),
                    "/v1/runs?limit=5".to_owned(),
                ] {
                    let response = client
                        .get(format!("{base}{path}"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    statuses.push(response.status().as_u16());
                }
            }
            statuses
        })
    };
    for name in ["run_history", "credits"] {
        let started = app
            .post(
                &format!("/v1/projections/{name}/rebuild"),
                ADMIN_KEY,
                json!({}),
            )
            .await;
        assert_eq!(started.status, 202, "{:?}", started.body);
        assert_eq!(started.body["state"], "rebuilding");
    }
    wait_until_rebuilt(&app, &key, &["run_history", "credits"]).await;
    reading.store(false, Ordering::SeqCst);
    let statuses = reader.await.unwrap();
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        read_model_rows(&app).await,
        before,
        "the rebuilt tables equal the old"
    );
    assert_eq!(
        read_model_schema(&app).await,
        schema_before,
        "the rebuilt tables keep every index, under its name, and their storage parameters"
    );

    // Writes after the swap land in the new tables.
    let run = app.post("/v1/runs", &key, run_body("bob", 0, &[])).await;
    let at = run.body["global_position"].as_u64().unwrap();
    let read = app
        .get(
            &format!(
                "/v1/runs/{}?min_position={at}",
                run.body["run_id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(read.status, 200);

    // The CLI rebuilds too, with the service running.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_run-ledger"))
        .args([
            "projections",
            "rebuild",
            "run_history",
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
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["name"], "run_history");
    assert!(report["position"].as_u64().unwrap() >= at, "{report}");
    assert!(report["events"].as_u64().unwrap() > 0, "{report}");
    let after_cli = app
        .get(
            &format!("/v1/runs/{}", run.body["run_id"].as_str().unwrap()),
            &key,
        )
        .await;
    assert_eq!(after_cli.status, 200);
}

#[tokio::test]
async fn only_admins_rebuild_and_only_read_models_that_exist() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let forbidden = app
        .post("/v1/projections/run_history/rebuild", &key, json!({}))
        .await;
    assert_eq!(forbidden.status, 403);
    let missing = app
        .post("/v1/projections/nope/rebuild", ADMIN_KEY, json!({}))
        .await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "projection_not_found")
    );
}

/// Issue 14, part 5: one rebuild of a read model at a time, race-free, even
/// when the requests reach two instances at once.
#[tokio::test]
async fn racing_rebuilds_on_two_instances_have_exactly_one_winner() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let first = spawn_app_on(db.clone()).await;
    let second = spawn_app_on(db).await;
    let key = first.key(Some("acme"), &["append", "read"]).await;
    workload(&first, &key).await;
    // The winner cannot finish while the live projector's row is held, so
    // the race is decided by the lock, not by how fast a rebuild is.
    let hold = first.hold_projector("run_history").await;
    let path = "/v1/projections/run_history/rebuild";
    let (a, b) = tokio::join!(
        first.post(path, ADMIN_KEY, json!({})),
        second.post(path, ADMIN_KEY, json!({}))
    );
    let mut outcomes = vec![
        (a.status.as_u16(), a.code().to_owned()),
        (b.status.as_u16(), b.code().to_owned()),
    ];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            (202, String::new()),
            (409, "rebuild_in_progress".to_owned())
        ]
    );
    let again = second.post(path, ADMIN_KEY, json!({})).await;
    assert_eq!(again.code(), "rebuild_in_progress");
    hold.rollback().await.unwrap();
    wait_until_rebuilt(&first, ADMIN_KEY, &["run_history"]).await;
    // The swap is committed; the lock goes a moment later, with the
    // rebuild's clean-up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let after = second.post(path, ADMIN_KEY, json!({})).await;
        if after.status == 202 {
            break;
        }
        assert_eq!(after.code(), "rebuild_in_progress");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lock is free once it is done"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
