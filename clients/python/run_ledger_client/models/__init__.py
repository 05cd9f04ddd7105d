""" Contains all the data models used in inputs/outputs """

from .appended_view import AppendedView
from .balance import Balance
from .balance_response import BalanceResponse
from .bucket import Bucket
from .chain_break import ChainBreak
from .checkpoint_check import CheckpointCheck
from .checkpoint_entry import CheckpointEntry
from .checkpoint_list import CheckpointList
from .company_body import CompanyBody
from .consistency_proof import ConsistencyProof
from .cosign_request import CosignRequest
from .create_key_request import CreateKeyRequest
from .create_run_request import CreateRunRequest
from .document_body import DocumentBody
from .event_envelope import EventEnvelope
from .event_envelope_data import EventEnvelopeData
from .event_list import EventList
from .event_metadata import EventMetadata
from .fact_body import FactBody
from .fact_body_data_type_0 import FactBodyDataType0
from .fact_type import FactType
from .facts_request import FactsRequest
from .facts_response import FactsResponse
from .feed_response import FeedResponse
from .file_body import FileBody
from .file_status import FileStatus
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
from .problem import Problem
from .problem_context_type_0 import ProblemContextType0
from .projection_state import ProjectionState
from .projection_status import ProjectionStatus
from .projections import Projections
from .readyz_response_200 import ReadyzResponse200
from .rebuild_started import RebuildStarted
from .retry_failed_response import RetryFailedResponse
from .rotate_key_request import RotateKeyRequest
from .run_detail import RunDetail
from .run_error_view import RunErrorView
from .run_page import RunPage
from .run_response import RunResponse
from .run_status import RunStatus
from .run_view import RunView
from .scope import Scope
from .stage_status import StageStatus
from .stage_view import StageView
from .stream_token import StreamToken
from .verify_response import VerifyResponse

__all__ = (
    "AppendedView",
    "Balance",
    "BalanceResponse",
    "Bucket",
    "ChainBreak",
    "CheckpointCheck",
    "CheckpointEntry",
    "CheckpointList",
    "CompanyBody",
    "ConsistencyProof",
    "CosignRequest",
    "CreateKeyRequest",
    "CreateRunRequest",
    "DocumentBody",
    "EventEnvelope",
    "EventEnvelopeData",
    "EventList",
    "EventMetadata",
    "FactBody",
    "FactBodyDataType0",
    "FactsRequest",
    "FactsResponse",
    "FactType",
    "FeedResponse",
    "FileBody",
    "FileStatus",
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
    "Problem",
    "ProblemContextType0",
    "Projections",
    "ProjectionState",
    "ProjectionStatus",
    "ReadyzResponse200",
    "RebuildStarted",
    "RetryFailedResponse",
    "RotateKeyRequest",
    "RunDetail",
    "RunErrorView",
    "RunPage",
    "RunResponse",
    "RunStatus",
    "RunView",
    "Scope",
    "StageStatus",
    "StageView",
    "StreamToken",
    "VerifyResponse",
)
