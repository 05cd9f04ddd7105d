//! Types that exist only to describe the API in its OpenAPI document: the
//! closed sets the wire carries as strings (statuses, buckets, kinds,
//! projection states), and the shapes of values that other crates
//! serialize (event envelopes, chain breaks, projection statuses), so that
//! a generated client needs no casts. The tests keep them equal to what is served: the
//! enums by an exhaustive match on the domain's types, the shapes by every
//! answer the API tests receive being checked against the document.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A run's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started.
    Queued,
    /// Started.
    Running,
    /// Every file completed.
    Completed,
    /// Ended with some files failed or in error.
    CompletedWithErrors,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// A stage's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Not begun.
    Pending,
    /// Running.
    Processing,
    /// Done.
    Completed,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// A file's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Not begun.
    Pending,
    /// Being processed.
    Running,
    /// Done.
    Completed,
    /// Failed transiently: retryable, charged on retry.
    Failed,
    /// Failed permanently: never retried.
    Error,
}

/// A credit bucket.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// The monthly allowance, spent first.
    Monthly,
    /// Purchased credits.
    Purchased,
}

/// What a credit-ledger entry did.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEntryKind {
    /// Credits granted.
    Grant,
    /// Credits charged to a run.
    Deduction,
    /// Credits returned for a run.
    Refund,
}

/// Where a read model is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectionState {
    /// At the log's head.
    CaughtUp,
    /// Behind it, moving.
    CatchingUp,
    /// Being rebuilt.
    Rebuilding,
    /// Stopped at an event it cannot apply (`last_error` says which).
    Stopped,
}

/// A read model's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ProjectionStatus)]
pub struct ProjectionStatusSchema {
    /// Name.
    pub name: String,
    /// Last position applied.
    pub checkpoint: u64,
    /// Newest position in the log.
    pub head: u64,
    /// Events not yet applied.
    pub lag_events: u64,
    /// Age of the oldest event not yet applied, in seconds (0 when caught up).
    pub lag_seconds: f64,
    /// Where it is.
    pub state: ProjectionState,
    /// The last failure, until a batch succeeds.
    pub last_error: Option<String>,
    /// When the checkpoint last moved.
    pub updated_at: DateTime<Utc>,
    /// How far a running rebuild has replayed.
    pub rebuild_position: Option<u64>,
    /// When the read model was last rebuilt.
    pub rebuilt_at: Option<DateTime<Utc>>,
}

/// Who and what caused an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventMetadata)]
pub struct EventMetadataSchema {
    /// Tenant the event belongs to (none for key events).
    pub tenant_id: Option<String>,
    /// The person the caller acted for (`X-Actor-Id`).
    pub actor_id: Option<String>,
    /// The request or workflow (`X-Correlation-Id` or `traceparent`).
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one.
    pub causation_id: Option<Uuid>,
    /// The `Idempotency-Key` the command came with.
    pub idempotency_key: Option<String>,
    /// The caller: an API key id, `cli`, a service name.
    pub source: Option<String>,
}

/// An event as stored: its envelope, data and hashes (docs/hash-chain.md).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventEnvelope)]
pub struct EventEnvelopeSchema {
    /// Unique across the log.
    pub event_id: Uuid,
    /// `run-{id}`, `account-{tenant}` or `key-{id}`.
    pub stream_id: String,
    /// 0-based, gap-free in its stream.
    pub stream_version: u64,
    /// 1-based, gap-free across the log.
    pub global_position: u64,
    /// Type name (SPEC section 2).
    pub event_type: String,
    /// Version of the data's shape.
    pub schema_version: u32,
    /// The event's data, by type: any JSON object.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Who and what caused it.
    pub metadata: EventMetadataSchema,
    /// When it was recorded (microseconds).
    pub recorded_at: DateTime<Utc>,
    /// The hash encoding: 1 or 2.
    pub hash_version: u8,
    /// The previous event's hash in its stream (hex; 32 zero bytes first).
    pub prev_hash: String,
    /// This event's hash (hex).
    pub hash: String,
}

/// The first event whose hash chain does not verify.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ChainBreak)]
pub struct ChainBreakSchema {
    /// Stream.
    pub stream_id: String,
    /// Version of the first event that does not verify.
    pub stream_version: u64,
    /// Its global position.
    pub global_position: u64,
    /// What is wrong.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_domain::events::{Bucket as DomainBucket, FileStatus as File, StageStatus as Stage};
    use ledger_domain::run::RunStatus as Run;

    fn same<A: Serialize, B: Serialize>(domain: A, schema: B) {
        assert_eq!(
            serde_json::to_value(domain).unwrap(),
            serde_json::to_value(schema).unwrap()
        );
    }

    /// An exhaustive match: a new domain variant does not compile until
    /// the document has it too.
    #[test]
    fn the_documents_closed_sets_are_the_domains() {
        for status in [
            Run::Queued,
            Run::Running,
            Run::Completed,
            Run::CompletedWithErrors,
            Run::Failed,
            Run::Cancelled,
        ] {
            let schema = match status {
                Run::Queued => RunStatus::Queued,
                Run::Running => RunStatus::Running,
                Run::Completed => RunStatus::Completed,
                Run::CompletedWithErrors => RunStatus::CompletedWithErrors,
                Run::Failed => RunStatus::Failed,
                Run::Cancelled => RunStatus::Cancelled,
            };
            same(status, schema);
        }
        for status in [
            Stage::Pending,
            Stage::Processing,
            Stage::Completed,
            Stage::Failed,
            Stage::Cancelled,
        ] {
            let schema = match status {
                Stage::Pending => StageStatus::Pending,
                Stage::Processing => StageStatus::Processing,
                Stage::Completed => StageStatus::Completed,
                Stage::Failed => StageStatus::Failed,
                Stage::Cancelled => StageStatus::Cancelled,
            };
            same(status, schema);
        }
        for status in [
            File::Pending,
            File::Running,
            File::Completed,
            File::Failed,
            File::Error,
        ] {
            let schema = match status {
                File::Pending => FileStatus::Pending,
                File::Running => FileStatus::Running,
                File::Completed => FileStatus::Completed,
                File::Failed => FileStatus::Failed,
                File::Error => FileStatus::Error,
            };
            same(status, schema);
        }
        for bucket in [DomainBucket::Monthly, DomainBucket::Purchased] {
            let schema = match bucket {
                DomainBucket::Monthly => Bucket::Monthly,
                DomainBucket::Purchased => Bucket::Purchased,
            };
            same(bucket, schema);
        }
        // The document's facts, one variant per type the handler takes.
        let document = serde_json::to_value(crate::openapi()).unwrap();
        let fact_types: Vec<String> = document["components"]["schemas"]["Fact"]["oneOf"]
            .as_array()
            .expect("Fact is a oneOf")
            .iter()
            .map(|variant| {
                let type_ = &variant["properties"]["type"];
                type_["enum"][0]
                    .as_str()
                    .or(type_["const"].as_str())
                    .expect("each variant names its type")
                    .to_owned()
            })
            .collect();
        assert_eq!(fact_types, crate::FACT_TYPES);
    }
}
