//! The hash chain: a canonical, versioned encoding of an event's envelope,
//! hashed with SHA-256 together with the hash of the stream's previous event.
//!
//! The encoding (documented for auditors in docs/hash-chain.md):
//!
//! ```text
//! "run-ledger/event/v{1,2}" 0x00
//! str(stream_id) u64(stream_version) u64(global_position) event_id[16]
//! str(event_type) u32(schema_version) str(json(data)) str(json(metadata))
//! str(recorded_at as RFC 3339 UTC with microseconds and "Z")
//! prev_hash[32]
//! ```
//!
//! where `u32`/`u64` are big-endian and `str(s)` is `u64(len(s))` then the
//! UTF-8 bytes. `json` is what the version names: v2 (every new event) is
//! RFC 8785, which depends only on the JSON value; v1 (events written
//! before it) is serde_json's printing with keys sorted by their UTF-8
//! bytes, which PostgreSQL's `jsonb` did not always read back the same.
//! The first event of a stream chains to `GENESIS_HASH` (32 zero bytes).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::json::{write_jcs, JsonError};

/// The `prev_hash` of every stream's version 0.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The encoding an event's hash covers, stored with the event and shown
/// in every envelope as `hash_version`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum HashVersion {
    /// serde_json's printing of `data` and `metadata` (events written
    /// before v2; envelopes that do not say are v1).
    #[default]
    V1,
    /// RFC 8785 (JCS) of `data` and `metadata`.
    V2,
}

impl HashVersion {
    /// The version every new event is hashed with.
    pub const CURRENT: HashVersion = HashVersion::V2;

    /// The version as stored and shown: 1 or 2.
    pub fn number(self) -> u8 {
        match self {
            HashVersion::V1 => 1,
            HashVersion::V2 => 2,
        }
    }

    fn domain_tag(self) -> &'static [u8] {
        match self {
            HashVersion::V1 => b"run-ledger/event/v1\0",
            HashVersion::V2 => b"run-ledger/event/v2\0",
        }
    }
}

impl From<HashVersion> for u8 {
    fn from(version: HashVersion) -> u8 {
        version.number()
    }
}

impl TryFrom<u8> for HashVersion {
    type Error = String;

    fn try_from(number: u8) -> Result<Self, String> {
        match number {
            1 => Ok(HashVersion::V1),
            2 => Ok(HashVersion::V2),
            other => Err(format!("unknown hash version {other}")),
        }
    }
}

/// The envelope fields a hash covers.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    /// The encoding.
    pub version: HashVersion,
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
///
/// # Errors
/// v2 only: `data` or `metadata` holds an integer that no IEEE 754 double
/// holds exactly, which RFC 8785 cannot encode (the store never writes one).
pub fn event_hash(input: &HashInput<'_>) -> Result<[u8; 32], JsonError> {
    let documents = EncodedDocuments::new(input.version, input.data, input.metadata)?;
    Ok(encoded_event_hash(
        input,
        &documents,
        &format_recorded_at(input.recorded_at),
    ))
}

/// An event's `data` and `metadata` encoded as a hash of one version
/// covers them. Encoding them is most of a hash's work and needs nothing
/// of the event's place in the log, so the store's writer, whose work
/// every append waits on in turn, takes them encoded by the appender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedDocuments {
    version: HashVersion,
    data: Vec<u8>,
    metadata: Vec<u8>,
}

impl EncodedDocuments {
    /// `data` and `metadata` in `version`'s encoding.
    ///
    /// # Errors
    /// As `event_hash`.
    pub fn new(version: HashVersion, data: &Value, metadata: &Value) -> Result<Self, JsonError> {
        let encode = |document: &Value| -> Result<Vec<u8>, JsonError> {
            let mut json = Vec::with_capacity(256);
            match version {
                HashVersion::V1 => write_canonical(document, &mut json),
                HashVersion::V2 => write_jcs(document, &mut json)?,
            }
            Ok(json)
        };
        Ok(EncodedDocuments {
            version,
            data: encode(data)?,
            metadata: encode(metadata)?,
        })
    }
}

