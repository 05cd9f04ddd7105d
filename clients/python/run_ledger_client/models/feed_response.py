from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.account_credits_deducted_event import AccountCreditsDeductedEvent
  from ..models.account_credits_granted_event import AccountCreditsGrantedEvent
  from ..models.account_credits_refunded_event import AccountCreditsRefundedEvent
  from ..models.key_created_event import KeyCreatedEvent
  from ..models.key_revoked_event import KeyRevokedEvent
  from ..models.key_rotated_event import KeyRotatedEvent
  from ..models.run_cancelled_event import RunCancelledEvent
  from ..models.run_completed_event import RunCompletedEvent
  from ..models.run_created_event import RunCreatedEvent
  from ..models.run_credits_deducted_event import RunCreditsDeductedEvent
  from ..models.run_failed_event import RunFailedEvent
  from ..models.run_file_updated_event import RunFileUpdatedEvent
  from ..models.run_metrics_updated_event import RunMetricsUpdatedEvent
  from ..models.run_refunded_event import RunRefundedEvent
  from ..models.run_rerun_of_event import RunRerunOfEvent
  from ..models.run_retried_event import RunRetriedEvent
  from ..models.run_stage_updated_event import RunStageUpdatedEvent
  from ..models.run_started_event import RunStartedEvent





T = TypeVar("T", bound="FeedResponse")



