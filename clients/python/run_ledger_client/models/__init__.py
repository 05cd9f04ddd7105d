""" Contains all the data models used in inputs/outputs """

from .account_credits_deducted import AccountCreditsDeducted
from .account_credits_deducted_event import AccountCreditsDeductedEvent
from .account_credits_deducted_event_event_type import AccountCreditsDeductedEventEventType
from .account_credits_granted_event import AccountCreditsGrantedEvent
from .account_credits_granted_event_event_type import AccountCreditsGrantedEventEventType
from .account_credits_refunded import AccountCreditsRefunded
from .account_credits_refunded_event import AccountCreditsRefundedEvent
from .account_credits_refunded_event_event_type import AccountCreditsRefundedEventEventType
from .amount_data import AmountData
from .appended_view import AppendedView
from .balance import Balance
from .balance_response import BalanceResponse
from .bucket import Bucket
from .bucket_split import BucketSplit
from .cancelled_data import CancelledData
from .chain_break import ChainBreak
from .checkpoint_check import CheckpointCheck
from .checkpoint_entry import CheckpointEntry
from .checkpoint_list import CheckpointList
from .company import Company
from .company_body import CompanyBody
from .completed_data import CompletedData
from .completed_data_metrics_type_0 import CompletedDataMetricsType0
from .consistency_proof import ConsistencyProof
from .cosign_request import CosignRequest
from .create_key_request import CreateKeyRequest
from .create_run_request import CreateRunRequest
from .credits_deducted_fact import CreditsDeductedFact
from .credits_deducted_fact_type import CreditsDeductedFactType
from .credits_granted import CreditsGranted
from .document import Document
from .document_body import DocumentBody
from .event_list import EventList
from .event_metadata import EventMetadata
from .facts_request import FactsRequest
from .facts_response import FactsResponse
from .failed_data import FailedData
from .feed_response import FeedResponse
from .file_body import FileBody
from .file_data import FileData
from .file_spec import FileSpec
from .file_status import FileStatus
from .file_updated import FileUpdated
from .file_updated_fact import FileUpdatedFact
from .file_updated_fact_type import FileUpdatedFactType
from .file_view import FileView
from .folded_state import FoldedState
from .grant_request import GrantRequest
from .healthz_response_200 import HealthzResponse200
from .inclusion_proof import InclusionProof
from .key_created import KeyCreated
from .key_created_event import KeyCreatedEvent
from .key_created_event_event_type import KeyCreatedEventEventType
from .key_list import KeyList
from .key_revoked import KeyRevoked
from .key_revoked_event import KeyRevokedEvent
from .key_revoked_event_event_type import KeyRevokedEventEventType
from .key_rotated import KeyRotated
from .key_rotated_event import KeyRotatedEvent
from .key_rotated_event_event_type import KeyRotatedEventEventType
from .key_view import KeyView
from .ledger_entry import LedgerEntry
from .ledger_entry_kind import LedgerEntryKind
from .ledger_page import LedgerPage
from .lineage import Lineage
from .lineage_node import LineageNode
from .metrics_data import MetricsData
from .metrics_data_metrics import MetricsDataMetrics
from .new_key import NewKey
from .no_body import NoBody
from .problem import Problem
from .problem_context_type_0 import ProblemContextType0
from .projection_state import ProjectionState
from .projection_status import ProjectionStatus
from .projections import Projections
from .readyz_response_200 import ReadyzResponse200
from .rebuild_started import RebuildStarted
from .refunded_fact import RefundedFact
from .refunded_fact_type import RefundedFactType
from .retried_file import RetriedFile
from .retry_failed_response import RetryFailedResponse
from .retry_scope import RetryScope
from .rotate_key_request import RotateKeyRequest
from .run_cancelled import RunCancelled
from .run_cancelled_event import RunCancelledEvent
from .run_cancelled_event_event_type import RunCancelledEventEventType
from .run_cancelled_fact import RunCancelledFact
from .run_cancelled_fact_type import RunCancelledFactType
from .run_completed import RunCompleted
from .run_completed_event import RunCompletedEvent
from .run_completed_event_event_type import RunCompletedEventEventType
from .run_completed_fact import RunCompletedFact
from .run_completed_fact_type import RunCompletedFactType
from .run_completed_metrics_type_0 import RunCompletedMetricsType0
from .run_created import RunCreated
from .run_created_event import RunCreatedEvent
from .run_created_event_event_type import RunCreatedEventEventType
from .run_credits_deducted import RunCreditsDeducted
from .run_credits_deducted_event import RunCreditsDeductedEvent
from .run_credits_deducted_event_event_type import RunCreditsDeductedEventEventType
from .run_detail import RunDetail
from .run_error_view import RunErrorView
from .run_failed import RunFailed
from .run_failed_event import RunFailedEvent
from .run_failed_event_event_type import RunFailedEventEventType
from .run_failed_fact import RunFailedFact
from .run_failed_fact_type import RunFailedFactType
from .run_file_updated_event import RunFileUpdatedEvent
from .run_file_updated_event_event_type import RunFileUpdatedEventEventType
from .run_metrics_updated import RunMetricsUpdated
from .run_metrics_updated_event import RunMetricsUpdatedEvent
from .run_metrics_updated_event_event_type import RunMetricsUpdatedEventEventType
from .run_metrics_updated_fact import RunMetricsUpdatedFact
from .run_metrics_updated_fact_type import RunMetricsUpdatedFactType
from .run_metrics_updated_metrics import RunMetricsUpdatedMetrics
from .run_page import RunPage
from .run_refunded import RunRefunded
from .run_refunded_event import RunRefundedEvent
from .run_refunded_event_event_type import RunRefundedEventEventType
from .run_rerun_of import RunRerunOf
from .run_rerun_of_event import RunRerunOfEvent
from .run_rerun_of_event_event_type import RunRerunOfEventEventType
from .run_response import RunResponse
from .run_retried import RunRetried
from .run_retried_event import RunRetriedEvent
from .run_retried_event_event_type import RunRetriedEventEventType
from .run_stage_updated_event import RunStageUpdatedEvent
from .run_stage_updated_event_event_type import RunStageUpdatedEventEventType
from .run_started import RunStarted
from .run_started_event import RunStartedEvent
from .run_started_event_event_type import RunStartedEventEventType
from .run_started_fact import RunStartedFact
from .run_started_fact_type import RunStartedFactType
from .run_status import RunStatus
from .run_view import RunView
from .run_view_metrics import RunViewMetrics
from .scope import Scope
from .stage_data import StageData
from .stage_status import StageStatus
from .stage_updated import StageUpdated
from .stage_updated_fact import StageUpdatedFact
from .stage_updated_fact_type import StageUpdatedFactType
from .stage_view import StageView
from .stream_token import StreamToken
from .verify_response import VerifyResponse