/// `event_hash` of `input`, whose documents are encoded in `documents` and
/// whose `recorded_at` is formatted (`format_recorded_at`) in
/// `recorded_at`, so that a batch formats its one time once.
pub fn encoded_event_hash(
    input: &HashInput<'_>,
    documents: &EncodedDocuments,
    recorded_at: &str,
) -> [u8; 32] {
    debug_assert_eq!(
        Ok(documents),
        EncodedDocuments::new(input.version, input.data, input.metadata).as_ref(),
        "the documents encoded are the input's own"
    );
    debug_assert_eq!(recorded_at, format_recorded_at(input.recorded_at));
    let mut hasher = Sha256::new();
    hasher.update(input.version.domain_tag());
    put_str(&mut hasher, input.stream_id.as_bytes());
    hasher.update(input.stream_version.to_be_bytes());
    hasher.update(input.global_position.to_be_bytes());
    hasher.update(input.event_id.as_bytes());
    put_str(&mut hasher, input.event_type.as_bytes());
    hasher.update(input.schema_version.to_be_bytes());
    put_str(&mut hasher, &documents.data);
    put_str(&mut hasher, &documents.metadata);
    put_str(&mut hasher, recorded_at.as_bytes());
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

/// The v1 encoding: JSON with object keys sorted by their bytes and no
/// whitespace, numbers as serde_json prints them.
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
            version: HashVersion::CURRENT,
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
        let original = event_hash(&base).unwrap();
        let prev = [1u8; 32];
        let variants = [
            HashInput {
                version: HashVersion::V1,
                ..base
            },
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
            assert_ne!(event_hash(&variant).unwrap(), original, "{variant:?}");
        }
        assert_eq!(event_hash(&base).unwrap(), original);
    }

    /// Stored chains are checked against this encoding for ever: a change
    /// to it (escaping, number format, key order) breaks every stored hash.
    #[test]
    fn the_hash_of_a_fixed_event_never_changes() {
        let data = json!({"z": [1.5e-7, null, "é\"\\\n\u{1}"], "a": {"y": -7, "b": u64::MAX, "ключ": "значение"}, "f": 0.1, "t": true});
        let metadata = json!({"tenant_id": "t", "actor": {"id": "ada", "tenant_admin": false}});
        let input = HashInput {
            version: HashVersion::V1,
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
            hex::encode(event_hash(&input).unwrap()),
            "d9bb24fc9ba07565b2504f898c9a78f42c96335e1185ecedf2ac56eee92e5340"
        );
    }

    /// The v2 pin, recomputed independently by tests/auditor/event_hash.py
    /// (Python, the `rfc8785` package) from docs/hash-chain.md: a change
    /// here breaks every stored v2 hash.
    #[test]
    fn the_v2_hash_of_a_fixed_event_never_changes() {
        let data = json!({"z": [1.5e-7, null, "é\"\\\n\u{1}"], "a": {"y": -7, "b": 1e16, "ключ": "значение", "\u{1f600}": 0.1, "\u{fb33}": -0.0}, "t": true});
        let metadata = json!({"tenant_id": "t", "actor_id": "ada"});
        let input = HashInput {
            version: HashVersion::V2,
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
            crate::json::jcs(&data).unwrap(),
            "{\"a\":{\"b\":10000000000000000,\"y\":-7,\"ключ\":\"значение\",\"\u{1f600}\":0.1,\"\u{fb33}\":0},\"t\":true,\"z\":[1.5e-7,null,\"é\\\"\\\\\\n\\u0001\"]}"
        );
        assert_eq!(
            hex::encode(event_hash(&input).unwrap()),
            "cad9c310c642160c2eced26a127ca158bea23ef6ed1c928245ffe7b34ce54287"
        );
    }

    /// What PostgreSQL's jsonb gives back for a number is another
    /// serde_json value of the same double; v2 hashes both the same, v1
    /// did not (the false tamper alarms of issue 11).
    #[test]
    fn v2_hashes_a_number_as_its_double_whatever_its_form() {
        let pairs = [
            (json!({"x": 1e16}), json!({"x": 10_000_000_000_000_000u64})),
            (json!({"x": -0.0}), json!({"x": 0.0})),
            (json!({"x": 1.0}), json!({"x": 1})),
        ];
        for (sent, read_back) in pairs {
            let metadata = json!({});
            let input = |data| HashInput {
                version: HashVersion::V2,
                stream_id: "run-1",
                stream_version: 0,
                global_position: 1,
                event_id: Uuid::nil(),
                event_type: "run.created",
                schema_version: 1,
                data,
                metadata: &metadata,
                recorded_at: DateTime::from_timestamp(0, 0).unwrap(),
                prev_hash: &GENESIS_HASH,
            };
            assert_eq!(
                event_hash(&input(&sent)).unwrap(),
                event_hash(&input(&read_back)).unwrap(),
                "{sent} and {read_back}"
            );
            let v1 = |data| HashInput {
                version: HashVersion::V1,
                ..input(data)
            };
            assert_ne!(
                event_hash(&v1(&sent)).unwrap(),
                event_hash(&v1(&read_back)).unwrap()
            );
        }
    }
}
