//! Every rule of SPEC section 3, through the HTTP API.

use serde_json::json;

use crate::helpers::*;

const T: &str = "acme";

fn id(body: &serde_json::Value) -> String {
    body["run_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn rule_1_create_answers_201_then_200_for_the_same_idempotency_key() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let mut body = run_body("ada", 2, &["parse", "score"]);
    body["idempotency_key"] = json!("proj:1:p1");
    body["project_id"] = json!("proj");
    body["inputs"] = json!({"hypothesis": "h"});
    let first = app.post("/v1/runs", &key, body.clone()).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.body["status"], "queued");
    assert_eq!(first.body["tenant_id"], T);
    assert_eq!(first.body["files"][1]["status"], "pending");
    assert_eq!(first.body["stages"][0]["number"], 1);
    assert!(first.body["global_position"].as_u64().unwrap() > 0);
    let before = app.log_state().await;
    let second = app.post("/v1/runs", &key, body).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["run_id"], first.body["run_id"]);
    assert_eq!(app.log_state().await, before, "nothing appended");
}

#[tokio::test]
async fn rule_1_a_project_run_without_inputs_is_recorded_as_failed_with_no_inputs() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = app
        .create_run(&key, json!({ "owner_id": "ada", "project_id": "proj" }))
        .await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["error"]["code"], "NO_INPUTS");
}

#[tokio::test]
async fn rule_1_out_of_range_values_are_refused_with_422() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let cases = [
        (
            json!({"owner_id": "ada", "max_retry_count": 0}),
            "max_retry_count",
        ),
        (
            json!({"owner_id": "ada", "max_retry_count": 11}),
            "max_retry_count",
        ),
        (
            json!({"owner_id": "ada", "max_retry_count": 4294967299i64}),
            "max_retry_count",
        ),
        (
            json!({"owner_id": "ada", "credits_per_file": -1}),
            "credits_per_file",
        ),
        (json!({"owner_id": ""}), "owner_id"),
        (json!({"owner_id": "x".repeat(201)}), "owner_id"),
    ];
    let before = app.log_state().await;
    for (body, field) in cases {
        let reply = app.post("/v1/runs", &key, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
        assert_eq!(reply.code(), "invalid_input", "{body}");
        assert_eq!(reply.body["context"]["field"], field, "{body}");
    }
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn rule_2_terminal_runs_accept_no_more_progress() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = id(&app.create_run(&key, run_body("ada", 1, &[])).await);
    let reply = app
        .facts(&key, &run, json!([{"type": "run.cancelled"}]))
        .await;
    assert_eq!(reply.body["run"]["status"], "cancelled");
    let before = app.log_state().await;
    for event in [
        json!({"type": "run.started"}),
        json!({"type": "run.file_updated", "data": {"index": 0, "status": "running"}}),
        json!({"type": "run.completed"}),
        json!({"type": "run.failed", "data": {"code": "X", "message": "m"}}),
    ] {
        let reply = app.facts(&key, &run, json!([event])).await;
        assert_eq!(reply.status, 409, "{event}");
        assert_eq!(reply.code(), "run_terminal");
    }
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn rule_3_the_last_stage_completes_the_run_and_a_failed_stage_fails_it() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = id(&app.create_run(&key, run_body("ada", 0, &["a", "b"])).await);
    let reply = app
        .facts(
            &key,
            &run,
            json!([
                {"type": "run.stage_updated", "data": {"stage": 1, "status": "processing"}},
                {"type": "run.stage_updated", "data": {"stage": 1, "status": "completed", "output": {"k": 1}}},
                {"type": "run.stage_updated", "data": {"stage": 2, "status": "completed", "output": "# done"}}
            ]),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["run"]["status"], "completed");
    let types: Vec<&str> = reply.body["appended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 5, "started, three updates, completed");

    let other = id(&app.create_run(&key, run_body("ada", 0, &["a", "b"])).await);
    let failed = app
        .facts(&key, &other, json!([{"type": "run.stage_updated", "data": {"stage": 2, "status": "failed", "error": "timeout"}}]))
        .await;
    assert_eq!(failed.body["run"]["status"], "failed");
    assert_eq!(failed.body["run"]["error"]["code"], "STAGE_FAILED");
}

#[tokio::test]
async fn rule_3_the_same_stage_status_twice_appends_nothing() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = id(&app.create_run(&key, run_body("ada", 0, &["a", "b"])).await);
    let update =
        json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "processing"}}]);
    app.facts(&key, &run, update.clone()).await;
    let before = app.log_state().await;
    let again = app.facts(&key, &run, update).await;
    assert_eq!(again.status, 200);
    assert!(again.body["appended"].as_array().unwrap().is_empty());
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn rule_4_files_finishing_with_failures_complete_the_run_with_errors() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = id(&app.create_run(&key, run_body("ada", 3, &[])).await);
    let reply = finish_files(&app, &key, &run, 3, 1).await;
    assert_eq!(reply.body["run"]["status"], "completed_with_errors");
    let clean = id(&app.create_run(&key, run_body("ada", 2, &[])).await);
    let reply = finish_files(&app, &key, &clean, 2, 0).await;
    assert_eq!(reply.body["run"]["status"], "completed");
}

