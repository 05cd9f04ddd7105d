from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.run_metrics_updated_event_event_type import RunMetricsUpdatedEventEventType
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.event_metadata import EventMetadata
  from ..models.run_metrics_updated import RunMetricsUpdated





T = TypeVar("T", bound="RunMetricsUpdatedEvent")



@_attrs_define
class RunMetricsUpdatedEvent:
    """ A `run.metrics_updated` event as stored.

        Attributes:
            data (RunMetricsUpdated): `run.metrics_updated`: measurements merged into an active run's metrics,
                key by key (a key given replaces the one the run had).
            event_id (UUID): Unique across the log.
            event_type (RunMetricsUpdatedEventEventType):
            global_position (int): 1-based, gap-free across the log.
            hash_ (str): This event's hash (hex).
            hash_version (int): The hash encoding: 1 or 2.
            metadata (EventMetadata): Who and what caused an event.
            prev_hash (str): The previous event's hash in its stream (hex; 32 zero bytes first).
            recorded_at (datetime.datetime): When it was recorded (microseconds).
            schema_version (int): Version of the data's shape.
            stream_id (str): `run-{id}`, `account-{tenant}` or `key-{id}`.
            stream_version (int): 0-based, gap-free in its stream.
     """

    data: RunMetricsUpdated
    event_id: UUID
    event_type: RunMetricsUpdatedEventEventType
    global_position: int
    hash_: str
    hash_version: int
    metadata: EventMetadata
    prev_hash: str
    recorded_at: datetime.datetime
    schema_version: int
    stream_id: str
    stream_version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.event_metadata import EventMetadata # noqa: PLC0415
        from ..models.run_metrics_updated import RunMetricsUpdated # noqa: PLC0415
        data = self.data.to_dict()

        event_id = str(self.event_id)

        event_type = self.event_type.value

        global_position = self.global_position

        hash_ = self.hash_

        hash_version = self.hash_version

        metadata = self.metadata.to_dict()

        prev_hash = self.prev_hash

        recorded_at = self.recorded_at.isoformat()

        schema_version = self.schema_version

        stream_id = self.stream_id

        stream_version = self.stream_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "data": data,
            "event_id": event_id,
            "event_type": event_type,
            "global_position": global_position,
            "hash": hash_,
            "hash_version": hash_version,
            "metadata": metadata,
            "prev_hash": prev_hash,
            "recorded_at": recorded_at,
            "schema_version": schema_version,
            "stream_id": stream_id,
            "stream_version": stream_version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_metadata import EventMetadata # noqa: PLC0415
        from ..models.run_metrics_updated import RunMetricsUpdated # noqa: PLC0415
        d = dict(src_dict)
        data = RunMetricsUpdated.from_dict(d.pop("data"))




        event_id = UUID(d.pop("event_id"))




        event_type = RunMetricsUpdatedEventEventType(d.pop("event_type"))




        global_position = d.pop("global_position")

        hash_ = d.pop("hash")

        hash_version = d.pop("hash_version")

        metadata = EventMetadata.from_dict(d.pop("metadata"))




        prev_hash = d.pop("prev_hash")

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))




        schema_version = d.pop("schema_version")

        stream_id = d.pop("stream_id")

        stream_version = d.pop("stream_version")

        run_metrics_updated_event = cls(
            data=data,
            event_id=event_id,
            event_type=event_type,
            global_position=global_position,
            hash_=hash_,
            hash_version=hash_version,
            metadata=metadata,
            prev_hash=prev_hash,
            recorded_at=recorded_at,
            schema_version=schema_version,
            stream_id=stream_id,
            stream_version=stream_version,
        )


        run_metrics_updated_event.additional_properties = d
        return run_metrics_updated_event

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
