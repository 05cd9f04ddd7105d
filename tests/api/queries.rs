//! The query API over the read models (SPEC section 6, queries).

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::*;

fn position(reply: &Reply) -> u64 {
    reply.body["global_position"]
        .as_u64()
        .expect("a write answers with its position")
}

#[tokio::test]
async fn a_client_reads_its_own_writes_with_min_position() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let created = app
        .post("/v1/runs", &key, run_body("ada", 2, &["a", "b"]))
        .await;
    let run_id = created.body["run_id"].as_str().unwrap();
    let facts = app
        .facts(&key, run_id, json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "completed", "output": "# one"}}]))
        .await;
    let after = position(&facts);
    let reply = app
        .get(&format!("/v1/runs/{run_id}?min_position={after}"), &key)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let header: u64 = reply.headers["x-projection-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(header >= after);
    let run = &reply.body;
    assert_eq!(run["status"], "running");
    assert_eq!(run["current_stage"], 2);
    assert_eq!(run["stages"][0]["status"], "completed");
    assert_eq!(run["stages"][0]["output"], "# one");
    assert_eq!(run["files"][1]["status"], "pending");
    assert_eq!(run["document_name"], "report.pdf");
    assert_eq!(run["version"], 2);
    assert!(run["created_at"].is_string() && run["updated_at"].is_string());
    assert_eq!(run["completed_at"], json!(null));
}

