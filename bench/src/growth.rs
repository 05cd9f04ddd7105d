//! Growth: the same append and feed-read figures at two sizes of the log
//! (right after the warm-up, before the other figures append, and after
//! `--tree-events` has filled it), so a figure that slows as the log grows
//! shows beside its earlier self in the same run. Each round also runs
//! pgbench's single-row INSERTs into a table emptied first: what moves them
//! between the two sizes is the machine and what the log's size does to the
//! server, and the goals read the growth figures against them as well as
//! as measured (docs/scaling.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ledger_store::{EventStore, PgEventStore};

use crate::goals::{self, Figure};
use crate::scale::get_ok;
use crate::{measure, CreateRunLoad};

/// What the growth figures load the service with.
pub struct GrowthLoad<'a> {
    pub client: &'a reqwest::Client,
    /// The raw database pgbench inserts into.
    pub raw_url: &'a str,
    pub base: &'a str,
    pub audit_key: &'a str,
    pub appends: &'a CreateRunLoad,
    pub append_clients: usize,
    pub read_clients: usize,
    pub seconds: u64,
    /// Rounds of both figures at each size (the goals read their medians,
    /// as they do the single-event figures': one round's p99 moved by half
    /// from one round to the next).
    pub rounds: usize,
}

/// Which of the run's two sizes of the log the figures are taken at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSize {
    /// Right after the warm-up, before the other figures append.
    Smaller,
    /// After `--tree-events` has filled it.
    Larger,
}

/// The goals' figures of one size of the log.
pub struct SizeFigures {
    pub append_rate: Figure,
    pub append_p99: Figure,
    pub feed_rate: Figure,
    pub pgbench_rate: Figure,
}

impl LogSize {
    /// The figures measured at this size.
    pub fn figures(self) -> SizeFigures {
        match self {
            LogSize::Smaller => SizeFigures {
                append_rate: Figure::GrowthAppendRateBefore,
                append_p99: Figure::GrowthAppendP99Before,
                feed_rate: Figure::GrowthFeedRateBefore,
                pgbench_rate: Figure::GrowthPgbenchRateBefore,
            },
            LogSize::Larger => SizeFigures {
                append_rate: Figure::GrowthAppendRateAfter,
                append_p99: Figure::GrowthAppendP99After,
                feed_rate: Figure::GrowthFeedRateAfter,
                pgbench_rate: Figure::GrowthPgbenchRateAfter,
            },
        }
    }
}

/// Feed pages are this long.
const PAGE: u64 = 1_000;

/// Single-event appends, and feed pages read at positions spread over the
/// whole log, at the log's current size.
///
/// Both sizes are measured as a server in steady state would be, with
/// vacuum and the checkpoint caught up first: right after millions of
/// seeded events, autovacuum and the checkpointer would otherwise spend the
/// measurement's CPU and disk on the seeding (they did: docs/benchmarks.md,
/// 2026-12-03), and the figure would be of that, not of the log's size.
pub async fn figures(
    store: &PgEventStore,
    raw: &sqlx::PgPool,
    load: &GrowthLoad<'_>,
    size: LogSize,
) -> Vec<String> {
    let settling = std::time::Instant::now();
    // Apart: statements sent together run as one transaction, and VACUUM
    // cannot run inside one.
    for statement in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
        sqlx::raw_sql(statement)
            .execute(raw)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    let settled = settling.elapsed();
    let head = store.head_position().await.expect("a head");
    let noted = size.figures();
    let mut lines = vec![format!(
        "| growth: VACUUM (ANALYZE) and CHECKPOINT before measuring at {head} events, {:.1} s | | | | |",
        settled.as_secs_f64()
    )];
    let rounds = load.rounds.max(1);
    for round in 1..=rounds {
        let of_rounds = if rounds > 1 {
            format!(", round {round} of {rounds}")
        } else {
            String::new()
        };
        // Emptied first, so that pgbench's own table is the same size at
        // both sizes of the log and only the machine (and what the log
        // takes of the server's caches) moves its rate.
        sqlx::raw_sql("TRUNCATE raw_events")
            .execute(raw)
            .await
            .expect("emptying pgbench's table");
        let pgbench = crate::baselines::pgbench_inserts(
            load.raw_url,
            load.append_clients,
            load.seconds,
            1,
            crate::baselines::Noted::Growth(size),
            &format!(", at {head} events{of_rounds}"),
        )
        .await;
        let appends = load.appends.run(load.append_clients, load.seconds).await;
        let next = Arc::new(AtomicU64::new(0));
        let (client, base, key) = (
            load.client.clone(),
            load.base.to_owned(),
            load.audit_key.to_owned(),
        );
        let pages = measure(load.read_clients, load.seconds, move |_| {
            // A prime stride of pages, so the pages read fall all over the
            // log, not in its cached newest part.
            let after =
                next.fetch_add(7_919 * PAGE, Ordering::Relaxed) % head.saturating_sub(PAGE).max(1);
            get_ok(
                client.clone(),
                format!("{base}/v1/events?after={after}&limit={PAGE}"),
                key.clone(),
            )
        })
        .await;
        goals::note(noted.append_rate, appends.rate());
        goals::note(noted.append_p99, appends.latency_ms(0.99));
        goals::note(noted.feed_rate, pages.rate());
        lines.push(pgbench);
        lines.push(appends.line(&format!(
            "growth: HTTP single-event appends, {} clients, at {head} events{of_rounds}",
            load.append_clients
        )));
        lines.push(pages.line(&format!(
            "growth: `GET /v1/events?limit={PAGE}` at positions all over the log, {} clients, at {head} events (pages/s){of_rounds}",
            load.read_clients
        )));
    }
    lines
}
