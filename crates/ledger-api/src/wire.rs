//! Request and response bodies. They are separate from the stored events and
//! converted by hand, so changing the API never changes the event contract.

use chrono::{DateTime, Utc};
use ledger_domain::account::AccountState;
use ledger_domain::events::{Bucket, FileStatus, Metrics, StageStatus};
use ledger_domain::run::{Run, RunStatus};
use ledger_store::AppendedEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Scope;

/// A document of a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// Display name.
    pub name: String,
    /// Where it is stored.
    pub url: String,
}

/// The company a run is for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyBody {
    /// Company id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A file of a new run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    /// File name.
    pub name: String,
}

/// `POST /v1/runs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "owner_id": "user-42",
    "project_id": "quarterly-reports",
    "pipeline_version": "2.3.0",
    "input_version": "v5",
    "document": { "name": "Q3 report.pdf", "url": "s3://documents/q3-report.pdf" },
    "company": { "id": "acme", "name": "Acme Corp" },
    "stages": ["extract", "classify", "summarize"],
    "files": [{ "name": "page-1.png" }, { "name": "page-2.png" }],
    "credits_per_file": 2,
    "max_retry_count": 3,
    "idempotency_key": "create-q3-report-0001",
    "inputs": { "language": "en" }
}))]
pub struct CreateRunRequest {
    /// The run's id; generated when absent.
    pub run_id: Option<Uuid>,
    /// Admin keys only (and required for them); other keys create runs for their own tenant.
    #[schema(min_length = 1, max_length = 200)]
    pub tenant_id: Option<String>,
    /// The person who owns the run.
    #[schema(min_length = 1, max_length = 200)]
    pub owner_id: String,
    /// Project; a project run needs `inputs`, or it is recorded as failed with `NO_INPUTS`.
    #[schema(min_length = 1, max_length = 200)]
    pub project_id: Option<String>,
    /// Pipeline version.
    pub pipeline_version: Option<String>,
    /// Input version.
    pub input_version: Option<String>,
    /// Document.
    pub document: Option<DocumentBody>,
    /// Company.
    pub company: Option<CompanyBody>,
    /// Stage names, in order (stages are numbered from 1).
    pub stages: Option<Vec<String>>,
    /// Files, in order (indexed from 0).
    pub files: Option<Vec<FileBody>>,
    /// Credits per failed file on retry (default 1).
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub credits_per_file: Option<i64>,
    /// Retry limit, 1 to 10 (default 3).
    #[schema(minimum = 1, maximum = 10)]
    pub max_retry_count: Option<i64>,
    /// Unique per tenant: creating again with it returns the existing run.
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
    /// The run's inputs.
    /// Any JSON (I-JSON: see docs/decisions.md).
    #[schema(value_type = Option<serde_json::Value>)]
    pub inputs: Option<Value>,
}

/// A stage of a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageView {
    /// 1-based number.
    pub number: u32,
    /// Name.
    pub name: String,
    /// Status.
    #[schema(value_type = crate::schema::StageStatus, example = "processing")]
    pub status: StageStatus,
    /// Last output.
    /// Any JSON (I-JSON: see docs/decisions.md).
    #[schema(value_type = Option<serde_json::Value>)]
    pub output: Option<Value>,
    /// Last error.
    pub error: Option<String>,
    /// When the stage began: recorded time of the event that took it out
    /// of `pending` in the run's current attempt. Given in run detail
    /// (`GET /v1/runs/{id}`, lists, watch); absent until then, and in a
    /// command's answer.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ledger_domain::time::rfc3339_option"
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (`completed`, `failed` or `cancelled`), as
    /// `started_at` is given.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ledger_domain::time::rfc3339_option"
    )]
    pub completed_at: Option<DateTime<Utc>>,
}

/// A file of a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    /// 0-based index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Status.
    #[schema(value_type = crate::schema::FileStatus, example = "failed")]
    pub status: FileStatus,
    /// Retries so far.
    pub retry_attempt: u32,
    /// Last error.
    pub error: Option<String>,
}

/// Why a run failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunErrorView {
    /// Machine code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Detail.
    /// Any JSON (I-JSON: see docs/decisions.md).
    #[schema(value_type = Option<serde_json::Value>)]
    pub detail: Option<Value>,
}

