//! Issue 16's goals, each checked at the end of a run against the figures
//! of that run: every figure that a goal reads is noted here as it is
//! measured, and `table` sets each goal's figure beside its target and its
//! baseline, so that whether a run meets them is printed, not worked out by
//! hand from the lines above it. A figure measured in several rounds is
//! read as the median of its rounds (the service's RSS as its peak), so
//! that one round a noisy neighbour slowed does not decide a goal.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A figure a goal reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// pgbench's single-row INSERTs a second, at the most clients measured.
    PgbenchRate,
    /// Machine CPU µs per pgbench single-row INSERT.
    PgbenchCpu,
    /// wrk's single-event appends a second.
    WrkRate,
    /// wrk's p99, ms.
    WrkP99,
    /// Machine CPU µs per append under wrk.
    WrkCpu,
    /// pgbench's 100-row INSERTs, in rows a second.
    PgbenchBatchRate,
    /// The service's HTTP batches, in events a second.
    BatchRate,
    /// Live projection of a backlog of the batch figure's shape, events a second.
    BatchBacklogRate,
    /// Live projection of a backlog of new runs, events a second.
    RunBacklogRate,
    /// New runs appended straight into the store, 1,000 a transaction, with
    /// run history held: the fastest new runs reach the log, runs a second.
    RunAppendRate,
    /// Projection lag p99 at a steady rate after a burst, ms.
    LagP99,
    /// The keyset read of the log, rows a second.
    KeysetRate,
    /// The rebuild of run history, log positions a second.
    RebuildRate,
    /// `GET /v1/runs/{id}` p99, ms.
    DetailP99,
    /// `GET /v1/runs?limit=50` p99, ms.
    ListP99,
    /// Machine CPU µs per list page.
    ListCpu,
    /// Growth appends a second at the smaller log.
    GrowthAppendRateBefore,
    /// Growth append p99 at the smaller log, ms.
    GrowthAppendP99Before,
    /// Growth appends a second at the larger log.
    GrowthAppendRateAfter,
    /// Growth append p99 at the larger log, ms.
    GrowthAppendP99After,
    /// Feed pages a second at the smaller log.
    GrowthFeedRateBefore,
    /// Feed pages a second at the larger log.
    GrowthFeedRateAfter,
    /// pgbench's single-row INSERTs a second beside the growth figures at
    /// the smaller log.
    GrowthPgbenchRateBefore,
    /// The same beside the growth figures at the larger log.
    GrowthPgbenchRateAfter,
    /// The service's peak RSS under wrk, MiB.
    ServiceRss,
}

static FIGURES: Mutex<BTreeMap<Figure, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Notes `value` as a measurement of `figure` (one a round).
pub fn note(figure: Figure, value: f64) {
    FIGURES
        .lock()
        .expect("the figures' lock")
        .entry(figure)
        .or_default()
        .push(value);
}

/// The value a goal reads of `figure` from its rounds' `values`: their
/// peak for a bound on memory, else their median (the mean of the middle
/// two of an even count).
fn reading(figure: Figure, values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match (figure, sorted.len()) {
        (_, 0) => None,
        (Figure::ServiceRss, _) => sorted.last().copied(),
        (_, n) if n % 2 == 0 => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
        _ => Some(sorted[middle]),
    }
}

/// How many rounds measured the figure that was measured in the most.
fn rounds(figures: &BTreeMap<Figure, Vec<f64>>) -> usize {
    figures.values().map(Vec::len).max().unwrap_or(0)
}