#[tokio::test]
async fn paging_covers_every_run_once_newest_first_and_filters_apply() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let mut created = vec![];
    let mut last = 0;
    for i in 0..23 {
        let mut body = run_body(if i % 2 == 0 { "ada" } else { "bob" }, 0, &[]);
        body["project_id"] = json!(if i % 3 == 0 { "p1" } else { "p2" });
        body["inputs"] = json!({});
        let reply = app.post("/v1/runs", &key, body).await;
        last = position(&reply);
        created.push(reply.body["run_id"].as_str().unwrap().to_owned());
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/v1/runs?limit=5&min_position={last}"),
            Some(cursor) => format!("/v1/runs?limit=5&cursor={cursor}"),
        };
        let page = app.get(&path, &key).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        for run in page.body["runs"].as_array().unwrap() {
            seen.push(run["run_id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every run once, newest first");

    let ada = app.get("/v1/runs?owner_id=ada&limit=200", &key).await;
    assert_eq!(ada.body["runs"].as_array().unwrap().len(), 12);
    let p1 = app.get("/v1/runs?project_id=p1&limit=200", &key).await;
    assert_eq!(p1.body["runs"].as_array().unwrap().len(), 8);
    let queued = app.get("/v1/runs?status=queued&limit=200", &key).await;
    assert_eq!(queued.body["runs"].as_array().unwrap().len(), 23);
    let latest = app.get("/v1/projects/p2/runs/latest", &key).await;
    let newest_p2 = created
        .iter()
        .enumerate()
        .rev()
        .find(|(i, _)| i % 3 != 0)
        .unwrap()
        .1;
    assert_eq!(latest.body["run_id"], newest_p2.as_str());
    let none = app.get("/v1/projects/nope/runs/latest", &key).await;
    assert_eq!((none.status.as_u16(), none.code()), (404, "run_not_found"));
}

#[tokio::test]
async fn queries_are_scoped_to_the_keys_tenant_in_both_directions() {
    let app = spawn_app().await;
    let acme = app.key(Some("acme"), &["append", "read"]).await;
    let globex = app.key(Some("globex"), &["append", "read"]).await;
    let a = app.post("/v1/runs", &acme, run_body("ada", 0, &[])).await;
    let g = app.post("/v1/runs", &globex, run_body("bob", 0, &[])).await;
    app.grant("acme", "monthly", 5).await;
    let last = position(&app.grant("globex", "monthly", 7).await)
        .max(position(&g))
        .max(position(&a));
    for (key, own, other, own_tenant, other_tenant) in [
        (&acme, &a, &g, "acme", "globex"),
        (&globex, &g, &a, "globex", "acme"),
    ] {
        let own_id = own.body["run_id"].as_str().unwrap();
        let other_id = other.body["run_id"].as_str().unwrap();
        let list = app.get(&format!("/v1/runs?min_position={last}"), key).await;
        let ids: Vec<&str> = list.body["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["run_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [own_id]);
        let hidden = app.get(&format!("/v1/runs/{other_id}"), key).await;
        assert_eq!(
            (hidden.status.as_u16(), hidden.code()),
            (404, "run_not_found")
        );
        let hidden_lineage = app.get(&format!("/v1/runs/{other_id}/lineage"), key).await;
        assert_eq!(hidden_lineage.status, 404);
        for suffix in ["balance", "ledger"] {
            let foreign = app
                .get(&format!("/v1/accounts/{other_tenant}/{suffix}"), key)
                .await;
            assert_eq!(
                (foreign.status.as_u16(), foreign.code()),
                (404, "account_not_found")
            );
            let mine = app
                .get(
                    &format!("/v1/accounts/{own_tenant}/{suffix}?min_position={last}"),
                    key,
                )
                .await;
            assert_eq!(mine.status, 200);
        }
    }
    // An audit key reads every tenant.
    let audit = app.key(None, &["audit"]).await;
    let all = app
        .get(&format!("/v1/runs?min_position={last}"), &audit)
        .await;
    assert_eq!(all.body["runs"].as_array().unwrap().len(), 2);
    // An append-only key cannot read.
    let append_only = app.append_key("acme").await;
    assert_eq!(app.get("/v1/runs", &append_only).await.status, 403);
}

#[tokio::test]
async fn lineage_is_a_tree_with_credits_summed_over_it() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    app.grant("acme", "monthly", 100).await;
    let root = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let root_id = root.body["run_id"].as_str().unwrap().to_owned();
    let rerun = |of: String| {
        let app = &app;
        let key = key.clone();
        async move {
            app.post(&format!("/v1/runs/{of}/rerun"), &key, json!({}))
                .await
        }
    };
    let child_a = rerun(root_id.clone()).await;
    let child_b = rerun(root_id.clone()).await;
    let grandchild = rerun(child_a.body["run_id"].as_str().unwrap().to_owned()).await;
    let mut last = 0;
    for (run, amount) in [(&root, 3), (&child_a, 4), (&grandchild, 5)] {
        let reply = app
            .facts(
                &key,
                run.body["run_id"].as_str().unwrap(),
                json!([{"type": "run.credits_deducted", "data": {"amount": amount}}]),
            )
            .await;
        last = position(&reply);
    }
    let refund = app
        .facts(
            &key,
            &root_id,
            json!([{"type": "run.refunded", "data": {"amount": 1}}]),
        )
        .await;
    last = last.max(position(&refund));
    let grandchild_id = grandchild.body["run_id"].as_str().unwrap();
    let lineage = app
        .get(
            &format!("/v1/runs/{grandchild_id}/lineage?min_position={last}"),
            &key,
        )
        .await;
    assert_eq!(lineage.status, 200, "{:?}", lineage.body);
    let body = &lineage.body;
    assert_eq!(body["root"]["run_id"], root_id.as_str());
    assert_eq!(body["run_count"], 4);
    assert_eq!(body["credits_charged"], 12);
    assert_eq!(body["credits_refunded"], 1);
    let children: BTreeSet<&str> = body["root"]["reruns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        children,
        BTreeSet::from([
            child_a.body["run_id"].as_str().unwrap(),
            child_b.body["run_id"].as_str().unwrap()
        ])
    );
    let detail = app.get(&format!("/v1/runs/{root_id}"), &key).await;
    assert_eq!(detail.body["reruns"].as_array().unwrap().len(), 2);
    assert_eq!(detail.body["credits_charged"], 3);
    assert_eq!(detail.body["credits_refunded"], 1);
}

#[tokio::test]
async fn balance_and_ledger_follow_grants_charges_and_refunds() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    app.grant("acme", "monthly", 4).await;
    app.grant("acme", "purchased", 10).await;
    let run = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let run_id = run.body["run_id"].as_str().unwrap();
    app.facts(
        &key,
        run_id,
        json!([{"type": "run.credits_deducted", "data": {"amount": 6}}]),
    )
    .await;
    let refund = app
        .facts(
            &key,
            run_id,
            json!([{"type": "run.refunded", "data": {"amount": 2}}]),
        )
        .await;
    let last = position(&refund);
    let balance = app
        .get(
            &format!("/v1/accounts/acme/balance?min_position={last}"),
            &key,
        )
        .await;
    assert_eq!(
        balance.body,
        json!({"tenant_id": "acme", "monthly": 0, "purchased": 10, "total": 10, "consumed": 6, "refunded": 2})
    );
    let page = app.get("/v1/accounts/acme/ledger?limit=3", &key).await;
    let kinds: Vec<&str> = page.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "deduction", "grant"]);
    assert_eq!(page.body["entries"][1]["monthly"], 4);
    assert_eq!(page.body["entries"][1]["purchased"], 2);
    assert_eq!(page.body["entries"][1]["run_id"], run_id);
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/accounts/acme/ledger?cursor={next}"), &key)
        .await;
    assert_eq!(rest.body["entries"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], json!(null));
    let empty = app.key(Some("newco"), &["read"]).await;
    let zero = app.get("/v1/accounts/newco/balance", &empty).await;
    assert_eq!(zero.body["total"], 0);
}

