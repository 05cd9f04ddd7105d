//! Request tracing (issue 14, part 3): every request has an id, echoed, in
//! problem bodies and in the log lines of the request; a correlation id goes
//! into the events the request appends.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_request_has_an_id_echoed_in_the_response_and_its_problem_body() {
    let app = spawn_app().await;
    let sent = app
        .send(
            app.client
                .get(app.url("/v1/runs"))
                .header("X-Request-Id", "checkout-42.a"),
        )
        .await;
    assert_eq!(sent.status, 401);
    assert_eq!(sent.headers["x-request-id"], "checkout-42.a");
    assert_eq!(sent.body["request_id"], "checkout-42.a");

    let insane = app
        .send(
            app.client
                .get(app.url("/v1/runs"))
                .header("X-Request-Id", "<script>alert(1)</script>"),
        )
        .await;
    let generated = insane.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(generated, "<script>alert(1)</script>");
    assert_eq!(generated.len(), 32, "a generated id: {generated}");
    assert_eq!(insane.body["request_id"], generated.as_str());

    let healthy = app.send(app.client.get(app.url("/healthz"))).await;
    let first = healthy.headers["x-request-id"].to_str().unwrap().to_owned();
    let again = app.send(app.client.get(app.url("/healthz"))).await;
    assert_ne!(
        again.headers["x-request-id"].to_str().unwrap(),
        first,
        "one id per request"
    );
}

#[tokio::test]
async fn the_correlation_id_of_a_request_is_in_the_events_it_appends() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let correlation = uuid::Uuid::new_v4();
    let created = app
        .send(
            app.client
                .post(app.url("/v1/runs"))
                .bearer_auth(&key)
                .header("X-Correlation-Id", correlation.to_string())
                .json(&run_body("ada", 0, &["a"])),
        )
        .await;
    assert_eq!(created.status, 201);
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let traced = app
        .send(
            app.client
                .post(app.url(&format!("/v1/runs/{run_id}/events")))
                .bearer_auth(&key)
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .json(&json!({"events": [{"type": "run.stage_updated", "data": {"stage": 1, "status": "processing"}}]})),
        )
        .await;
    assert_eq!(traced.status, 200, "{:?}", traced.body);
    let events = app.get(&format!("/v1/runs/{run_id}/events"), &key).await;
    let events = events.body["events"].as_array().unwrap();
    assert_eq!(events[0]["event_type"], "run.created");
    assert_eq!(
        events[0]["metadata"]["correlation_id"],
        correlation.to_string()
    );
    let stage = events
        .iter()
        .find(|event| event["event_type"] == "run.stage_updated")
        .unwrap();
    assert_eq!(
        stage["metadata"]["correlation_id"], "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
        "the trace id of the traceparent"
    );
}

/// `RUN_LEDGER_LOG_FORMAT=json`: one JSON object per line, and the lines
/// of a request carry its id, route, status, tenant and key.
#[tokio::test]
async fn with_json_logs_every_line_of_a_request_carries_its_id_and_caller() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("run-ledger-log-{}.jsonl", uuid::Uuid::new_v4()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_run-ledger"))
        .args(["serve", "--allow-unsafe-durability"])
        .env("DATABASE_URL", &db.url)
        .env("RUN_LEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUN_LEDGER_ADMIN_KEY", ADMIN_KEY)
        .env("RUN_LEDGER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the service never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: serde_json::Value = client
        .post(format!("{base}/v1/keys"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"tenant_id": "acme", "scopes": ["read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused = client
        .post(format!("{base}/v1/runs"))
        .bearer_auth(created["key"].as_str().unwrap())
        .header("X-Request-Id", "trace-me-1")
        .json(&run_body("ada", 0, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // A failure that is no outage: the client gets 500 and no database
    // text; the log gets the whole cause chain under the request's id.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query("ALTER TABLE runs RENAME TO runs_elsewhere")
        .execute(&pool)
        .await
        .unwrap();
    let failed = client
        .get(format!("{base}/v1/runs"))
        .bearer_auth(created["key"].as_str().unwrap())
        .header("X-Request-Id", "trace-me-2")
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let line = lines
        .iter()
        .find(|line| line["span"]["request_id"] == "trace-me-1")
        .unwrap_or_else(|| panic!("no line of the request in {text}"));
    assert_eq!(line["span"]["route"], "/v1/runs");
    assert_eq!(line["span"]["method"], "POST");
    assert_eq!(line["span"]["status"], 403);
    assert_eq!(line["span"]["tenant"], "acme");
    assert_eq!(line["span"]["key_id"], created["id"]);
    assert!(line["span"]["latency_ms"].is_number(), "{line}");
    let failure = lines
        .iter()
        .find(|line| {
            line["span"]["request_id"] == "trace-me-2" && line["fields"]["error"].is_string()
        })
        .unwrap_or_else(|| panic!("no error line of the failed request in {text}"));
    let chain = failure["fields"]["error"].as_str().unwrap();
    assert!(
        chain.contains("internal error: ") && chain.contains("relation \"runs\" does not exist"),
        "the cause chain, down to PostgreSQL's words: {chain}"
    );
}

/// Issue 14, part 2: a database failure that is not an outage (here a read
/// model's table gone) is 500 `internal_error` with the request id and no
/// database text, not 503 "try again".
#[tokio::test]
async fn a_database_error_that_is_no_outage_is_500_with_a_request_id_and_no_database_text() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["read"]).await;
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    sqlx::query("ALTER TABLE runs RENAME TO runs_elsewhere")
        .execute(&pool)
        .await
        .unwrap();
    let reply = app
        .send(
            app.client
                .get(app.url("/v1/runs"))
                .bearer_auth(&key)
                .header("X-Request-Id", "broken-1"),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (500, "internal_error")
    );
    assert_eq!(reply.body["request_id"], "broken-1");
    assert!(!reply.headers.contains_key("retry-after"));
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("runs") && !detail.contains("relation"),
        "{detail}"
    );
    sqlx::query("ALTER TABLE runs_elsewhere RENAME TO runs")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(app.get("/v1/runs", &key).await.status, 200);
}
