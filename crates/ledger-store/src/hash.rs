//! The hash chain: a canonical, versioned encoding of an event's envelope,
//! hashed with SHA-256 together with the hash of the stream's previous event.
//!
//! The encoding (documented for auditors in docs/hash-chain.md):
//!
//! ```text
//! "run-ledger/event/v1" 0x00
//! str(stream_id) u64(stream_version) u64(global_position) event_id[16]
//! str(event_type) u32(schema_version) str(canonical(data)) str(canonical(metadata))
//! str(recorded_at as RFC 3339 UTC with microseconds and "Z")
//! prev_hash[32]
//! ```
//!
//! where `u32`/`u64` are big-endian, `str(s)` is `u64(len(s))` then the UTF-8
//! bytes, and `canonical(json)` is JSON with object keys sorted by their
//! UTF-8 bytes and no whitespace. The first event of a stream chains to
//! `GENESIS_HASH` (32 zero bytes).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of every stream's version 0.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

const DOMAIN_TAG: &[u8] = b"run-ledger/event/v1\0";

/// The envelope fields a hash covers.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    /// Stream.
    pub stream_id: &'a str,
    /// 0-based version in the stream.
    pub stream_version: u64,
    /// Position in the global feed.
    pub global_position: u64,
    /// Event id.
    pub event_id: Uuid,
    /// Type name.
    pub event_type: &'a str,
    /// Payload schema version.
    pub schema_version: u32,
    /// Payload.
    pub data: &'a Value,
    /// Metadata.
    pub metadata: &'a Value,
    /// When the store recorded it (microsecond precision).
    pub recorded_at: DateTime<Utc>,
    /// Hash of the stream's previous event, or `GENESIS_HASH`.
    pub prev_hash: &'a [u8],
}

/// The event's hash.
pub fn event_hash(input: &HashInput<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN_TAG);
    put_str(&mut hasher, input.stream_id.as_bytes());
    hasher.update(input.stream_version.to_be_bytes());
    hasher.update(input.global_position.to_be_bytes());
    hasher.update(input.event_id.as_bytes());
    put_str(&mut hasher, input.event_type.as_bytes());
    hasher.update(input.schema_version.to_be_bytes());
    let mut json = Vec::with_capacity(256);
    write_canonical(input.data, &mut json);
    put_str(&mut hasher, &json);
    json.clear();
    write_canonical(input.metadata, &mut json);
    put_str(&mut hasher, &json);
    put_str(
        &mut hasher,
        format_recorded_at(input.recorded_at).as_bytes(),
    );
    hasher.update(input.prev_hash);
    hasher.finalize().into()
}

fn put_str(hasher: &mut Sha256, text: &[u8]) {
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text);
}

/// `recorded_at` as hashed: RFC 3339, UTC, microseconds, `Z`.
pub fn format_recorded_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// JSON with object keys sorted by their bytes and no whitespace. Numbers
/// print as serde_json prints them, which depends only on their value, so
/// a document stored as JSONB and read back encodes the same.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_json(out, key);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_json(out, scalar),
    }
}

/// Appends `value` as serde_json writes it compactly.
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("writing JSON to memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_drops_whitespace() {
        let value = json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"x","d":[true,null]},"b":1}"#
        );
    }

    #[test]
    fn every_hashed_field_changes_the_hash() {
        let data = json!({"amount": 5});
        let other_data = json!({"amount": 6});
        let metadata = json!({"tenant_id": "t"});
        let base = HashInput {
            stream_id: "run-1",
            stream_version: 0,
            global_position: 1,
            event_id: Uuid::nil(),
            event_type: "run.started",
            schema_version: 1,
            data: &data,
            metadata: &metadata,
            recorded_at: DateTime::from_timestamp(0, 0).unwrap(),
            prev_hash: &GENESIS_HASH,
        };
        let original = event_hash(&base);
        let prev = [1u8; 32];
        let variants = [
            HashInput {
                stream_id: "run-2",
                ..base
            },
            HashInput {
                stream_version: 1,
                ..base
            },
            HashInput {
                global_position: 2,
                ..base
            },
            HashInput {
                event_id: Uuid::max(),
                ..base
            },
            HashInput {
                event_type: "run.completed",
                ..base
            },
            HashInput {
                schema_version: 2,
                ..base
            },
            HashInput {
                data: &other_data,
                ..base
            },
            HashInput {
                metadata: &data,
                ..base
            },
            HashInput {
                recorded_at: DateTime::from_timestamp(0, 1000).unwrap(),
                ..base
            },
            HashInput {
                prev_hash: &prev,
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(event_hash(&variant), original, "{variant:?}");
        }
        assert_eq!(event_hash(&base), original);
    }

    /// Stored chains are checked against this encoding for ever: a change
    /// to it (escaping, number format, key order) breaks every stored hash.
    #[test]
    fn the_hash_of_a_fixed_event_never_changes() {
        let data = json!({"z": [1.5e-7, null, "é\"\\\n\u{1}"], "a": {"y": -7, "b": u64::MAX, "ключ": "значение"}, "f": 0.1, "t": true});
        let metadata = json!({"tenant_id": "t", "actor": {"id": "ada", "tenant_admin": false}});
        let input = HashInput {
            stream_id: "run-1",
            stream_version: 3,
            global_position: 42,
            event_id: Uuid::from_u128(0x1234),
            event_type: "run.stage_updated",
            schema_version: 2,
            data: &data,
            metadata: &metadata,
            recorded_at: DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
            prev_hash: &[7u8; 32],
        };
        assert_eq!(
            canonical_json(&data),
            r#"{"a":{"b":18446744073709551615,"y":-7,"ключ":"значение"},"f":0.1,"t":true,"z":[1.5e-7,null,"é\"\\\n\u0001"]}"#
        );
        assert_eq!(
            hex::encode(event_hash(&input)),
            "d9bb24fc9ba07565b2504f898c9a78f42c96335e1185ecedf2ac56eee92e5340"
        );
    }
}
