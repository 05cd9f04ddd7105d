//! A private PostgreSQL server, started from the machine's server binaries,
//! for `run-ledger serve` without `DATABASE_URL` and for the test suites.
//!
//! The server keeps its data in a directory of ours, listens only on a free
//! loopback port with password authentication, and dies with its supervisor:
//! on `stop` (fast shutdown), on drop, and, through the parent-death signal,
//! when the supervising process is killed. Run as root, it runs PostgreSQL
//! as an unprivileged user, since `initdb` and `postgres` refuse root.

#[cfg(feature = "testing")]
pub mod testing;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{chown, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid, User};
use sqlx::{Connection, PgConnection};

/// The role the service connects as.
const SUPERUSER: &str = "ledger";
/// How long a fresh server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before it is forced.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No `initdb`/`postgres` pair anywhere we look.
    #[error(
        "no PostgreSQL server binaries (initdb, postgres) found in RUN_LEDGER_PG_BIN_DIR, on PATH, \
         via `pg_config --bindir`, or in /usr/lib/postgresql/*/bin: install them \
         (Debian/Ubuntu: `apt-get install postgresql`) or set DATABASE_URL to a PostgreSQL server"
    )]
    NoBinaries,
    /// Running as root with no unprivileged user to run PostgreSQL as.
    #[error(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as"
    )]
    NoUnprivilegedUser,
    /// Another live process uses the data directory.
    #[error(
        "the data directory {dir} is in use by PostgreSQL process {pid} of another supervisor"
    )]
    DataDirInUse {
        /// The PostgreSQL data directory.
        dir: PathBuf,
        /// The running postmaster.
        pid: i32,
    },
    /// A PostgreSQL program failed.
    #[error("{program} failed ({status}); see {log}")]
    ProgramFailed {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// Its log.
        log: PathBuf,
    },
    /// The server did not accept connections in time.
    #[error("PostgreSQL did not become ready within {0:?}; see {1}")]
    NotReady(Duration, PathBuf),
    /// Filesystem or process error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server rejected a setup statement.
    #[error("setting up the embedded database: {0}")]
    Setup(#[from] sqlx::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// How much a crash of the machine may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: `fsync` and `synchronous_commit` on; with
    /// `WRITE_SETTINGS`.
    Production,
    /// `fsync` and `synchronous_commit` off: for throwaway test servers only.
    Throwaway,
}

/// Where and how to run the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory the server's files live under (the cluster is in `pgdata/`).
    pub data_dir: PathBuf,
    /// Durability settings.
    pub durability: Durability,
    /// `max_connections` of the server.
    pub max_connections: u32,
    /// The loopback port to listen on; a free one when `None`.
    pub port: Option<u16>,
    /// `shared_buffers` in MiB; PostgreSQL's default (128 MiB) when `None`.
    pub shared_buffers_mib: Option<u64>,
}

impl Options {
    /// Production durability, 200 connections, PostgreSQL's shared buffers.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Options {
            data_dir: data_dir.into(),
            durability: Durability::Production,
            max_connections: 200,
            port: None,
            shared_buffers_mib: None,
        }
    }
}

/// A running private PostgreSQL server. Stopped by `stop` or on drop.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    child: Mutex<Option<Child>>,
    port: u16,
    password: String,
    log: PathBuf,
}

