//! The stored event contract: type names, payloads, schema versions, upcasting.
//!
//! Type names and field names are a contract with every stored event: add,
//! never rename. A payload change bumps the type's schema version and adds an
//! upcaster from the old shape; stored events are never rewritten.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// A document a run works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    /// Display name.
    pub name: String,
    /// Where the document is stored; a rerun reuses it as is.
    pub url: String,
}

/// The company a run is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Company {
    /// Company id in the calling system.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A file of a run, as named at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileSpec {
    /// File name.
    pub name: String,
}

/// `run.created`: a run exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCreated {
    /// The run's id; the stream is `run-{run_id}`.
    pub run_id: Uuid,
    /// Owning tenant.
    pub tenant_id: String,
    /// The person who owns the run (may rerun and retry it).
    pub owner_id: String,
    /// Project the run belongs to, if any.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Pipeline version that executes the run.
    #[serde(default)]
    pub pipeline_version: Option<String>,
    /// Version of the inputs the run executes.
    #[serde(default)]
    pub input_version: Option<String>,
    /// Document worked on.
    #[serde(default)]
    pub document: Option<Document>,
    /// Company the run is for.
    #[serde(default)]
    pub company: Option<Company>,
    /// Stage names, in order; stage numbers are 1-based.
    #[serde(default)]
    pub stages: Vec<String>,
    /// Files, in order; file indexes are 0-based.
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// Credits charged per failed file on retry.
    pub credits_per_file: i64,
    /// Retry limit per file and for the whole run (1..=10).
    pub max_retry_count: u32,
    /// Idempotency key, unique per tenant.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The run's inputs, as given.
    #[serde(default)]
    pub inputs: Option<Value>,
}

/// `run.rerun_of`: this run re-executes another with the same inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRerunOf {
    /// The run being re-executed; its stream is not touched.
    pub original_run_id: Uuid,
}

/// `run.started`: queued -> running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStarted {}

/// Status a stage can be reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Not started yet; only ever the initial state.
    Pending,
    /// Being worked on.
    Processing,
    /// Done.
    Completed,
    /// Failed; fails the run.
    Failed,
    /// Stopped before finishing.
    Cancelled,
}

/// `run.stage_updated`: stage `stage` (1-based) changed status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageUpdated {
    /// 1-based stage number.
    pub stage: u32,
    /// New status.
    pub status: StageStatus,
    /// Output (JSON or markdown text).
    #[serde(default)]
    pub output: Option<Value>,
    /// Error message, on failure.
    #[serde(default)]
    pub error: Option<String>,
}

/// Status a file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Not processed yet (also after an interruption; retried free of charge).
    Pending,
    /// Being processed.
    Running,
    /// Done.
    Completed,
    /// Transient failure: retryable, charged on retry.
    Failed,
    /// Permanent failure: never retried.
    Error,
}

impl FileStatus {
    /// Whether the file's current attempt has finished.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            FileStatus::Completed | FileStatus::Failed | FileStatus::Error
        )
    }
}

/// `run.file_updated`: file `index` (0-based) changed status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileUpdated {
    /// 0-based file index.
    pub index: u32,
    /// New status.
    pub status: FileStatus,
    /// Error message, on failure.
    #[serde(default)]
    pub error: Option<String>,
}

/// An amount split between the two credit buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BucketSplit {
    /// Part taken from (or returned to) the monthly allowance.
    pub monthly: i64,
    /// Part taken from (or returned to) purchased credits.
    pub purchased: i64,
}

impl BucketSplit {
    /// The whole amount.
    pub fn total(&self) -> i64 {
        self.monthly + self.purchased
    }
}

/// `run.credits_deducted`: credits charged for this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCreditsDeducted {
    /// Credits charged.
    pub amount: i64,
    /// Where they came from.
    pub split: BucketSplit,
    /// Why, as the caller said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `run.refunded`: credits returned for this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRefunded {
    /// Credits returned.
    pub amount: i64,
    /// Which buckets they went back to.
    pub split: BucketSplit,
    /// Why, as the caller said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a retry re-executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RetryScope {
    /// Failed and pending files (SPEC rule 6); the run goes back to running.
    Files,
    /// The whole failed run (SPEC rule 7); the run goes back to queued.
    Run,
}

