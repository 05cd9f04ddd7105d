//! Credits, and Operations (admin keys): projections with their lag and a
//! rebuild, the latest signed checkpoint, a whole-log verification.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::runs::AfterAction;
use crate::session::{check_form, CsrfForm, Session};
use crate::views::{layout, query, refusal, text, time, Notice};
use crate::Console;

/// Which tenant's credits, and where the ledger page starts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CreditsQuery {
    tenant: Option<String>,
    cursor: Option<String>,
}

/// `GET /console/credits`: a tenant's balance and its ledger, with the
/// balance after each entry. A tenant key sees its own tenant; audit and
/// admin keys name one.
pub(crate) async fn credits(
    State(console): State<Console>,
    session: Session,
    Query(asked): Query<CreditsQuery>,
) -> Response {
    let tenant = session
        .principal
        .tenant_id
        .clone()
        .or(asked.tenant.clone().filter(|tenant| !tenant.is_empty()));
    let chooser = session.principal.tenant_id.is_none();
    let body = match &tenant {
        None => html! {
            h1 { "Credits" }
            (tenant_chooser(""))
        },
        Some(tenant) => {
            let id = crate::runs::encode(tenant);
            let (balance, ledger) = tokio::join!(
                console
                    .api
                    .get(&session, format!("/v1/accounts/{id}/balance")),
                console.api.get(
                    &session,
                    format!(
                        "/v1/accounts/{id}/ledger{}",
                        query(&[("cursor", asked.cursor.as_deref()), ("limit", Some("50"))])
                    )
                ),
            );
            html! {
                h1 { "Credits of " (tenant) }
                @if chooser { (tenant_chooser(tenant)) }
                @match balance.ok() {
                    Ok(balance) => (balance_list(&balance)),
                    Err(code) => div.toast role="alert" { (Notice::refused(&code).message()) },
                }
                (ledger_table(&ledger.body, tenant, chooser))
            }
        }
    };
    layout("Credits", Some(&session), None, body).into_response()
}

fn tenant_chooser(tenant: &str) -> Markup {
    html! {
        form.filters method="get" action="/console/credits" {
            label for="tenant" { "Tenant" }
            input #tenant name="tenant" value=(tenant) required;
            button type="submit" { "Show" }
        }
    }
}

fn balance_list(balance: &Value) -> Markup {
    let number = |field: &str| balance[field].as_i64().unwrap_or(0);
    html! {
        dl.facts.balance {
            dt { "Monthly" } dd { (number("monthly")) }
            dt { "Purchased" } dd { (number("purchased")) }
            dt { "Total" } dd { strong { (number("total")) } }
            dt { "Consumed" } dd { (number("consumed")) }
            dt { "Refunded" } dd { (number("refunded")) }
        }
    }
}

fn ledger_table(ledger: &Value, tenant: &str, chooser: bool) -> Markup {
    let empty = Vec::new();
    let entries = ledger["entries"].as_array().unwrap_or(&empty);
    html! {
        h2 { "Ledger" }
        @if entries.is_empty() {
            p.empty { "No credit movements." }
        } @else {
            div.scroll {
                table.ledger {
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Kind" } th scope="col" { "Amount" }
                        th scope="col" { "Run" } th scope="col" { "Reason" } th scope="col" { "Balance after" }
                    } }
                    tbody {
                        @for entry in entries {
                            @let monthly_after = entry["monthly_after"].as_i64().unwrap_or(0);
                            @let purchased_after = entry["purchased_after"].as_i64().unwrap_or(0);
                            tr {
                                td { (time(&entry["recorded_at"])) }
                                td { (text(&entry["kind"])) }
                                td { (entry["amount"].as_i64().unwrap_or(0))
                                     span.muted { " (" (entry["monthly"].as_i64().unwrap_or(0)) " monthly, "
                                                  (entry["purchased"].as_i64().unwrap_or(0)) " purchased)" } }
                                td { @match entry["run_id"].as_str() {
                                    Some(run) => a href={ "/console/runs/" (run) } { (run.get(..8).unwrap_or(run)) },
                                    None => "—",
                                } }
                                td { (text(&entry["reason"])) }
                                td { strong { (monthly_after + purchased_after) }
                                     span.muted { " (" (monthly_after) " monthly, " (purchased_after) " purchased)" } }
                            }
                        }
                    }
                }
            }
            @if let Some(cursor) = ledger["next_cursor"].as_str() {
                @let tenant = chooser.then_some(tenant);
                p { a.more href={ "/console/credits" (query(&[("tenant", tenant), ("cursor", Some(cursor))])) } { "Older entries" } }
            }
        }
    }
}

