//! The pages' shared parts: the layout, notices, and how values are shown.
//! Everything a user supplied is written through maud, which escapes it:
//! a document named `<script>` shows as that text.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

use crate::session::Session;

/// A message shown at the top of a page: `status` for what went well,
/// `alert` for what did not.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    role: &'static str,
    message: String,
}

impl Notice {
    pub fn alert(message: impl Into<String>) -> Self {
        Notice {
            role: "alert",
            message: message.into(),
        }
    }

    pub fn status(message: impl Into<String>) -> Self {
        Notice {
            role: "status",
            message: message.into(),
        }
    }

    /// Its words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The notice a redirect names with `?notice=`: one of the outcomes the
    /// console's actions lead to, or an API problem code, in words. Any
    /// other value shows nothing, so a link cannot put words on a page.
    pub fn named(name: &str) -> Option<Self> {
        let status = |message: &str| Some(Notice::status(message));
        let alert = |message: &str| Some(Notice::alert(message));
        match name {
            "rerun_started" => status("Rerun started: this is the new run."),
            "retry_started" => status("Retry started."),
            "rebuild_started" => status("Rebuild started."),
            "insufficient_credits" => alert("Insufficient credits"),
            "run_running" => alert("Run is running"),
            "run_terminal" => alert("Run has ended"),
            "run_not_failed" => alert("Run has not failed"),
            "nothing_to_retry" => alert("Nothing to retry"),
            "max_retries_reached" => alert("Retry limit reached"),
            "forbidden" => alert("Only the run's owner or a tenant admin may do this"),
            "insufficient_scope" => alert("This key may not do this"),
            "run_not_found" => alert("Run not found"),
            "account_not_found" => alert("No such tenant for this key"),
            "invalid_query" => alert(
                "These filters are not valid: a status from the list, a run id for “Rerun of”.",
            ),
            "rate_limited" => alert("Too many requests: try again shortly"),
            "rebuild_in_progress" => alert("A rebuild is already running"),
            "projection_not_found" => alert("No such read model"),
            "store_unavailable" | "projection_lagging" => {
                alert("The ledger is unavailable: try again shortly")
            }
            "version_conflict" => alert("The run changed meanwhile: try again"),
            _ => None,
        }
    }

    /// What an API problem code says, in words (a generic line for codes
    /// the console has no words for).
    pub fn refused(code: &str) -> Self {
        Notice::named(code)
            .filter(|notice| notice.role == "alert")
            .unwrap_or_else(|| Notice::alert("The ledger refused this"))
    }
}

/// A page that shows nothing but why: `message` as an alert, and a way
/// back to the runs.
pub(crate) fn refusal(
    status: StatusCode,
    title: &str,
    session: Option<&Session>,
    message: &str,
) -> Response {
    let page = layout(
        title,
        session,
        Some(&Notice::alert(message)),
        html! { p { a href="/console/runs" { "Back to the runs" } } },
    );
    (status, page).into_response()
}

/// A whole page: the header with navigation and "Sign out" (when signed
/// in), the notice, and `body` as `main`.
pub(crate) fn layout(
    title: &str,
    session: Option<&Session>,
    notice: Option<&Notice>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(session) = session {
                    meta name="csrf-token" content=(session.csrf_token);
                }
                title { (title) " · run-ledger" }
                link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console/runs" { "run-ledger" }
                    @if let Some(session) = session {
                        nav aria-label="Console" {
                            a href="/console/runs" { "Runs" }
                            a href="/console/credits" { "Credits" }
                            @if session.is_admin() {
                                a href="/console/operations" { "Operations" }
                            }
                        }
                        span.who {
                            "Acting as " strong { (session.actor_id) }
                            @if let Some(tenant) = &session.principal.tenant_id {
                                " · tenant " strong { (tenant) }
                            }
                        }
                        form.sign-out method="post" action="/console/sign-out" {
                            input type="hidden" name="csrf" value=(session.csrf_token);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                div.notices {
                    @if let Some(notice) = notice {
                        div.toast role=(notice.role) { (notice.message) }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// A time as people read it, in a `time` element.
pub(crate) fn time(value: &Value) -> Markup {
    match parse_time(value) {
        Some(at) => html! {
            time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) }
        },
        None => html! { "—" },
    }
}

pub(crate) fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// A span of time: `850 ms`, `12.4 s`, `3 min 5 s`, `2 h 4 min`.
pub(crate) fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let millis = (to - from).num_milliseconds().max(0);
    match millis {
        0..=999 => format!("{millis} ms"),
        1_000..=59_999 => format!("{:.1} s", millis as f64 / 1000.0),
        60_000..=3_599_999 => format!("{} min {} s", millis / 60_000, millis % 60_000 / 1000),
        _ => format!(
            "{} h {} min",
            millis / 3_600_000,
            millis % 3_600_000 / 60_000
        ),
    }
}

/// A status as a badge, its words and a class for its colour.
pub(crate) fn status(value: &Value) -> Markup {
    let status = value.as_str().unwrap_or("unknown");
    let class = match status {
        "completed" => "ok",
        "completed_with_errors" | "cancelled" => "warn",
        "failed" | "error" => "bad",
        "running" | "processing" => "live",
        _ => "idle",
    };
    html! { span class={ "badge " (class) } { (status.replace('_', " ")) } }
}

/// Any JSON, pretty-printed as text (a string shows as itself: pipelines
/// send markdown).
pub(crate) fn json_block(value: &Value) -> Markup {
    let text = match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    html! { pre.json { (text) } }
}

/// A text, or a dash for a missing one.
pub(crate) fn text(value: &Value) -> Markup {
    match value {
        Value::Null => html! { "—" },
        Value::String(text) => html! { (text) },
        other => html! { (other.to_string()) },
    }
}

/// A URL as a link when it is a web address, else as text: a `javascript:`
/// URL must never become a link.
pub(crate) fn url(value: &Value) -> Markup {
    match value.as_str() {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            html! { a href=(url) rel="noopener noreferrer" { (url) } }
        }
        _ => text(value),
    }
}

/// A query string of the pairs with a value, encoded.
pub(crate) fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let present: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(name, value)| {
            value
                .filter(|value| !value.is_empty())
                .map(|value| (*name, value))
        })
        .collect();
    if present.is_empty() {
        return String::new();
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(present).expect("pairs of strings encode")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        let shown = text(&Value::String("<script>alert(1)</script>".into())).into_string();
        assert_eq!(shown, "&lt;script&gt;alert(1)&lt;/script&gt;");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert!(url(&Value::String("javascript:alert(1)".into()))
            .into_string()
            .starts_with("javascript"));
        assert!(url(&Value::String("https://blob/x.pdf".into()))
            .into_string()
            .starts_with("<a href"));
    }

    #[test]
    fn a_notice_link_cannot_put_words_on_a_page() {
        assert!(Notice::named("<b>pwned</b>").is_none());
        assert_eq!(Notice::refused("weird").message, "The ledger refused this");
        assert_eq!(
            Notice::refused("insufficient_credits").message,
            "Insufficient credits"
        );
    }
}
