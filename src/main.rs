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