/// A file re-enqueued by a retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetriedFile {
    /// 0-based file index.
    pub index: u32,
    /// The attempt this retry starts (previous attempt + 1).
    pub retry_attempt: u32,
    /// Whether this file was charged (it had `failed`) or free (it was `pending`).
    pub charged: bool,
}

/// `run.retried`: a retry began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRetried {
    /// Files or the whole run.
    pub scope: RetryScope,
    /// Re-enqueued files (empty for a whole-run retry).
    #[serde(default)]
    pub files: Vec<RetriedFile>,
    /// Credits charged for the retry (0 when only pending files are retried).
    pub credits_charged: i64,
    /// Job ids to enqueue with: `{run_id}:file:{index}`, or `{run_id}` for a whole run.
    pub job_ids: Vec<String>,
}

/// `run.completed`: the run ended successfully, or with some files failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCompleted {
    /// True when some files failed or errored: status `completed_with_errors`.
    #[serde(default)]
    pub with_errors: bool,
    /// What the run produced, as the pipeline reported it: any JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Measurements merged into the run's metrics, key by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metrics: Option<Metrics>,
}

/// A run's measurements: names to any JSON (durations, token counts, costs).
pub type Metrics = serde_json::Map<String, Value>;

/// `run.metrics_updated`: measurements merged into an active run's metrics,
/// key by key (a key given replaces the one the run had).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunMetricsUpdated {
    /// The measurements.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metrics: Metrics,
}

/// `run.failed`: the run ended in failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunFailed {
    /// Machine error code (for example `NO_INPUTS`, `STAGE_FAILED`).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Structured detail.
    #[serde(default)]
    pub detail: Option<Value>,
}

/// `run.cancelled`: the run was stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCancelled {
    /// Why, as the caller said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Every event of a `run-{run_id}` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum RunEvent {
    /// `run.created`
    #[serde(rename = "run.created")]
    Created(Box<RunCreated>),
    /// `run.rerun_of`
    #[serde(rename = "run.rerun_of")]
    RerunOf(RunRerunOf),
    /// `run.started`
    #[serde(rename = "run.started")]
    Started(RunStarted),
    /// `run.stage_updated`
    #[serde(rename = "run.stage_updated")]
    StageUpdated(StageUpdated),
    /// `run.file_updated`
    #[serde(rename = "run.file_updated")]
    FileUpdated(FileUpdated),
    /// `run.credits_deducted`
    #[serde(rename = "run.credits_deducted")]
    CreditsDeducted(RunCreditsDeducted),
    /// `run.refunded`
    #[serde(rename = "run.refunded")]
    Refunded(RunRefunded),
    /// `run.retried`
    #[serde(rename = "run.retried")]
    Retried(RunRetried),
    /// `run.metrics_updated`
    #[serde(rename = "run.metrics_updated")]
    MetricsUpdated(RunMetricsUpdated),
    /// `run.completed`
    #[serde(rename = "run.completed")]
    Completed(RunCompleted),
    /// `run.failed`
    #[serde(rename = "run.failed")]
    Failed(RunFailed),
    /// `run.cancelled`
    #[serde(rename = "run.cancelled")]
    Cancelled(RunCancelled),
}

/// A credit bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// The monthly allowance; spent first.
    Monthly,
    /// Purchased credits; spent after the monthly allowance.
    Purchased,
}

/// `account.credits_granted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditsGranted {
    /// Bucket credited.
    pub bucket: Bucket,
    /// Credits granted.
    pub amount: i64,
    /// Why, as the caller said.
    #[serde(default)]
    pub reason: Option<String>,
    /// Monthly balance after this event.
    pub monthly_after: i64,
    /// Purchased balance after this event.
    pub purchased_after: i64,
}

