//! `run-ledger`: the command line. Parses arguments and calls into the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use run_ledger::{
    init_tracing, shutdown_signal, Application, Database, DatabaseConfig, ServeConfig,
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
    /// Check every hash chain, and every read model against a fresh replay;
    /// exits non-zero on any difference.
    Verify {
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
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

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
            database,
        }) => {
            let scopes = scopes
                .iter()
                .map(|scope| {
                    serde_json::from_value(serde_json::Value::String(scope.trim().to_owned()))
                        .with_context(|| format!("unknown scope {scope:?}"))
                })
                .collect::<anyhow::Result<Vec<ledger_api::auth::Scope>>>()?;
            let database = Database::open(&database)
                .await
                .context("opening the database")?;
            let created = ledger_api::auth::create_key(&database.pool, tenant, scopes).await;
            database.close().await;
            let created = created.map_err(|error| anyhow::anyhow!("{error}"))?;
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &created)?;
            std::io::Write::write_all(&mut stdout, b"\n")?;
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
        Command::Verify { database } => {
            let database = Database::open(&database)
                .await
                .context("opening the database")?;
            let store = ledger_store::PgEventStore::new(database.pool.clone());
            let verification = run_ledger::audit::verify(&database.pool, &store).await;
            drop(store);
            database.close().await;
            let verification = verification?;
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                verification.render().as_bytes(),
            )?;
            if !verification.ok() {
                std::process::exit(1);
            }
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
