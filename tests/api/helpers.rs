//! The one harness: `spawn_app()` serves the real router on a random port
//! against a fresh database of the test PostgreSQL.

use std::net::SocketAddr;
use std::path::PathBuf;

use futures::StreamExt;
use ledger_embedded_pg::testing::{fresh_database, TestDatabase};
use run_ledger::{Application, DatabaseConfig, Secret, ServeConfig};
use tokio::sync::oneshot;

/// The admin key every test service is configured with.
pub const ADMIN_KEY: &str = "test-admin-key";

/// A running service for one test; stopped when dropped.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// Its database.
    pub db: TestDatabase,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    /// An absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Configuration of a service on `db`. The test server runs with fsync off,
/// so the durability check is waived here (and tested on its own).
pub fn config_for(db: &TestDatabase) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_key: Some(ADMIN_KEY.parse::<Secret>().unwrap()),
        body_timeout_seconds: 2,
        min_position_timeout_ms: 1_500,
        shutdown_grace_seconds: 5,
        key_cache_ms: 10_000,
        rate_limit_per_key: 0,
        rate_limit_burst: 0,
        idempotency_retention_seconds: 7 * 24 * 3_600,
        checkpoint_interval_ms: 60_000,
        projector_batch_delay_ms: 20,
        console: true,
        signing: run_ledger::SigningKeyConfig::default(),
        witness_keys: Vec::new(),
        database: DatabaseConfig {
            database_url: Some(db.url.parse::<Secret>().unwrap()),
            data_dir: PathBuf::from("unused"),
            embedded_shared_buffers_mb: None,
            max_connections: 10,
            acquire_timeout_ms: 5_000,
            allow_unsafe_durability: true,
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(fresh_database().await).await
}

/// A service on an existing test database (a restart, for example).
pub async fn spawn_app_on(db: TestDatabase) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// A service on `db` with its configuration changed by `configure`.
pub async fn spawn_app_with(db: TestDatabase, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        run_ledger::init_tracing();
    }
    let mut config = config_for(&db);
    configure(&mut config);
    let app = Application::build(config)
        .await
        .expect("building the application");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        db,
        _stop: stop,
    }
}

/// Runs the `run-ledger` binary on the service's database.
pub fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_run-ledger"))
        .args(args)
        .arg("--allow-unsafe-durability")
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs a command off the runtime's thread, for commands that talk to a
/// service this test's runtime serves.
pub async fn run_off_runtime(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().expect("the command runs"))
        .await
        .unwrap()
}

/// A command's standard output and error, for assertion messages.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A `PYTHONPATH` under which `import {module}` works: the machine's, or
/// `requirement` installed by pip into the tests' target directory once.
/// The independent checkers (an RFC 8785 implementation, an OpenAPI
/// validator) are Python packages.
pub fn python_packages(module: &str, requirement: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-packages");
    let importable = || {
        std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .env("PYTHONPATH", &dir)
            .status()
            .is_ok_and(|status| status.success())
    };
    if !importable() {
        let installed = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&dir)
            .arg(requirement)
            .status()
            .expect("python3 and pip run");
        assert!(installed.success(), "pip installs {requirement} from PyPI");
    }
    dir
}

/// A directory whose `node_modules/.bin` holds the commands of `packages`
/// (exact versions): installed by npm into the tests' target directory once.
/// The client generators of the contract tests are npm packages.
pub fn node_packages(packages: &[&str]) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("node-packages");
    let stamp = dir.join(format!(
        "installed-{}",
        packages.join("-").replace(['/', '@'], "_")
    ));
    if !stamp.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let installed = std::process::Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .args(packages)
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm installs {packages:?}");
        std::fs::write(&stamp, b"").unwrap();
    }
    dir
}

