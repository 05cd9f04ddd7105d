//! Baselines from tools this project did not write, run in the same run as
//! the bench's own figures: pgbench (shipped with PostgreSQL's server
//! package) inserting the same rows as the bench's raw INSERT loop, and
//! wrk (Debian's `wrk`) driving the service's single-event appends over
//! HTTP from its own process. Each is skipped, with a line saying so, where
//! the tool is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::goals::{self, Figure};
use crate::growth::LogSize;
use crate::{machine_busy, Figures};

/// pgbench beside the server's own binaries, else on `PATH`.
fn pgbench() -> Option<PathBuf> {
    ledger_embedded_pg::find_bin_dir()
        .map(|dir| dir.join("pgbench"))
        .filter(|path| path.exists())
        .or_else(|| which("pgbench"))
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

/// A fresh directory for a tool's script and logs.
fn scratch(tool: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rl-{tool}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs `command` off the runtime; its output, how long it took, and the
/// machine's CPU time meanwhile.
async fn run(mut command: Command) -> (std::process::Output, Duration, Duration) {
    let busy_before = machine_busy();
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the tool ran")
        .expect("the tool starts");
    (
        output,
        started.elapsed(),
        machine_busy().saturating_sub(busy_before),
    )
}

/// Which of issue 16's figures a pgbench run is noted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noted {
    /// None (a figure at fewer clients than the goals read).
    No,
    /// The baseline of the append goals: single-row INSERTs' rate and CPU,
    /// or the batch figure's rate.
    Baseline,
    /// Beside the growth figures at one size of the log: what moves it
    /// between the sizes is the machine and what the log does to the server.
    Growth(LogSize),
}

/// `pgbench -M prepared` with `clients` clients for `seconds`, each
/// transaction one INSERT of `rows` rows into the raw table (as the bench's
/// own loop does); latencies from its per-transaction log. Notes the
/// figure for issue 16's goals as `noted` says. `at` ends the line's name
/// (where in the run it was taken); a growth figure's name also begins so.
pub async fn pgbench_inserts(
    url: &str,
    clients: usize,
    seconds: u64,
    rows: usize,
    noted: Noted,
    at: &str,
) -> String {
    let figure = match noted {
        Noted::Growth(_) => "growth: ",
        Noted::No | Noted::Baseline => "",
    };
    let what = format!(
        "{figure}pgbench: {rows}-row INSERT transactions, {clients} clients (-M prepared){at}"
    );
    let Some(pgbench) = pgbench() else {
        return format!("| {what}: pgbench is not installed | | | | |");
    };
    let dir = scratch("pgbench");
    let script = dir.join("insert.sql");
    std::fs::write(
        &script,
        format!(
            "INSERT INTO raw_events (event_id, stream_id, stream_version, event_type, data, metadata, hash)
             SELECT gen_random_uuid(), s.stream, v, 'run.stage_updated',
                    '{{\"stage\": 1, \"status\": \"completed\"}}', '{{\"tenant_id\": \"bench\"}}', '\\x00'
             FROM (SELECT 'pgbench-' || gen_random_uuid() AS stream) s, generate_series(0, {}) v;\n",
            rows - 1
        ),
    )
    .expect("the pgbench script");
    let mut command = Command::new(&pgbench);
    command
        .args(["-n", "-M", "prepared", "-j", "2", "-l"])
        .arg(format!("--log-prefix={}", dir.join("log").display()))
        .arg(format!("-c{clients}"))
        .arg(format!("-T{seconds}"))
        .arg("-f")
        .arg(&script)
        .arg(url);
    let (output, elapsed, machine_cpu) = run(command).await;
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let tps = report
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse::<f64>().ok());
    let latencies = transaction_latencies(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(tps) = tps.filter(|_| output.status.success()) else {
        return format!(
            "| {what}: pgbench failed: {} | | | | |",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    };
    let transactions = (tps * seconds as f64).round() as u64;
    let figures = Figures::new(
        transactions * rows as u64,
        latencies,
        // Its own rate, without connection set-up: events are counted from it.
        Duration::from_secs(seconds),
        machine_cpu.mul_f64(seconds as f64 / elapsed.as_secs_f64()),
    );
    match (noted, rows) {
        (Noted::No, _) => {}
        (Noted::Baseline, 1) => {
            goals::note(Figure::PgbenchRate, figures.rate());
            goals::note(Figure::PgbenchCpu, figures.cpu_micros());
        }
        (Noted::Baseline, _) => goals::note(Figure::PgbenchBatchRate, figures.rate()),
        (Noted::Growth(size), _) => goals::note(size.figures().pgbench_rate, figures.rate()),
    }
    figures.line(&what)
}

/// The latency of every transaction in pgbench's logs (`-l`): the third
/// field of each line, in microseconds.
fn transaction_latencies(dir: &Path) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("log") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        latencies.extend(text.lines().filter_map(|line| {
            line.split_whitespace()
                .nth(2)
                .and_then(|micros| micros.parse::<u64>().ok())
                .map(Duration::from_micros)
        }));
    }
    latencies
}

