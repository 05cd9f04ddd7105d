//! The supervisor starts a real server, serves connections, and leaves nothing behind.

use std::time::Duration;

use ledger_embedded_pg::{Durability, EmbeddedPostgres, Options};
use sqlx::{Connection, PgConnection};

fn is_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

#[tokio::test]
async fn starts_serves_stops_and_restarts_on_the_same_data() {
    let dir = std::env::temp_dir().join(format!("rl-embedded-{}", uuid::Uuid::new_v4().simple()));
    let options = Options {
        durability: Durability::Production,
        shared_buffers_mib: Some(256),
        ..Options::new(&dir)
    };

    let server = EmbeddedPostgres::start(&options, "ledger").await.unwrap();
    let mut connection = PgConnection::connect(&server.url("ledger")).await.unwrap();
    sqlx::query("CREATE TABLE kept (value TEXT)")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kept VALUES ('survives a restart')")
        .execute(&mut connection)
        .await
        .unwrap();
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(fsync, "on");
    let wal_init_zero: String = sqlx::query_scalar("SHOW wal_init_zero")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(wal_init_zero, "off");
    for (name, value) in ledger_embedded_pg::WRITE_SETTINGS {
        let setting: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert_eq!(setting, value, "{name}");
    }
    let shared_buffers_mib: i64 = sqlx::query_scalar(
        "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    assert_eq!(shared_buffers_mib, 256);
    connection.close().await.unwrap();
    let pid =
        ledger_embedded_pg::postmaster_pid(&dir.join("pgdata")).expect("a running postmaster");
    assert!(is_alive(pid));
    // Backends are forked from the postmaster and keep its environment.
    let environment = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let entries: Vec<&[u8]> = environment.split(|byte| *byte == 0).collect();
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        for (name, value) in ledger_embedded_pg::MALLOC_SETTINGS {
            let value = std::env::var(name).unwrap_or_else(|_| value.to_owned());
            let entry = format!("{name}={value}");
            assert!(
                entries.contains(&entry.as_bytes()),
                "the server runs without {entry}"
            );
        }
    }

    server.stop().unwrap();
    assert!(!is_alive(pid), "postgres {pid} outlived stop()");

    let restarted = EmbeddedPostgres::start(&options, "ledger").await.unwrap();
    let mut connection = PgConnection::connect(&restarted.url("ledger"))
        .await
        .unwrap();
    let kept: String = sqlx::query_scalar("SELECT value FROM kept")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(kept, "survives a restart");
    connection.close().await.unwrap();
    let pid = ledger_embedded_pg::postmaster_pid(&dir.join("pgdata")).unwrap();
    drop(restarted);
    assert!(!is_alive(pid), "postgres {pid} outlived drop");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let db = ledger_embedded_pg::testing::fresh_database().await;
    let url = db.url.replacen("ledger:", "ledger:wrong", 1);
    let result = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(&url)).await;
    assert!(
        matches!(result, Ok(Err(_))),
        "connected without the password"
    );
}
