//! Times as the ledger writes them into JSON: RFC 3339 in UTC with `Z`,
//! and a fraction of a second only as long as it needs to be, the text
//! chrono's own `Serialize` writes. For fields on hot paths, with
//! `#[serde(serialize_with = "ledger_domain::time::rfc3339")]` (or
//! `rfc3339_option`).
//!
//! chrono's `Serialize` writes the time through `fmt`, and serde_json's
//! string writer escapes each piece `fmt` hands it on its own, one or two
//! characters at a time: the times of a 50-run list page took 5 % of its
//! CPU that way (docs/benchmarks.md). Formatted in one piece and written
//! as one string, the text is the same.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Serializes `time` as chrono's `Serialize` does, in one piece.
///
/// # Errors
/// Those of the serializer.
pub fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    // chrono's `Serialize` writes `SecondsFormat::AutoSi` with `Z`.
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// `rfc3339` for an optional time: `null` when unset.
///
/// # Errors
/// Those of the serializer.
pub fn rfc3339_option<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_some(&Rfc3339(time)),
        None => serializer.serialize_none(),
    }
}

/// A time that serializes with `rfc3339`.
struct Rfc3339<'a>(&'a DateTime<Utc>);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        rfc3339(self.0, serializer)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};

    use super::*;

    #[derive(Serialize)]
    struct Times {
        #[serde(serialize_with = "rfc3339")]
        time: DateTime<Utc>,
        #[serde(serialize_with = "rfc3339_option")]
        set: Option<DateTime<Utc>>,
        #[serde(serialize_with = "rfc3339_option")]
        unset: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct ChronosOwn {
        time: DateTime<Utc>,
        set: Option<DateTime<Utc>>,
        unset: Option<DateTime<Utc>>,
    }

    /// Every fraction length chrono writes (none, milli, micro, nano), a
    /// leap second, the first and last years RFC 3339 has four digits for
    /// and a time before the Unix epoch read the same either way.
    #[test]
    fn a_time_serializes_as_chronos_own_serialize_writes_it() {
        let second = Utc.with_ymd_and_hms(2026, 12, 7, 1, 2, 3).unwrap();
        let times = [
            second,
            second + chrono::Duration::milliseconds(120),
            second + chrono::Duration::microseconds(123_456),
            second + chrono::Duration::nanoseconds(123_456_789),
            second + chrono::Duration::nanoseconds(1),
            Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59)
                .unwrap()
                .with_nanosecond(1_500_000_000)
                .unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 40).unwrap(),
        ];
        for time in times {
            let ours = serde_json::to_string(&Times {
                time,
                set: Some(time),
                unset: None,
            })
            .unwrap();
            let chronos = serde_json::to_string(&ChronosOwn {
                time,
                set: Some(time),
                unset: None,
            })
            .unwrap();
            assert_eq!(ours, chronos, "{time:?}");
        }
    }
}
