//! Bad input gets problem+json and changes nothing (RELIABILITY B1, B2, B3, B7).

use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::helpers::*;

/// (what is wrong, body, content type, expected status, expected code)
type BadBody = (
    &'static str,
    Vec<u8>,
    Option<&'static str>,
    u16,
    &'static str,
);

#[tokio::test]
async fn malformed_bodies_get_400_415_or_422_and_change_nothing() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 1, &["a"])).await;
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_inputs = format!(r#"{{"owner_id": "ada", "inputs": {deep}}}"#);
    let cases: Vec<BadBody> = vec![
        (
            "truncated",
            br#"{"owner_id": "ada""#.to_vec(),
            Some("application/json"),
            400,
            "malformed_json",
        ),
        (
            "trailing garbage",
            br#"{"owner_id": "ada"} x"#.to_vec(),
            Some("application/json"),
            400,
            "malformed_json",
        ),
        (
            "invalid UTF-8",
            b"{\"owner_id\": \"\xff\xfe\"}".to_vec(),
            Some("application/json"),
            400,
            "malformed_json",
        ),
        (
            "10,000-deep nesting where an object belongs",
            deep.into_bytes(),
            Some("application/json"),
            422,
            "invalid_input",
        ),
        (
            "10,000-deep nesting in free-form inputs",
            deep_inputs.into_bytes(),
            Some("application/json"),
            422,
            "invalid_input",
        ),
        (
            "an integer no double holds",
            br#"{"owner_id": "ada", "credits_per_file": 99999999999999999999}"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_input",
        ),
        (
            "number beyond i64",
            br#"{"owner_id": "ada", "credits_per_file": 1e20}"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_body",
        ),
        (
            "no content type",
            br#"{"owner_id": "ada"}"#.to_vec(),
            None,
            415,
            "unsupported_media_type",
        ),
        (
            "wrong content type",
            br#"{"owner_id": "ada"}"#.to_vec(),
            Some("text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            "unknown field",
            br#"{"owner_id": "ada", "owner": "x"}"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_body",
        ),
        (
            "missing field",
            br#"{"files": []}"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_body",
        ),
        (
            "wrong type",
            br#"{"owner_id": 7}"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_body",
        ),
        (
            "not an object",
            br#"[1, 2]"#.to_vec(),
            Some("application/json"),
            422,
            "invalid_body",
        ),
    ];
    let before = app.log_state().await;
    for (what, body, content_type, status, code) in cases {
        let mut request = app
            .client
            .post(app.url("/v1/runs"))
            .bearer_auth(&key)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let reply = app.send(request).await;
        assert_eq!(reply.status, status, "{what}: {:?}", reply.body);
        assert_eq!(reply.code(), code, "{what}");
        assert_eq!(
            reply.headers[CONTENT_TYPE], "application/problem+json",
            "{what}"
        );
    }
    // The same against the facts endpoint.
    let facts = app
        .send(
            app.client
                .post(app.url(&format!("/v1/runs/{run_id}/events")))
                .bearer_auth(&key)
                .header(CONTENT_TYPE, "application/json")
                .body(r#"{"events": [{"type": "run.started"}"#),
        )
        .await;
    assert_eq!(facts.status, 400);
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn bodies_are_accepted_up_to_the_limit_and_refused_above_it() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let limit = ledger_api::BODY_LIMIT;
    let body_of = |size: usize| {
        let base = json!({"owner_id": "ada", "inputs": {"pad": ""}}).to_string();
        let pad = size - base.len();
        json!({"owner_id": "ada", "inputs": {"pad": "x".repeat(pad)}}).to_string()
    };
    for (size, status) in [(limit - 1, 201), (limit, 201), (limit + 1, 413)] {
        let body = body_of(size);
        assert_eq!(body.len(), size);
        let reply = app
            .send(
                app.client
                    .post(app.url("/v1/runs"))
                    .bearer_auth(&key)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(reply.status, status, "{size} bytes");
        if status == 413 {
            assert_eq!(reply.code(), "payload_too_large");
        }
    }
    // A large chunked body with no length is refused without being read whole.
    let chunks =
        futures::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024])));
    let reply = app
        .client
        .post(app.url("/v1/runs"))
        .bearer_auth(&key)
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(response) = reply {
        assert_eq!(response.status(), 413);
    }
    assert_eq!(
        app.log_state().await.0.len(),
        2,
        "only the two accepted runs"
    );
}

#[tokio::test]
async fn a_body_that_drips_in_times_out_with_408() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    // One byte every 300 ms; the test service allows 2 seconds for a body.
    let drip = futures::stream::unfold(0u32, |sent| async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        (sent < 100).then(|| (Ok::<_, std::io::Error>(vec![b' ']), sent + 1))
    });
    let started = std::time::Instant::now();
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/runs"))
                .bearer_auth(&key)
                .header(CONTENT_TYPE, "application/json")
                .body(reqwest::Body::wrap_stream(drip)),
        )
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (408, "body_timeout"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(app.log_state().await.1, 0);
}

