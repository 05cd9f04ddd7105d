""" Contains all the data models used in inputs/outputs """

from .amount_data import AmountData
from .appended_view import AppendedView
from .balance import Balance
from .balance_response import BalanceResponse
from .bucket import Bucket
from .cancelled_data import CancelledData
from .chain_break import ChainBreak
from .checkpoint_check import CheckpointCheck
from .checkpoint_entry import CheckpointEntry
from .checkpoint_list import CheckpointList
from .company_body import CompanyBody
from .consistency_proof import ConsistencyProof
from .cosign_request import CosignRequest
from .create_key_request import CreateKeyRequest
from .create_run_request import CreateRunRequest
from .credits_deducted_fact import CreditsDeductedFact
from .credits_deducted_fact_type import CreditsDeductedFactType
from .document_body import DocumentBody
from .event_envelope import EventEnvelope
from .event_envelope_data import EventEnvelopeData
from .event_list import EventList
from .event_metadata import EventMetadata
from .facts_request import FactsRequest
from .facts_response import FactsResponse
from .failed_data import FailedData
from .feed_response import FeedResponse
from .file_body import FileBody
from .file_data import FileData
from .file_status import FileStatus
from .file_updated_fact import FileUpdatedFact
from .file_updated_fact_type import FileUpdatedFactType
from .file_view import FileView
from .folded_state import FoldedState
from .grant_request import GrantRequest
from .healthz_response_200 import HealthzResponse200
from .inclusion_proof import InclusionProof
from .key_list import KeyList
from .key_view import KeyView
from .ledger_entry import LedgerEntry
from .ledger_entry_kind import LedgerEntryKind
from .ledger_page import LedgerPage
from .lineage import Lineage
from .lineage_node import LineageNode
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
from .retry_failed_response import RetryFailedResponse
from .rotate_key_request import RotateKeyRequest
from .run_cancelled_fact import RunCancelledFact
from .run_cancelled_fact_type import RunCancelledFactType
from .run_completed_fact import RunCompletedFact
from .run_completed_fact_type import RunCompletedFactType
from .run_detail import RunDetail
from .run_error_view import RunErrorView
from .run_failed_fact import RunFailedFact
from .run_failed_fact_type import RunFailedFactType
from .run_page import RunPage
from .run_response import RunResponse
from .run_started_fact import RunStartedFact
from .run_started_fact_type import RunStartedFactType
from .run_status import RunStatus
from .run_view import RunView
from .scope import Scope
from .stage_data import StageData
from .stage_status import StageStatus
from .stage_updated_fact import StageUpdatedFact
from .stage_updated_fact_type import StageUpdatedFactType
from .stage_view import StageView
from .stream_token import StreamToken
from .verify_response import VerifyResponse

__all__ = (
    "AmountData",
    "AppendedView",
    "Balance",
    "BalanceResponse",
    "Bucket",
    "CancelledData",
    "ChainBreak",
    "CheckpointCheck",
    "CheckpointEntry",
    "CheckpointList",
    "CompanyBody",
    "ConsistencyProof",
    "CosignRequest",
    "CreateKeyRequest",
    "CreateRunRequest",
    "CreditsDeductedFact",
    "CreditsDeductedFactType",
    "DocumentBody",
    "EventEnvelope",
    "EventEnvelopeData",
    "EventList",
    "EventMetadata",
    "FactsRequest",
    "FactsResponse",
    "FailedData",
    "FeedResponse",
    "FileBody",
    "FileData",
    "FileStatus",
    "FileUpdatedFact",
    "FileUpdatedFactType",
    "FileView",
    "FoldedState",
    "GrantRequest",
    "HealthzResponse200",
    "InclusionProof",
    "KeyList",
    "KeyView",
    "LedgerEntry",
    "LedgerEntryKind",
    "LedgerPage",
    "Lineage",
    "LineageNode",
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
    "RetryFailedResponse",
    "RotateKeyRequest",
    "RunCancelledFact",
    "RunCancelledFactType",
    "RunCompletedFact",
    "RunCompletedFactType",
    "RunDetail",
    "RunErrorView",
    "RunFailedFact",
    "RunFailedFactType",
    "RunPage",
    "RunResponse",
    "RunStartedFact",
    "RunStartedFactType",
    "RunStatus",
    "RunView",
    "Scope",
    "StageData",
    "StageStatus",
    "StageUpdatedFact",
    "StageUpdatedFactType",
    "StageView",
    "StreamToken",
    "VerifyResponse",
)