#[tokio::test]
async fn rule_5_the_owner_reruns_and_the_original_does_not_change() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let original = id(&app.create_run(&key, run_body("ada", 1, &["a"])).await);
    finish_files(&app, &key, &original, 1, 1).await;
    let before = app.log_state().await;
    let reply = app
        .post_as(
            &format!("/v1/runs/{original}/rerun"),
            &key,
            "ada",
            false,
            json!(null),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["rerun_of"], original.as_str());
    assert_eq!(reply.body["document_name"], "report.pdf (rerun)");
    assert_eq!(reply.body["document_url"], "https://blob/report.pdf");
    assert_eq!(reply.body["company_name"], "Lactalis");
    assert_eq!(reply.body["status"], "queued");
    assert_ne!(reply.body["run_id"], original.as_str());
    let after = app.log_state().await;
    let original_stream = format!("run-{original}");
    let version = |state: &(Vec<(String, i64)>, i64)| {
        state
            .0
            .iter()
            .find(|(s, _)| *s == original_stream)
            .unwrap()
            .1
    };
    assert_eq!(version(&after), version(&before), "original untouched");
}

#[tokio::test]
async fn rule_5_only_the_owner_or_a_tenant_admin_may_rerun() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let run = id(&app.create_run(&key, run_body("ada", 0, &[])).await);
    let path = format!("/v1/runs/{run}/rerun");
    let mallory = app.post_as(&path, &key, "mallory", false, json!({})).await;
    assert_eq!(mallory.status, 403);
    assert_eq!(mallory.code(), "forbidden");
    let admin = app.post_as(&path, &key, "boss", true, json!({})).await;
    assert_eq!(admin.status, 201);
}

#[tokio::test]
async fn rule_6_retry_failed_refusals_have_their_status_and_code() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 100).await;
    let retry = |run: &str| format!("/v1/runs/{run}/retry-failed");

    let running = id(&app.create_run(&key, run_body("ada", 2, &[])).await);
    app.facts(&key, &running, json!([{"type": "run.started"}]))
        .await;
    let clean = id(&app.create_run(&key, run_body("ada", 1, &[])).await);
    finish_files(&app, &key, &clean, 1, 0).await;
    let only_errors = id(&app.create_run(&key, run_body("ada", 1, &[])).await);
    app.facts(
        &key,
        &only_errors,
        json!([{"type": "run.file_updated", "data": {"index": 0, "status": "error"}}]),
    )
    .await;
    let mut limited_body = run_body("ada", 1, &[]);
    limited_body["max_retry_count"] = json!(1);
    let limited = id(&app.create_run(&key, limited_body).await);
    finish_files(&app, &key, &limited, 1, 1).await;
    assert_eq!(
        app.post(&retry(&limited), &key, json!({})).await.status,
        200
    );
    finish_files(&app, &key, &limited, 1, 1).await;

    let before = app.log_state().await;
    for (run, status, code) in [
        (&running, 409, "run_running"),
        (&clean, 400, "nothing_to_retry"),
        (&only_errors, 400, "nothing_to_retry"),
        (&limited, 400, "max_retries_reached"),
    ] {
        let reply = app.post(&retry(run), &key, json!({})).await;
        assert_eq!(reply.status, status, "{code}: {:?}", reply.body);
        assert_eq!(reply.code(), code);
    }
    assert_eq!(app.log_state().await, before, "refusals append nothing");
}

