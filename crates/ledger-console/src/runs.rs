//! The runs: the list with its filters, a run with its timeline, files,
//! lineage and raw events, a project's runs, and the actions on a run.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::session::{check_form, Session};
use crate::views::{
    duration, json_block, layout, parse_time, query, refusal, status, text, time, url, Notice,
};
use crate::Console;

/// Runs a page of the list shows.
const PAGE_SIZE: &str = "25";

/// What the list is filtered by, and where a page starts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RunFilter {
    status: Option<String>,
    project_id: Option<String>,
    owner_id: Option<String>,
    rerun_of: Option<String>,
    cursor: Option<String>,
}

impl RunFilter {
    fn pairs(&self) -> [(&'static str, Option<&str>); 4] {
        [
            ("status", self.status.as_deref()),
            ("project_id", self.project_id.as_deref()),
            ("owner_id", self.owner_id.as_deref()),
            ("rerun_of", self.rerun_of.as_deref()),
        ]
    }
}

/// What a page says after a redirect: `notice` names an outcome,
/// `refused` an API problem code, `after` the position the action wrote
/// (the page reads at least that far).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AfterAction {
    notice: Option<String>,
    refused: Option<String>,
    after: Option<String>,
}

impl AfterAction {
    /// What the page says about the action.
    pub fn notice(&self) -> Option<Notice> {
        match (&self.refused, &self.notice) {
            (Some(code), _) => Some(Notice::refused(code)),
            (None, Some(name)) => Notice::named(name),
            (None, None) => None,
        }
    }

    fn min_position(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

/// `GET /console/runs`: the runs the key sees, newest first.
pub(crate) async fn list(
    State(console): State<Console>,
    session: Session,
    Query(filter): Query<RunFilter>,
) -> Response {
    let mut pairs = filter.pairs().to_vec();
    pairs.push(("cursor", filter.cursor.as_deref()));
    pairs.push(("limit", Some(PAGE_SIZE)));
    let answer = console
        .api
        .get(&session, format!("/v1/runs{}", query(&pairs)))
        .await;
    let position = answer.position.unwrap_or(0);
    let (runs, next, notice) = match answer.ok() {
        Ok(page) => (page["runs"].clone(), page["next_cursor"].clone(), None),
        Err(code) => (Value::Null, Value::Null, Some(Notice::refused(&code))),
    };
    let status_filter = filter.status.as_deref().unwrap_or("");
    let body = html! {
        h1 { "Runs" }
        form.filters method="get" action="/console/runs" role="search" {
            label for="status" { "Status" }
            select #status name="status" {
                option value="" selected[status_filter.is_empty()] { "Any" }
                @for choice in ["queued", "running", "completed", "completed_with_errors", "failed", "cancelled"] {
                    option value=(choice) selected[status_filter == choice] { (choice.replace('_', " ")) }
                }
            }
            label for="project_id" { "Project" }
            input #project_id name="project_id" value=(filter.project_id.as_deref().unwrap_or(""));
            label for="owner_id" { "Owner" }
            input #owner_id name="owner_id" value=(filter.owner_id.as_deref().unwrap_or(""));
            label for="rerun_of" { "Rerun of" }
            input #rerun_of name="rerun_of" value=(filter.rerun_of.as_deref().unwrap_or("")) placeholder="run id";
            button type="submit" { "Filter" }
        }
        section #live data-live="feed" data-after=(position) data-events=(run_event_types()) {
            (run_table(&runs))
            @if let Some(cursor) = next.as_str() {
                @let pairs: Vec<_> = filter.pairs().into_iter().chain([("cursor", Some(cursor))]).collect();
                p { a.more href={ "/console/runs" (query(&pairs)) } { "Older runs" } }
            }
        }
    };
    layout("Runs", Some(&session), notice.as_ref(), body).into_response()
}

/// The run event types, space-separated: what a live list follows.
fn run_event_types() -> &'static str {
    static TYPES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        ledger_api::schema::event_types()
            .into_iter()
            .filter(|event_type| event_type.starts_with("run."))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The table of a page of runs.
