from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.credits_deducted_fact import CreditsDeductedFact
  from ..models.file_updated_fact import FileUpdatedFact
  from ..models.refunded_fact import RefundedFact
  from ..models.run_cancelled_fact import RunCancelledFact
  from ..models.run_completed_fact import RunCompletedFact
  from ..models.run_failed_fact import RunFailedFact
  from ..models.run_metrics_updated_fact import RunMetricsUpdatedFact
  from ..models.run_started_fact import RunStartedFact
  from ..models.stage_updated_fact import StageUpdatedFact





T = TypeVar("T", bound="FactsRequest")



@_attrs_define
class FactsRequest:
    """ `POST /v1/runs/{id}/events`.

        Example:
            {'events': [{'type': 'run.started'}, {'data': {'stage': 1, 'status': 'processing'}, 'type':
                'run.stage_updated'}, {'data': {'index': 0, 'status': 'completed'}, 'type': 'run.file_updated'}, {'data':
                {'output': '## Extracted\\n2 pages', 'stage': 1, 'status': 'completed'}, 'type': 'run.stage_updated'}],
                'expected_version': 0}

        Attributes:
            events (list[CreditsDeductedFact | FileUpdatedFact | RefundedFact | RunCancelledFact | RunCompletedFact |
                RunFailedFact | RunMetricsUpdatedFact | RunStartedFact | StageUpdatedFact]): The events, applied in order, all
                or none.
            expected_version (int | None | Unset): The run stream's version the reporter expects; 409 when it moved.
     """

    events: list[CreditsDeductedFact | FileUpdatedFact | RefundedFact | RunCancelledFact | RunCompletedFact | RunFailedFact | RunMetricsUpdatedFact | RunStartedFact | StageUpdatedFact]
    expected_version: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.credits_deducted_fact import CreditsDeductedFact # noqa: PLC0415
        from ..models.file_updated_fact import FileUpdatedFact # noqa: PLC0415
        from ..models.refunded_fact import RefundedFact # noqa: PLC0415
        from ..models.run_cancelled_fact import RunCancelledFact # noqa: PLC0415
        from ..models.run_completed_fact import RunCompletedFact # noqa: PLC0415
        from ..models.run_failed_fact import RunFailedFact # noqa: PLC0415
        from ..models.run_metrics_updated_fact import RunMetricsUpdatedFact # noqa: PLC0415
        from ..models.run_started_fact import RunStartedFact # noqa: PLC0415
        from ..models.stage_updated_fact import StageUpdatedFact # noqa: PLC0415
        events = []
        for events_item_data in self.events:
            events_item: dict[str, Any]
            if isinstance(events_item_data, RunStartedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, StageUpdatedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, FileUpdatedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, CreditsDeductedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RefundedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunMetricsUpdatedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunCompletedFact):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunFailedFact):
                events_item = events_item_data.to_dict()
            else:
                events_item = events_item_data.to_dict()

            events.append(events_item)



        expected_version: int | None | Unset
        if isinstance(self.expected_version, Unset):
            expected_version = UNSET
        else:
            expected_version = self.expected_version


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "events": events,
        })
        if expected_version is not UNSET:
            field_dict["expected_version"] = expected_version

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credits_deducted_fact import CreditsDeductedFact # noqa: PLC0415
        from ..models.file_updated_fact import FileUpdatedFact # noqa: PLC0415
        from ..models.refunded_fact import RefundedFact # noqa: PLC0415
        from ..models.run_cancelled_fact import RunCancelledFact # noqa: PLC0415
        from ..models.run_completed_fact import RunCompletedFact # noqa: PLC0415
        from ..models.run_failed_fact import RunFailedFact # noqa: PLC0415
        from ..models.run_metrics_updated_fact import RunMetricsUpdatedFact # noqa: PLC0415
        from ..models.run_started_fact import RunStartedFact # noqa: PLC0415
        from ..models.stage_updated_fact import StageUpdatedFact # noqa: PLC0415
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in (_events):
            def _parse_events_item(data: object) -> CreditsDeductedFact | FileUpdatedFact | RefundedFact | RunCancelledFact | RunCompletedFact | RunFailedFact | RunMetricsUpdatedFact | RunStartedFact | StageUpdatedFact:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_run_started_fact = RunStartedFact.from_dict(data)



                    return componentsschemas_fact_run_started_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_stage_updated_fact = StageUpdatedFact.from_dict(data)



                    return componentsschemas_fact_stage_updated_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_file_updated_fact = FileUpdatedFact.from_dict(data)



                    return componentsschemas_fact_file_updated_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_credits_deducted_fact = CreditsDeductedFact.from_dict(data)



                    return componentsschemas_fact_credits_deducted_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_refunded_fact = RefundedFact.from_dict(data)



                    return componentsschemas_fact_refunded_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_run_metrics_updated_fact = RunMetricsUpdatedFact.from_dict(data)



                    return componentsschemas_fact_run_metrics_updated_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_run_completed_fact = RunCompletedFact.from_dict(data)



                    return componentsschemas_fact_run_completed_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_fact_run_failed_fact = RunFailedFact.from_dict(data)



                    return componentsschemas_fact_run_failed_fact
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_fact_run_cancelled_fact = RunCancelledFact.from_dict(data)



                return componentsschemas_fact_run_cancelled_fact

            events_item = _parse_events_item(events_item_data)

            events.append(events_item)


        def _parse_expected_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expected_version = _parse_expected_version(d.pop("expected_version", UNSET))


        facts_request = cls(
            events=events,
            expected_version=expected_version,
        )

        return facts_request