/// `account.credits_deducted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountCreditsDeducted {
    /// Credits taken.
    pub amount: i64,
    /// Where they came from (monthly first).
    pub split: BucketSplit,
    /// The run charged.
    pub run_id: Uuid,
    /// Monthly balance after this event.
    pub monthly_after: i64,
    /// Purchased balance after this event.
    pub purchased_after: i64,
}

/// `account.credits_refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountCreditsRefunded {
    /// Credits returned.
    pub amount: i64,
    /// Which buckets they went back to.
    pub split: BucketSplit,
    /// The run refunded.
    pub run_id: Uuid,
    /// Monthly balance after this event.
    pub monthly_after: i64,
    /// Purchased balance after this event.
    pub purchased_after: i64,
}

/// Every event of an `account-{tenant_id}` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum AccountEvent {
    /// `account.credits_granted`
    #[serde(rename = "account.credits_granted")]
    CreditsGranted(CreditsGranted),
    /// `account.credits_deducted`
    #[serde(rename = "account.credits_deducted")]
    CreditsDeducted(AccountCreditsDeducted),
    /// `account.credits_refunded`
    #[serde(rename = "account.credits_refunded")]
    CreditsRefunded(AccountCreditsRefunded),
}

/// Every event of a `key-{key_id}` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum KeyEvent {
    /// `key.created`
    #[serde(rename = "key.created")]
    Created(crate::key::KeyCreated),
    /// `key.rotated`
    #[serde(rename = "key.rotated")]
    Rotated(crate::key::KeyRotated),
    /// `key.revoked`
    #[serde(rename = "key.revoked")]
    Revoked(crate::key::KeyRevoked),
}

/// Why stored data could not be read as an event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Written by a newer ledger than this one.
    #[error("{event_type} has schema_version {found}, newer than the {current} this build reads")]
    FutureSchema {
        /// Event type.
        event_type: String,
        /// Version found.
        found: u32,
        /// Newest version this build knows.
        current: u32,
    },
    /// No upcaster leads from this version.
    #[error("{event_type} schema_version {found} is unknown")]
    UnknownSchema {
        /// Event type.
        event_type: String,
        /// Version found.
        found: u32,
    },
    /// The type is not part of this stream kind, or the data does not fit it.
    #[error("cannot decode {event_type}: {source}")]
    Malformed {
        /// Event type.
        event_type: String,
        /// The deserializer's complaint.
        #[source]
        source: serde_json::Error,
    },
}

/// An event as stored: its type name, schema version and JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEvent {
    /// Contract name, for example `run.created`.
    pub event_type: String,
    /// Version of `data`'s shape.
    pub schema_version: u32,
    /// The payload.
    pub data: Value,
}

/// A stream's event family: how it is written and read.
pub trait StreamEvent: Serialize + DeserializeOwned + Sized {
    /// Serializes to the stored form, with the current schema version.
    fn encode(&self) -> EncodedEvent {
        let tagged = serde_json::to_value(self).expect("event types always serialize");
        let Value::Object(mut tagged) = tagged else {
            unreachable!("adjacently tagged enums serialize to objects")
        };
        let event_type = match tagged.remove("type") {
            Some(Value::String(name)) => name,
            _ => unreachable!("every variant has a type name"),
        };
        let data = tagged.remove("data").unwrap_or_else(|| json!({}));
        EncodedEvent {
            schema_version: current_schema_version(&event_type),
            event_type,
            data,
        }
    }

    /// Reads a stored event, upcasting older schema versions first.
    ///
    /// # Errors
    /// A future or unknown schema version, or data that does not fit the type.
    fn decode(event_type: &str, schema_version: u32, data: Value) -> Result<Self, DecodeError> {
        let data = upcast(event_type, schema_version, data)?;
        // The tag first: an adjacently tagged enum that meets `data` before
        // `type` (as a `json!` object, sorted by key, gives them) buffers the
        // whole of `data` before it can pick the variant, then reads it again.
        let tagged = [
            (Value::from("type"), Value::from(event_type)),
            (Value::from("data"), data),
        ];
        Self::deserialize(serde::de::value::MapDeserializer::new(tagged.into_iter())).map_err(
            |source| DecodeError::Malformed {
                event_type: event_type.to_owned(),
                source,
            },
        )
    }

