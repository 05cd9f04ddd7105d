//! One PostgreSQL server per test process and a fresh database per test.
//!
//! With `DATABASE_URL` set, tests create their databases on that server
//! (its role needs `CREATEDB`); otherwise the first test starts an embedded
//! server under the system temp directory, which dies with the test process.

use std::path::PathBuf;

use nix::sys::signal::kill;
use nix::unistd::Pid;
use tokio::sync::OnceCell;

use crate::{Durability, EmbeddedPostgres, Options};

enum Server {
    External(url::Url),
    Embedded(EmbeddedPostgres),
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

/// A database made for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// Its connection URL.
    pub url: String,
    /// Its name.
    pub name: String,
}

/// Creates an empty database on the test server, starting the server first
/// if this is the process's first test.
///
/// # Panics
/// When no server can be started or reached: a test cannot run without one.
pub async fn fresh_database() -> TestDatabase {
    let server = SERVER
        .get_or_init(|| async {
            match std::env::var("DATABASE_URL") {
                Ok(url) => Server::External(url.parse().expect("DATABASE_URL is a URL")),
                Err(_) => Server::Embedded(start_embedded().await),
            }
        })
        .await;
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    match server {
        Server::Embedded(embedded) => {
            embedded
                .create_database(&name)
                .await
                .expect("creating a test database");
            TestDatabase {
                url: embedded.url(&name),
                name,
            }
        }
        Server::External(admin_url) => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(admin_url.as_str())
                .await
                .expect("connecting to DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .expect("creating a test database on DATABASE_URL (needs CREATEDB)");
            let mut url = admin_url.clone();
            url.set_path(&name);
            TestDatabase {
                url: url.to_string(),
                name,
            }
        }
    }
}

async fn start_embedded() -> EmbeddedPostgres {
    let root = std::env::temp_dir().join("run-ledger-tests");
    remove_dead_test_dirs(&root);
    let dir = root.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&root).expect("creating the test server directory");
    // The unprivileged PostgreSQL user must be able to pass through.
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711));
    let options = Options {
        durability: Durability::Throwaway,
        max_connections: 400,
        ..Options::new(&dir)
    };
    EmbeddedPostgres::start(&options, "postgres")
        .await
        .unwrap_or_else(|error| panic!("starting the embedded test PostgreSQL: {error}"))
}

/// Test servers die with their process, but their files stay: remove those
/// of processes that are gone.
fn remove_dead_test_dirs(root: &PathBuf) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
            .is_some_and(|pid| kill(Pid::from_raw(pid), None).is_ok());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The generic plan of `statement` (the plan a connection keeps for a
/// prepared statement once it stops planning each execution afresh), as
/// `EXPLAIN` prints it under `connection`'s settings: prepared there as
/// `name`, with parameters of `types` (as `PREPARE` takes them, comma
/// separated), explained with every parameter null.
///
/// # Panics
/// When PostgreSQL refuses the statement or the name is taken.
pub async fn generic_plan(
    connection: &mut sqlx::PgConnection,
    name: &str,
    types: &str,
    statement: &str,
) -> String {
    sqlx::raw_sql(&format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE {name} ({types}) AS {statement}"
    ))
    .execute(&mut *connection)
    .await
    .unwrap_or_else(|error| panic!("preparing {name}: {error}"));
    let nulls = vec!["NULL"; types.split(',').count()].join(", ");
    let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN EXECUTE {name} ({nulls})"))
        .fetch_all(&mut *connection)
        .await
        .unwrap_or_else(|error| panic!("explaining {name}: {error}"));
    lines.join("\n")
}

/// Whether a plan, as `EXPLAIN` prints it, reads a whole table: a
/// sequential scan, or a hash join (whose hashed side PostgreSQL fills by
/// reading all of it). Statements meant to probe keys must do neither.
pub fn plan_reads_a_whole_table(plan: &str) -> bool {
    plan.lines()
        .any(|line| line.contains("Seq Scan") || (line.contains("Hash") && line.contains("Join")))
}
