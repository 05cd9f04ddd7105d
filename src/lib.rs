//! The `run-ledger` service: configuration, start-up (database, migrations,
//! durability check), the HTTP server, and an orderly shutdown.
//!
//! `Application::build` binds the listener (port 0 allowed) and connects the
//! database; `run_until_stopped` serves until the shutdown future resolves,
//! drains in-flight requests, then closes the pool and stops an embedded
//! PostgreSQL. Tests drive the same `Application`.

pub mod audit;
pub mod witness;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::serve::ListenerExt;
use ledger_api::{AppState, SharedState};
use ledger_commands::Ledger;
use ledger_embedded_pg::{EmbeddedPostgres, Options as EmbeddedOptions};
use ledger_projections::{run_projector, ProjectorOptions, ReadModel};
use ledger_store::checkpoint::{CheckpointError, CheckpointSigner, Checkpointer};
use ledger_store::note::{NoteError, NoteSigner, NoteVerifier};
use ledger_store::{PgEventStore, MIGRATOR};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;

/// The database the embedded server creates for the service.
const EMBEDDED_DATABASE: &str = "run_ledger";

/// How often the service checks that the events table has its next
/// partition. A partition spans millions of positions and the next one is
/// made a whole partition ahead, so a minute is far more often than needed.
const PARTITION_MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret's value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Secret(value.to_owned()))
    }
}

/// Where the data lives.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Without it, the service runs a private PostgreSQL from
    /// the machine's server binaries, with its data under --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
    /// Directory of the embedded PostgreSQL's data (used without DATABASE_URL).
    #[arg(long, env = "RUN_LEDGER_DATA_DIR", default_value = "./.run-ledger")]
    pub data_dir: PathBuf,
    /// The embedded PostgreSQL's shared_buffers in MiB (used without
    /// DATABASE_URL). Default: PostgreSQL's own (128 MiB).
    #[arg(long, env = "RUN_LEDGER_EMBEDDED_SHARED_BUFFERS_MB")]
    pub embedded_shared_buffers_mb: Option<u64>,
    /// Most connections the service opens.
    #[arg(long, env = "RUN_LEDGER_DB_MAX_CONNECTIONS", default_value_t = 32)]
    pub max_connections: u32,
    /// Milliseconds a request waits for a database connection before it is
    /// answered 503 (with Retry-After), for example while PostgreSQL restarts.
    #[arg(
        long,
        env = "RUN_LEDGER_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub acquire_timeout_ms: u64,
    /// Start even when PostgreSQL runs with fsync or synchronous_commit off,
    /// accepting that acknowledged appends may be lost in a crash.
    #[arg(
        long,
        env = "RUN_LEDGER_ALLOW_UNSAFE_DURABILITY",
        default_value_t = false
    )]
    pub allow_unsafe_durability: bool,
}

/// The key and name checkpoints are signed with.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SigningKeyConfig {
    /// File holding the Ed25519 key that signs checkpoints: the 32-byte seed
    /// as 64 hex digits. Without it, the embedded mode creates one at
    /// <data-dir>/checkpoint-signing.key; with DATABASE_URL nothing is
    /// signed. Every instance on one database must use the same key.
    #[arg(long, env = "RUN_LEDGER_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,
    /// The log's origin: the first line of its checkpoints and the name of
    /// its key (no spaces, no '+'). Default: `run-ledger/<log id>`, the id
    /// made with the database.
    #[arg(long, env = "RUN_LEDGER_LOG_ORIGIN")]
    pub log_origin: Option<String>,
}

/// The key file the embedded mode creates in its data directory.
const EMBEDDED_SIGNING_KEY: &str = "checkpoint-signing.key";

impl SigningKeyConfig {
    /// The configured signer: the key file, else the embedded mode's own
    /// (created on first use), else none.
    ///
    /// # Errors
    /// A key file that cannot be read, parsed or created.
    pub fn signer(
        &self,
        database: &DatabaseConfig,
    ) -> Result<Option<CheckpointSigner>, CheckpointError> {
        match (&self.signing_key_file, &database.database_url) {
            (Some(path), _) => CheckpointSigner::from_file(path).map(Some),
            (None, None) => {
                CheckpointSigner::load_or_create(&database.data_dir.join(EMBEDDED_SIGNING_KEY))
                    .map(Some)
            }
            (None, Some(_)) => Ok(None),
        }
    }

