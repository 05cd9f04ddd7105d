//! The rig: a PostgreSQL of its own with production durability, the
//! service as a child process killed by its pid, and reports.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ledger_embedded_pg::{EmbeddedPostgres, Options};
use serde_json::{json, Value};

/// The admin key the rig's service runs with.
pub const ADMIN_KEY: &str = "fault-rig-admin";

/// How long the rig's service lets a request wait for a connection before
/// answering 503: shorter outages end before anyone is refused.
pub const ACQUIRE_TIMEOUT_MS: u64 = 1_000;

/// `RUN_LEDGER_FAULTS=full` runs the long forms; the default is the short
/// form CI runs.
pub fn full() -> bool {
    std::env::var("RUN_LEDGER_FAULTS").is_ok_and(|value| value == "full")
}

/// The seed of a run: `RUN_LEDGER_FAULT_SEED`, else the clock.
pub fn seed() -> u64 {
    std::env::var("RUN_LEDGER_FAULT_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |since| since.as_nanos() as u64)
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A PostgreSQL and a service on it.
pub struct Rig {
    /// Where everything lives.
    pub dir: PathBuf,
    pg_options: Options,
    pg: Option<EmbeddedPostgres>,
    /// The database URL.
    pub db_url: String,
    service: Option<Child>,
    service_port: u16,
    /// Environment the next service start gets (a failpoint, say).
    pub service_env: Vec<(String, String)>,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// PostgreSQL's version and durability settings, as the server reports them.
    pub settings: Value,
}

impl Rig {
    /// Starts PostgreSQL (fsync and synchronous_commit on) and the service.
    pub async fn start(name: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("run-ledger-{name}-{}", uuid::Uuid::new_v4()));
        let mut pg_options = Options::new(dir.join("pg"));
        pg_options.port = Some(free_port());
        let pg = EmbeddedPostgres::start(&pg_options, "ledger")
            .await
            .expect("starting the rig's PostgreSQL");
        let db_url = pg.url("ledger");
        let settings = {
            let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
            let show = |setting: &'static str| {
                let pool = pool.clone();
                async move {
                    sqlx::query_scalar::<_, String>(&format!("SHOW {setting}"))
                        .fetch_one(&pool)
                        .await
                        .unwrap()
                }
            };
            let settings = json!({
                "server_version": show("server_version").await,
                "fsync": show("fsync").await,
                "synchronous_commit": show("synchronous_commit").await,
            });
            pool.close().await;
            settings
        };
        assert_eq!(
            settings["fsync"], "on",
            "the rig runs with production durability"
        );
        assert_ne!(settings["synchronous_commit"], "off");
        let mut rig = Rig {
            dir,
            pg_options,
            pg: Some(pg),
            db_url,
            service: None,
            service_port: free_port(),
            service_env: vec![],
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(128)
                .build()
                .unwrap(),
            settings,
        };
        rig.start_service().await;
        rig
    }

    /// The service's base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.service_port)
    }

    /// Starts the service and waits until it is ready; returns how long that took.
    pub async fn start_service(&mut self) -> Duration {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("service.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_run-ledger"))
            .arg("serve")
            .env("DATABASE_URL", &self.db_url)
            .env(
                "RUN_LEDGER_LISTEN",
                format!("127.0.0.1:{}", self.service_port),
            )
            .env("RUN_LEDGER_ADMIN_KEY", ADMIN_KEY)
            .env("RUN_LEDGER_SHUTDOWN_GRACE_SECONDS", "10")
            // The faults are the subject here, not a key's request budget.
            .env("RUN_LEDGER_RATE_LIMIT_PER_KEY", "0")
            .env(
                "RUN_LEDGER_DB_ACQUIRE_TIMEOUT_MS",
                ACQUIRE_TIMEOUT_MS.to_string(),
            )
            .env("RUST_LOG", "warn")
            .envs(self.service_env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting run-ledger");
        self.service = Some(child);
        self.wait_ready().await;
        started.elapsed()
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.service.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the service exited: {status}; see {}", self.dir.display());
                }
            }
            let ready = self
                .client
                .get(format!("{}/readyz", self.base()))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Whether the service process is still running.
    pub fn service_alive(&mut self) -> bool {
        self.service
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// `kill -9` of the service.
    pub fn kill_service(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM to the service; returns how long it took to exit, and how.
    pub async fn terminate_service(&mut self) -> (Duration, std::process::ExitStatus) {
        let mut child = self.service.take().expect("a running service");
        let started = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        (started.elapsed(), status)
    }

    /// Stops PostgreSQL, immediately (as a crash) or fast.
    pub async fn stop_postgres(&mut self, immediately: bool) {
        let pg = self.pg.take().expect("a running PostgreSQL");
        tokio::task::spawn_blocking(move || {
            if immediately {
                pg.stop_immediately()
            } else {
                pg.stop()
            }
        })
        .await
        .unwrap()
        .expect("stopping PostgreSQL");
    }

    /// Starts PostgreSQL again, on the same port and data.
    pub async fn start_postgres(&mut self) {
        self.pg = Some(
            EmbeddedPostgres::start(&self.pg_options, "ledger")
                .await
                .expect("restarting PostgreSQL"),
        );
    }

    /// A connection pool of the rig's own (for checks and faults).
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&self.db_url)
            .await
            .unwrap()
    }

    /// Waits until every projection has applied the log up to the head it
    /// sees now (under load the head moves on); returns how long that took.
    pub async fn wait_caught_up(&self) -> Duration {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        let mut target = None;
        loop {
            let projections = match self
                .client
                .get(format!("{}/v1/projections", self.base()))
                .bearer_auth(ADMIN_KEY)
                .send()
                .await
            {
                Ok(response) => response.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if let Some(all) = projections
                .as_ref()
                .and_then(|body| body["projections"].as_array())
            {
                let head = all
                    .iter()
                    .filter_map(|p| p["head"].as_u64())
                    .max()
                    .unwrap_or(0);
                let target = *target.get_or_insert(head);
                if all.iter().all(|p| p["checkpoint"].as_u64() >= Some(target)) {
                    return started.elapsed();
                }
                let stopped: Vec<_> = all.iter().filter(|p| p["state"] == "stopped").collect();
                assert!(stopped.is_empty(), "a projection stopped: {stopped:?}");
            }
            assert!(
                Instant::now() < deadline,
                "projections did not catch up: {projections:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `run-ledger verify` against the rig's database: chains, checkpoints,
    /// and read models against a fresh replay into memory.
    pub fn verify(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_run-ledger"))
            .arg("verify")
            .env("DATABASE_URL", &self.db_url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    /// Stops everything and removes the rig's files.
    pub async fn finish(mut self) {
        if self.service_alive() {
            let _ = self.terminate_service().await;
        }
        if self.pg.is_some() {
            self.stop_postgres(false).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.kill_service();
    }
}

/// Writes `target/tmp/fault-reports/{test}.json` and a row of `summary.md`.
pub fn report(test: &str, seed: u64, rig: &Rig, passed: bool, figures: Value) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-reports");
    std::fs::create_dir_all(&dir).unwrap();
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::OS
    );
    let report = json!({
        "test": test,
        "form": if full() { "full" } else { "short" },
        "seed": seed,
        "passed": passed,
        "machine": machine,
        "postgres": rig.settings,
        "figures": figures,
    });
    std::fs::write(
        dir.join(format!("{test}.json")),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    let summary = dir.join("summary.md");
    let mut row = String::new();
    if !summary.exists() {
        row.push_str("| test | form | passed | seed | machine | PostgreSQL | fsync | synchronous_commit | figures |\n|---|---|---|---|---|---|---|---|---|\n");
    }
    row.push_str(&format!(
        "| {test} | {} | {passed} | {seed} | {machine} | {} | {} | {} | `{}` |\n",
        report["form"].as_str().unwrap(),
        rig.settings["server_version"].as_str().unwrap_or("?"),
        rig.settings["fsync"].as_str().unwrap_or("?"),
        rig.settings["synchronous_commit"].as_str().unwrap_or("?"),
        figures
    ));
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(summary)
        .unwrap()
        .write_all(row.as_bytes())
        .unwrap();
    eprintln!("{test}: {}", serde_json::to_string(&report).unwrap());
}