/// wrk with `connections` connections on 2 threads (1 for 1 connection)
/// for `seconds`, each request a `POST /v1/runs` (one `run.created`
/// event), as the bench's own HTTP client sends. Also returns the peak of
/// `rss` (the service's resident memory, in MiB) while wrk ran (0 where
/// wrk is not installed). Notes the figures for issue 16's goals when
/// `noted`.
pub async fn wrk_appends(
    base: &str,
    key: &str,
    connections: usize,
    seconds: u64,
    noted: bool,
    rss: impl Fn() -> f64 + Send + 'static,
) -> (String, f64) {
    let what = format!("wrk: HTTP single-event appends (POST /v1/runs), {connections} connections");
    let Some(wrk) = which("wrk") else {
        return (format!("| {what}: wrk is not installed | | | | |"), 0.0);
    };
    let dir = scratch("wrk");
    let script = dir.join("append.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\n\
             wrk.body = '{{\"owner_id\": \"wrk\", \"stages\": [\"extract\"], \"files\": [{{\"name\": \"a.pdf\"}}]}}'\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n"
        ),
    )
    .expect("the wrk script");
    let mut command = Command::new(wrk);
    // wrk refuses more threads than connections.
    let threads = connections.clamp(1, 2);
    command
        .arg(format!("-t{threads}"))
        .arg("--latency")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("{base}/v1/runs"));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0.0f64;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let (output, _, machine_cpu) = run(command).await;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let service_rss = sampler.await.expect("the memory sampler");
    let _ = std::fs::remove_dir_all(&dir);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let number = |prefix: &str| {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse::<f64>().ok())
    };
    let percentile = |label: &str| {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(str::trim)
            .and_then(milliseconds)
    };
    let (Some(rate), Some(p50), Some(p99)) = (
        number("Requests/sec:"),
        percentile("50%"),
        percentile("99%"),
    ) else {
        return (
            format!(
                "| {what}: wrk failed: {} | | | | |",
                report.lines().last().unwrap_or("")
            ),
            service_rss,
        );
    };
    let refused = number("Non-2xx or 3xx responses:").unwrap_or(0.0);
    let requests = rate * seconds as f64;
    let cpu = machine_cpu.as_secs_f64() * 1e6 / requests.max(1.0);
    if noted {
        goals::note(Figure::WrkRate, rate);
        goals::note(Figure::WrkP99, p99);
        goals::note(Figure::WrkCpu, cpu);
    }
    let line = format!(
        "| {what}{} | {rate:.0} | {p50:.2} | {p99:.2} | {cpu:.0} |",
        if refused > 0.0 {
            format!(" ({refused} not 2xx)")
        } else {
            String::new()
        },
    );
    (line, service_rss)
}

/// wrk's `1.23ms`, `850.00us`, `1.02s` in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => return None,
    })
}