    /// The configured origin, else the default made from the log's id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn origin(&self, pool: &PgPool) -> Result<String, sqlx::Error> {
        match &self.log_origin {
            Some(origin) => Ok(origin.clone()),
            None => Ok(ledger_store::tlog::default_origin(
                ledger_store::tlog::log_id(pool).await?,
            )),
        }
    }

    /// The configured signer as a note signer under the log's origin.
    ///
    /// # Errors
    /// A key file that cannot be used, an origin that cannot be a key name,
    /// or a database that fails.
    pub async fn note_signer(
        &self,
        database: &DatabaseConfig,
        pool: &PgPool,
    ) -> Result<Option<NoteSigner>, StartError> {
        let Some(signer) = self.signer(database)? else {
            return Ok(None);
        };
        let origin = self.origin(pool).await?;
        Ok(Some(
            signer.note_signer(&origin).map_err(CheckpointError::from)?,
        ))
    }
}

/// Parses note verifier keys (`<name>+<key id>+<key>`).
///
/// # Errors
/// The first that does not parse.
pub fn parse_verifier_keys(keys: &[String]) -> Result<Vec<NoteVerifier>, NoteError> {
    keys.iter()
        .filter(|key| !key.trim().is_empty())
        .map(|key| NoteVerifier::parse(key))
        .collect()
}