__all__ = (
    "AccountCreditsDeducted",
    "AccountCreditsDeductedEvent",
    "AccountCreditsDeductedEventEventType",
    "AccountCreditsGrantedEvent",
    "AccountCreditsGrantedEventEventType",
    "AccountCreditsRefunded",
    "AccountCreditsRefundedEvent",
    "AccountCreditsRefundedEventEventType",
    "AmountData",
    "AppendedView",
    "Balance",
    "BalanceResponse",
    "Bucket",
    "BucketSplit",
    "CancelledData",
    "ChainBreak",
    "CheckpointCheck",
    "CheckpointEntry",
    "CheckpointList",
    "Company",
    "CompanyBody",
    "CompletedData",
    "CompletedDataMetricsType0",
    "ConsistencyProof",
    "CosignRequest",
    "CreateKeyRequest",
    "CreateRunRequest",
    "CreditsDeductedFact",
    "CreditsDeductedFactType",
    "CreditsGranted",
    "Document",
    "DocumentBody",
    "EventList",
    "EventMetadata",
    "FactsRequest",
    "FactsResponse",
    "FailedData",
    "FeedResponse",
    "FileBody",
    "FileData",
    "FileSpec",
    "FileStatus",
    "FileUpdated",
    "FileUpdatedFact",
    "FileUpdatedFactType",
    "FileView",
    "FoldedState",
    "GrantRequest",
    "HealthzResponse200",
    "InclusionProof",
    "KeyCreated",
    "KeyCreatedEvent",
    "KeyCreatedEventEventType",
    "KeyList",
    "KeyRevoked",
    "KeyRevokedEvent",
    "KeyRevokedEventEventType",
    "KeyRotated",
    "KeyRotatedEvent",
    "KeyRotatedEventEventType",
    "KeyView",
    "LedgerEntry",
    "LedgerEntryKind",
    "LedgerPage",
    "Lineage",
    "LineageNode",
    "MetricsData",
    "MetricsDataMetrics",
    "NewKey",
    "NoBody",
    "Problem",
    "ProblemContextType0",
    "Projections",
    "ProjectionState",
    "ProjectionStatus",
    "ReadyzResponse200",
    "RebuildStarted",
    "RefundedFact",
    "RefundedFactType",
    "RetriedFile",
    "RetryFailedResponse",
    "RetryScope",
    "RotateKeyRequest",
    "RunCancelled",
    "RunCancelledEvent",
    "RunCancelledEventEventType",
    "RunCancelledFact",
    "RunCancelledFactType",
    "RunCompleted",
    "RunCompletedEvent",
    "RunCompletedEventEventType",
    "RunCompletedFact",
    "RunCompletedFactType",
    "RunCompletedMetricsType0",
    "RunCreated",
    "RunCreatedEvent",
    "RunCreatedEventEventType",
    "RunCreditsDeducted",
    "RunCreditsDeductedEvent",
    "RunCreditsDeductedEventEventType",
    "RunDetail",
    "RunErrorView",
    "RunFailed",
    "RunFailedEvent",
    "RunFailedEventEventType",
    "RunFailedFact",
    "RunFailedFactType",
    "RunFileUpdatedEvent",
    "RunFileUpdatedEventEventType",
    "RunMetricsUpdated",
    "RunMetricsUpdatedEvent",
    "RunMetricsUpdatedEventEventType",
    "RunMetricsUpdatedFact",
    "RunMetricsUpdatedFactType",
    "RunMetricsUpdatedMetrics",
    "RunPage",
    "RunRefunded",
    "RunRefundedEvent",
    "RunRefundedEventEventType",
    "RunRerunOf",
    "RunRerunOfEvent",
    "RunRerunOfEventEventType",
    "RunResponse",
    "RunRetried",
    "RunRetriedEvent",
    "RunRetriedEventEventType",
    "RunStageUpdatedEvent",
    "RunStageUpdatedEventEventType",
    "RunStarted",
    "RunStartedEvent",
    "RunStartedEventEventType",
    "RunStartedFact",
    "RunStartedFactType",
    "RunStatus",
    "RunView",
    "RunViewMetrics",
    "Scope",
    "StageData",
    "StageStatus",
    "StageUpdated",
    "StageUpdatedFact",
    "StageUpdatedFactType",
    "StageView",
    "StreamToken",
    "VerifyResponse",
)