#[tokio::test]
async fn rule_6_retry_failed_charges_failed_files_returns_job_ids_and_restarts_the_run() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 3).await;
    app.grant(T, "purchased", 10).await;
    let mut body = run_body("ada", 4, &[]);
    body["credits_per_file"] = json!(2);
    let run = id(&app.create_run(&key, body).await);
    // Files 0 and 1 fail, 2 completes, 3 stays pending; then the run is failed.
    app.facts(
        &key,
        &run,
        json!([
            {"type": "run.file_updated", "data": {"index": 0, "status": "failed"}},
            {"type": "run.file_updated", "data": {"index": 1, "status": "failed"}},
            {"type": "run.file_updated", "data": {"index": 2, "status": "completed"}},
            {"type": "run.failed", "data": {"code": "WORKER_LOST", "message": "crashed"}}
        ]),
    )
    .await;
    let reply = app
        .post_as(
            &format!("/v1/runs/{run}/retry-failed"),
            &key,
            "ada",
            false,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["credits_charged"], 4,
        "two failed files, pending is free"
    );
    assert_eq!(
        reply.body["job_ids"],
        json!([
            format!("{run}:file:0"),
            format!("{run}:file:1"),
            format!("{run}:file:3")
        ])
    );
    assert_eq!(reply.body["run"]["status"], "running");
    assert_eq!(reply.body["run"]["files"][0]["retry_attempt"], 1);
    assert_eq!(reply.body["run"]["files"][2]["retry_attempt"], 0);
    assert_eq!(reply.body["run"]["credits_charged"], 4);
    let balance = app.grant(T, "monthly", 1).await;
    assert_eq!(
        balance.body["monthly"], 1,
        "3 monthly spent first, then 1 purchased"
    );
    assert_eq!(balance.body["purchased"], 9);
}

#[tokio::test]
async fn rule_6_without_credits_for_the_whole_charge_it_is_402_and_nothing_is_charged() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 1).await;
    let run = id(&app.create_run(&key, run_body("ada", 2, &[])).await);
    finish_files(&app, &key, &run, 2, 2).await;
    let before = app.log_state().await;
    let reply = app
        .post(&format!("/v1/runs/{run}/retry-failed"), &key, json!({}))
        .await;
    assert_eq!(reply.status, 402);
    assert_eq!(reply.code(), "insufficient_credits");
    assert_eq!(reply.body["context"]["required"], 2);
    assert_eq!(app.log_state().await, before);
}

#[tokio::test]
async fn rule_7_a_failed_run_is_retried_to_queued_and_other_runs_are_refused() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    let mut body = run_body("ada", 0, &["task"]);
    body["max_retry_count"] = json!(1);
    let run = id(&app.create_run(&key, body).await);
    let path = format!("/v1/runs/{run}/retry");
    let not_failed = app.post(&path, &key, json!({})).await;
    assert_eq!(
        (not_failed.status.as_u16(), not_failed.code()),
        (409, "run_not_failed")
    );
    app.facts(
        &key,
        &run,
        json!([{"type": "run.failed", "data": {"code": "OOM", "message": "m"}}]),
    )
    .await;
    let retried = app.post(&path, &key, json!({})).await;
    assert_eq!(retried.status, 200);
    assert_eq!(retried.body["status"], "queued");
    assert_eq!(retried.body["error"], json!(null));
    assert_eq!(retried.body["retry_count"], 1);
    app.facts(
        &key,
        &run,
        json!([{"type": "run.failed", "data": {"code": "OOM", "message": "m"}}]),
    )
    .await;
    let exhausted = app.post(&path, &key, json!({})).await;
    assert_eq!(
        (exhausted.status.as_u16(), exhausted.code()),
        (400, "max_retries_reached")
    );
}