#[tokio::test]
async fn projections_report_checkpoint_head_and_lag() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let reply = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let last = position(&reply);
    app.get(&format!("/v1/runs?min_position={last}"), &key)
        .await;
    let status = app.get("/v1/projections", &key).await;
    assert_eq!(status.status, 200);
    let projections = status.body["projections"].as_array().unwrap();
    let names: Vec<&str> = projections
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["credits", "run_history"]);
    let history = &projections[1];
    assert_eq!(history["checkpoint"], last);
    assert_eq!(history["head"], last);
    assert_eq!(history["lag_events"], 0);
    assert_eq!(history["state"], "caught_up");
    assert_eq!(history["last_error"], json!(null));
}

#[tokio::test]
async fn a_position_the_read_model_does_not_reach_in_time_is_503() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    // Hold the run-history projector: it cannot commit past its checkpoint.
    let hold = app.hold_projector("run_history").await;
    let reply = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let written = position(&reply);
    let reply = app
        .get(&format!("/v1/runs?min_position={written}"), &key)
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (503, "projection_lagging")
    );
    assert!(reply.headers.contains_key("retry-after"));
    hold.rollback().await.unwrap();
    let reply = app
        .get(&format!("/v1/runs?min_position={written}"), &key)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn a_min_position_beyond_the_log_head_is_400_at_once() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let reply = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let head = position(&reply);
    for path in [
        format!("/v1/runs?min_position={}", head + 1),
        "/v1/accounts/acme/balance?min_position=9223372036854775808".to_owned(),
    ] {
        let reply = app.get(&path, &key).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_query"),
            "{path}: refused, not waited for until 503"
        );
    }
}

#[tokio::test]
async fn bad_query_parameters_get_400() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["read"]).await;
    for path in [
        "/v1/runs?limit=201",
        "/v1/runs?limit=0",
        "/v1/runs?limit=-1",
        "/v1/runs?min_position=-5",
        "/v1/runs?unknown=1",
        "/v1/runs?status=exploded",
        "/v1/runs?cursor=abc",
        "/v1/runs?rerun_of=not-a-uuid",
        "/v1/accounts/acme/ledger?cursor=-3",
        "/v1/runs/00000000-0000-0000-0000-000000000000?extra=1",
    ] {
        let reply = app.get(path, &key).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_query"),
            "{path}"
        );
    }
    let not_uuid = app.get("/v1/runs/nope", &key).await;
    assert_eq!(
        (not_uuid.status.as_u16(), not_uuid.code()),
        (400, "invalid_id")
    );
}

/// Issue 15: the data a stage timeline needs, from the events' recorded times.
#[tokio::test]
async fn run_detail_has_the_times_of_the_run_and_its_stages_from_their_events() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let created = app
        .post("/v1/runs", &key, run_body("ada", 0, &["a", "b"]))
        .await;
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let queued = app
        .get(
            &format!("/v1/runs/{run_id}?min_position={}", position(&created)),
            &key,
        )
        .await;
    assert_eq!(queued.body["started_at"], json!(null));
    assert!(queued.body["stages"][0].get("started_at").is_none());

    for update in [
        json!({"stage": 1, "status": "processing"}),
        json!({"stage": 1, "status": "completed"}),
        json!({"stage": 2, "status": "completed", "output": "# done"}),
    ] {
        let reply = app
            .facts(
                &key,
                &run_id,
                json!([{"type": "run.stage_updated", "data": update}]),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let events = app.get(&format!("/v1/runs/{run_id}/events"), &key).await;
    let recorded = |event_type: &str, nth: usize| -> serde_json::Value {
        events.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["event_type"] == event_type)
            .nth(nth)
            .map(|event| event["recorded_at"].clone())
            .unwrap_or_else(|| panic!("no {event_type} #{nth}"))
    };
    let head = events.body["events"].as_array().unwrap().last().unwrap()["global_position"]
        .as_u64()
        .unwrap();
    let run = app
        .get(&format!("/v1/runs/{run_id}?min_position={head}"), &key)
        .await
        .body;
    let same_instant = |shown: &serde_json::Value, recorded: serde_json::Value| {
        let parse = |value: &serde_json::Value| {
            chrono::DateTime::parse_from_rfc3339(
                value.as_str().unwrap_or_else(|| panic!("{value}")),
            )
            .unwrap()
        };
        assert_eq!(parse(shown), parse(&recorded));
    };
    assert_eq!(run["status"], "completed");
    same_instant(&run["started_at"], recorded("run.started", 0));
    same_instant(&run["finished_at"], recorded("run.completed", 0));
    same_instant(
        &run["stages"][0]["started_at"],
        recorded("run.stage_updated", 0),
    );
    same_instant(
        &run["stages"][0]["completed_at"],
        recorded("run.stage_updated", 1),
    );
    same_instant(
        &run["stages"][1]["started_at"],
        recorded("run.stage_updated", 2),
    );
    same_instant(
        &run["stages"][1]["completed_at"],
        recorded("run.stage_updated", 2),
    );
    assert_eq!(run["finished_at"], run["completed_at"]);
}