impl EmbeddedPostgres {
    /// Initializes the cluster on first use, starts the server, waits until it
    /// accepts connections, and creates `database` if it does not exist.
    ///
    /// # Errors
    /// See `EmbeddedError`: missing binaries, a data directory in use, or a
    /// server that fails to start.
    pub async fn start(options: &Options, database: &str) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::NoBinaries)?;
        let run_as = RunAs::current()?;
        // Absolute: initdb and the server run in the cluster's directory,
        // where a relative path (the default `./.run-ledger`) means
        // something else.
        let data_dir = &std::path::absolute(&options.data_dir)
            .map_err(io(format!("resolving {}", options.data_dir.display())))?;
        fs::create_dir_all(data_dir).map_err(io(format!("creating {}", data_dir.display())))?;
        // PostgreSQL's user must be able to pass through, not to list or read.
        let mode = if run_as.is_other_user() { 0o711 } else { 0o700 };
        fs::set_permissions(data_dir, fs::Permissions::from_mode(mode))
            .map_err(io("securing the data directory"))?;
        let pgdata = data_dir.join("pgdata");
        let log = data_dir.join("postgres.log");
        let password = load_or_create_password(data_dir)?;
        if !pgdata.join("PG_VERSION").exists() {
            init_cluster(&bin_dir, &run_as, &pgdata, &password, &log)?;
        } else {
            stop_orphaned_server(&pgdata)?;
        }
        let port = match options.port {
            Some(port) => port,
            None => free_loopback_port()?,
        };
        let child = spawn_server(&bin_dir, &run_as, &pgdata, &log, port, options)?;
        let server = EmbeddedPostgres {
            child: Mutex::new(Some(child)),
            port,
            password,
            log,
        };
        server.wait_until_ready().await?;
        server.create_database(database).await?;
        tracing::info!(port, data_dir = %data_dir.display(), "embedded PostgreSQL ready");
        Ok(server)
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Creates `database` unless it exists.
    ///
    /// # Errors
    /// When the server refuses.
    pub async fn create_database(&self, database: &str) -> Result<(), EmbeddedError> {
        let mut admin = PgConnection::connect(&self.url("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(database)
                .fetch_one(&mut admin)
                .await?;
        if !exists {
            sqlx::query(&format!(
                "CREATE DATABASE \"{}\"",
                database.replace('"', "\"\"")
            ))
            .execute(&mut admin)
            .await?;
        }
        admin.close().await?;
        Ok(())
    }

    async fn wait_until_ready(&self) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(connection) = PgConnection::connect(&self.url("postgres")).await {
                let _ = connection.close().await;
                return Ok(());
            }
            let exited = {
                let mut guard = self.child.lock().expect("child lock");
                match guard.as_mut() {
                    Some(child) => child.try_wait().map_err(io("watching postgres"))?,
                    None => None,
                }
            };
            if let Some(status) = exited {
                return Err(EmbeddedError::ProgramFailed {
                    program: "postgres".into(),
                    status: status.to_string(),
                    log: self.log.clone(),
                });
            }
            if Instant::now() > deadline {
                return Err(EmbeddedError::NotReady(READY_TIMEOUT, self.log.clone()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fast shutdown: PostgreSQL rolls back open transactions, writes a
    /// checkpoint and exits; forced after 30 seconds. Idempotent.
    ///
    /// # Errors
    /// When waiting for the process fails.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        self.stop_with(Signal::SIGINT)
    }

    /// Immediate shutdown (`pg_ctl -m immediate`): PostgreSQL exits at once
    /// and recovers from its WAL on the next start, as after a crash.
    ///
    /// # Errors
    /// When waiting for the process fails.
    pub fn stop_immediately(&self) -> Result<(), EmbeddedError> {
        self.stop_with(Signal::SIGQUIT)
    }

    fn stop_with(&self, signal: Signal) -> Result<(), EmbeddedError> {
        let Some(mut child) = self.child.lock().expect("child lock").take() else {
            return Ok(());
        };
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, signal);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if child.try_wait().map_err(io("stopping postgres"))?.is_some() {
                tracing::info!("embedded PostgreSQL stopped");
                return Ok(());
            }
            if Instant::now() > deadline {
                tracing::warn!("embedded PostgreSQL did not stop in time; killing it");
                let _ = kill(pid, Signal::SIGQUIT);
                child.wait().map_err(io("killing postgres"))?;
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::error!(%error, "stopping embedded PostgreSQL");
        }
    }
}

/// The user PostgreSQL runs as.
#[derive(Debug, Clone)]
struct RunAs {
    uid: Option<(u32, u32)>,
}

impl RunAs {
    fn current() -> Result<Self, EmbeddedError> {
        if !Uid::effective().is_root() {
            return Ok(RunAs { uid: None });
        }
        let user = ["postgres", "nobody"]
            .iter()
            .find_map(|name| User::from_name(name).ok().flatten())
            .ok_or(EmbeddedError::NoUnprivilegedUser)?;
        Ok(RunAs {
            uid: Some((user.uid.as_raw(), user.gid.as_raw())),
        })
    }

    fn is_other_user(&self) -> bool {
        self.uid.is_some()
    }

    fn own(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Some((uid, gid)) = self.uid {
            chown(path, Some(uid), Some(gid)).map_err(io(format!("chown {}", path.display())))?;
        }
        Ok(())
    }

    fn command(&self, program: PathBuf, log: &Path) -> Result<Command, EmbeddedError> {
        let mut command = Command::new(program);
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(io(format!("opening {}", log.display())))?;
        let log_err = log_file.try_clone().map_err(io("duplicating the log"))?;
        command
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .env("LC_ALL", "C");
        if let Some((uid, gid)) = self.uid {
            command.uid(uid).gid(gid);
        }
        Ok(command)
    }
}

/// Environment variable naming the directory of `initdb` and `postgres`;
/// when set, nothing else is searched.
pub const BIN_DIR_ENV: &str = "RUN_LEDGER_PG_BIN_DIR";

/// Finds the directory holding `initdb` and `postgres`: `RUN_LEDGER_PG_BIN_DIR`
/// if set, else PATH, `pg_config --bindir`, and the newest of Debian's
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV) {
        let dir = PathBuf::from(dir);
        return has_server(&dir).then_some(dir);
    }
    let from_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .find(|initdb| initdb.is_file())
            .and_then(|initdb| fs::canonicalize(initdb).ok())
            .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
    });
    let from_pg_config = || {
        Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
    };
    let from_debian = || {
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version = entry.file_name().to_str()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versions.sort();
        versions
            .into_iter()
            .rev()
            .map(|(_, dir)| dir)
            .find(|d| has_server(d))
    };
    from_path
        .filter(|dir| has_server(dir))
        .or_else(|| from_pg_config().filter(|dir| has_server(dir)))
        .or_else(from_debian)
}