/// A response: status and JSON body (problem bodies included).
#[derive(Debug)]
pub struct Reply {
    pub status: reqwest::StatusCode,
    pub body: serde_json::Value,
    /// The body as text (for `text/plain` answers).
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The problem `code`, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// Sends a request and reads the reply as JSON, after checking it
    /// against the OpenAPI document (`contract`).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a request");
        let (method, path) = (
            request.method().to_string(),
            request.url().path().to_owned(),
        );
        let response = self.client.execute(request).await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        crate::contract::check(&method, &path, status.as_u16(), &headers, &bytes);
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Reply {
            status,
            body,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            headers,
        }
    }

    /// POSTs JSON with a key.
    pub async fn post(&self, path: &str, key: &str, body: serde_json::Value) -> Reply {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(key)
                .json(&body),
        )
        .await
    }

    /// POSTs JSON with a key, acting for a person.
    pub async fn post_as(
        &self,
        path: &str,
        key: &str,
        actor: &str,
        tenant_admin: bool,
        body: serde_json::Value,
    ) -> Reply {
        let mut request = self
            .client
            .post(self.url(path))
            .bearer_auth(key)
            .header("X-Actor-Id", actor)
            .json(&body);
        if tenant_admin {
            request = request.header("X-Actor-Role", "admin");
        }
        self.send(request).await
    }

    /// Creates a key through the API with the admin key.
    pub async fn key(&self, tenant: Option<&str>, scopes: &[&str]) -> String {
        let reply = self
            .post(
                "/v1/keys",
                ADMIN_KEY,
                serde_json::json!({ "tenant_id": tenant, "scopes": scopes }),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["key"].as_str().unwrap().to_owned()
    }

    /// An append key for `tenant`.
    pub async fn append_key(&self, tenant: &str) -> String {
        self.key(Some(tenant), &["append"]).await
    }

    /// Creates a run and returns its body (asserting 201).
    pub async fn create_run(&self, key: &str, body: serde_json::Value) -> serde_json::Value {
        let reply = self.post("/v1/runs", key, body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    }

    /// Reports facts about a run.
    pub async fn facts(&self, key: &str, run_id: &str, events: serde_json::Value) -> Reply {
        self.post(
            &format!("/v1/runs/{run_id}/events"),
            key,
            serde_json::json!({ "events": events }),
        )
        .await
    }

    /// Grants credits to a tenant with the admin key.
    pub async fn grant(&self, tenant: &str, bucket: &str, amount: i64) -> Reply {
        let reply = self
            .post(
                &format!("/v1/accounts/{tenant}/grants"),
                ADMIN_KEY,
                serde_json::json!({ "bucket": bucket, "amount": amount }),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply
    }

    /// How many events the log holds, of every stream.
    pub async fn event_count(&self) -> i64 {
        let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
        let count = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        count
    }

    /// A transaction holding a read model's checkpoint row: its projector
    /// cannot commit a batch until the transaction ends.
    pub async fn hold_projector(&self, name: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
        let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
        let mut hold = pool.begin().await.unwrap();
        sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(name)
            .execute(&mut *hold)
            .await
            .unwrap();
        hold
    }

    /// Every run and account stream and its version, and the number of
    /// their events: what a request that must change nothing must leave as
    /// it was. Key streams are left out (the tests make keys as they go);
    /// `event_count` counts every event.
    pub async fn log_state(&self) -> (Vec<(String, i64)>, i64) {
        let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
        let streams = sqlx::query_as(
            "SELECT stream_id, version FROM streams WHERE NOT starts_with(stream_id, 'key-')
             ORDER BY stream_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let events = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE NOT starts_with(stream_id, 'key-')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        (streams, events)
    }
}

/// A run body for `owner` with files and stages.
pub fn run_body(owner: &str, files: usize, stages: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "owner_id": owner,
        "document": { "name": "report.pdf", "url": "https://blob/report.pdf" },
        "company": { "id": "c1", "name": "Lactalis" },
        "pipeline_version": "p1",
        "stages": stages,
        "files": (0..files).map(|i| serde_json::json!({ "name": format!("f{i}.pdf") })).collect::<Vec<_>>(),
    })
}

/// Ends every file of a run: the first `failed` fail, the rest complete.
pub async fn finish_files(
    app: &TestApp,
    key: &str,
    run_id: &str,
    files: usize,
    failed: usize,
) -> Reply {
    let events: Vec<serde_json::Value> = (0..files)
        .map(|index| {
            let status = if index < failed { "failed" } else { "completed" };
            serde_json::json!({ "type": "run.file_updated", "data": { "index": index, "status": status } })
        })
        .collect();
    let reply = app
        .facts(key, run_id, serde_json::Value::Array(events))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply
}

impl TestApp {
    /// GETs with a key.
    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(key))
            .await
    }
}

/// A minimal server-sent events reader.
pub struct SseReader {
    /// The stream's path, whose messages are checked against the document.
    path: String,
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

#[derive(Debug)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: serde_json::Value,
}

impl SseReader {
    pub async fn open(app: &TestApp, path: &str, key: &str, last_event_id: Option<u64>) -> Self {
        let mut request = app.client.get(app.url(path)).bearer_auth(key);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        Self::from_request(path, request).await
    }

    /// A stream opened as a browser's `EventSource` does: no
    /// `Authorization`, a stream token in the URL.
    pub async fn open_with_token(app: &TestApp, path: &str, token: &str) -> Self {
        let separator = if path.contains('?') { '&' } else { '?' };
        Self::from_request(
            path,
            app.client
                .get(app.url(&format!("{path}{separator}token={token}"))),
        )
        .await
    }

    async fn from_request(path: &str, request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseReader {
            path: path.to_owned(),
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event with data, or `None` when the stream ends or stays quiet for 10 s.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("event:") {
                        event = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let data = serde_json::from_str(&data).unwrap();
                crate::contract::check_sse_message(
                    &self.path,
                    event.as_deref(),
                    id.as_deref(),
                    &data,
                );
                return Some(SseEvent { id, event, data });
            }
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.body.next()).await {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}
