//! The service as a process of its own: the release `run-ledger` binary
//! serving the bench's database beside the in-process service (two
//! instances on one database, as in production), so that wrk's load
//! reaches a process that holds nothing but the service, and its resident
//! memory is the service's alone.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `run-ledger` binary built beside this one (`cargo build --release`
/// builds both).
fn binary() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("run-ledger");
    path.is_file().then_some(path)
}

/// A running `run-ledger serve`, stopped when dropped.
pub struct ServiceProcess {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
}

impl ServiceProcess {
    /// Starts the binary on `database_url` with the bench's signing key and
    /// no rate limit, and waits until it answers `/readyz`.
    ///
    /// # Errors
    /// Why not, where the binary is not built or does not come up.
    pub async fn start(
        database_url: &str,
        signing_key: &std::path::Path,
        data_dir: &std::path::Path,
    ) -> Result<Self, String> {
        let binary = binary().ok_or("the run-ledger binary is not built beside the bench")?;
        // A free port: taken from the kernel, let go, handed to the service.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("RUN_LEDGER_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUN_LEDGER_DATA_DIR", data_dir)
            .env("RUN_LEDGER_SIGNING_KEY_FILE", signing_key)
            .env("RUN_LEDGER_RATE_LIMIT_PER_KEY", "0")
            .env("RUN_LEDGER_RATE_LIMIT_BURST", "0")
            .env("RUN_LEDGER_CHECKPOINT_INTERVAL_MS", "3600000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| error.to_string())?;
        let service = ServiceProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client
                .get(format!("{}/readyz", service.base))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(service);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("the run-ledger binary did not become ready in 10 s".into())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
