//! Types that exist only to describe the API in its OpenAPI document: the
//! closed sets the wire carries as strings (statuses, buckets, kinds,
//! projection states), and the shapes of values that other crates
//! serialize (event envelopes, chain breaks, projection statuses), so that
//! a generated client needs no casts. The domain's own types (statuses,
//! buckets, event payloads) derive their schemas in `ledger-domain` (its
//! `openapi` feature); the rest are kept equal to what is served by every
//! answer the API tests receive being checked against the document.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// The closed sets the domain owns, whose schemas it derives.
pub use ledger_domain::{
    events::{Bucket, FileStatus, StageStatus},
    run::RunStatus,
};

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

/// An event as stored: one variant per event type, told apart by
/// `event_type`, each with the `data` that type carries.
///
/// The variants come from the domain's own event enums (`RunEvent`,
/// `AccountEvent`, `KeyEvent`), so a new event type is in the document as
/// soon as it exists. `data` is as stored, with its `schema_version`: a
/// `run.created` of version 1 carries the document and company as flat
/// `document_name`, `document_url`, `company_id` and `company_name` fields
/// instead of `document` and `company`.
pub struct EventEnvelopeSchema;

/// The fields every event has, whatever its type (the variants of
/// `EventEnvelope` narrow `event_type` and `data`).
#[derive(Debug, Clone, Serialize, ToSchema)]
struct EnvelopeFields {
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
    #[schema(minimum = 1)]
    pub schema_version: u32,
    /// The event's data, by type.
    pub data: serde_json::Value,
    /// Who and what caused it.
    pub metadata: EventMetadataSchema,
    /// When it was recorded (microseconds).
    pub recorded_at: DateTime<Utc>,
    /// The hash encoding: 1 or 2.
    #[schema(minimum = 1, maximum = 2)]
    pub hash_version: u8,
    /// The previous event's hash in its stream (hex; 32 zero bytes first).
    pub prev_hash: String,
    /// This event's hash (hex).
    pub hash: String,
}

/// Each stored event type, the name of its envelope variant and that
/// variant's schema, read off the domain's adjacently tagged enums (whose
/// derived schemas are a `oneOf` of `{type, data}` objects).
fn envelope_variants() -> Vec<(String, String, RefOr<Schema>)> {
    use ledger_domain::events::{AccountEvent, KeyEvent, RunEvent};
    let mut variants = Vec::new();
    for tagged in [
        <RunEvent as PartialSchema>::schema(),
        <AccountEvent as PartialSchema>::schema(),
        <KeyEvent as PartialSchema>::schema(),
    ] {
        let RefOr::T(Schema::OneOf(one_of)) = tagged else {
            unreachable!("an adjacently tagged enum's schema is a oneOf");
        };
        for item in one_of.items {
            let RefOr::T(Schema::Object(tagged)) = item else {
                unreachable!("each variant of a tagged enum is an object");
            };
            let event_type = match tagged.properties.get("type") {
                Some(RefOr::T(Schema::Object(type_))) => type_
                    .enum_values
                    .as_ref()
                    .and_then(|values| values.first())
                    .and_then(|value| value.as_str())
                    .map(str::to_owned),
                _ => None,
            }
            .expect("each variant names its type");
            let data = tagged
                .properties
                .get("data")
                .cloned()
                .expect("each variant carries data");
            let name = envelope_variant_name(&event_type);
            let RefOr::T(Schema::Object(mut envelope)) =
                <EnvelopeFields as PartialSchema>::schema()
            else {
                unreachable!("a struct's schema is an object");
            };
            envelope.title = Some(name.clone());
            envelope.description = Some(format!("A `{event_type}` event as stored."));
            envelope.properties.insert(
                "event_type".to_owned(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event_type.clone()]))
                    .into(),
            );
            envelope.properties.insert("data".to_owned(), data);
            variants.push((event_type, name, RefOr::T(Schema::Object(envelope))));
        }
    }
    variants
}

/// Every stored event type, in the domain's order.
pub fn event_types() -> Vec<String> {
    envelope_variants()
        .into_iter()
        .map(|(event_type, _, _)| event_type)
        .collect()
}

/// `run.stage_updated` -> `RunStageUpdatedEvent`.
fn envelope_variant_name(event_type: &str) -> String {
    let mut name = String::new();
    for word in event_type.split(['.', '_']) {
        let mut letters = word.chars();
        if let Some(first) = letters.next() {
            name.extend(first.to_uppercase());
            name.push_str(letters.as_str());
        }
    }
    name.push_str("Event");
    name
}

impl PartialSchema for EventEnvelopeSchema {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "An event as stored, with its envelope, data and hashes (docs/hash-chain.md); \
             `event_type` tells which variant it is",
        ));
        let mut discriminator = Discriminator::new("event_type");
        for (event_type, name, _) in envelope_variants() {
            one_of = one_of.item(Ref::from_schema_name(&name));
            discriminator
                .mapping
                .insert(event_type, format!("#/components/schemas/{name}"));
        }
        one_of.discriminator(Some(discriminator)).into()
    }
}

impl ToSchema for EventEnvelopeSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventEnvelope")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use ledger_domain::events::{AccountEvent, KeyEvent, RunEvent};
        schemas.push((
            EventMetadataSchema::name().into_owned(),
            <EventMetadataSchema as PartialSchema>::schema(),
        ));
        RunEvent::schemas(schemas);
        AccountEvent::schemas(schemas);
        KeyEvent::schemas(schemas);
        for (_, name, variant) in envelope_variants() {
            schemas.push((name, variant));
        }
    }
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

    fn document() -> serde_json::Value {
        serde_json::to_value(crate::openapi()).unwrap()
    }

    #[test]
    fn the_documents_facts_are_the_types_the_handler_takes() {
        let fact_types: Vec<String> = document()["components"]["schemas"]["Fact"]["oneOf"]
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

    #[test]
    fn the_envelope_has_a_variant_per_stored_event_type() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let mapping = schemas["EventEnvelope"]["discriminator"]["mapping"]
            .as_object()
            .expect("the envelope is told apart by event_type");
        let mut types: Vec<&str> = mapping.keys().map(String::as_str).collect();
        types.sort_unstable();
        assert_eq!(
            types,
            [
                "account.credits_deducted",
                "account.credits_granted",
                "account.credits_refunded",
                "key.created",
                "key.revoked",
                "key.rotated",
                "run.cancelled",
                "run.completed",
                "run.created",
                "run.credits_deducted",
                "run.failed",
                "run.file_updated",
                "run.metrics_updated",
                "run.refunded",
                "run.rerun_of",
                "run.retried",
                "run.stage_updated",
                "run.started",
            ]
        );
        for (event_type, target) in mapping {
            let name = target.as_str().unwrap().rsplit('/').next().unwrap();
            let variant = &schemas[name];
            assert_eq!(
                variant["properties"]["event_type"]["enum"][0],
                event_type.as_str()
            );
            let data = &variant["properties"]["data"]["$ref"];
            let data = data.as_str().expect("data is a named schema");
            let data = data.rsplit('/').next().unwrap();
            assert!(
                schemas[data].is_object(),
                "{event_type}: {data} is in the document"
            );
        }
        assert_eq!(
            schemas["RunStageUpdatedEvent"]["properties"]["data"]["$ref"],
            "#/components/schemas/StageUpdated"
        );
    }
}