/// `GET /console/operations`, for admin keys.
pub(crate) async fn operations(
    State(console): State<Console>,
    session: Session,
    Query(after): Query<AfterAction>,
) -> Response {
    operations_page(&console, &session, after.notice(), None).await
}

async fn operations_page(
    console: &Console,
    session: &Session,
    notice: Option<Notice>,
    verification: Option<Value>,
) -> Response {
    if !session.is_admin() {
        return refusal(
            StatusCode::FORBIDDEN,
            "Operations",
            Some(session),
            "Operations need an admin key",
        );
    }
    let (projections, checkpoint) = tokio::join!(
        console.api.get(session, "/v1/projections"),
        console.api.get(session, "/v1/audit/checkpoint"),
    );
    let empty = Vec::new();
    let body = html! {
        h1 { "Operations" }
        section {
            h2 { "Projections" }
            div.scroll {
                table.projections {
                    thead { tr {
                        th scope="col" { "Read model" } th scope="col" { "Checkpoint" } th scope="col" { "Head" }
                        th scope="col" { "Lag" } th scope="col" { "State" } th scope="col" { "Last error" }
                        th scope="col" { span.visually-hidden { "Rebuild" } }
                    } }
                    tbody {
                        @for projection in projections.body["projections"].as_array().unwrap_or(&empty) {
                            @let name = projection["name"].as_str().unwrap_or("");
                            tr {
                                td { (name) }
                                td { (projection["checkpoint"].as_u64().unwrap_or(0)) }
                                td { (projection["head"].as_u64().unwrap_or(0)) }
                                td { (projection["lag_events"].as_u64().unwrap_or(0)) " events, "
                                     (format!("{:.1}", projection["lag_seconds"].as_f64().unwrap_or(0.0))) " s" }
                                td { (text(&projection["state"])) }
                                td { (text(&projection["last_error"])) }
                                td {
                                    form method="post" action={ "/console/operations/rebuild/" (name) } {
                                        input type="hidden" name="csrf" value=(session.csrf_token);
                                        button type="submit" aria-label={ "Rebuild " (name) } { "Rebuild" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Latest signed checkpoint" }
            @if checkpoint.status.is_success() {
                pre.json { (checkpoint.text) }
            } @else {
                p.empty { "No signed checkpoint (this service signs none, or none yet)." }
            }
        }
        section {
            h2 { "Verification" }
            form method="post" action="/console/operations/verify" {
                input type="hidden" name="csrf" value=(session.csrf_token);
                button type="submit" { "Verify the whole log" }
            }
            @if let Some(report) = &verification {
                @if report["ok"] == Value::Bool(true) {
                    p.chain.ok-text role="status" {
                        "Verified: " (report["streams_checked"].as_u64().unwrap_or(0)) " streams, "
                        (report["events_checked"].as_u64().unwrap_or(0)) " events"
                        @if let Some(checked) = report["checkpoints"]["checked"].as_u64() {
                            ", " (checked) " signed checkpoints"
                        }
                        "."
                    }
                } @else {
                    div.chain.bad-text role="alert" {
                        p { "Verification failed." }
                        @if !report["first_bad"].is_null() {
                            p { "First bad event: " (text(&report["first_bad"]["stream_id"])) " version "
                                (report["first_bad"]["stream_version"].as_u64().unwrap_or(0)) ": "
                                (text(&report["first_bad"]["reason"])) }
                        }
                        @for problem in report["checkpoints"]["problems"].as_array().unwrap_or(&empty) {
                            p { (text(problem)) }
                        }
                        @if let Some(code) = report["code"].as_str() { p { code { (code) } } }
                    }
                }
            }
        }
    };
    layout("Operations", Some(session), notice.as_ref(), body).into_response()
}

/// `POST /console/operations/rebuild/{name}`.
pub(crate) async fn rebuild(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&session, &headers, &form.csrf) {
        return refused.into_response();
    }
    let answer = console
        .api
        .post(
            &session,
            format!("/v1/projections/{}/rebuild", crate::runs::encode(&name)),
            None,
            None,
        )
        .await;
    let outcome = match answer.code() {
        None => query(&[("notice", Some("rebuild_started"))]),
        Some(code) => query(&[("refused", Some(code))]),
    };
    Redirect::to(&format!("/console/operations{outcome}")).into_response()
}

/// `POST /console/operations/verify`: the whole log's check, shown on the
/// operations page.
pub(crate) async fn verify(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&session, &headers, &form.csrf) {
        return refused.into_response();
    }
    let report = console.api.get(&session, "/v1/audit/verify").await;
    operations_page(&console, &session, None, Some(report.body)).await
}