/// Issue 15: `run.completed` takes `output` and `metrics`;
/// `run.metrics_updated` merges metrics into an active run.
#[tokio::test]
async fn run_output_and_metrics_are_reported_merged_and_read_back() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let created = app.post("/v1/runs", &key, run_body("ada", 0, &[])).await;
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let merged = app
        .facts(&key, &run_id, json!([
            {"type": "run.metrics_updated", "data": {"metrics": {"pages": 2, "tokens": {"in": 10}, "note": null}}},
            {"type": "run.metrics_updated", "data": {"metrics": {"cost_usd": 0.25}}}
        ]))
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(
        merged.body["run"]["status"], "queued",
        "metrics do not start a run"
    );
    assert_eq!(
        merged.body["run"]["metrics"],
        json!({"pages": 2, "tokens": {"in": 10}, "note": null, "cost_usd": 0.25})
    );
    let again = app
        .facts(
            &key,
            &run_id,
            json!([{"type": "run.metrics_updated", "data": {"metrics": {"pages": 2}}}]),
        )
        .await;
    assert!(
        again.body["appended"].as_array().unwrap().is_empty(),
        "{}",
        again.text
    );

    let output = json!({"summary": "## Q3\n2 pages", "items": [1, 2.5, "x"]});
    let done = app
        .facts(
            &key,
            &run_id,
            json!([
                {"type": "run.completed", "data": {"output": output, "metrics": {"pages": 3}}}
            ]),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let run = app
        .get(
            &format!("/v1/runs/{run_id}?min_position={}", position(&done)),
            &key,
        )
        .await
        .body;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["output"], output);
    assert_eq!(
        run["metrics"],
        json!({"pages": 3, "tokens": {"in": 10}, "note": null, "cost_usd": 0.25})
    );

    let before = app.log_state().await;
    let ended = app
        .facts(
            &key,
            &run_id,
            json!([{"type": "run.metrics_updated", "data": {"metrics": {"late": 1}}}]),
        )
        .await;
    assert_eq!((ended.status.as_u16(), ended.code()), (409, "run_terminal"));
    for bad in [
        json!({"metrics": [1, 2]}),
        json!({"metrics": "fast"}),
        json!({}),
        json!({"metrics": {}, "extra": 1}),
    ] {
        let refused = app
            .facts(
                &key,
                &run_id,
                json!([{"type": "run.metrics_updated", "data": bad}]),
            )
            .await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.text);
        assert_eq!(refused.code(), "invalid_body", "{bad}");
    }
    let bad_completion = app
        .facts(
            &key,
            &run_id,
            json!([{"type": "run.completed", "data": {"metrics": 7}}]),
        )
        .await;
    assert_eq!(bad_completion.status, 422, "{}", bad_completion.text);
    assert_eq!(app.log_state().await, before);
}

/// The node types of a plan that read the table whole or sort it, outside
/// its subplans (a page's list of each run's reruns is a subplan of its own).
fn scans_or_sorts(plan: &serde_json::Value, found: &mut Vec<String>) {
    let kind = plan["Node Type"].as_str().unwrap_or("");
    if kind == "Seq Scan" || kind.ends_with("Sort") {
        found.push(format!(
            "{kind} {}",
            plan["Relation Name"].as_str().unwrap_or("")
        ));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        if !matches!(
            child["Parent Relationship"].as_str(),
            Some("SubPlan" | "InitPlan")
        ) {
            scans_or_sorts(child, found);
        }
    }
}

