//! `cargo run --release -p ledger-bench`: starts a private PostgreSQL with
//! production durability (fsync and synchronous_commit on) and the service
//! in this process, and prints the service's append figures beside the same
//! work done directly in PostgreSQL, on the same server, in the same run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use ledger_embedded_pg::{Durability, EmbeddedPostgres, Options};

mod baselines;
mod console;
mod goals;
mod growth;
mod scale;
mod service_process;
mod transparency;

// The allocator of the service's binary, so the service measured here is
// the one that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use run_ledger::{Application, DatabaseConfig, Secret, ServeConfig, SigningKeyConfig};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// The log's size, in events, at which the smaller growth figures are taken.
const SMALLER_LOG: u64 = 100_000;

/// Append benchmarks of run-ledger beside raw PostgreSQL.
#[derive(Debug, Parser)]
struct Args {
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients of the single-event measurements.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Concurrent clients of the batched measurements (0: skip them).
    #[arg(long, default_value_t = 16)]
    batch_clients: usize,
    /// Events per second of the projection-lag measurement (0: skip it).
    #[arg(long, default_value_t = 1_000)]
    lag_rate: u64,
    /// Runs in the log for the rebuild and query measurements (0: skip them).
    #[arg(long, default_value_t = 1_000_000)]
    runs: usize,
    /// After the scale figures, add events (of streams no read model
    /// follows) until the log holds this many, and measure the transparency
    /// log again, and the growth figures (appends and feed pages), taken
    /// first right after the warm-up, again (0, or `--runs 0`: skip).
    #[arg(long, default_value_t = 0)]
    tree_events: u64,
    /// PostgreSQL's shared_buffers in MiB (default: PostgreSQL's, as the
    /// embedded server runs).
    #[arg(long)]
    shared_buffers_mb: Option<u64>,
    /// Seconds of unmeasured load before the figures (then `VACUUM ANALYZE`).
    #[arg(long, default_value_t = 5)]
    warm_up_seconds: u64,
    /// Concurrent clients of the query measurements.
    #[arg(long, default_value_t = 16)]
    query_clients: usize,
    /// Rounds of the single-event figures (pgbench's, the service's, wrk's)
    /// and of the growth figures at each size of the log: each round takes
    /// them all in turn, and issue 16's goals read each figure's median
    /// over the rounds.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// Operations done and their latencies.
struct Figures {
    events: u64,
    /// Sorted, so that quantiles are read off without sorting again.
    latencies: Vec<Duration>,
    elapsed: Duration,
    /// CPU time the whole machine spent while the figure ran.
    machine_cpu: Duration,
}

/// Milliseconds at quantile `q` of `sorted` (0 when it is empty).
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// CPU time the machine has been busy since boot (every core, every
/// process: PostgreSQL, the service and the load alike), from
/// `/proc/stat`; zero where it cannot be read.
fn machine_busy() -> Duration {
    // The kernel reports /proc/stat in USER_HZ ticks, 100 a second.
    const TICKS_PER_SECOND: f64 = 100.0;
    let ticks: u64 = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let cpu = stat.lines().next()?.strip_prefix("cpu ")?.to_owned();
            let fields: Vec<u64> = cpu
                .split_whitespace()
                .filter_map(|field| field.parse().ok())
                .collect();
            // user, nice, system, (idle, iowait skipped), irq, softirq
            Some([0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum())
        })
        .unwrap_or(0);
    Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND)
}

impl Figures {
    fn new(
        events: u64,
        mut latencies: Vec<Duration>,
        elapsed: Duration,
        machine_cpu: Duration,
    ) -> Self {
        latencies.sort_unstable();
        Figures {
            events,
            latencies,
            elapsed,
            machine_cpu,
        }
    }

