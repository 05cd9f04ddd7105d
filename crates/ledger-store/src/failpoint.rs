//! Test-only crash points for the fault tests (docs/reliability.md, F3).
//!
//! Built with the `failpoints` feature (which only the tests turn on),
//! `RUN_LEDGER_FAILPOINT=name` (or `name@N`, the N-th time it is reached)
//! makes the process abort at that point, as a crash would: no destructor,
//! no flush, no response. Without the feature, as in every release build,
//! `hit` is empty and the variable is ignored.

#[cfg(feature = "failpoints")]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

/// The environment variable that arms a point.
pub const FAILPOINT_ENV: &str = "RUN_LEDGER_FAILPOINT";

#[cfg(feature = "failpoints")]
struct Armed {
    name: String,
    at: u64,
    hits: AtomicU64,
}

#[cfg(feature = "failpoints")]
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
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    if let Some(armed) = armed().filter(|armed| armed.name == name) {
        if armed.hits.fetch_add(1, Ordering::SeqCst) + 1 == armed.at {
            tracing::error!(failpoint = name, "failpoint reached: aborting");
            std::process::abort();
        }
    }
}

/// Does nothing: this build has no crash points.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