fn load_or_create_password(data_dir: &Path) -> Result<String, EmbeddedError> {
    let path = data_dir.join("superuser-password");
    if let Ok(mut file) = fs::File::open(&path) {
        let mut password = String::new();
        file.read_to_string(&mut password)
            .map_err(io("reading the superuser password"))?;
        return Ok(password.trim().to_owned());
    }
    let password = uuid::Uuid::new_v4().simple().to_string();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("writing the superuser password"))?;
    file.write_all(password.as_bytes())
        .map_err(io("writing the superuser password"))?;
    Ok(password)
}

fn init_cluster(
    bin_dir: &Path,
    run_as: &RunAs,
    pgdata: &Path,
    password: &str,
    log: &Path,
) -> Result<(), EmbeddedError> {
    if pgdata.exists() {
        // A previous initdb was interrupted: start over.
        fs::remove_dir_all(pgdata).map_err(io("removing a half-made cluster"))?;
    }
    fs::create_dir(pgdata).map_err(io("creating pgdata"))?;
    fs::set_permissions(pgdata, fs::Permissions::from_mode(0o700))
        .map_err(io("securing pgdata"))?;
    run_as.own(pgdata)?;
    // initdb reads the password from a file PostgreSQL's user can read; it
    // lives beside pgdata only until initdb is done.
    let pwfile = pgdata.with_extension("pwfile");
    fs::write(&pwfile, password).map_err(io("writing the initdb password file"))?;
    fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600))
        .map_err(io("securing the password file"))?;
    run_as.own(&pwfile)?;
    let status = run_as
        .command(bin_dir.join("initdb"), log)?
        .current_dir(pgdata)
        .arg("-D")
        .arg(pgdata)
        .args([
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            "--no-locale",
            "-E",
            "UTF8",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .status()
        .map_err(io("running initdb"));
    let _ = fs::remove_file(&pwfile);
    let status = status?;
    if !status.success() {
        return Err(EmbeddedError::ProgramFailed {
            program: "initdb".into(),
            status: status.to_string(),
            log: log.to_path_buf(),
        });
    }
    Ok(())
}

/// The pid a cluster's `postmaster.pid` names, if the file is there.
pub fn postmaster_pid(pgdata: &Path) -> Option<i32> {
    fs::read_to_string(pgdata.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A postmaster left running by a supervisor that was killed before it
/// could stop it (its parent is gone) is shut down; one with a live
/// parent belongs to another supervisor, and we refuse to share.
fn stop_orphaned_server(pgdata: &Path) -> Result<(), EmbeddedError> {
    let Some(pid) = postmaster_pid(pgdata) else {
        return Ok(());
    };
    let pid = Pid::from_raw(pid);
    if kill(pid, None).is_err() {
        return Ok(());
    }
    let is_postgres = fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == "postgres")
        .unwrap_or(false);
    if !is_postgres {
        return Ok(());
    }
    let parent = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1;
            after_name.split_whitespace().nth(1)?.parse::<i32>().ok()
        });
    if parent != Some(1) {
        return Err(EmbeddedError::DataDirInUse {
            dir: pgdata.to_path_buf(),
            pid: pid.as_raw(),
        });
    }
    tracing::warn!(%pid, "stopping an orphaned embedded PostgreSQL");
    let _ = kill(pid, Signal::SIGINT);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while kill(pid, None).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn free_loopback_port() -> Result<u16, EmbeddedError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

/// Server settings a production-durability embedded server runs with, on
/// its command line, against the latency spikes of a write-heavy load on
/// PostgreSQL's defaults (docs/decisions.md): WAL may grow to 4 GB between
/// checkpoints (1 GB checkpointed every 15 to 20 s under the bench's
/// appends, and each checkpoint's first writes stalled commits), and a
/// backend that writes out a page has the kernel start writing it to disk
/// at once (with 128 MB of shared buffers backends write out most pages,
/// and the kernel, left to itself, wrote up to 740 MB of them in one burst every
/// 30 s, stalling commits behind it).
pub const WRITE_SETTINGS: [(&str, &str); 2] =
    [("max_wal_size", "4GB"), ("backend_flush_after", "256kB")];

/// The glibc malloc settings the embedded server runs with, as the
/// environment variables glibc reads them from: freed memory is kept up to
/// 64 MiB at the top of a backend's heap, the heap grows 16 MiB at a time,
/// and blocks below 32 MiB come from the heap, not from a mapping of their
/// own.
pub const MALLOC_SETTINGS: [(&str, &str); 3] = [
    ("MALLOC_TRIM_THRESHOLD_", "67108864"),
    ("MALLOC_TOP_PAD_", "16777216"),
    ("MALLOC_MMAP_THRESHOLD_", "33554432"),
];

fn spawn_server(
    bin_dir: &Path,
    run_as: &RunAs,
    pgdata: &Path,
    log: &Path,
    port: u16,
    options: &Options,
) -> Result<Child, EmbeddedError> {
    let mut command = run_as.command(bin_dir.join("postgres"), log)?;
    command
        .current_dir(pgdata)
        .arg("-D")
        .arg(pgdata)
        .arg("-p")
        .arg(port.to_string())
        .args(["-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "unix_socket_directories="])
        .arg("-c")
        .arg(format!("max_connections={}", options.max_connections));
    // A new WAL segment is zero-filled (16 MiB) by whichever backend first
    // needs it, while every commit behind it waits: in a server's first
    // gigabyte of WAL, before checkpoints recycle segments, that doubled
    // the p99 of single appends (docs/decisions.md). ext4 and xfs allocate
    // on write; recycled segments are already allocated either way.
    command.args(["-c", "wal_init_zero=off"]);
    // glibc gives a backend's freed heap back to the kernel as soon as
    // 128 KiB of it lie free at the top, and serves large blocks (the
    // writer's arrays of a batch's rows) from fresh mappings; each
    // statement then faults its memory in again, zeroed page by page.
    // Kept, a batch's write costs less (docs/decisions.md). An operator's
    // own settings, in these variables or in `GLIBC_TUNABLES`, are left
    // as they are.
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        for (name, value) in MALLOC_SETTINGS {
            if std::env::var_os(name).is_none() {
                command.env(name, value);
            }
        }
    }
    if let Some(mib) = options.shared_buffers_mib {
        command.arg("-c").arg(format!("shared_buffers={mib}MB"));
    }
    match options.durability {
        Durability::Production => {
            for (name, value) in WRITE_SETTINGS {
                command.arg("-c").arg(format!("{name}={value}"));
            }
        }
        Durability::Throwaway => {
            command.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
    }
    // SAFETY: prctl is async-signal-safe; it runs in the child between fork
    // and exec, after the uid change (which would clear the setting).
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGQUIT).map_err(std::io::Error::from)
        });
    }
    // The parent-death signal fires when the spawning *thread* exits, so the
    // spawn happens on a thread that lives as long as the process.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || {
            let _ = sender.send(command.spawn());
            loop {
                std::thread::park();
            }
        })
        .map_err(io("starting the supervisor thread"))?;
    receiver
        .recv()
        .expect("the supervisor thread sends once")
        .map_err(io("starting postgres"))
}
