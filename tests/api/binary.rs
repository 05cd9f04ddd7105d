//! The built `run-ledger` binary, as an operator runs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_run-ledger")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

fn serve(data_dir: &Path, port: u16) -> Child {
    Command::new(binary())
        .env_remove("DATABASE_URL")
        .env("RUN_LEDGER_DATA_DIR", data_dir)
        .env("RUN_LEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting run-ledger")
}

async fn wait_ready(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if response.status() == 200 {
                return;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("run-ledger exited before it was ready: {status}");
        }
        assert!(Instant::now() < deadline, "run-ledger never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "run-ledger ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn temp_data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rl-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serve_runs_on_embedded_postgres_stops_on_sigterm_and_restarts_on_the_same_data() {
    let data_dir = temp_data_dir();
    let port = free_port();

    let mut first = serve(&data_dir, port);
    wait_ready(port, &mut first).await;
    let postgres = ledger_embedded_pg::postmaster_pid(&data_dir.join("pgdata"))
        .expect("an embedded postmaster");
    assert!(alive(postgres));
    assert!(terminate(&mut first).success());
    assert!(
        !alive(postgres),
        "embedded PostgreSQL {postgres} outlived the service"
    );

    let mut second = serve(&data_dir, port);
    wait_ready(port, &mut second).await;
    assert!(terminate(&mut second).success());
    std::fs::remove_dir_all(&data_dir).unwrap();
}

/// The README's `cargo run --release` on a fresh machine: no data
/// directory, no database, only the default relative `./.run-ledger` in the
/// directory it is started from. It serves the API and the console.
#[tokio::test]
async fn with_no_configuration_serve_starts_in_its_directory_with_the_console() {
    let cwd = temp_data_dir();
    std::fs::create_dir_all(&cwd).unwrap();
    let port = free_port();
    let mut service = Command::new(binary())
        .current_dir(&cwd)
        .env_remove("DATABASE_URL")
        .env_remove("RUN_LEDGER_DATA_DIR")
        .env("RUN_LEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting run-ledger");
    wait_ready(port, &mut service).await;
    assert!(cwd.join(".run-ledger/pgdata/PG_VERSION").exists());
    let sign_in = reqwest::get(format!("http://127.0.0.1:{port}/console/sign-in"))
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 200);
    assert!(sign_in.text().await.unwrap().contains("API key"));
    assert!(terminate(&mut service).success());
    std::fs::remove_dir_all(&cwd).unwrap();
}

#[tokio::test]
async fn a_killed_service_leaves_no_postgres_behind() {
    let data_dir = temp_data_dir();
    let port = free_port();
    let mut service = serve(&data_dir, port);
    wait_ready(port, &mut service).await;
    let postgres = ledger_embedded_pg::postmaster_pid(&data_dir.join("pgdata")).unwrap();
    service.kill().unwrap();
    service.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive(postgres) {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL {postgres} outlived its killed parent"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // And the next start recovers the data directory.
    let mut again = serve(&data_dir, port);
    wait_ready(port, &mut again).await;
    assert!(terminate(&mut again).success());
    std::fs::remove_dir_all(&data_dir).unwrap();
}

#[tokio::test]
async fn migrate_applies_the_schema_to_database_url() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let status = Command::new(binary())
        .arg("migrate")
        .arg("--allow-unsafe-durability")
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT position FROM event_log_head")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(head, 0);
}

/// Runs a read-only command against `url`.
fn read_only(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn replay_verify_and_export_never_migrate_never_write_and_refuse_another_schema() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let run = uuid::Uuid::new_v4().to_string();
    let commands: [&[&str]; 3] = [&["verify"], &["export"], &["replay", &run]];
    for args in commands {
        let refused = read_only(&db.url, args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            stderr.contains("no run-ledger schema"),
            "{args:?}: {stderr}"
        );
    }
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!migrated, "a read-only command migrated the database");

    let status = Command::new(binary())
        .args(["migrate", "--allow-unsafe-durability"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
    // Their connections are read-only: succeeding proves they wrote nothing.
    let verified = read_only(&db.url, &["verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let exported = read_only(&db.url, &["export"]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );

    // A newer binary migrated it: this one says so rather than misread it.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99999999, 'from the future', true, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = read_only(&db.url, &["verify"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("newer than this binary"), "{stderr}");
    // An older schema: the newest migration undone.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version >= (SELECT MAX(version) FROM _sqlx_migrations WHERE version < 99999999)")
        .execute(&pool)
        .await
        .unwrap();
    let refused = read_only(&db.url, &["export"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("older than this binary"), "{stderr}");
}

#[tokio::test]
async fn without_binaries_or_database_url_the_error_says_what_to_install() {
    let data_dir = temp_data_dir();
    let output = Command::new(binary())
        .env_remove("DATABASE_URL")
        .env(ledger_embedded_pg::BIN_DIR_ENV, &data_dir)
        .env("RUN_LEDGER_DATA_DIR", &data_dir)
        .env("RUN_LEDGER_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("apt-get install postgresql"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&data_dir).unwrap();
}