    /// Events (or requests) a second.
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile of the latencies, in ms.
    fn latency_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies, q)
    }

    /// Machine CPU µs per event.
    fn cpu_micros(&self) -> f64 {
        self.machine_cpu.as_secs_f64() * 1e6 / self.events.max(1) as f64
    }

    fn line(&self, what: &str) -> String {
        format!(
            "| {what} | {:.0} | {:.2} | {:.2} | {:.0} |",
            self.rate(),
            self.latency_ms(0.5),
            self.latency_ms(0.99),
            self.cpu_micros(),
        )
    }
}

/// Runs `clients` loops of `operation` for `seconds`; each returns the
/// events it wrote.
async fn measure<F, Fut>(clients: usize, seconds: u64, operation: F) -> Figures
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = u64> + Send,
{
    let running = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let busy_before = machine_busy();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let running = running.clone();
            let operation = operation.clone();
            tokio::spawn(async move {
                let (mut events, mut latencies) = (0u64, Vec::new());
                while running.load(Ordering::Relaxed) {
                    let begun = Instant::now();
                    events += operation(client).await;
                    latencies.push(begun.elapsed());
                }
                (events, latencies)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    running.store(false, Ordering::Relaxed);
    let (mut all_events, mut all_latencies) = (0, Vec::new());
    for task in tasks {
        let (events, latencies) = task.await.expect("a client finished");
        all_events += events;
        all_latencies.extend(latencies);
    }
    Figures::new(
        all_events,
        all_latencies,
        started.elapsed(),
        machine_busy().saturating_sub(busy_before),
    )
}

async fn raw_table(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS raw_events;
         CREATE TABLE raw_events (
             global_position BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE,
             stream_id TEXT NOT NULL, stream_version BIGINT NOT NULL, event_type TEXT NOT NULL,
             data JSONB NOT NULL, metadata JSONB NOT NULL, recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             hash BYTEA NOT NULL, UNIQUE (stream_id, stream_version));",
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn raw_insert(pool: &PgPool, client: usize, rows: usize) -> u64 {
    let stream = format!("raw-{client}-{}", uuid::Uuid::new_v4().simple());
    let ids: Vec<uuid::Uuid> = (0..rows).map(|_| uuid::Uuid::new_v4()).collect();
    let versions: Vec<i64> = (0..rows as i64).collect();
    sqlx::query(
        "INSERT INTO raw_events (event_id, stream_id, stream_version, event_type, data, metadata, hash)
         SELECT id, $2, v, 'run.stage_updated', '{\"stage\": 1, \"status\": \"completed\"}', '{\"tenant_id\": \"bench\"}', '\\x00'
         FROM UNNEST($1::uuid[], $3::bigint[]) AS t(id, v)",
    )
    .bind(&ids)
    .bind(&stream)
    .bind(&versions)
    .execute(pool)
    .await
    .expect("raw insert");
    rows as u64
}

/// Runs both single-event loads unmeasured, then `VACUUM ANALYZE`, as
/// pgbench does before it measures: statements planned while a table was
/// empty keep their plans until the table is first analyzed, which
/// autovacuum does only after a minute or so, and a figure should not
/// depend on where in that minute it fell.
async fn warm_up(raw: &PgPool, load: &CreateRunLoad, args: &Args) -> anyhow::Result<()> {
    let clients = load.connections.len();
    raw_inserts(raw, clients, args.warm_up_seconds, 1).await;
    load.run(clients, args.warm_up_seconds).await;
    sqlx::raw_sql("VACUUM ANALYZE").execute(raw).await?;
    Ok(())
}

/// The single-event load: `clients` HTTP/1.1 connections, each sending
/// `POST /v1/runs` with a fixed body, one request at a time. It drives
/// hyper's connection API directly, with the URL, authorization header and
/// body made once, so the load client spends as little of the shared CPU as
/// it can, as the INSERT loop does with its prepared statement.
#[derive(Clone)]
struct CreateRunLoad {
    connections: Arc<Vec<tokio::sync::Mutex<SendRequest<Full<Bytes>>>>>,
    authority: hyper::header::HeaderValue,
    authorization: hyper::header::HeaderValue,
}

type SendRequest<B> = hyper::client::conn::http1::SendRequest<B>;

impl CreateRunLoad {
    const BODY: &'static str = r#"{"owner_id":"bench"}"#;

    async fn connect(
        address: std::net::SocketAddr,
        key: &str,
        clients: usize,
    ) -> anyhow::Result<Self> {
        let mut connections = Vec::with_capacity(clients);
        for _ in 0..clients {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            connections.push(tokio::sync::Mutex::new(sender));
        }
        Ok(CreateRunLoad {
            connections: Arc::new(connections),
            authority: address.to_string().parse()?,
            authorization: format!("Bearer {key}").parse()?,
        })
    }

    /// Client `client` sends one append; one event.
    async fn send(&self, client: usize) -> u64 {
        let mut sender = self.connections[client].lock().await;
        let request = hyper::Request::post("/v1/runs")
            .header(hyper::header::HOST, self.authority.clone())
            .header(hyper::header::AUTHORIZATION, self.authorization.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(Self::BODY.as_bytes())))
            .expect("a valid request");
        sender.ready().await.expect("connection ready");
        let response = sender.send_request(request).await.expect("request");
        assert_eq!(response.status(), 201);
        // Read to the end, so the connection takes the next request.
        response.into_body().collect().await.expect("response body");
        1
    }

    /// `clients` loops of appends for `seconds`.
    async fn run(&self, clients: usize, seconds: u64) -> Figures {
        let load = self.clone();
        measure(clients, seconds, move |client| {
            let load = load.clone();
            async move { load.send(client).await }
        })
        .await
    }
}

/// `clients` loops of `rows`-row INSERT transactions for `seconds`.
async fn raw_inserts(raw: &PgPool, clients: usize, seconds: u64, rows: usize) -> Figures {
    let pool = raw.clone();
    measure(clients, seconds, move |client| {
        let pool = pool.clone();
        async move { raw_insert(&pool, client, rows).await }
    })
    .await
}

/// A POST of `body` with `key`; the JSON answer.
async fn post_json(
    client: &reqwest::Client,
    url: String,
    key: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// A memory figure (`VmRSS` now, `VmHWM` the peak) from a process's
/// `/proc/{pid}/status`, in MiB; 0 where it cannot be read.
fn memory_mib(status: &str, field: &str) -> f64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The batch figure's request: a run, then 100 stage updates of it in one
/// request. Both bodies are serialized once, and of each answer only what
/// the figure counts is decoded (the run's id, the events appended), so
/// that the load client, which shares the machine, costs little beside the
/// service, as pgbench's does beside PostgreSQL.
#[derive(Clone)]
struct BatchLoad {
    client: reqwest::Client,
    base: String,
    key: String,
    run: Bytes,
    events: Bytes,
}

/// What the batch figure reads of a created run.
#[derive(serde::Deserialize)]
struct CreatedRun {
    run_id: String,
}

/// What the batch figure reads of an answer to reported events.
#[derive(serde::Deserialize)]
struct AppendedEvents {
    appended: Vec<serde::de::IgnoredAny>,
}

impl BatchLoad {
    fn new(client: &reqwest::Client, base: &str, key: &str) -> Self {
        let stages: Vec<String> = (0..100).map(|i| format!("s{i}")).collect();
        let events: Vec<serde_json::Value> = (1..=100)
            .map(|stage| json!({"type": "run.stage_updated", "data": {"stage": stage, "status": "processing"}}))
            .collect();
        BatchLoad {
            client: client.clone(),
            base: base.to_owned(),
            key: key.to_owned(),
            run: Bytes::from(json!({"owner_id": "bench", "stages": stages}).to_string()),
            events: Bytes::from(json!({ "events": events }).to_string()),
        }
    }

    /// `clients` sending batches for `seconds`.
    async fn measure(&self, clients: usize, seconds: u64) -> Figures {
        let load = self.clone();
        measure(clients, seconds, move |_| {
            let load = load.clone();
            async move { load.send().await }
        })
        .await
    }

    /// Posts `body` to `path` and decodes the answer as `T`.
    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, body: &Bytes) -> T {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("an answer of the documented shape")
    }

    /// Sends one batch and returns the events it appended.
    async fn send(&self) -> u64 {
        let run: CreatedRun = self.post("/v1/runs", &self.run).await;
        let reply: AppendedEvents = self
            .post(&format!("/v1/runs/{}/events", run.run_id), &self.events)
            .await;
        1 + reply.appended.len() as u64
    }
}

/// Holds run history at its checkpoint while `seed` appends, then lets it
/// go and waits for the read models: returns what `seed` returned, how long
/// it took, the backlog it left, in events, and how long that took to
/// apply. Its rate through a backlog is what the projector can do, not the
/// pace of the appends it would otherwise follow.
async fn held_backlog<T>(
    raw: &PgPool,
    store: &ledger_store::PgEventStore,
    seed: impl std::future::Future<Output = T>,
) -> anyhow::Result<(T, Duration, u64, Duration)> {
    let mut hold = raw.begin().await?;
    sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = 'run_history' FOR UPDATE")
        .execute(&mut *hold)
        .await?;
    let seeding = Instant::now();
    let seeded = seed.await;
    let seeding = seeding.elapsed();
    hold.commit().await?;
    let backlog_from: i64 = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE name = 'run_history'",
    )
    .fetch_one(raw)
    .await?;
    let backlog = ledger_store::EventStore::head_position(store).await? - backlog_from as u64;
    let projected = scale::wait_projected(store, raw).await;
    Ok((seeded, seeding, backlog, projected))
}

/// Batched appends beside multi-row INSERTs.
async fn batches(
    raw: &PgPool,
    raw_url: &str,
    client: &reqwest::Client,
    base: &str,
    key: &str,
    args: &Args,
) {
    let figures = raw_inserts(raw, args.batch_clients, args.seconds, 100).await;
    println!(
        "{}",
        figures.line(&format!(
            "PostgreSQL: 100-row INSERT transactions, {} clients",
            args.batch_clients
        ))
    );
    println!(
        "{}",
        baselines::pgbench_inserts(
            raw_url,
            args.batch_clients,
            args.seconds,
            100,
            baselines::Noted::Baseline,
            "",
        )
        .await
    );
    let writer = WriterBusy::since_now(client, base).await;
    let measuring = Instant::now();
    let figures = BatchLoad::new(client, base, key)
        .measure(args.batch_clients, args.seconds)
        .await;
    let elapsed = measuring.elapsed();
    let busy = writer.percent_of(elapsed).await;
    goals::note(goals::Figure::BatchRate, figures.rate());
    println!(
        "{}",
        figures.line(&format!(
            "run-ledger: HTTP batches (a run, then 100 stage updates in one request), {} clients",
            args.batch_clients
        ))
    );
    println!(
        "the append writer was busy {busy:.0} % of the batch figure's {:.1} s (ledger_append_batch_seconds): near 100 %, the batches waited on it, not on the machine",
        elapsed.as_secs_f64()
    );
}

/// How busy the in-process append writers have been since a moment: the
/// growth of the sum of `ledger_append_batch_seconds` in `/metrics`, which
/// every writer of this process records into.
struct WriterBusy<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    seconds_before: f64,
}