    /// Reads a stored event from its data's JSON text: as `decode`, but an
    /// event of the current schema version goes straight from the text into
    /// the type, with no `Value` between (a read model's projector spent
    /// more of its time building and dropping those trees than folding).
    ///
    /// # Errors
    /// As `decode`; text that is not JSON is `Malformed`.
    fn decode_json(event_type: &str, schema_version: u32, data: &str) -> Result<Self, DecodeError> {
        let malformed = |source| DecodeError::Malformed {
            event_type: event_type.to_owned(),
            source,
        };
        if schema_version != current_schema_version(event_type) {
            let data = serde_json::from_str(data).map_err(malformed)?;
            return Self::decode(event_type, schema_version, data);
        }
        // The tag first, as `decode` gives it, so the variant is known
        // before its data is read.
        let tag = serde_json::to_string(event_type).map_err(malformed)?;
        let mut tagged = String::with_capacity(tag.len() + data.len() + 20);
        tagged.push_str("{\"type\":");
        tagged.push_str(&tag);
        tagged.push_str(",\"data\":");
        tagged.push_str(data);
        tagged.push('}');
        serde_json::from_str(&tagged).map_err(malformed)
    }
}

impl StreamEvent for RunEvent {}
impl StreamEvent for AccountEvent {}
impl StreamEvent for KeyEvent {}

impl RunEvent {
    /// `RerunOf`'s type name: the one run event that names another run,
    /// for readers that must know which runs a batch touches before they
    /// decode it.
    pub const RERUN_OF_TYPE: &'static str = "run.rerun_of";
}

/// The schema version this build writes for an event type.
pub fn current_schema_version(event_type: &str) -> u32 {
    match event_type {
        // v2 nests document and company (see `upcast_run_created_v1`).
        "run.created" => 2,
        _ => 1,
    }
}

/// Brings `data` of `event_type` from `schema_version` to the current shape.
///
/// # Errors
/// A version newer than this build's, or one no upcaster starts from.
pub fn upcast(event_type: &str, schema_version: u32, data: Value) -> Result<Value, DecodeError> {
    let current = current_schema_version(event_type);
    if schema_version > current {
        return Err(DecodeError::FutureSchema {
            event_type: event_type.to_owned(),
            found: schema_version,
            current,
        });
    }
    let mut version = schema_version;
    let mut data = data;
    while version < current {
        data = match (event_type, version) {
            ("run.created", 1) => upcast_run_created_v1(data),
            _ => {
                return Err(DecodeError::UnknownSchema {
                    event_type: event_type.to_owned(),
                    found: schema_version,
                })
            }
        };
        version += 1;
    }
    Ok(data)
}

/// `run.created` v1 carried the document and company as flat fields
/// (`document_name`, `document_url`, `company_id`, `company_name`), the shape
/// of the pipeline database it was first imported from; v2 nests them.
fn upcast_run_created_v1(data: Value) -> Value {
    let Value::Object(mut fields) = data else {
        return data;
    };
    let mut take = |key: &str| match fields.remove(key) {
        Some(Value::String(text)) => Some(text),
        _ => None,
    };
    let document = match (take("document_name"), take("document_url")) {
        (None, None) => Value::Null,
        (name, url) => json!({ "name": name.unwrap_or_default(), "url": url.unwrap_or_default() }),
    };
    let company = match (take("company_id"), take("company_name")) {
        (None, None) => Value::Null,
        (id, name) => json!({ "id": id.unwrap_or_default(), "name": name.unwrap_or_default() }),
    };
    fields.insert("document".into(), document);
    fields.insert("company".into(), company);
    Value::Object(fields)
}