/// The goals table: one row a goal, with the figure, and whether it holds.
pub fn table() -> Vec<String> {
    let figures = FIGURES.lock().expect("the figures' lock").clone();
    let get = |figure: Figure| reading(figure, figures.get(&figure)?);
    let ratio = |a: Figure, b: Figure| Some(get(a)? / get(b)?);
    // Each goal: what it says, and its figure as text (with its baseline)
    // and whether it holds, or `None` when a figure it reads was not
    // measured in this run.
    let mut goals: Vec<(&str, Option<(String, bool)>)> = Vec::new();
    let mut goal = |what: &'static str, figure: Option<(String, bool)>| goals.push((what, figure));
    goal(
        "single-event appends ≥ 1.0× pgbench, p99 < 50 ms (wrk)",
        ratio(Figure::WrkRate, Figure::PgbenchRate)
            .zip(get(Figure::WrkP99))
            .map(|(r, p99)| {
                (
                    format!(
                        "{r:.2}× ({:.0} against {:.0} a second), p99 {p99:.1} ms",
                        get(Figure::WrkRate).unwrap_or(0.0),
                        get(Figure::PgbenchRate).unwrap_or(0.0)
                    ),
                    r >= 1.0 && p99 < 50.0,
                )
            }),
    );
    goal(
        "machine CPU per append ≤ pgbench's per INSERT",
        get(Figure::WrkCpu)
            .zip(get(Figure::PgbenchCpu))
            .map(|(ours, theirs)| {
                (
                    format!("{ours:.0} µs against {theirs:.0} µs"),
                    ours <= theirs,
                )
            }),
    );
    goal(
        "100-event batches ≥ 0.5× pgbench's 100-row INSERTs",
        ratio(Figure::BatchRate, Figure::PgbenchBatchRate).map(|r| (format!("{r:.2}×"), r >= 0.5)),
    );
    // Each backlog against the batched append rate of its own shape: a
    // burst of new runs reaches the log no faster than new runs can be
    // appended, which is slower than stage updates (docs/decisions.md).
    goal(
        "live projection ≥ 2× the batched append rate: a backlog of the batch figure's shape",
        ratio(Figure::BatchBacklogRate, Figure::BatchRate).map(|r| (format!("{r:.2}×"), r >= 2.0)),
    );
    goal(
        "live projection ≥ 2× the batched append rate: a backlog of new runs, against new runs appended 1,000 a transaction",
        ratio(Figure::RunBacklogRate, Figure::RunAppendRate).map(|r| {
            let against_batches = ratio(Figure::RunBacklogRate, Figure::BatchRate)
                .map_or(String::new(), |b| {
                    format!("; {b:.2}× the batch figure's stage updates")
                });
            (
                format!(
                    "{r:.2}× ({:.0} against {:.0} a second){against_batches}",
                    get(Figure::RunBacklogRate).unwrap_or(0.0),
                    get(Figure::RunAppendRate).unwrap_or(0.0)
                ),
                r >= 2.0,
            )
        }),
    );
    goal(
        "projection lag p99 < 100 ms at a steady rate after a burst",
        get(Figure::LagP99).map(|p99| (format!("{p99:.1} ms"), p99 < 100.0)),
    );
    goal(
        "rebuild of run history ≥ 0.5× the keyset read of the log",
        ratio(Figure::RebuildRate, Figure::KeysetRate).map(|r| (format!("{r:.2}×"), r >= 0.5)),
    );
    goal(
        "run detail p99 ≤ 5 ms",
        get(Figure::DetailP99).map(|p99| (format!("{p99:.2} ms"), p99 <= 5.0)),
    );
    goal(
        "50-run list page p99 ≤ 10 ms and ≤ 1 ms of machine CPU",
        get(Figure::ListP99)
            .zip(get(Figure::ListCpu))
            .map(|(p99, cpu)| {
                (
                    format!("{p99:.2} ms, {cpu:.0} µs"),
                    p99 <= 10.0 && cpu <= 1_000.0,
                )
            }),
    );
    let growth = [
        (
            "growth: append p99 at the larger log within 20 % of the smaller's",
            Figure::GrowthAppendP99Before,
            Figure::GrowthAppendP99After,
            true,
        ),
        (
            "growth: append rate at the larger log within 20 % of the smaller's",
            Figure::GrowthAppendRateBefore,
            Figure::GrowthAppendRateAfter,
            false,
        ),
        (
            "growth: feed pages a second at the larger log within 20 % of the smaller's",
            Figure::GrowthFeedRateBefore,
            Figure::GrowthFeedRateAfter,
            false,
        ),
    ];
    // Each growth figure's change, the larger log's over the smaller's, and
    // whether a larger one is worse (a time) or better (a rate).
    let changes =
        growth.map(|(_, before, after, larger_is_worse)| (ratio(after, before), larger_is_worse));
    for ((what, ..), (change, larger_is_worse)) in growth.iter().zip(changes) {
        goal(
            what,
            change.map(|change| {
                (
                    format!("{change:.2}×"),
                    within_growth(change, larger_is_worse),
                )
            }),
        );
    }
    let pgbench_change = ratio(
        Figure::GrowthPgbenchRateAfter,
        Figure::GrowthPgbenchRateBefore,
    );
    let against_pgbench: Option<Vec<(f64, bool)>> = changes
        .iter()
        .map(|&(change, larger_is_worse)| {
            let change = read_against(change?, pgbench_change?, larger_is_worse);
            Some((change, within_growth(change, larger_is_worse)))
        })
        .collect();
    goal(
        "growth against pgbench's INSERTs on the same server in the same rounds (the machine's drift, and what the log does to the server, taken out): append p99, rate, feed pages",
        pgbench_change.zip(against_pgbench).map(|(pgbench, changes)| {
            (
                format!(
                    "pgbench {pgbench:.2}×; {:.2}×, {:.2}×, {:.2}×",
                    changes[0].0, changes[1].0, changes[2].0
                ),
                changes.iter().all(|(_, holds)| *holds),
            )
        }),
    );
    goal(
        "service RSS < 100 MB under the 64-client load",
        get(Figure::ServiceRss)
            .filter(|rss| *rss > 0.0)
            .map(|rss| (format!("{rss:.0} MiB"), rss * 1.048_576 < 100.0)),
    );
    let mut lines = vec![
        format!(
            "| goal (issue 16) | this run (a figure measured in rounds: the median of its {}) | holds |",
            rounds(&figures)
        ),
        "|---|---|---|".to_owned(),
    ];
    lines.extend(goals.into_iter().map(|(what, figure)| match figure {
        Some((figure, holds)) => {
            format!(
                "| {what} | {figure} | {} |",
                if holds { "yes" } else { "no" }
            )
        }
        None => format!("| {what} | not measured in this run | |"),
    }));
    lines
}