@_attrs_define
class FeedResponse:
    """ A page of the global feed.

        Attributes:
            events (list[AccountCreditsDeductedEvent | AccountCreditsGrantedEvent | AccountCreditsRefundedEvent |
                KeyCreatedEvent | KeyRevokedEvent | KeyRotatedEvent | RunCancelledEvent | RunCompletedEvent | RunCreatedEvent |
                RunCreditsDeductedEvent | RunFailedEvent | RunFileUpdatedEvent | RunMetricsUpdatedEvent | RunRefundedEvent |
                RunRerunOfEvent | RunRetriedEvent | RunStageUpdatedEvent | RunStartedEvent]): Events in position order.
            next_after (int): Pass as `after` for the next page.
     """

    events: list[AccountCreditsDeductedEvent | AccountCreditsGrantedEvent | AccountCreditsRefundedEvent | KeyCreatedEvent | KeyRevokedEvent | KeyRotatedEvent | RunCancelledEvent | RunCompletedEvent | RunCreatedEvent | RunCreditsDeductedEvent | RunFailedEvent | RunFileUpdatedEvent | RunMetricsUpdatedEvent | RunRefundedEvent | RunRerunOfEvent | RunRetriedEvent | RunStageUpdatedEvent | RunStartedEvent]
    next_after: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.account_credits_deducted_event import AccountCreditsDeductedEvent # noqa: PLC0415
        from ..models.account_credits_granted_event import AccountCreditsGrantedEvent # noqa: PLC0415
        from ..models.account_credits_refunded_event import AccountCreditsRefundedEvent # noqa: PLC0415
        from ..models.key_created_event import KeyCreatedEvent # noqa: PLC0415
        from ..models.key_revoked_event import KeyRevokedEvent # noqa: PLC0415
        from ..models.key_rotated_event import KeyRotatedEvent # noqa: PLC0415
        from ..models.run_cancelled_event import RunCancelledEvent # noqa: PLC0415
        from ..models.run_completed_event import RunCompletedEvent # noqa: PLC0415
        from ..models.run_created_event import RunCreatedEvent # noqa: PLC0415
        from ..models.run_credits_deducted_event import RunCreditsDeductedEvent # noqa: PLC0415
        from ..models.run_failed_event import RunFailedEvent # noqa: PLC0415
        from ..models.run_file_updated_event import RunFileUpdatedEvent # noqa: PLC0415
        from ..models.run_metrics_updated_event import RunMetricsUpdatedEvent # noqa: PLC0415
        from ..models.run_refunded_event import RunRefundedEvent # noqa: PLC0415
        from ..models.run_rerun_of_event import RunRerunOfEvent # noqa: PLC0415
        from ..models.run_retried_event import RunRetriedEvent # noqa: PLC0415
        from ..models.run_stage_updated_event import RunStageUpdatedEvent # noqa: PLC0415
        from ..models.run_started_event import RunStartedEvent # noqa: PLC0415
        events = []
        for events_item_data in self.events:
            events_item: dict[str, Any]
            if isinstance(events_item_data, RunCreatedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunRerunOfEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunStartedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunStageUpdatedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunFileUpdatedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunCreditsDeductedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunRefundedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunRetriedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunMetricsUpdatedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunCompletedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunFailedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, RunCancelledEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, AccountCreditsGrantedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, AccountCreditsDeductedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, AccountCreditsRefundedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, KeyCreatedEvent):
                events_item = events_item_data.to_dict()
            elif isinstance(events_item_data, KeyRotatedEvent):
                events_item = events_item_data.to_dict()
            else:
                events_item = events_item_data.to_dict()

            events.append(events_item)



        next_after = self.next_after


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "events": events,
            "next_after": next_after,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_credits_deducted_event import AccountCreditsDeductedEvent # noqa: PLC0415
        from ..models.account_credits_granted_event import AccountCreditsGrantedEvent # noqa: PLC0415
        from ..models.account_credits_refunded_event import AccountCreditsRefundedEvent # noqa: PLC0415
        from ..models.key_created_event import KeyCreatedEvent # noqa: PLC0415
        from ..models.key_revoked_event import KeyRevokedEvent # noqa: PLC0415
        from ..models.key_rotated_event import KeyRotatedEvent # noqa: PLC0415
        from ..models.run_cancelled_event import RunCancelledEvent # noqa: PLC0415
        from ..models.run_completed_event import RunCompletedEvent # noqa: PLC0415
        from ..models.run_created_event import RunCreatedEvent # noqa: PLC0415
        from ..models.run_credits_deducted_event import RunCreditsDeductedEvent # noqa: PLC0415
        from ..models.run_failed_event import RunFailedEvent # noqa: PLC0415
        from ..models.run_file_updated_event import RunFileUpdatedEvent # noqa: PLC0415
        from ..models.run_metrics_updated_event import RunMetricsUpdatedEvent # noqa: PLC0415
        from ..models.run_refunded_event import RunRefundedEvent # noqa: PLC0415
        from ..models.run_rerun_of_event import RunRerunOfEvent # noqa: PLC0415
        from ..models.run_retried_event import RunRetriedEvent # noqa: PLC0415
        from ..models.run_stage_updated_event import RunStageUpdatedEvent # noqa: PLC0415
        from ..models.run_started_event import RunStartedEvent # noqa: PLC0415
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in (_events):
            def _parse_events_item(data: object) -> AccountCreditsDeductedEvent | AccountCreditsGrantedEvent | AccountCreditsRefundedEvent | KeyCreatedEvent | KeyRevokedEvent | KeyRotatedEvent | RunCancelledEvent | RunCompletedEvent | RunCreatedEvent | RunCreditsDeductedEvent | RunFailedEvent | RunFileUpdatedEvent | RunMetricsUpdatedEvent | RunRefundedEvent | RunRerunOfEvent | RunRetriedEvent | RunStageUpdatedEvent | RunStartedEvent:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_0 = RunCreatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_1 = RunRerunOfEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_2 = RunStartedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_3 = RunStageUpdatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_4 = RunFileUpdatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_4
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_5 = RunCreditsDeductedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_5
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_6 = RunRefundedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_6
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_7 = RunRetriedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_7
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_8 = RunMetricsUpdatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_8
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_9 = RunCompletedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_9
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_10 = RunFailedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_10
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_11 = RunCancelledEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_11
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_12 = AccountCreditsGrantedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_12
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_13 = AccountCreditsDeductedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_13
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_14 = AccountCreditsRefundedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_14
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_15 = KeyCreatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_15
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_envelope_type_16 = KeyRotatedEvent.from_dict(data)



                    return componentsschemas_event_envelope_type_16
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_event_envelope_type_17 = KeyRevokedEvent.from_dict(data)



                return componentsschemas_event_envelope_type_17

            events_item = _parse_events_item(events_item_data)

            events.append(events_item)


        next_after = d.pop("next_after")

        feed_response = cls(
            events=events,
            next_after=next_after,
        )


        feed_response.additional_properties = d
        return feed_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