/// A run as a write left it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    /// Id.
    pub run_id: Uuid,
    /// Tenant.
    pub tenant_id: String,
    /// Owner.
    pub owner_id: String,
    /// Project.
    pub project_id: Option<String>,
    /// Status.
    #[schema(value_type = crate::schema::RunStatus, example = "completed_with_errors")]
    pub status: RunStatus,
    /// 1-based number of the first stage not completed.
    pub current_stage: u32,
    /// Document name.
    pub document_name: Option<String>,
    /// Document URL.
    pub document_url: Option<String>,
    /// Company id.
    pub company_id: Option<String>,
    /// Company name.
    pub company_name: Option<String>,
    /// Pipeline version.
    pub pipeline_version: Option<String>,
    /// Input version.
    pub input_version: Option<String>,
    /// The run this one re-executes.
    pub rerun_of: Option<Uuid>,
    /// Whole-run retries so far.
    pub retry_count: u32,
    /// Retry limit.
    pub max_retry_count: u32,
    /// Credits per failed file on retry.
    pub credits_per_file: i64,
    /// Stages.
    pub stages: Vec<StageView>,
    /// Files.
    pub files: Vec<FileView>,
    /// Credits charged.
    pub credits_charged: i64,
    /// Credits refunded.
    pub credits_refunded: i64,
    /// Why the run failed.
    pub error: Option<RunErrorView>,
    /// What the run produced, as its `run.completed` reported it.
    /// Any JSON (I-JSON: see docs/decisions.md).
    #[schema(value_type = Option<serde_json::Value>)]
    pub output: Option<Value>,
    /// Its measurements, merged key by key from `run.metrics_updated` and
    /// `run.completed`: names to any JSON.
    #[schema(value_type = Object)]
    pub metrics: Metrics,
    /// The run stream's version.
    pub version: Option<u64>,
}

impl RunView {
    /// The view of `run` at stream `version`.
    pub fn new(run: &Run, version: Option<u64>) -> Self {
        Self::of(run.clone(), version)
    }

    /// The view of `run` at stream `version`, made of the run's own parts:
    /// a page of runs read from the run history builds fifty of these,
    /// and copying each string and document again was much of its time.
    pub fn of(run: Run, version: Option<u64>) -> Self {
        let current_stage = run.current_stage();
        let (credits_charged, credits_refunded) = (run.charged.total(), run.refunded.total());
        let created = run.created;
        let (document_name, document_url) = created.document.map_or((None, None), |document| {
            (Some(document.name), Some(document.url))
        });
        let (company_id, company_name) = created.company.map_or((None, None), |company| {
            (Some(company.id), Some(company.name))
        });
        RunView {
            run_id: created.run_id,
            tenant_id: created.tenant_id,
            owner_id: created.owner_id,
            project_id: created.project_id,
            status: run.status,
            current_stage,
            document_name,
            document_url,
            company_id,
            company_name,
            pipeline_version: created.pipeline_version,
            input_version: created.input_version,
            rerun_of: run.rerun_of,
            retry_count: run.retry_count,
            max_retry_count: created.max_retry_count,
            credits_per_file: created.credits_per_file,
            stages: run
                .stages
                .into_iter()
                .enumerate()
                .map(|(index, stage)| StageView {
                    number: index as u32 + 1,
                    name: stage.name,
                    status: stage.status,
                    output: stage.output,
                    error: stage.error,
                    started_at: None,
                    completed_at: None,
                })
                .collect(),
            files: run
                .files
                .into_iter()
                .enumerate()
                .map(|(index, file)| FileView {
                    index: index as u32,
                    name: file.name,
                    status: file.status,
                    retry_attempt: file.retry_attempt,
                    error: file.error,
                })
                .collect(),
            credits_charged,
            credits_refunded,
            error: run.error.map(|error| RunErrorView {
                code: error.code,
                message: error.message,
                detail: error.detail,
            }),
            output: run.output,
            metrics: run.metrics,
            version,
        }
    }
}

/// A run, and the position of the write's last event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunResponse {
    /// The run.
    #[serde(flatten)]
    pub run: RunView,
    /// Global position of the write's last event (of the run's last event when nothing was appended).
    pub global_position: Option<u64>,
    /// Every event the write appended, derived ones included (the
    /// originals for a repeat; empty when it appended nothing).
    pub appended: Vec<AppendedView>,
}