/// `run-ledger serve` configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address the HTTP API listens on.
    #[arg(long, env = "RUN_LEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Makes this secret an admin key (every scope, every tenant) for as long
    /// as it is configured; use it to create the other keys.
    #[arg(long, env = "RUN_LEDGER_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<Secret>,
    /// Seconds a request body may take to arrive before the request is refused (408).
    #[arg(long, env = "RUN_LEDGER_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_timeout_seconds: u64,
    /// Milliseconds a query with `min_position` waits for its read model before 503.
    #[arg(
        long,
        env = "RUN_LEDGER_MIN_POSITION_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub min_position_timeout_ms: u64,
    /// Milliseconds an API key read from the database is trusted before it is
    /// read again: a key revoked in the database stops working within it.
    #[arg(long, env = "RUN_LEDGER_KEY_CACHE_MS", default_value_t = 10_000)]
    pub key_cache_ms: u64,
    /// Requests a second each API key may make on this instance (a token
    /// bucket refilled at this rate); over it, 429 `rate_limited` with
    /// `Retry-After`. 0 turns limits off. Health, readiness and metrics are
    /// never limited.
    #[arg(long, env = "RUN_LEDGER_RATE_LIMIT_PER_KEY", default_value_t = 2_000)]
    pub rate_limit_per_key: u32,
    /// Requests a key may make at once above its rate (the bucket's size).
    #[arg(long, env = "RUN_LEDGER_RATE_LIMIT_BURST", default_value_t = 4_000)]
    pub rate_limit_burst: u32,
    /// Seconds an `Idempotency-Key`'s first answer is kept. A later retry is
    /// still applied once (it is answered from the log), but may get 200
    /// where the first answer was 201.
    #[arg(
        long,
        env = "RUN_LEDGER_IDEMPOTENCY_RETENTION_SECONDS",
        default_value_t = 7 * 24 * 3_600
    )]
    pub idempotency_retention_seconds: u64,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "RUN_LEDGER_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    /// Milliseconds between signed checkpoints; one is made only when events
    /// came since the last.
    #[arg(
        long,
        env = "RUN_LEDGER_CHECKPOINT_INTERVAL_MS",
        default_value_t = 60_000
    )]
    pub checkpoint_interval_ms: u64,
    /// Milliseconds a projector waits after catching up before it reads
    /// again, so that under steady appends it applies fewer, larger batches;
    /// at most this much is added to the projection lag. 0 reads at once.
    #[arg(
        long,
        env = "RUN_LEDGER_PROJECTOR_BATCH_DELAY_MS",
        default_value_t = ledger_projections::DEFAULT_BATCH_DELAY.as_millis() as u64
    )]
    pub projector_batch_delay_ms: u64,
    /// Serves the web console at `/` on the API's port (people sign in with
    /// an API key); `false` serves the API alone.
    #[arg(long, env = "RUN_LEDGER_CONSOLE", default_value_t = true, action = clap::ArgAction::Set)]
    pub console: bool,
    /// The checkpoint signing key.
    #[command(flatten)]
    pub signing: SigningKeyConfig,
    /// Verifier keys (`<name>+<key id>+<key>`, comma-separated) of the
    /// witnesses whose cosignatures this log accepts and serves.
    #[arg(long, env = "RUN_LEDGER_WITNESS_KEYS", value_delimiter = ',')]
    pub witness_keys: Vec<String>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseConfig,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The embedded PostgreSQL failed.
    #[error(transparent)]
    Embedded(#[from] ledger_embedded_pg::EmbeddedError),
    /// The database could not be reached or queried.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// PostgreSQL could lose acknowledged appends.
    #[error(
        "PostgreSQL runs with fsync={fsync} and synchronous_commit={synchronous_commit}: \
         acknowledged appends could be lost in a crash. Fix the server, or pass \
         --allow-unsafe-durability (RUN_LEDGER_ALLOW_UNSAFE_DURABILITY=true) to accept that"
    )]
    UnsafeDurability {
        /// `SHOW fsync`.
        fsync: String,
        /// `SHOW synchronous_commit`.
        synchronous_commit: String,
    },
    /// The checkpoint signing key cannot be used.
    #[error(transparent)]
    Signing(#[from] CheckpointError),
    /// A witness key that does not parse.
    #[error("RUN_LEDGER_WITNESS_KEYS: {0}")]
    WitnessKey(#[from] NoteError),
    /// A read-only command met a schema other than this binary's.
    #[error("{}", schema_mismatch(*found, *expected))]
    SchemaMismatch {
        /// The newest migration the database has (`None`: never migrated).
        found: Option<i64>,
        /// The newest this binary has.
        expected: i64,
    },
    /// The listener could not be bound.
    #[error("binding {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

fn schema_mismatch(found: Option<i64>, expected: i64) -> String {
    match found {
        None => "the database has no run-ledger schema: run `run-ledger migrate` first \
                 (read-only commands never migrate)"
            .to_owned(),
        Some(found) if found < expected => format!(
            "the database's schema is at migration {found}, older than this binary's \
             {expected}: run `run-ledger migrate` with this binary, or use the binary \
             that migrated it (read-only commands never migrate)"
        ),
        Some(found) => format!(
            "the database's schema is at migration {found}, newer than this binary's \
             {expected}: use a binary at least as new as the one that migrated it"
        ),
    }
}

/// A migrated, durability-checked database, and the embedded server behind
/// it when there is one.
#[derive(Debug)]
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects (starting the embedded server without a URL), checks
    /// durability, and applies pending migrations.
    ///
    /// # Errors
    /// See `StartError`.
    pub async fn open(config: &DatabaseConfig) -> Result<Self, StartError> {
        let (url, embedded) = Self::server(config).await?;
        let pool = pool_options(config.max_connections, config.acquire_timeout_ms)
            .connect(&url)
            .await?;
        check_durability(&pool, config.allow_unsafe_durability).await?;
        MIGRATOR.run(&pool).await?;
        warm_up(&pool, config.max_connections).await;
        Ok(Database { pool, embedded })
    }

    /// Connects for reading only, as `replay`, `verify` and `export` do:
    /// every transaction is read-only, nothing is migrated, and a schema
    /// older or newer than this binary's is refused (`SchemaMismatch`).
    ///
    /// # Errors
    /// See `StartError`.
    pub async fn open_read_only(config: &DatabaseConfig) -> Result<Self, StartError> {
        let (url, embedded) = Self::server(config).await?;
        let options = url
            .parse::<sqlx::postgres::PgConnectOptions>()?
            .options([("default_transaction_read_only", "on")]);
        let pool = pool_options(config.max_connections.min(4), config.acquire_timeout_ms)
            .connect_with(options)
            .await?;
        let database = Database { pool, embedded };
        match check_schema(&database.pool).await {
            Ok(()) => Ok(database),
            Err(error) => {
                database.close().await;
                Err(error)
            }
        }
    }

    /// The URL of the configured server, starting the embedded one when
    /// there is no URL.
    async fn server(
        config: &DatabaseConfig,
    ) -> Result<(String, Option<EmbeddedPostgres>), StartError> {
        Ok(match &config.database_url {
            Some(url) => (url.expose().to_owned(), None),
            None => {
                let options = EmbeddedOptions {
                    shared_buffers_mib: config.embedded_shared_buffers_mb,
                    ..EmbeddedOptions::new(&config.data_dir)
                };
                let server = EmbeddedPostgres::start(&options, EMBEDDED_DATABASE).await?;
                (server.url(EMBEDDED_DATABASE), Some(server))
            }
        })
    }

    /// Closes the pool and stops the embedded server, if any.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(server) = self.embedded {
            let stopped = tokio::task::spawn_blocking(move || server.stop()).await;
            if let Ok(Err(error)) = stopped {
                tracing::error!(%error, "stopping the embedded PostgreSQL");
            }
        }
    }
}

