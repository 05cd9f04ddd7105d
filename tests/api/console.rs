//! The web console (issue 15): its sessions and refusals over HTTP here,
//! its pages in a real browser (`tests/console/browser.mjs`, headless
//! Chromium driven by playwright-core).

use std::process::Command;

use ledger_embedded_pg::testing::fresh_database;
use serde_json::json;

use crate::clients::{repository, snippets};
use crate::helpers::*;

/// A client that shows redirects instead of following them, and keeps no
/// cookies but those a test gives it.
fn browserless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name` in the response's `Set-Cookie` headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
}

/// The hidden `csrf` value of the page's first form, or the meta token.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..start + 64].to_owned()
}

/// The sign-in form as a browser gets it: its cookie and its token.
struct SignInForm {
    cookie: String,
    token: String,
}

/// Over TLS, as a proxy that terminates it says.
const BEHIND_TLS: Option<(&str, &str)> = Some(("x-forwarded-proto", "https"));

async fn open_sign_in(app: &TestApp, header: Option<(&str, &str)>) -> SignInForm {
    let mut request = browserless().get(app.url("/console/sign-in"));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let form = request.send().await.unwrap();
    SignInForm {
        cookie: set_cookie(&form, "rl_console_sign_in").unwrap(),
        token: csrf_of(&form.text().await.unwrap()),
    }
}

async fn submit_sign_in(
    app: &TestApp,
    form: &SignInForm,
    (key, actor): (&str, &str),
    csrf: &str,
    header: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut request = browserless()
        .post(app.url("/console/sign-in"))
        .header("cookie", format!("rl_console_sign_in={}", form.cookie))
        .form(&[("api_key", key), ("actor_id", actor), ("csrf", csrf)]);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

/// Signs in through the form as `ada`; the session cookie and the page's
/// CSRF token.
async fn sign_in(app: &TestApp, key: &str) -> (String, String) {
    let form = open_sign_in(app, None).await;
    let signed_in = submit_sign_in(app, &form, (key, "ada"), &form.token, None).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/console/runs");
    let session = set_cookie(&signed_in, "rl_console").unwrap();
    let page = page(app, &session, "/console/runs").await;
    assert_eq!(page.status(), 200);
    (session, csrf_of(&page.text().await.unwrap()))
}

/// The log's newest position.
async fn head(app: &TestApp) -> i64 {
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let head = sqlx::query_scalar("SELECT coalesce(max(global_position), 0) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    head
}

async fn page(app: &TestApp, session: &str, path: &str) -> reqwest::Response {
    browserless()
        .get(app.url(path))
        .header("cookie", format!("rl_console={session}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_session_every_page_goes_to_the_sign_in_form() {
    let app = spawn_app().await;
    for path in ["/console/runs", "/console/credits", "/console/operations"] {
        let response = browserless().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/sign-in", "{path}");
    }
    let forged = page(&app, "not-a-session", "/console/runs").await;
    assert_eq!(forged.headers()["location"], "/console/sign-in");
    let root = browserless().get(app.url("/")).send().await.unwrap();
    assert_eq!(root.headers()["location"], "/console/runs");
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_secure_behind_tls() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["read"]).await;
    let form = open_sign_in(&app, BEHIND_TLS).await;
    let signed_in = submit_sign_in(&app, &form, (&key, "ada"), &form.token, BEHIND_TLS).await;
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("rl_console="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{cookie} has {attribute}");
    }
    let session = set_cookie(&signed_in, "rl_console").unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console_sessions WHERE session_hash = sha256($1::bytea)",
    )
    .bind(session.as_bytes())
    .fetch_one(&sqlx::PgPool::connect(&app.db.url).await.unwrap())
    .await
    .unwrap();
    assert_eq!(stored, 1, "only the session's hash is stored");
}

#[tokio::test]
async fn sign_in_refuses_a_bad_key_a_missing_token_and_a_key_that_cannot_read() {
    let app = spawn_app().await;
    let append_only = app.key(Some("acme"), &["append"]).await;
    let form = open_sign_in(&app, None).await;
    let attempt_as = |key: String, actor: &'static str, csrf: String| {
        let (app, form) = (&app, &form);
        async move { submit_sign_in(app, form, (&key, actor), &csrf, None).await }
    };
    let attempt = |key: String, csrf: String| attempt_as(key, "ada", csrf);
    let wrong = attempt("rlk_nope".into(), form.token.clone()).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Unknown, revoked or expired key"));
    let forged = attempt(ADMIN_KEY.into(), "0".repeat(64)).await;
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(&forged, "rl_console").is_none());
    let cannot_read = attempt(append_only, form.token.clone()).await;
    // Every action sends the actor as `X-Actor-Id`, which only takes ASCII.
    for actor in ["José", "   ", "\u{7}bell"] {
        let refused = attempt_as(ADMIN_KEY.into(), actor, form.token.clone()).await;
        assert_eq!(refused.status(), 422, "{actor:?}");
        assert!(refused
            .text()
            .await
            .unwrap()
            .contains("Acting as: 1 to 200"));
    }
    assert_eq!(cannot_read.status(), 403);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM console_sessions")
        .fetch_one(&sqlx::PgPool::connect(&app.db.url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn an_action_without_the_sessions_token_or_from_another_site_changes_nothing() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let run = app.create_run(&key, run_body("ada", 0, &[])).await;
    let run_id = run["run_id"].as_str().unwrap();
    app.facts(&key, run_id, json!([{"type": "run.completed"}]))
        .await;
    let (session, csrf) = sign_in(&app, &key).await;
    let before = app.log_state().await;
    let rerun = |csrf: String, origin: &'static str| {
        let url = app.url(&format!("/console/runs/{run_id}/rerun"));
        let session = session.clone();
        async move {
            browserless()
                .post(url)
                .header("cookie", format!("rl_console={session}"))
                .header("origin", origin)
                .form(&[("csrf", csrf.as_str()), ("nonce", "n-1")])
                .send()
                .await
                .unwrap()
        }
    };
    let no_token = rerun("f".repeat(64), "null").await;
    assert_eq!(no_token.status(), 403);
    let other_site = rerun(csrf.clone(), "https://evil.example").await;
    assert_eq!(other_site.status(), 403);
    assert_eq!(app.log_state().await, before, "nothing was appended");

    let origin: &'static str = Box::leak(format!("http://{}", app.addr).into_boxed_str());
    let done = rerun(csrf.clone(), origin).await;
    assert_eq!(done.status(), 303);
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("notice=rerun_started"), "{location}");
    // The same form sent again is the same command: one rerun.
    let again = rerun(csrf, origin).await;
    assert_eq!(again.headers()["location"], location.as_str());
    let reruns = app
        .get(
            &format!(
                "/v1/runs?rerun_of={run_id}&min_position={}",
                head(&app).await
            ),
            &key,
        )
        .await;
    assert_eq!(reruns.body["runs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_session_ends_with_its_key() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/v1/keys",
            ADMIN_KEY,
            json!({"tenant_id": "acme", "scopes": ["read"]}),
        )
        .await;
    let key = created.body["key"].as_str().unwrap();
    let (session, _) = sign_in(&app, key).await;
    let revoked = app
        .send(
            app.client
                .delete(app.url(&format!(
                    "/v1/keys/{}",
                    created.body["id"].as_str().unwrap()
                )))
                .bearer_auth(ADMIN_KEY),
        )
        .await;
    assert_eq!(revoked.status, 200);
    let after = page(&app, &session, "/console/runs").await;
    assert_eq!(after.headers()["location"], "/console/sign-in");
}

#[tokio::test]
async fn operations_need_an_admin_key() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["read"]).await;
    let (session, _) = sign_in(&app, &key).await;
    let refused = page(&app, &session, "/console/operations").await;
    assert_eq!(refused.status(), 403);
    let (admin, _) = sign_in(&app, ADMIN_KEY).await;
    let shown = page(&app, &admin, "/console/operations").await;
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(html.contains("run_history") && html.contains("Verify the whole log"));
}

#[tokio::test]
async fn with_the_console_off_the_service_serves_the_api_alone() {
    let app = spawn_app_with(fresh_database().await, |config| config.console = false).await;
    let root = browserless()
        .get(app.url("/console/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);
    assert_eq!(root.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn the_console_works_in_a_real_browser() {
    let app = spawn_app().await;
    let own = app.key(Some("acme"), &["append", "read"]).await;
    let other = app.key(Some("globex"), &["read"]).await;
    let create = |body: serde_json::Value| app.create_run(&own, body);
    let live = create(json!({
        "owner_id": "ada",
        "document": {"name": "Q3 report.pdf", "url": "https://blob/q3.pdf"},
        "company": {"id": "c1", "name": "Acme Corp"},
        "stages": ["extract", "classify"],
        "files": [{"name": "page-1.png"}],
    }))
    .await;
    let live = live["run_id"].as_str().unwrap().to_owned();
    app.facts(
        &own,
        &live,
        json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "processing"}}]),
    )
    .await;
    let mut project_run = run_body("ada", 0, &["extract"]);
    project_run["project_id"] = json!("quarterly");
    project_run["inputs"] = json!({"language": "en"});
    let done = create(project_run).await;
    let done = done["run_id"].as_str().unwrap().to_owned();
    app.facts(
        &own,
        &done,
        json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "completed"}}]),
    )
    .await;
    let mut with_files = run_body("ada", 2, &[]);
    with_files["credits_per_file"] = json!(5);
    let failed_files = create(with_files).await;
    let failed_files = failed_files["run_id"].as_str().unwrap().to_owned();
    finish_files(&app, &own, &failed_files, 2, 1).await;
    let mut markup = run_body("ada", 0, &[]);
    markup["document"]["name"] =
        json!(r#"<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"#);
    let markup = create(markup).await;
    let markup = markup["run_id"].as_str().unwrap().to_owned();
    // The pages read the run history: let it catch up with every run.
    let at = head(&app).await;
    app.get(&format!("/v1/runs?min_position={at}"), &own).await;

    let docs = std::fs::read_to_string(repository().join("docs/clients.md")).unwrap();
    let snippet = snippets(&docs, "ts")
        .into_iter()
        .find(|snippet| snippet.contains("EventSource"))
        .expect("docs/clients.md has the browser snippet");
    let packages = node_packages(&["playwright-core@1.64.1", "axe-core@4.10.2"]);
    let screenshots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
    let mut node = Command::new("node");
    node.arg(repository().join("tests/console/browser.mjs"))
        .env(
            "PLAYWRIGHT_CORE",
            packages.join("node_modules/playwright-core/index.mjs"),
        )
        .env(
            "AXE_CORE",
            packages.join("node_modules/axe-core/axe.min.js"),
        )
        .env("RUN_LEDGER_URL", app.url(""))
        .env("TENANT_KEY", &own)
        .env("OTHER_TENANT_KEY", &other)
        .env("ADMIN_KEY", ADMIN_KEY)
        .env("LIVE_RUN", &live)
        .env("DONE_RUN", &done)
        .env("FAILED_FILES_RUN", &failed_files)
        .env("MARKUP_RUN", &markup)
        .env("EVENTSOURCE_SNIPPET", snippet)
        .env("SCREENSHOTS", &screenshots);
    let output = run_off_runtime(node).await;
    assert!(
        output.status.success(),
        "{}\n(screenshots in {})",
        output_text(&output),
        screenshots.display()
    );
}

#[tokio::test]
async fn a_project_whose_id_has_a_space_shows_its_runs() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let mut body = run_body("ada", 0, &[]);
    body["project_id"] = json!("Q3 reports+");
    body["inputs"] = json!({"language": "en"});
    let run = app.create_run(&key, body).await;
    let at = head(&app).await;
    app.get(&format!("/v1/runs?min_position={at}"), &key).await;
    let (session, _) = sign_in(&app, &key).await;
    let shown = page(&app, &session, "/console/projects/Q3%20reports%2B").await;
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "/console/runs/{}",
            run["run_id"].as_str().unwrap()
        )),
        "the project's latest run is linked"
    );
    assert!(!html.contains("No runs yet"));
}