/// `POST /v1/runs/{id}/retry-failed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetryFailedResponse {
    /// The run, running again.
    pub run: RunView,
    /// Credits charged for the failed files.
    pub credits_charged: i64,
    /// Job ids to enqueue the files under: `{run_id}:file:{index}`.
    pub job_ids: Vec<String>,
    /// Global position of the write's last event.
    pub global_position: Option<u64>,
    /// Every event the retry appended, the account's charge included.
    pub appended: Vec<AppendedView>,
}

/// `POST /v1/accounts/{tenant_id}/grants`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "bucket": "monthly", "amount": 500, "reason": "December allowance" }))]
pub struct GrantRequest {
    /// Bucket to credit.
    #[schema(value_type = crate::schema::Bucket, example = "monthly")]
    pub bucket: Bucket,
    /// Credits, 1 to 10^12.
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
    /// Why.
    pub reason: Option<String>,
}

/// A tenant's credit balance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BalanceResponse {
    /// Tenant.
    pub tenant_id: String,
    /// Monthly allowance left.
    pub monthly: i64,
    /// Purchased credits left.
    pub purchased: i64,
    /// `monthly + purchased`.
    pub total: i64,
    /// Credits ever deducted.
    pub consumed: i64,
    /// Credits ever refunded.
    pub refunded: i64,
    /// Global position of the write's last event.
    pub global_position: Option<u64>,
    /// The events the grant appended (the originals for a repeat).
    pub appended: Vec<AppendedView>,
}

impl BalanceResponse {
    /// The balance of `account` after a grant that appended `appended`.
    pub fn new(tenant_id: &str, account: &AccountState, appended: &[AppendedEvent]) -> Self {
        BalanceResponse {
            tenant_id: tenant_id.to_owned(),
            monthly: account.monthly,
            purchased: account.purchased,
            total: account.total(),
            consumed: account.consumed,
            refunded: account.refunded,
            global_position: appended.iter().map(|e| e.global_position).max(),
            appended: appended.iter().map(AppendedView::from).collect(),
        }
    }
}

/// One reported event of `POST /v1/runs/{id}/events`, as the handler
/// reads it; the document describes it as `Fact`, by type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactBody {
    /// The event's id; a repeat with the same id appends nothing.
    pub event_id: Option<Uuid>,
    /// One of `FACT_TYPES`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's data, by type.
    pub data: Option<Value>,
}

/// The data of a fact that takes none: absent, `{}` or `null`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

/// `run.stage_updated`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageData {
    /// 1-based stage number.
    #[schema(minimum = 1)]
    pub stage: u32,
    /// Its status.
    #[schema(value_type = crate::schema::StageStatus)]
    pub status: StageStatus,
    /// What it produced: any JSON (I-JSON), a markdown string included.
    #[schema(value_type = Option<serde_json::Value>)]
    pub output: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// `run.file_updated`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileData {
    /// 0-based file index.
    pub index: u32,
    /// Its status (`failed` is retryable and charged on retry, `error` is not).
    #[schema(value_type = crate::schema::FileStatus)]
    pub status: FileStatus,
    /// Why it failed.
    pub error: Option<String>,
}

/// `run.credits_deducted` and `run.refunded`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountData {
    /// Credits.
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
    /// Why.
    pub reason: Option<String>,
}

/// `run.failed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedData {
    /// Machine code.
    pub code: String,
    /// For people.
    pub message: String,
    /// Any JSON.
    #[schema(value_type = Option<serde_json::Value>)]
    pub detail: Option<Value>,
}

/// `run.completed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedData {
    /// What the run produced: any JSON (I-JSON), a markdown string included.
    #[schema(value_type = Option<serde_json::Value>)]
    pub output: Option<Value>,
    /// Final measurements, merged key by key into the run's.
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Metrics>,
}

/// `run.metrics_updated`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsData {
    /// Measurements (names to any JSON), merged key by key into the run's:
    /// a name given replaces the run's, the others stay.
    #[schema(value_type = Object)]
    pub metrics: Metrics,
}

/// `run.cancelled`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelledData {
    /// Why.
    pub reason: Option<String>,
}