/// Issue 16: every filter of `GET /v1/runs`, alone or combined, for a
/// tenant's key and for a key of every tenant, is served by an index that
/// also gives its newest-first order: with sequential scans and sorts
/// turned off, no plan has either.
#[tokio::test]
async fn every_run_list_filter_and_its_order_are_served_by_an_index() {
    use ledger_api::queries::RunListFilter;
    let app = spawn_app().await;
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    for setting in [
        "SET plan_cache_mode = force_generic_plan",
        "SET enable_seqscan = off",
        "SET enable_sort = off",
        "SET enable_incremental_sort = off",
    ] {
        sqlx::query(setting).execute(&mut *conn).await.unwrap();
    }
    let original = uuid::Uuid::new_v4();
    let mut unserved = Vec::new();
    for tenant_id in [Some("acme"), None] {
        for filters in 0..16u8 {
            let given = |bit: u8| filters & (1 << bit) != 0;
            let filter = RunListFilter {
                tenant_id,
                project_id: given(0).then_some("p1"),
                owner_id: given(1).then_some("ada"),
                status: given(2).then_some("running"),
                rerun_of: given(3).then_some(original),
            };
            // The generic plan of the prepared statement, which PostgreSQL
            // settles on after its first executions.
            sqlx::raw_sql(&format!(
                "DEALLOCATE ALL; PREPARE page AS {}",
                filter.statement(51)
            ))
            .execute(&mut *conn)
            .await
            .unwrap();
            let arguments: Vec<String> = filter
                .given()
                .iter()
                .map(|(_, value)| format!("'{value}'"))
                .chain([i64::MAX.to_string()])
                .collect();
            let plan: serde_json::Value = sqlx::Row::get(
                &sqlx::query(&format!(
                    "EXPLAIN (FORMAT JSON) EXECUTE page({})",
                    arguments.join(", ")
                ))
                .fetch_one(&mut *conn)
                .await
                .unwrap(),
                0,
            );
            let mut found = Vec::new();
            scans_or_sorts(&plan[0]["Plan"], &mut found);
            if !found.is_empty() {
                unserved.push(format!("{filter:?}: {found:?}"));
            }
            // The project index holds only runs with a project (migration
            // 0020): a tenant's project list must still be able to use it.
            if filters == 1 && tenant_id.is_some() {
                assert!(
                    plan.to_string().contains("runs_tenant_project_newest"),
                    "the project list does not use its index: {plan}"
                );
            }
        }
    }
    assert!(
        unserved.is_empty(),
        "no index serves:\n{}",
        unserved.join("\n")
    );
}

#[tokio::test]
async fn every_run_read_names_the_position_its_rows_are_at() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let mut first = run_body("ada", 0, &[]);
    first["project_id"] = json!("p1");
    let first = app.post("/v1/runs", &key, first).await;
    let projected = position(&first);
    let run_id = first.body["run_id"].as_str().unwrap().to_owned();
    let settled = app
        .get(&format!("/v1/runs?min_position={projected}"), &key)
        .await;
    assert_eq!(settled.status, 200, "{:?}", settled.body);
    let checkpoint = || async {
        let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
        let position: i64 = sqlx::query_scalar(
            "SELECT position FROM projection_checkpoints WHERE name = 'run_history'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        position as u64
    };
    // Wait for the whole log (the key's own events included) to be
    // projected, then hold the projector so a later write stays unseen.
    let head = app.event_count().await as u64;
    while checkpoint().await < head {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let hold = app.hold_projector("run_history").await;
    let mut unseen = run_body("ada", 0, &[]);
    unseen["project_id"] = json!("p1");
    let unseen = app.post("/v1/runs", &key, unseen).await;
    assert_eq!(unseen.status, 201, "{:?}", unseen.body);
    let at = checkpoint().await;
    assert!(at < position(&unseen));
    let header = |reply: &Reply| -> u64 {
        reply.headers["x-projection-position"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    for path in [
        format!("/v1/runs/{run_id}"),
        "/v1/runs".to_owned(),
        "/v1/runs?owner_id=nobody".to_owned(),
        "/v1/projects/p1/runs/latest".to_owned(),
    ] {
        let reply = app.get(&path, &key).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        assert_eq!(header(&reply), at, "{path}");
    }
    let latest = app.get("/v1/projects/p1/runs/latest", &key).await;
    assert_eq!(
        latest.body["run_id"],
        run_id.as_str(),
        "the unseen run is not shown"
    );
    let list = app.get("/v1/runs", &key).await;
    assert_eq!(list.body["runs"].as_array().unwrap().len(), 1);
    drop(hold);
}
