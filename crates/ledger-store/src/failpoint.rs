//! Test-only crash points for the fault tests (docs/reliability.md, F3).
//!
//! `RUN_LEDGER_FAILPOINT=name` (or `name@N`, the N-th time it is reached)
//! makes the process abort at that point, as a crash would: no destructor,
//! no flush, no response. Unset, which is how production runs, a point
//! costs one load of an initialized value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable that arms a point.
pub const FAILPOINT_ENV: &str = "RUN_LEDGER_FAILPOINT";

struct Armed {
    name: String,
    at: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let value = std::env::var(FAILPOINT_ENV).ok()?;
            let (name, at) = match value.split_once('@') {
                Some((name, at)) => (name.to_owned(), at.parse().ok()?),
                None => (value, 1),
            };
            Some(Armed {
                name,
                at,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Aborts the process when `name` is the armed point and this is the hit it
/// is armed for.
pub fn hit(name: &str) {
    if let Some(armed) = armed().filter(|armed| armed.name == name) {
        if armed.hits.fetch_add(1, Ordering::SeqCst) + 1 == armed.at {
            tracing::error!(failpoint = name, "failpoint reached: aborting");
            std::process::abort();
        }
    }
}
