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
    /// against a fresh replay; with --bundle, an export with no database;
    /// with --consistency, that a later checkpoint extends an earlier one.
    /// Exits non-zero on any difference.
    Verify {
        /// An export bundle to check offline.
        #[arg(long, conflicts_with = "consistency")]
        bundle: Option<PathBuf>,
        /// Two checkpoint note files, older then newer: checks with a
        /// consistency proof from --log that the newer extends the older.
        #[arg(long, num_args = 2, value_names = ["OLD_NOTE", "NEW_NOTE"], requires = "log")]
        consistency: Vec<PathBuf>,
        /// The log's URL, for --consistency.
        #[arg(long)]
        log: Option<String>,
        /// An API key of the log (scope witness or audit), for --consistency.
        #[arg(
            long,
            env = "RUN_LEDGER_API_KEY",
            hide_env_values = true,
            default_value = ""
        )]
        api_key: String,
        /// The log's verifier key (`<name>+<key id>+<key>`, as
        /// GET /v1/audit/checkpoint-key serves it) checkpoints must be signed
        /// with; defaults to the configured signing key's.
        #[arg(long)]
        key: Option<String>,
        /// A witness's verifier key whose cosignature the checkpoints must
        /// carry; repeatable.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// The signing key, whose verifier key is trusted without --key.
        #[command(flatten)]
        signing: SigningKeyConfig,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Witness a log: co-sign its latest checkpoint if it extends the last
    /// one co-signed (prints the witness's verifier key and what it signed).
    Witness(WitnessArgs),
    /// Write an NDJSON bundle of events with their hashes, the latest signed
    /// checkpoint and each event's inclusion proof, for `verify --bundle`.
    Export {
        /// Only these streams (`run-{id}`, `account-{tenant}`); repeatable.
        #[arg(long = "stream")]
        streams: Vec<String>,
        /// Only events after this global position.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Only events up to this global position (a range of the log, such
        /// as a partition to archive: docs/scaling.md).
        #[arg(long)]
        until: Option<u64>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The database.
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

/// Co-signs a log's latest checkpoint when it extends the last one this
/// witness co-signed; refuses, says why and exits non-zero when it does not.
#[derive(Debug, clap::Args)]
struct WitnessArgs {
    /// The log's URL.
    #[arg(long)]
    log: String,
    /// The log's verifier key (`<name>+<key id>+<key>`).
    #[arg(long)]
    log_key: String,
    /// The witness's private key file (note format: PRIVATE+KEY+...).
    #[arg(long)]
    key: PathBuf,
    /// Create the key file under this name when it does not exist.
    #[arg(long)]
    name: Option<String>,
    /// Where the witness keeps the last checkpoint it co-signed.
    #[arg(long)]
    state: PathBuf,
    /// An API key of the log with the `witness` scope.
    #[arg(long, env = "RUN_LEDGER_API_KEY", hide_env_values = true)]
    api_key: String,
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
    /// Print the log's verifier key, as GET /v1/audit/checkpoint-key does.
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
            let database = Database::open_read_only(&database)
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
            consistency,
            log,
            api_key,
            key,
            witnesses,
            signing,
            database,
        } => {
            let witnesses = run_ledger::parse_verifier_keys(&witnesses)?;
            let given_key = key
                .as_deref()
                .map(ledger_store::note::NoteVerifier::parse)
                .transpose()?;
            let (report, ok) = if let [old, new] = consistency.as_slice() {
                let log = log.as_deref().context("--consistency needs --log")?;
                verify_consistency(log, &api_key, old, new, given_key.as_ref()).await?
            } else if let Some(path) = bundle {
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                // A bundle is checked against keys given by whoever trusts it.
                let report = ledger_store::bundle::verify_bundle(
                    std::io::BufReader::new(file),
                    given_key.as_ref(),
                    &witnesses,
                )?;
                (
                    run_ledger::audit::render_bundle_report(&report),
                    report.ok(),
                )
            } else {
                let database_config = database;
                let database = Database::open_read_only(&database_config)
                    .await
                    .context("opening the database")?;
                let log_key = match given_key {
                    Some(key) => Some(key),
                    None => signing
                        .note_signer(&database_config, &database.pool)
                        .await?
                        .map(|signer| signer.verifier().clone()),
                };
                let store = ledger_store::PgEventStore::new(database.pool.clone());
                let verification =
                    run_ledger::audit::verify(&database.pool, &store, log_key.as_ref(), &witnesses)
                        .await;
                drop(store);
                database.close().await;
                let verification = verification?;
                (verification.render(), verification.ok())
            };
            std::io::Write::write_all(&mut std::io::stdout().lock(), report.as_bytes())?;
            if !ok {
                std::process::exit(1);
            }
        }
        Command::Witness(args) => {
            let log_key = ledger_store::note::NoteVerifier::parse(&args.log_key)?;
            let signer = run_ledger::witness::load_witness_key(&args.key, args.name.as_deref())?;
            let client = run_ledger::witness::LogClient::new(&args.log, &args.api_key);
            match run_ledger::witness::witness(&client, &log_key, &signer, &args.state).await {
                Ok(checkpoint) => {
                    print_json(&serde_json::json!({
                        "witness_key": signer.verifier().to_string(),
                        "origin": checkpoint.origin,
                        "tree_size": checkpoint.tree_size,
                        "root_hash": ledger_store::note::base64(&checkpoint.root_hash),
                    }))?;
                }
                Err(error) => {
                    std::io::Write::write_all(
                        &mut std::io::stderr().lock(),
                        format!("{error}\n").as_bytes(),
                    )?;
                    std::process::exit(1);
                }
            }
        }
        Command::Export {
            streams,
            after,
            until,
            output,
            database,
        } => {
            if until.is_some_and(|until| until <= after) {
                anyhow::bail!("--until must be after --after: the range would be empty");
            }
            let database = Database::open_read_only(&database)
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
                        until,
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
                    ledger_store::bundle::export(
                        &store,
                        &database.pool,
                        streams,
                        after,
                        until,
                        &mut out,
                    )
                    .await
                }
            };
            drop(store);
            database.close().await;
            let exported = exported?;
            tracing::info!(
                events = exported.events,
                tree_size = exported.tree_size,
                head_position = exported.head_position,
                "exported"
            );
        }
        Command::Keys(KeysCommand::Public { signing, database }) => {
            let key = signing
                .signer(&database)?
                .context("no signing key: pass --signing-key-file (RUN_LEDGER_SIGNING_KEY_FILE)")?;
            // The default origin is the database's log id; a configured one
            // needs no database.
            let origin = match &signing.log_origin {
                Some(origin) => origin.clone(),
                None => {
                    let opened = Database::open_read_only(&database)
                        .await
                        .context("opening the database")?;
                    let origin = signing.origin(&opened.pool).await;
                    opened.close().await;
                    origin?
                }
            };
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                format!("{}\n", key.note_signer(&origin)?.verifier()).as_bytes(),
            )?;
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