fn run_table(runs: &Value) -> Markup {
    let empty = Vec::new();
    let runs = runs.as_array().unwrap_or(&empty);
    html! {
        @if runs.is_empty() {
            p.empty { "No runs." }
        } @else {
            div.scroll {
                table.runs {
                    thead { tr {
                        th scope="col" { "Document" } th scope="col" { "Company" } th scope="col" { "Status" }
                        th scope="col" { "Stage" } th scope="col" { "Files" } th scope="col" { "Credits" }
                        th scope="col" { "Created" } th scope="col" { "Duration" }
                    } }
                    tbody {
                        @for run in runs {
                            tr data-run=(run["run_id"].as_str().unwrap_or("")) {
                                td { a href={ "/console/runs/" (run["run_id"].as_str().unwrap_or("")) } { (document_name(run)) } }
                                td { (text(&run["company_name"])) }
                                td { (status(&run["status"])) }
                                td { (current_stage(run)) }
                                td { (files_summary(run)) }
                                td { (credits(run)) }
                                td { (time(&run["created_at"])) }
                                td { (run_duration(run)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn document_name(run: &Value) -> String {
    run["document_name"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Run {}", run["run_id"].as_str().unwrap_or("")))
}

fn current_stage(run: &Value) -> Markup {
    let stages = run["stages"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let current = run["current_stage"].as_u64().unwrap_or(0) as usize;
    match stages.get(current.wrapping_sub(1)) {
        Some(stage) => html! { (current) "/" (stages.len()) " " (text(&stage["name"])) },
        None => html! { "—" },
    }
}

fn files_summary(run: &Value) -> Markup {
    let files = run["files"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if files.is_empty() {
        return html! { "—" };
    }
    let count = |statuses: &[&str]| {
        files
            .iter()
            .filter(|file| statuses.contains(&file["status"].as_str().unwrap_or("")))
            .count()
    };
    let failed = count(&["failed", "error"]);
    html! {
        (count(&["completed"])) "/" (files.len()) " done"
        @if failed > 0 { ", " span.bad-text { (failed) " failed" } }
    }
}

fn credits(run: &Value) -> Markup {
    let charged = run["credits_charged"].as_i64().unwrap_or(0);
    let refunded = run["credits_refunded"].as_i64().unwrap_or(0);
    html! {
        (charged)
        @if refunded > 0 { " (" (refunded) " refunded)" }
    }
}

fn run_duration(run: &Value) -> String {
    match (
        parse_time(&run["started_at"]),
        parse_time(&run["finished_at"]),
    ) {
        (Some(started), Some(finished)) => duration(started, finished),
        (Some(started), None) => format!("{} so far", duration(started, Utc::now())),
        _ => "—".to_owned(),
    }
}

/// `GET /console/runs/{id}`: one run, all of it.
pub(crate) async fn detail(
    State(console): State<Console>,
    session: Session,
    Path(run_id): Path<String>,
    Query(after): Query<AfterAction>,
) -> Response {
    let at = query(&[("min_position", after.min_position())]);
    let run = console
        .api
        .get(&session, format!("/v1/runs/{}{at}", encode(&run_id)))
        .await;
    let run = match run.ok() {
        Ok(run) => run,
        Err(code) => return not_shown(&session, &code),
    };
    let id = encode(&run_id);
    let (lineage, events, chain) = tokio::join!(
        console
            .api
            .get(&session, format!("/v1/runs/{id}/lineage{at}")),
        console.api.get(&session, format!("/v1/runs/{id}/events")),
        console
            .api
            .get(&session, format!("/v1/audit/verify?stream=run-{id}")),
    );
    let live = matches!(run["status"].as_str(), Some("queued" | "running"));
    let body = html! {
        div data-live=[live.then_some("run")] data-run=(run_id) {
            (run_header(&run))
            (actions(&session, &run))
            (run_facts(&run))
            (stages(&run))
            (files(&run))
            (failure(&run))
            (output(&run))
            (lineage_tree(&lineage.body, &run_id))
            (raw_events(&events.body, &chain.body))
        }
    };
    layout(
        &document_name(&run),
        Some(&session),
        after.notice().as_ref(),
        body,
    )
    .into_response()
}

/// A run the key may not see is not found, as the API says.
fn not_shown(session: &Session, code: &str) -> Response {
    let (status, message) = match code {
        "run_not_found" | "invalid_id" => (StatusCode::NOT_FOUND, "Run not found"),
        _ => (
            StatusCode::BAD_GATEWAY,
            "The ledger could not show this run",
        ),
    };
    refusal(status, message, Some(session), message)
}

/// A path segment, percent-encoded (a space as `%20`: form encoding's `+`
/// would stay a `+` in a path).
pub(crate) fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn run_header(run: &Value) -> Markup {
    html! {
        h1 { (document_name(run)) }
        p.subtitle {
            (status(&run["status"]))
            " run " code { (text(&run["run_id"])) }
        }
    }
}

fn run_facts(run: &Value) -> Markup {
    let project = run["project_id"].as_str();
    html! {
        dl.facts {
            dt { "Document" } dd { (text(&run["document_name"])) br; (url(&run["document_url"])) }
            dt { "Company" } dd { (text(&run["company_name"])) " " span.muted { (text(&run["company_id"])) } }
            dt { "Owner" } dd { (text(&run["owner_id"])) }
            dt { "Project" } dd {
                @match project {
                    Some(project) => a href={ "/console/projects/" (encode(project)) } { (project) },
                    None => "—",
                }
            }
            dt { "Pipeline version" } dd { (text(&run["pipeline_version"])) }
            dt { "Input version" } dd { (text(&run["input_version"])) }
            dt { "Credits charged" } dd { (run["credits_charged"].as_i64().unwrap_or(0)) }
            dt { "Credits refunded" } dd { (run["credits_refunded"].as_i64().unwrap_or(0)) }
            dt { "Retries" } dd { (run["retry_count"].as_u64().unwrap_or(0)) " of " (run["max_retry_count"].as_u64().unwrap_or(0)) }
            dt { "Created" } dd { (time(&run["created_at"])) }
            dt { "Started" } dd { (time(&run["started_at"])) }
            dt { "Finished" } dd { (time(&run["finished_at"])) }
            dt { "Duration" } dd { (run_duration(run)) }
            @if let Some(original) = run["rerun_of"].as_str() {
                dt { "Rerun of" } dd { a href={ "/console/runs/" (original) } { (original) } }
            }
        }
    }
}

/// The stages: a timeline drawn to scale (an SVG, so no inline style is
/// needed) and a table with each stage's times.
fn stages(run: &Value) -> Markup {
    let stages = run["stages"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if stages.is_empty() {
        return html! {};
    }
    let now = Utc::now();
    let spans: Vec<_> = stages
        .iter()
        .map(|stage| {
            let start = parse_time(&stage["started_at"]);
            let end = parse_time(&stage["completed_at"]).or(start.map(|_| now));
            (start, end)
        })
        .collect();
    let origin = spans
        .iter()
        .filter_map(|(start, _)| *start)
        .chain(parse_time(&run["started_at"]))
        .min();
    let last = spans.iter().filter_map(|(_, end)| *end).max();
    let total = match (origin, last) {
        (Some(origin), Some(last)) => (last - origin).num_milliseconds().max(1) as f64,
        _ => 1.0,
    };
    let row_height = 28;
    let height = row_height * stages.len();
    html! {
        section {
            h2 { "Stages" }
            @if let Some(origin) = origin {
                svg.timeline role="img" aria-label="Stage timeline, drawn to scale"
                    viewBox={ "0 0 1000 " (height) } preserveAspectRatio="none" {
                    @for (index, ((start, end), stage)) in spans.iter().zip(stages).enumerate() {
                        @if let (Some(start), Some(end)) = (start, end) {
                            @let x = (*start - origin).num_milliseconds() as f64 / total * 1000.0;
                            @let width = ((*end - *start).num_milliseconds() as f64 / total * 1000.0).max(4.0);
                            rect class={ "bar " (stage["status"].as_str().unwrap_or("")) }
                                x=(format!("{x:.1}")) y=(index * row_height + 4)
                                width=(format!("{width:.1}")) height=(row_height - 8) {
                                title { (text(&stage["name"])) ": " (duration(*start, *end)) }
                            }
                        }
                    }
                }
            }
            div.scroll {
                table.stages {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Stage" } th scope="col" { "Status" }
                        th scope="col" { "Started" } th scope="col" { "Ended" } th scope="col" { "Duration" }
                        th scope="col" { "Error" }
                    } }
                    tbody {
                        @for ((start, end), stage) in spans.iter().zip(stages) {
                            tr {
                                td { (stage["number"].as_u64().unwrap_or(0)) }
                                td { (text(&stage["name"])) }
                                td { (status(&stage["status"])) }
                                td { (time(&stage["started_at"])) }
                                td { (time(&stage["completed_at"])) }
                                td { @if let (Some(start), Some(end)) = (start, end) { (duration(*start, *end)) } @else { "—" } }
                                td { (text(&stage["error"])) }
                            }
                            @if !stage["output"].is_null() {
                                tr.output { td colspan="7" {
                                    details { summary { "Output of " (text(&stage["name"])) } (json_block(&stage["output"])) }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn files(run: &Value) -> Markup {
    let files = run["files"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if files.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "Files" }
            div.scroll {
                table.files {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "File" } th scope="col" { "Status" }
                        th scope="col" { "Retry attempt" } th scope="col" { "Error" }
                    } }
                    tbody {
                        @for file in files {
                            tr {
                                td { (file["index"].as_u64().unwrap_or(0)) }
                                td { (text(&file["name"])) }
                                td { (status(&file["status"])) }
                                td { (file["retry_attempt"].as_u64().unwrap_or(0)) }
                                td { (text(&file["error"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn failure(run: &Value) -> Markup {
    let error = &run["error"];
    if error.is_null() {
        return html! {};
    }
    html! {
        section.failure {
            h2 { "Failure" }
            p { code { (text(&error["code"])) } " " (text(&error["message"])) }
            @if !error["detail"].is_null() { (json_block(&error["detail"])) }
        }
    }
}

fn output(run: &Value) -> Markup {
    let has_metrics = run["metrics"].as_object().is_some_and(|m| !m.is_empty());
    if run["output"].is_null() && !has_metrics {
        return html! {};
    }
    html! {
        section {
            h2 { "Output" }
            @if !run["output"].is_null() { (json_block(&run["output"])) }
            @if has_metrics {
                h3 { "Metrics" }
                dl.facts {
                    @for (name, value) in run["metrics"].as_object().into_iter().flatten() {
                        dt { (name) } dd { (text(value)) }
                    }
                }
            }
        }
    }
}

fn lineage_tree(lineage: &Value, current: &str) -> Markup {
    if lineage.is_null() || lineage["run_count"].as_u64().unwrap_or(0) < 2 {
        return html! {};
    }
    fn node(run: &Value, current: &str) -> Markup {
        let id = run["run_id"].as_str().unwrap_or("");
        html! {
            li {
                @if id == current {
                    strong aria-current="page" { "This run" }
                } @else {
                    a href={ "/console/runs/" (id) } { (id) }
                }
                " " (status(&run["status"]))
                " · " (run["credits_charged"].as_i64().unwrap_or(0)) " credits"
                @let reruns = run["reruns"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                @if !reruns.is_empty() {
                    ul { @for rerun in reruns { (node(rerun, current)) } }
                }
            }
        }
    }
    html! {
        section {
            h2 { "Lineage" }
            p {
                (lineage["run_count"].as_u64().unwrap_or(0)) " runs, "
                (lineage["credits_charged"].as_i64().unwrap_or(0)) " credits charged, "
                (lineage["credits_refunded"].as_i64().unwrap_or(0)) " refunded over the lineage"
            }
            ul.lineage { (node(&lineage["root"], current)) }
        }
    }
}

fn raw_events(events: &Value, chain: &Value) -> Markup {
    let empty = Vec::new();
    let events = events["events"].as_array().unwrap_or(&empty);
    html! {
        section {
            h2 { "Events" }
            @if chain["ok"] == Value::Bool(true) {
                p.chain.ok-text role="note" { "Hash chain verified: " (chain["events_checked"].as_u64().unwrap_or(0)) " events." }
            } @else if chain["ok"] == Value::Bool(false) {
                p.chain.bad-text role="note" {
                    "Hash chain broken at version " (chain["first_bad"]["stream_version"].as_u64().unwrap_or(0))
                    ": " (text(&chain["first_bad"]["reason"]))
                }
            }
            details {
                summary { (events.len()) " events with their hashes" }
                div.scroll {
                    table.events {
                        thead { tr {
                            th scope="col" { "Version" } th scope="col" { "Position" } th scope="col" { "Type" }
                            th scope="col" { "Recorded" } th scope="col" { "Actor" } th scope="col" { "Hash" }
                        } }
                        tbody {
                            @for event in events {
                                tr {
                                    td { (event["stream_version"].as_u64().unwrap_or(0)) }
                                    td { (event["global_position"].as_u64().unwrap_or(0)) }
                                    td { code { (text(&event["event_type"])) } }
                                    td { (time(&event["recorded_at"])) }
                                    td { (text(&event["metadata"]["actor_id"])) }
                                    td { code.hash title={ "previous: " (event["prev_hash"].as_str().unwrap_or("")) } { (text(&event["hash"])) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The actions the run allows this person, each behind a dialog.
fn actions(session: &Session, run: &Value) -> Markup {
    let state = run["status"].as_str().unwrap_or("");
    let ended = !matches!(state, "queued" | "running");
    let may_act = session.is_admin() || run["owner_id"].as_str() == Some(&session.actor_id);
    let files = run["files"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let retryable_files = files
        .iter()
        .any(|file| matches!(file["status"].as_str(), Some("failed" | "pending")));
    let retries_left =
        run["retry_count"].as_u64().unwrap_or(0) < run["max_retry_count"].as_u64().unwrap_or(0);
    let offered: Vec<(&str, &str, &str)> = [
        (
            ended,
            "rerun",
            "Rerun",
            "A new run with the same document and inputs; this run stays as it is.",
        ),
        (
            ended && state != "completed" && retryable_files,
            "retry-failed",
            "Retry failed files",
            "Failed and pending files run again; each failed file is charged its credits.",
        ),
        (
            state == "failed" && retries_left,
            "retry",
            "Retry run",
            "The whole run goes back to the queue.",
        ),
    ]
    .into_iter()
    .filter(|(allowed, ..)| *allowed && may_act)
    .map(|(_, action, label, explanation)| (action, label, explanation))
    .collect();
    if offered.is_empty() {
        return html! {};
    }
    let run_id = run["run_id"].as_str().unwrap_or("");
    html! {
        div.actions {
            @for (action, label, explanation) in &offered {
                button type="button" data-opens={ "confirm-" (action) } { (label) }
                dialog id={ "confirm-" (action) } aria-labelledby={ "confirm-" (action) "-title" } {
                    h2 id={ "confirm-" (action) "-title" } { (label) "?" }
                    p { (explanation) }
                    form method="post" action={ "/console/runs/" (run_id) "/" (action) } {
                        input type="hidden" name="csrf" value=(session.csrf_token);
                        input type="hidden" name="nonce" value=(uuid::Uuid::new_v4());
                        button type="submit" { "Confirm" }
                        button type="button" data-closes { "Cancel" }
                    }
                }
            }
        }
    }
}

/// An action's form: the session's CSRF token, and a nonce that makes it
/// one command however often it is sent (its `Idempotency-Key`).
#[derive(Debug, Deserialize)]
pub(crate) struct ActionForm {
    csrf: String,
    nonce: String,
}

/// `POST /console/runs/{id}/{action}`: rerun, retry-failed or retry.
pub(crate) async fn act(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    Path((run_id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&session, &headers, &form.csrf) {
        return refused.into_response();
    }
    if !matches!(action.as_str(), "rerun" | "retry-failed" | "retry") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let id = encode(&run_id);
    let answer = console
        .api
        .post(
            &session,
            format!("/v1/runs/{id}/{action}"),
            None,
            Some(&form.nonce),
        )
        .await;
    let position = answer.body["global_position"].as_u64();
    let after = position.map(|p| p.to_string());
    let target = match (answer.code(), action.as_str()) {
        (Some(code), _) => format!("/console/runs/{id}{}", query(&[("refused", Some(code))])),
        (None, "rerun") => {
            let new_run = answer.body["run_id"].as_str().unwrap_or(&run_id);
            format!(
                "/console/runs/{}{}",
                encode(new_run),
                query(&[
                    ("notice", Some("rerun_started")),
                    ("after", after.as_deref())
                ])
            )
        }
        (None, _) => format!(
            "/console/runs/{id}{}",
            query(&[
                ("notice", Some("retry_started")),
                ("after", after.as_deref())
            ])
        ),
    };
    Redirect::to(&target).into_response()
}

/// `GET /console/projects/{id}`: a project's latest run and its history.
pub(crate) async fn project(
    State(console): State<Console>,
    session: Session,
    Path(project_id): Path<String>,
) -> Response {
    let id = encode(&project_id);
    let latest = console
        .api
        .get(&session, format!("/v1/projects/{id}/runs/latest"))
        .await;
    let history = console
        .api
        .get(
            &session,
            format!(
                "/v1/runs{}",
                query(&[
                    ("project_id", Some(&project_id)),
                    ("limit", Some(PAGE_SIZE))
                ])
            ),
        )
        .await;
    let body = html! {
        h1 { "Project " (project_id) }
        section {
            h2 { "Latest run" }
            @if latest.status.is_success() {
                p {
                    a href={ "/console/runs/" (latest.body["run_id"].as_str().unwrap_or("")) } { (document_name(&latest.body)) }
                    " " (status(&latest.body["status"])) " · " (time(&latest.body["created_at"]))
                }
            } @else {
                p.empty { "No runs yet." }
            }
        }
        section #live data-live="feed" data-after=(history.position.unwrap_or(0))
            data-events=(run_event_types()) {
            h2 { "History" }
            (run_table(&history.body["runs"]))
            @if history.body["next_cursor"].is_string() {
                p { a.more href={ "/console/runs" (query(&[("project_id", Some(&project_id))])) } { "All of this project's runs" } }
            }
        }
    };
    layout(&format!("Project {project_id}"), Some(&session), None, body).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_segment_is_percent_encoded_as_a_path_reads_it() {
        assert_eq!(super::encode("q3 report/a+b?"), "q3%20report%2Fa%2Bb%3F");
    }
}
