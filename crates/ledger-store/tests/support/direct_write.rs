//! Events written straight into the tables, as an older build of the store
//! wrote them, for tests of what later builds must keep reading.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use ledger_store::hash::{self, HashVersion};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The first event of the log: stream `old`, version 0, position 1,
/// tenant `acme`, hashed with `version`. Returns its hash.
pub async fn write_first_event(
    pool: &PgPool,
    version: HashVersion,
    event_id: Uuid,
    data: &Value,
    metadata: &Value,
    recorded_at: DateTime<Utc>,
) -> [u8; 32] {
    let event_hash = hash::event_hash(&hash::HashInput {
        version,
        stream_id: "old",
        stream_version: 0,
        global_position: 1,
        event_id,
        event_type: "test.happened",
        schema_version: 1,
        data,
        metadata,
        recorded_at,
        prev_hash: &hash::GENESIS_HASH,
    })
    .unwrap();
    sqlx::query(
        "WITH e AS (INSERT INTO events (global_position, event_id, stream_id, stream_version,
                     event_type, schema_version, data, metadata, tenant_id, recorded_at,
                     prev_hash, hash, hash_version)
                   VALUES (1, $1, 'old', 0, 'test.happened', 1, $2, $3, 'acme', $4, $5, $6, $7)),
              s AS (INSERT INTO streams (stream_id, version, head_hash, head_position, updated_at)
                    VALUES ('old', 0, $6, 1, now()))
         UPDATE event_log_head SET position = 1",
    )
    .bind(event_id)
    .bind(data)
    .bind(metadata)
    .bind(recorded_at)
    .bind(hash::GENESIS_HASH.as_slice())
    .bind(event_hash.as_slice())
    .bind(i16::from(version.number()))
    .execute(pool)
    .await
    .unwrap();
    event_hash
}