impl<'a> WriterBusy<'a> {
    async fn since_now(client: &'a reqwest::Client, base: &'a str) -> Self {
        WriterBusy {
            client,
            base,
            seconds_before: Self::seconds(client, base).await,
        }
    }

    /// The writers' busy time since then, as a percentage of `elapsed`.
    async fn percent_of(&self, elapsed: Duration) -> f64 {
        let busy = Self::seconds(self.client, self.base).await - self.seconds_before;
        100.0 * busy / elapsed.as_secs_f64()
    }

    /// The writers' busy time so far, 0 where the metric is not there yet.
    async fn seconds(client: &reqwest::Client, base: &str) -> f64 {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("a metrics request")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix("ledger_append_batch_seconds_sum "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("ledger-bench-{}", std::process::id()));
    let options = Options {
        durability: Durability::Production,
        max_connections: 300,
        shared_buffers_mib: args.shared_buffers_mb,
        ..Options::new(&dir)
    };
    let server = EmbeddedPostgres::start(&options, "bench")
        .await
        .context("starting PostgreSQL")?;
    // One database: the ledger's tables and the raw baselines' side by side.
    let raw_url = server.url("bench");
    let raw = PgPoolOptions::new()
        .max_connections(70)
        .connect(&raw_url)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&raw).await?;
    let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&raw)
        .await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&raw)
        .await?;
    let shared_buffers: String = sqlx::query_scalar("SHOW shared_buffers")
        .fetch_one(&raw)
        .await?;
    raw_table(&raw).await?;

    let admin = "bench-admin";
    ledger_store::checkpoint::CheckpointSigner::load_or_create(&dir.join("signing.key"))?;
    let app = Application::build(ServeConfig {
        listen: "127.0.0.1:0".parse()?,
        admin_key: Some(admin.parse::<Secret>()?),
        body_timeout_seconds: 30,
        min_position_timeout_ms: 5_000,
        shutdown_grace_seconds: 5,
        key_cache_ms: 10_000,
        rate_limit_per_key: 0,
        rate_limit_burst: 0,
        idempotency_retention_seconds: 7 * 24 * 3_600,
        // A key of its own; the service's own signer waits an hour, so that
        // the transparency figures grow the tree over the whole seeded log
        // themselves (appends never pay for the tree: the signer grows it,
        // off the append path).
        checkpoint_interval_ms: 3_600_000,
        projector_batch_delay_ms: 20,
        console: true,
        signing: SigningKeyConfig {
            signing_key_file: Some(dir.join("signing.key")),
            log_origin: None,
        },
        witness_keys: Vec::new(),
        database: DatabaseConfig {
            database_url: Some(raw_url.parse::<Secret>()?),
            data_dir: dir.clone(),
            embedded_shared_buffers_mb: None,
            max_connections: 32,
            acquire_timeout_ms: 5_000,
            allow_unsafe_durability: false,
        },
    })
    .await?;
    let app_address = app.local_addr();
    let base = format!("http://{app_address}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    let key: String = post_json(
        &client,
        format!("{base}/v1/keys"),
        admin,
        json!({"tenant_id": "bench", "scopes": ["append", "read"]}),
    )
    .await["key"]
        .as_str()
        .context("a key")?
        .to_owned();

    let most_clients = args.clients.iter().copied().max().unwrap_or(1);
    let load = CreateRunLoad::connect(app_address, &key, most_clients).await?;
    warm_up(&raw, &load, &args).await?;

    println!("PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}, shared_buffers={shared_buffers}; {} s per figure; {} cores",
        args.seconds, std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!();
    // wrk drives the shipped binary in a process of its own, so that its
    // memory is the service's alone.
    let separate_service = service_process::ServiceProcess::start(
        &raw_url,
        &dir.join("signing.key"),
        &dir.join("separate-service"),
    )
    .await;
    let (wrk_base, separate_pid) = match &separate_service {
        Ok(service) => (service.base.clone(), Some(service.pid())),
        Err(_) => (base.clone(), None),
    };
    let store = ledger_store::PgEventStore::new(raw.clone());
    let audit_key: String = post_json(
        &client,
        format!("{base}/v1/keys"),
        admin,
        json!({"scopes": ["audit"]}),
    )
    .await["key"]
        .as_str()
        .context("an audit key")?
        .to_owned();
    let growth_load = growth::GrowthLoad {
        client: &client,
        raw_url: &raw_url,
        base: &base,
        audit_key: &audit_key,
        appends: &load,
        append_clients: most_clients,
        read_clients: args.query_clients,
        seconds: args.seconds,
        rounds: args.rounds,
    };
    // Each connection count's peak over the rounds.
    let mut service_rss_under_wrk: std::collections::BTreeMap<usize, f64> = Default::default();
    println!("| measurement | events/s | p50 ms | p99 ms | machine CPU µs/event |");
    println!("|---|---|---|---|---|");
    // First, at 10^5 events (issue 16 sets the log at 10^5 beside 10^7):
    // the warm-up's, filled up to it (a slower machine's warm-up appends
    // fewer).
    let growth_measured = args.runs > 0 && args.tree_events > 0;
    if growth_measured {
        println!("{}", transparency::grow_log(&store, SMALLER_LOG).await);
        for line in growth::figures(&store, &raw, &growth_load, growth::LogSize::Smaller).await {
            println!("{line}");
        }
    }
    // Rounds of the figures set beside pgbench, each in turn, so that a
    // spell of a noisy neighbour falls on both sides of a ratio. (Batches
    // are measured once: a round of them adds some 170,000 events here to
    // the log the later figures read.)
    for round in 1..=args.rounds.max(1) {
        if args.rounds > 1 {
            println!("| round {round} of {} | | | | |", args.rounds);
        }
        for &clients in &args.clients {
            let noted = clients == most_clients;
            let figures = raw_inserts(&raw, clients, args.seconds, 1).await;
            println!(
                "{}",
                figures.line(&format!(
                    "PostgreSQL: single-row INSERT transactions, {clients} clients"
                ))
            );
            println!(
                "{}",
                baselines::pgbench_inserts(
                    &raw_url,
                    clients,
                    args.seconds,
                    1,
                    if noted {
                        baselines::Noted::Baseline
                    } else {
                        baselines::Noted::No
                    },
                    "",
                )
                .await
            );
            let figures = load.run(clients, args.seconds).await;
            println!(
                "{}",
                figures.line(&format!(
                    "run-ledger: HTTP single-event appends (POST /v1/runs), {clients} clients"
                ))
            );
            let (line, service_rss) =
                baselines::wrk_appends(&wrk_base, &key, clients, args.seconds, noted, move || {
                    separate_pid.map_or(0.0, |pid| {
                        memory_mib(&format!("/proc/{pid}/status"), "VmRSS")
                    })
                })
                .await;
            println!("{line}");
            // The goal names the 64-client load: the most clients'.
            if noted {
                goals::note(goals::Figure::ServiceRss, service_rss);
            }
            let peak = service_rss_under_wrk.entry(clients).or_default();
            *peak = peak.max(service_rss);
        }
    }
    // The second instance only serves wrk: the figures after this measure
    // the in-process service alone.
    let separate_service_failed = separate_service.err();
    if let Some(&most) = args.clients.iter().max() {
        println!(
            "{}",
            scale::in_process_creates(&raw, most, args.seconds).await
        );
    }
    if args.batch_clients > 0 {
        batches(&raw, &raw_url, &client, &base, &key, &args).await;
    }
    let rss_after_appends = memory_mib("/proc/self/status", "VmHWM");
    // The lag figure is taken at a steady rate from caught-up read models,
    // not on top of the backlog an earlier figure left.
    let backlog = scale::wait_projected(&store, &raw).await;
    if args.lag_rate > 0 {
        println!(
            "{}",
            scale::projection_lag(&client, &base, &key, &raw, args.lag_rate, args.seconds).await
        );
    }
    if args.runs > 0 {
        // Before the runs are seeded, so that they stay the newest runs and
        // the list figures read the same pages as before this figure.
        if args.batch_clients > 0 {
            let load = BatchLoad::new(&client, &base, &key);
            let (_, _, backlog, projected) =
                held_backlog(&raw, &store, load.measure(args.batch_clients, args.seconds)).await?;
            let projected_rate = backlog as f64 / projected.as_secs_f64();
            goals::note(goals::Figure::BatchBacklogRate, projected_rate);
            println!(
                "| run-ledger: live projection of a backlog of {backlog} events of the batch figure's shape (a run and 100 stage updates a request, {} clients for {} s, run history held) | {projected_rate:.0} | | |",
                args.batch_clients,
                args.seconds,
            );
        }
        let writer = WriterBusy::since_now(&client, &base).await;
        let (runs, seeded, backlog, projected) =
            held_backlog(&raw, &store, scale::seed_runs(&store, args.runs)).await?;
        let busy = writer.percent_of(seeded).await;
        let projected_rate = backlog as f64 / projected.as_secs_f64();
        let seeded_rate = runs.len() as f64 / seeded.as_secs_f64();
        goals::note(goals::Figure::RunBacklogRate, projected_rate);
        goals::note(goals::Figure::RunAppendRate, seeded_rate);
        println!(
            "| run-ledger: seeding {} runs straight into the store, 1,000 a transaction (the append writer busy {busy:.0} % of it) | {seeded_rate:.0} | | |",
            runs.len(),
        );
        println!(
            "| run-ledger: live projection of a backlog of {backlog} events (run history held while they were seeded) | {projected_rate:.0} | | |",
        );
        for line in scale::rebuild_beside_keyset(&store, &raw).await {
            println!("{line}");
        }
        let key_runs = Arc::new(runs);
        for line in scale::queries(
            &client,
            &base,
            &key,
            key_runs.clone(),
            args.query_clients,
            args.seconds,
        )
        .await
        {
            println!("{line}");
        }
        for line in console::figures(&client, &base, &key, key_runs, args.seconds).await? {
            println!("{line}");
        }
        let load = || transparency::ProofLoad {
            client: &client,
            base: &base,
            audit_key: &audit_key,
            clients: args.query_clients,
            seconds: args.seconds,
        };
        for line in transparency::figures(&store, &raw, &dir.join("signing.key"), load()).await {
            println!("{line}");
        }
        if growth_measured {
            println!("{}", transparency::grow_log(&store, args.tree_events).await);
            for line in transparency::figures(&store, &raw, &dir.join("signing.key"), load()).await
            {
                println!("{line}");
            }
            for line in growth::figures(&store, &raw, &growth_load, growth::LogSize::Larger).await {
                println!("{line}");
            }
        }
    }
    println!();
    println!(
        "read models caught up {:.1} s after the append figures ended",
        backlog.as_secs_f64()
    );
    match separate_service_failed {
        None => {
            for (connections, rss) in service_rss_under_wrk {
                println!(
                    "service RSS under wrk's {connections} connections (the run-ledger binary in its own process, wrk in another; the projectors ran in whichever instance held their locks): peak {rss:.0} MiB"
                );
            }
        }
        Some(why) => println!(
            "service RSS apart from the load clients not measured ({why}); wrk drove the in-process service"
        ),
    }
    println!(
        "peak RSS of this process (service and load clients) after the append figures: {rss_after_appends:.0} MiB"
    );
    println!(
        "peak RSS of this process at the end (service, load clients, seeding and the in-process rebuild): {:.0} MiB",
        memory_mib("/proc/self/status", "VmHWM")
    );
    println!();
    println!(
        "Issue 16's goals are stated at 10^6 runs and 10^7 events; this run had --runs {} and --tree-events {}.",
        args.runs, args.tree_events
    );
    println!();
    for line in goals::table() {
        println!("{line}");
    }

    let _ = stop.send(());
    service.await??;
    drop(raw);
    server.stop()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
