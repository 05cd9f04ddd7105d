//! The one harness: `spawn_app()` serves the real router on a random port
//! against a fresh database of the test PostgreSQL.

use std::net::SocketAddr;
use std::path::PathBuf;

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
        shutdown_grace_seconds: 5,
        database: DatabaseConfig {
            database_url: Some(db.url.parse::<Secret>().unwrap()),
            data_dir: PathBuf::from("unused"),
            max_connections: 10,
            allow_unsafe_durability: true,
        },
    }
}

pub async fn spawn_app() -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        run_ledger::init_tracing();
    }
    let db = fresh_database().await;
    let app = Application::build(config_for(&db))
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