/// Refuses a database whose schema is not the one this binary's migrations
/// make: one that was never migrated, is behind, or is ahead.
async fn check_schema(pool: &PgPool) -> Result<(), StartError> {
    let expected = MIGRATOR
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0);
    let found: Option<i64> =
        match sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
        {
            Ok(found) => found,
            // No migrations table: never migrated.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P01") => None,
            Err(error) => return Err(error.into()),
        };
    if found == Some(expected) {
        Ok(())
    } else {
        Err(StartError::SchemaMismatch { found, expected })
    }
}

/// The pool's options: `max_connections`, and how long an acquire waits.
///
/// A connection is checked with a round trip before it is handed out only
/// once it has been idle for `ledger_store::PING_AFTER_IDLE` (as the append
/// writer does with its own), not before every query as sqlx does by default:
/// under load that ping was a second round trip for every query (an eighth
/// of the service's CPU on a run page). A connection that died while idle
/// (a restarted or failed-over server) is still found out and replaced
/// before a request uses it; one that dies while busy fails its query, as
/// it would have anyway.
fn pool_options(max_connections: u32, acquire_timeout_ms: u64) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_millis(acquire_timeout_ms))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= ledger_store::PING_AFTER_IDLE {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// Opens the pool's connections before the first request comes. A burst
/// of requests right after start-up would otherwise each wait for a
/// connection to be made (a server process forked, a password checked),
/// and on a busy machine some would wait past the acquire timeout and be
/// refused with 503. Best effort: a connection that cannot be opened now
/// is opened when it is needed. Idle connections still close after
/// sqlx's idle timeout.
async fn warm_up(pool: &PgPool, connections: u32) {
    let acquired = futures::future::join_all((0..connections).map(|_| pool.acquire())).await;
    let opened = acquired
        .iter()
        .filter(|connection| connection.is_ok())
        .count();
    tracing::debug!(opened, "connection pool warmed up");
}

async fn check_durability(pool: &PgPool, allow_unsafe: bool) -> Result<(), StartError> {
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
    let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(pool)
        .await?;
    if fsync == "on" && synchronous_commit != "off" {
        return Ok(());
    }
    if allow_unsafe {
        tracing::warn!(%fsync, %synchronous_commit, "running with unsafe durability, as allowed");
        return Ok(());
    }
    Err(StartError::UnsafeDurability {
        fsync,
        synchronous_commit,
    })
}

/// The service, bound and connected, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    database: Database,
    state: AppState,
    grace: Duration,
    /// Stops projectors and live-update tasks.
    stop_background: tokio::sync::watch::Sender<bool>,
    /// Signs checkpoints at this interval, when a key is configured.
    checkpointer: Option<(Checkpointer, Duration)>,
    /// How long idempotency records are kept.
    idempotency_retention: Duration,
    /// How the read models' projectors run.
    projector_options: ProjectorOptions,
    /// Whether the web console is served.
    console: bool,
}