/// Checks that the checkpoint in `new` extends the one in `old`, with a
/// consistency proof from the log at `log`, and both signatures with
/// `log_key` when given.
async fn verify_consistency(
    log: &str,
    api_key: &str,
    old: &std::path::Path,
    new: &std::path::Path,
    log_key: Option<&ledger_store::note::NoteVerifier>,
) -> anyhow::Result<(String, bool)> {
    let open = |path: &std::path::Path| -> anyhow::Result<ledger_store::note::Checkpoint> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(match log_key {
            Some(key) => run_ledger::witness::open_checkpoint(&text, key)?.1,
            None => ledger_store::note::Checkpoint::parse(
                &ledger_store::note::SignedNote::parse(&text)?.text,
            )?,
        })
    };
    let (old, new) = (open(old)?, open(new)?);
    let client = run_ledger::witness::LogClient::new(log, api_key);
    let signed = if log_key.is_some() {
        "both signed by the log's key"
    } else {
        "signatures not checked: pass --key"
    };
    Ok(
        match run_ledger::witness::check_extends(&client, &old, &new).await {
            Ok(()) => (
                format!(
                    "consistent: the tree of {} events extends the tree of {} ({signed})\nOK\n",
                    new.tree_size, old.tree_size
                ),
                true,
            ),
            Err(error) => (format!("{error}\nINCONSISTENT\n"), false),
        },
    )
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    std::io::Write::write_all(&mut stdout, b"\n")?;
    Ok(())
}