#[tokio::test]
async fn facts_with_unknown_types_fields_or_values_get_422_naming_what_is_allowed() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let run = app.create_run(&key, run_body("ada", 1, &["a"])).await;
    let run_id = run["run_id"].as_str().unwrap();
    let cases = [
        (json!([{"type": "run.exploded"}]), "unknown_event_type"),
        (
            json!([{"type": "run.created", "data": {}}]),
            "unknown_event_type",
        ),
        (
            json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "exploded"}}]),
            "invalid_body",
        ),
        (
            json!([{"type": "run.stage_updated", "data": {"stage": 1}}]),
            "invalid_body",
        ),
        (
            json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "completed", "extra": 1}}]),
            "invalid_body",
        ),
        (
            json!([{"type": "run.file_updated", "data": {"index": -1, "status": "failed"}}]),
            "invalid_body",
        ),
        (
            json!([{"type": "run.stage_updated", "data": {"stage": 9, "status": "completed"}}]),
            "invalid_input",
        ),
        (
            json!([{"type": "run.credits_deducted", "data": {"amount": -5}}]),
            "invalid_input",
        ),
        (
            json!([{"type": "run.credits_deducted", "data": {"amount": 0}}]),
            "invalid_input",
        ),
        (
            json!([{"type": "run.started", "schema_version": 99}]),
            "invalid_body",
        ),
        (json!([]), "invalid_input"),
        // A valid first fact does not survive an invalid second one.
        (
            json!([{"type": "run.started"}, {"type": "run.file_updated", "data": {"index": 5, "status": "failed"}}]),
            "invalid_input",
        ),
    ];
    let before = app.log_state().await;
    for (events, code) in cases {
        let reply = app.facts(&key, run_id, events.clone()).await;
        assert_eq!(reply.status, 422, "{events}: {:?}", reply.body);
        assert_eq!(reply.code(), code, "{events}");
    }
    let unknown = app
        .facts(&key, run_id, json!([{"type": "run.exploded"}]))
        .await;
    assert!(unknown.body["context"]["allowed"]
        .as_array()
        .unwrap()
        .contains(&json!("run.stage_updated")));
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn bad_ids_and_paths_get_400_or_404_never_500() {
    let app = spawn_app().await;
    let key = app.append_key("acme").await;
    let long = "x".repeat(5_000);
    let cases = [
        ("/v1/runs/not-a-uuid/retry".to_owned(), 400, "invalid_id"),
        (format!("/v1/runs/{long}/rerun"), 400, "invalid_id"),
        (
            "/v1/runs/00000000-0000-0000-0000-000000000000/retry".to_owned(),
            404,
            "run_not_found",
        ),
        ("/v1/runs/nope/whatever".to_owned(), 404, "route_not_found"),
        (
            format!("/v1/accounts/{long}/grants"),
            403,
            "insufficient_scope",
        ),
    ];
    for (path, status, code) in cases {
        let reply = app.post(&path, &key, json!({})).await;
        assert_eq!(reply.status, status, "{}", &path[..path.len().min(60)]);
        assert_eq!(reply.code(), code);
    }
    let long_tenant = app
        .post(
            &format!("/v1/accounts/{long}/grants"),
            ADMIN_KEY,
            json!({"bucket": "monthly", "amount": 1}),
        )
        .await;
    assert_eq!(
        (long_tenant.status.as_u16(), long_tenant.code()),
        (422, "invalid_input")
    );
    let nul = app
        .post(
            "/v1/runs",
            &key,
            json!({"owner_id": "ada", "inputs": {"text": "a\u{0}b"}}),
        )
        .await;
    assert_eq!((nul.status.as_u16(), nul.code()), (422, "invalid_input"));
    assert_eq!(app.log_state().await.1, 0);
}

/// Found by schemathesis: a NUL in `GET /v1/audit/verify?stream=` reached
/// PostgreSQL, which refuses such text, and answered 500. It names no
/// stream: an audit key verifies nothing, a tenant key sees no such stream.
#[tokio::test]
async fn a_stream_id_with_nul_in_verify_is_no_stream_not_a_server_error() {
    let app = spawn_app().await;
    let audit = app.key(None, &["audit"]).await;
    let read = app.key(Some("acme"), &["read"]).await;
    let path = "/v1/audit/verify?stream=9%00%C3%87";
    let verified = app.get(path, &audit).await;
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    assert_eq!(verified.body["events_checked"], 0);
    let tenant = app.get(path, &read).await;
    assert_eq!(
        (tenant.status.as_u16(), tenant.code()),
        (400, "invalid_query")
    );
}
