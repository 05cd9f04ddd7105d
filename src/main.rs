//! `run-ledger`: the command line. Parses arguments and calls into the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use run_ledger::{
    init_tracing, shutdown_signal, Application, Database, DatabaseConfig, ServeConfig,
    SigningKeyConfig,
};

/// Event-sourced ledger for pipeline and workflow runs.
#[derive(Debug, Parser)]
#[command(name = "run-ledger", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default with no arguments).
    Serve(ServeConfig),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseConfig),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Print a run's timeline and its state, up to a version or a time.
    Replay {
        /// The run.
        run_id: uuid::Uuid,
        /// Stop after this stream version.
        #[arg(long, conflicts_with = "at")]
        version: Option<u64>,
        /// Stop after events recorded at this time (RFC 3339).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Check every hash chain, every signed checkpoint, and every read model
    /// against a fresh replay; or, with --bundle, an export with no database.
    /// Exits non-zero on any difference.
    Verify {
        /// An export bundle to check offline.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// The published public key (hex) checkpoints must be signed with;
        /// defaults to the configured signing key's.
        #[arg(long)]
        public_key: Option<String>,
        /// The signing key, whose public half is trusted without --public-key.
        #[command(flatten)]
        signing: SigningKeyConfig,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Write an NDJSON bundle of events with their hashes and the signed
    /// checkpoints covering them, for `verify --bundle`.
    Export {
        /// Only these streams (`run-{id}`, `account-{tenant}`); repeatable.
        #[arg(long = "stream")]
        streams: Vec<String>,
        /// Only events after this global position.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

#[derive(Debug, Subcommand)]
enum ProjectionsCommand {
    /// Rebuild a read model from the log and swap it in; a running service
    /// keeps answering from the old tables meanwhile. Prints a JSON report.
    Rebuild {
        /// `run_history` or `credits`.
        name: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an API key and print it (with its secret, shown only now) as JSON.
    Create {
        /// Comma-separated scopes: append, read (with --tenant), audit, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// The tenant of an append or read key.
        #[arg(long)]
        tenant: Option<String>,
        /// What the key is for.
        #[arg(long)]
        label: Option<String>,
        /// When the key stops working by itself (RFC 3339).
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// List API keys (never their secrets) as JSON.
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Revoke an API key: running services refuse it at once.
    Revoke {
        /// The key's id.
        key_id: uuid::Uuid,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Give an API key a new secret and print it as JSON; the previous
    /// secret keeps working for the grace period.
    Rotate {
        /// The key's id.
        key_id: uuid::Uuid,
        /// How long the previous secret keeps working.
        #[arg(long, default_value_t = 0)]
        grace_seconds: u32,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Print the public key checkpoints are signed with, as JSON.
    Public {
        /// The signing key.
        #[command(flatten)]
        signing: SigningKeyConfig,
        /// Where the embedded mode keeps its key (--data-dir).
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

// Many small short-lived allocations on every core (requests, rows,
// events): mimalloc spends about half the CPU of the system allocator on
// them here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 1 {
        args.push("serve".into());
    }
    match Cli::parse_from(args).command {
        Command::Serve(config) => {
            let app = Application::build(config)
                .await
                .context("starting run-ledger")?;
            tracing::info!(address = %app.local_addr(), "run-ledger listening");
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Keys(KeysCommand::Create {
            scopes,
            tenant,
            label,
            expires_at,
            database,
        }) => {
            let scopes = scopes
                .iter()
                .map(|scope| {
                    serde_json::from_value(serde_json::Value::String(scope.trim().to_owned()))
                        .with_context(|| format!("unknown scope {scope:?}"))
                })
                .collect::<anyhow::Result<Vec<ledger_api::auth::Scope>>>()?;
            let spec = ledger_api::keys::KeySpec {
                tenant_id: tenant,
                scopes,
                label,
                expires_at,
            };
            let created = with_keys(&database, |pool, ledger, actor| async move {
                ledger_api::keys::create_key(&pool, &ledger, &actor, spec).await
            })
            .await?;
            print_json(&created)?;
        }
        Command::Keys(KeysCommand::List { tenant, database }) => {
            let keys = with_keys(&database, |pool, _, _| async move {
                ledger_api::keys::list_keys(&pool, tenant.as_deref()).await
            })
            .await?;
            print_json(&serde_json::json!({ "keys": keys }))?;
        }
        Command::Keys(KeysCommand::Revoke { key_id, database }) => {
            let revoked = with_keys(&database, |pool, ledger, actor| async move {
                ledger_api::keys::revoke_key(&pool, &ledger, &actor, key_id).await
            })
            .await?;
            print_json(&revoked)?;
        }
        Command::Keys(KeysCommand::Rotate {
            key_id,
            grace_seconds,
            database,
        }) => {
            let rotated = with_keys(&database, |pool, ledger, actor| async move {
                ledger_api::keys::rotate_key(&pool, &ledger, &actor, key_id, grace_seconds).await
            })
            .await?;
            print_json(&rotated)?;
        }
        Command::Projections(ProjectionsCommand::Rebuild { name, database }) => {
            let model = ledger_projections::ReadModel::from_name(&name)
                .with_context(|| format!("no read model named {name:?}: run_history or credits"))?;
            let database = Database::open(&database)
                .await
                .context("opening the database")?;
            let store = ledger_store::PgEventStore::new(database.pool.clone());
            let report = ledger_projections::rebuild(&database.pool, &store, model).await;
            drop(store);
            database.close().await;
            let report = report.map_err(|error| anyhow::anyhow!("{error}"))?;
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            std::io::Write::write_all(&mut stdout, b"\n")?;
        }
        Command::Replay {
            run_id,
            version,
            at,
            database,
        } => {
            let until = match (version, at) {
                (Some(version), _) => ledger_store::ReadUntil::Version(version),
                (None, Some(at)) => ledger_store::ReadUntil::RecordedAt(at),
                (None, None) => ledger_store::ReadUntil::End,
            };
            let database = Database::open(&database)
                .await
                .context("opening the database")?;
            let store = ledger_store::PgEventStore::new(database.pool.clone());
            let timeline = run_ledger::audit::replay(&store, run_id, until).await;
            drop(store);
            database.close().await;
            std::io::Write::write_all(&mut std::io::stdout().lock(), timeline?.as_bytes())?;
        }
        Command::Verify {
            bundle,
            public_key,
            signing,
            database,
        } => {
            let trusted = match (&public_key, &bundle) {
                (Some(key), _) => Some(ledger_store::checkpoint::parse_public_key(key)?),
                // A bundle is checked against a key given by whoever trusts it.
                (None, Some(_)) => None,
                (None, None) => signing
                    .signer(&database)?
                    .map(|signer| signer.verifying_key()),
            };
            let (report, ok) = match bundle {
                Some(path) => {
                    let file = std::fs::File::open(&path)
                        .with_context(|| format!("opening {}", path.display()))?;
                    let report = ledger_store::bundle::verify_bundle(
                        std::io::BufReader::new(file),
                        trusted.as_ref(),
                    )?;
                    (
                        run_ledger::audit::render_bundle_report(&report, trusted.is_some()),
                        report.ok(),
                    )
                }
                None => {
                    let database = Database::open(&database)
                        .await
                        .context("opening the database")?;
                    let store = ledger_store::PgEventStore::new(database.pool.clone());
                    let verification =
                        run_ledger::audit::verify(&database.pool, &store, trusted.as_ref()).await;
                    drop(store);
                    database.close().await;
                    let verification = verification?;
                    (verification.render(), verification.ok())
                }
            };
            std::io::Write::write_all(&mut std::io::stdout().lock(), report.as_bytes())?;
            if !ok {
                std::process::exit(1);
            }
        }
        Command::Export {
            streams,
            after,
            output,
            database,
        } => {
            let database = Database::open(&database)
                .await
                .context("opening the database")?;
            let store = ledger_store::PgEventStore::new(database.pool.clone());
            let streams = (!streams.is_empty()).then_some(streams);
            let exported = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let exported = ledger_store::bundle::export(
                        &store,
                        &database.pool,
                        streams,
                        after,
                        &mut out,
                    )
                    .await;
                    out.into_inner()
                        .map_err(|error| error.into_error())
                        .and_then(|file| file.sync_all())?;
                    exported
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    ledger_store::bundle::export(&store, &database.pool, streams, after, &mut out)
                        .await
                }
            };
            drop(store);
            database.close().await;
            let exported = exported?;
            tracing::info!(
                events = exported.events,
                checkpoints = exported.checkpoints,
                head_position = exported.head_position,
                "exported"
            );
        }
        Command::Keys(KeysCommand::Public { signing, database }) => {
            let signer = signing
                .signer(&database)?
                .context("no signing key: pass --signing-key-file (RUN_LEDGER_SIGNING_KEY_FILE)")?;
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer(
                &mut stdout,
                &serde_json::json!({ "public_key": signer.public_key_hex() }),
            )?;
            std::io::Write::write_all(&mut stdout, b"\n")?;
        }
        Command::Migrate(config) => {
            let database = Database::open(&config)
                .await
                .context("migrating the database")?;
            tracing::info!("migrations applied");
            database.close().await;
        }
    }
    Ok(())
}

/// Runs a key command on the database, as `cli` in the log.
async fn with_keys<T, F, Fut>(database: &DatabaseConfig, command: F) -> anyhow::Result<T>
where
    F: FnOnce(
        sqlx::PgPool,
        ledger_commands::Ledger<ledger_store::PgEventStore>,
        ledger_api::keys::KeyActor,
    ) -> Fut,
    Fut: std::future::Future<Output = Result<T, ledger_api::ApiError>>,
{
    let database = Database::open(database)
        .await
        .context("opening the database")?;
    let ledger =
        ledger_commands::Ledger::new(ledger_store::PgEventStore::new(database.pool.clone()));
    let actor = ledger_api::keys::KeyActor {
        caller: ledger_domain::Caller::system(),
        source: "cli".to_owned(),
    };
    let result = command(database.pool.clone(), ledger, actor).await;
    database.close().await;
    result.map_err(|error| anyhow::anyhow!("{error}"))
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    std::io::Write::write_all(&mut stdout, b"\n")?;
    Ok(())
}