/// Whether a growth figure's `change` (the larger log's over the smaller's)
/// is within 20 %: at most 1.2× for a time (`larger_is_worse`), at least
/// 1/1.2× for a rate.
fn within_growth(change: f64, larger_is_worse: bool) -> bool {
    if larger_is_worse {
        change <= 1.2
    } else {
        change >= 1.0 / 1.2
    }
}

/// A growth figure's `change` against pgbench's: pgbench's INSERTs into a
/// table emptied before each round changed by `pgbench_change` between the
/// same rounds, so a rate is divided by it and a time, which shortens as
/// the machine speeds up, multiplied by it. pgbench shares the server with
/// the log, so what the log's size does to the server (its caches, its
/// checkpoints) is taken out with the machine's drift.
fn read_against(change: f64, pgbench_change: f64, larger_is_worse: bool) -> f64 {
    if larger_is_worse {
        change * pgbench_change
    } else {
        change / pgbench_change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_reads_the_median_of_its_rounds_and_memory_its_peak() {
        assert_eq!(reading(Figure::WrkRate, &[]), None);
        assert_eq!(reading(Figure::WrkRate, &[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(reading(Figure::WrkRate, &[4.0, 1.0, 2.0, 9.0]), Some(3.0));
        assert_eq!(reading(Figure::ServiceRss, &[51.0, 60.0, 48.0]), Some(60.0));
    }

    /// A machine half as fast again at the larger log: appends 1.53× as
    /// fast and a p99 0.75× as long are flat once that is taken out, while
    /// a rate and a p99 that stayed as they were hide a log that slowed
    /// them by a third.
    #[test]
    fn a_growth_change_read_against_pgbench_takes_out_a_machine_that_sped_up() {
        let rate = read_against(1.53, 1.5, false);
        assert!((rate - 1.02).abs() < 1e-9 && within_growth(rate, false));
        let p99 = read_against(0.75, 1.5, true);
        assert!((p99 - 1.125).abs() < 1e-9 && within_growth(p99, true));
        assert!(within_growth(1.0, false) && within_growth(1.0, true));
        let same_rate = read_against(1.0, 1.5, false);
        assert!(!within_growth(same_rate, false), "{same_rate}");
        let same_p99 = read_against(1.0, 1.5, true);
        assert!(!within_growth(same_p99, true), "{same_p99}");
    }
}