#[tokio::test]
async fn rule_8_refunds_never_exceed_the_charge_and_return_to_their_buckets() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 2).await;
    app.grant(T, "purchased", 5).await;
    let run = id(&app.create_run(&key, run_body("ada", 0, &[])).await);
    let charged = app
        .facts(
            &key,
            &run,
            json!([{"type": "run.credits_deducted", "data": {"amount": 4}}]),
        )
        .await;
    assert_eq!(charged.status, 200);
    let streams: Vec<&str> = charged.body["appended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(streams, [format!("run-{run}"), format!("account-{T}")]);
    let before = app.log_state().await;
    let too_much = app
        .facts(
            &key,
            &run,
            json!([{"type": "run.refunded", "data": {"amount": 5}}]),
        )
        .await;
    assert_eq!(
        (too_much.status.as_u16(), too_much.code()),
        (400, "refund_exceeds_charge")
    );
    assert_eq!(app.log_state().await, before);
    let refunded = app
        .facts(
            &key,
            &run,
            json!([{"type": "run.refunded", "data": {"amount": 3, "reason": "crash"}}]),
        )
        .await;
    assert_eq!(refunded.body["run"]["credits_refunded"], 3);
    let balance = app.grant(T, "monthly", 1).await;
    // Charged 2 monthly + 2 purchased; refunded 2 purchased then 1 monthly.
    assert_eq!(
        (
            balance.body["monthly"].as_i64(),
            balance.body["purchased"].as_i64()
        ),
        (Some(2), Some(5))
    );
}

#[tokio::test]
async fn rule_9_a_charge_beyond_the_balance_is_402_and_the_balance_stays() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 3).await;
    let run = id(&app.create_run(&key, run_body("ada", 0, &[])).await);
    let reply = app
        .facts(
            &key,
            &run,
            json!([{"type": "run.credits_deducted", "data": {"amount": 4}}]),
        )
        .await;
    assert_eq!(reply.status, 402);
    let balance = app.grant(T, "purchased", 1).await;
    assert_eq!(balance.body["total"], 4);
}

#[tokio::test]
async fn rule_10_twenty_parallel_retries_against_credits_for_ten_charge_exactly_ten() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 10).await;
    let mut runs = vec![];
    for _ in 0..20 {
        let run = id(&app.create_run(&key, run_body("ada", 1, &[])).await);
        finish_files(&app, &key, &run, 1, 1).await;
        runs.push(run);
    }
    let paths: Vec<String> = runs
        .iter()
        .map(|run| format!("/v1/runs/{run}/retry-failed"))
        .collect();
    let retries = paths.iter().map(|path| app.post(path, &key, json!({})));
    let replies = futures::future::join_all(retries).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies.iter().filter(|r| r.status == 402).count();
    assert_eq!(
        (ok, refused),
        (10, 10),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let balance = app.grant(T, "monthly", 1).await;
    assert_eq!(balance.body["total"], 1, "ended at 0 before this grant");
    assert_eq!(balance.body["consumed"], 10);
}

#[tokio::test]
async fn rule_10_thirty_parallel_retry_failed_on_one_run_charge_once() {
    let app = spawn_app().await;
    let key = app.append_key(T).await;
    app.grant(T, "monthly", 100).await;
    let run = id(&app.create_run(&key, run_body("ada", 3, &[])).await);
    finish_files(&app, &key, &run, 3, 2).await;
    let path = format!("/v1/runs/{run}/retry-failed");
    let replies =
        futures::future::join_all((0..30).map(|_| app.post(&path, &key, json!({})))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        29,
        "{statuses:?}"
    );
    let balance = app.grant(T, "monthly", 1).await;
    assert_eq!(balance.body["consumed"], 2, "charged once");
}