/// One reported event: its `type`, and the `data` that type takes. (The
/// handler reads `FactBody` and each type's data struct; this describes the
/// same in the document, one variant per fact type.)
#[derive(ToSchema)]
#[serde(tag = "type")]
#[allow(dead_code)]
pub enum Fact {
    /// queued -> running.
    #[serde(rename = "run.started")]
    #[schema(title = "RunStartedFact")]
    Started {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// None.
        data: Option<NoBody>,
    },
    /// A stage's progress.
    #[serde(rename = "run.stage_updated")]
    #[schema(title = "StageUpdatedFact")]
    StageUpdated {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// The stage.
        data: StageData,
    },
    /// A file's progress.
    #[serde(rename = "run.file_updated")]
    #[schema(title = "FileUpdatedFact")]
    FileUpdated {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// The file.
        data: FileData,
    },
    /// Credits charged to the run (and its tenant's account).
    #[serde(rename = "run.credits_deducted")]
    #[schema(title = "CreditsDeductedFact")]
    CreditsDeducted {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// The charge.
        data: AmountData,
    },
    /// Credits returned for the run.
    #[serde(rename = "run.refunded")]
    #[schema(title = "RefundedFact")]
    Refunded {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// The refund.
        data: AmountData,
    },
    /// Measurements of an active run.
    #[serde(rename = "run.metrics_updated")]
    #[schema(title = "RunMetricsUpdatedFact")]
    MetricsUpdated {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// The measurements.
        data: MetricsData,
    },
    /// The run ended.
    #[serde(rename = "run.completed")]
    #[schema(title = "RunCompletedFact")]
    Completed {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// Its output and final measurements, if any.
        data: Option<CompletedData>,
    },
    /// The run failed.
    #[serde(rename = "run.failed")]
    #[schema(title = "RunFailedFact")]
    Failed {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// Why.
        data: FailedData,
    },
    /// The run was cancelled.
    #[serde(rename = "run.cancelled")]
    #[schema(title = "RunCancelledFact")]
    Cancelled {
        /// The event's id; a repeat with the same id appends nothing.
        event_id: Option<Uuid>,
        /// Why.
        data: Option<CancelledData>,
    },
}

/// `POST /v1/runs/{id}/events`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "expected_version": 0,
    "events": [
        { "type": "run.started" },
        { "type": "run.stage_updated", "data": { "stage": 1, "status": "processing" } },
        { "type": "run.file_updated", "data": { "index": 0, "status": "completed" } },
        { "type": "run.stage_updated", "data": { "stage": 1, "status": "completed", "output": "## Extracted\n2 pages" } }
    ]
}))]
pub struct FactsRequest {
    /// The run stream's version the reporter expects; 409 when it moved.
    pub expected_version: Option<u64>,
    /// The events, applied in order, all or none.
    #[schema(value_type = Vec<Fact>, min_items = 1, max_items = 1000)]
    pub events: Vec<FactBody>,
}

/// Where an event landed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppendedView {
    /// Event id.
    pub event_id: Uuid,
    /// Stream (`run-{id}` or `account-{tenant}`).
    pub stream_id: String,
    /// Version in the stream.
    pub stream_version: u64,
    /// Global position.
    pub global_position: u64,
}

impl From<&AppendedEvent> for AppendedView {
    fn from(event: &AppendedEvent) -> Self {
        AppendedView {
            event_id: event.event_id,
            stream_id: event.stream_id.clone(),
            stream_version: event.stream_version,
            global_position: event.global_position,
        }
    }
}

/// The answer to reported facts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactsResponse {
    /// The run after the facts.
    pub run: RunView,
    /// Every event appended, derived ones included (the originals for a repeat).
    pub appended: Vec<AppendedView>,
    /// Global position of the last event.
    pub global_position: Option<u64>,
}

/// `POST /v1/keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "tenant_id": "acme", "scopes": ["append", "read"], "label": "pipeline workers" }))]
pub struct CreateKeyRequest {
    /// The tenant of an append/read key; absent for audit/admin keys.
    pub tenant_id: Option<String>,
    /// Scopes: `append` and `read` need a tenant, `audit` and `admin` take none.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// What the key is for.
    #[schema(min_length = 1, max_length = 200)]
    pub label: Option<String>,
    /// When the key stops working by itself (RFC 3339, in the future).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /v1/keys/{key_id}/rotate`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyRequest {
    /// How long the previous secret keeps working, 0 (it stops now, the
    /// default) to 2592000 (30 days).
    #[schema(minimum = 0, maximum = 2_592_000)]
    pub grace_seconds: Option<u32>,
}

/// `GET /v1/keys`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyList {
    /// Keys, oldest first.
    pub keys: Vec<crate::keys::KeyView>,
}