impl Application {
    /// Opens the database and binds the listener.
    ///
    /// # Errors
    /// See `StartError`.
    pub async fn build(config: ServeConfig) -> Result<Self, StartError> {
        // A key file that cannot be used stops the start before the database.
        config.signing.signer(&config.database)?;
        let witnesses = parse_verifier_keys(&config.witness_keys)?;
        let database = Database::open(&config.database).await?;
        let signer = config
            .signing
            .note_signer(&config.database, &database.pool)
            .await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|error| StartError::Bind(config.listen, error))?;
        let store = PgEventStore::new(database.pool.clone());
        let (stop_background, background_stopping) = tokio::sync::watch::channel(false);
        let tasks = tokio_util::task::TaskTracker::new();
        let state = AppState::new(SharedState {
            live: ledger_api::live::Live::start(
                database.pool.clone(),
                background_stopping.clone(),
                &tasks,
            ),
            tasks,
            stopping: background_stopping,
            pool: database.pool.clone(),
            ledger: Ledger::new(store),
            admin_key_hash: config
                .admin_key
                .as_ref()
                .map(|key| ledger_api::auth::admin_key_hash(key.expose())),
            body_timeout: Duration::from_secs(config.body_timeout_seconds),
            min_position_timeout: Duration::from_millis(config.min_position_timeout_ms),
            log_key: signer.as_ref().map(|signer| signer.verifier().clone()),
            witnesses: witnesses.into(),
            keys: ledger_api::auth::KeyCache::new(Duration::from_millis(config.key_cache_ms)),
            rate_limits: ledger_api::auth::RateLimits::new(
                config.rate_limit_per_key,
                config.rate_limit_burst,
            ),
        });
        if signer.is_none() {
            tracing::warn!("no checkpoint signing key configured: checkpoints are not signed");
        }
        Ok(Application {
            checkpointer: signer.map(|signer| {
                (
                    Checkpointer::new(database.pool.clone(), signer),
                    Duration::from_millis(config.checkpoint_interval_ms.max(1)),
                )
            }),
            listener,
            database,
            state,
            grace: Duration::from_secs(config.shutdown_grace_seconds),
            projector_options: ProjectorOptions {
                batch_delay: Duration::from_millis(config.projector_batch_delay_ms),
                ..ProjectorOptions::default()
            },
            stop_background,
            idempotency_retention: Duration::from_secs(config.idempotency_retention_seconds),
            console: config.console,
        })
    }

    /// The address the API listens on.
    ///
    /// # Panics
    /// Never for a bound TCP listener.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish
    /// (up to the grace period) and releases the database.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            database,
            state,
            grace,
            stop_background,
            checkpointer,
            idempotency_retention,
            projector_options,
            console,
        } = self;
        let router_state = state.clone();
        let (stopping, stop_signal) = tokio::sync::watch::channel(false);
        // Responses go out as soon as they are written, not held back by
        // Nagle's algorithm waiting for the client's acknowledgement.
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
            }
        });
        let api = ledger_api::router(router_state.clone());
        let app = if console {
            ledger_console::router(router_state, api)
        } else {
            api
        };
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stopping.send(true);
        });
        let mut grace_signal = stop_signal.clone();
        let projectors_stopping = stop_background.subscribe();
        let tasks = state.tasks.clone();
        for model in ReadModel::ALL {
            tasks.spawn(run_projector(
                database.pool.clone(),
                state.ledger.store().clone(),
                model,
                projector_options.clone(),
                projectors_stopping.clone(),
            ));
        }
        tasks.spawn(ledger_api::keys::follow_key_changes(
            database.pool.clone(),
            state.keys.clone(),
            projectors_stopping.clone(),
        ));
        tasks.spawn(ledger_api::idempotency::sweep_records(
            database.pool.clone(),
            idempotency_retention,
            projectors_stopping.clone(),
        ));
        tasks.spawn(ledger_store::partitions::keep_event_partitions_ahead(
            database.pool.clone(),
            PARTITION_MAINTENANCE_EVERY,
            projectors_stopping.clone(),
        ));
        if let Some((checkpointer, interval)) = checkpointer {
            tasks.spawn(checkpointer.run(interval, projectors_stopping.clone()));
        }
        let served = tokio::select! {
            served = server => served,
            _ = async {
                let _ = grace_signal.wait_for(|stopping| *stopping).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "in-flight requests outlived the grace period");
                Ok(())
            }
        };
        // Background work ends before the database goes away: projectors
        // finish the batch they are in (it commits with its checkpoint or
        // not at all), a rebuild stops between batches (its live tables
        // untouched), the signer between checkpoints.
        let _ = stop_background.send(true);
        tasks.close();
        tasks.wait().await;
        database.close().await;
        tracing::info!("stopped");
        served
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`), and
/// `RUN_LEDGER_LOG_FORMAT=json` writes JSON lines.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = std::env::var("RUN_LEDGER_LOG_FORMAT").is_ok_and(|format| format == "json");
    let _ = if json {
        // One JSON object per line, with the request's span (request_id,
        // route, tenant, key_id) in every line logged while serving it.
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
