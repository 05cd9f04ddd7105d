from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from uuid import UUID






T = TypeVar("T", bound="AppendedView")



@_attrs_define
class AppendedView:
    """ Where an event landed.

        Attributes:
            event_id (UUID): Event id.
            global_position (int): Global position.
            stream_id (str): Stream (`run-{id}` or `account-{tenant}`).
            stream_version (int): Version in the stream.
     """

    event_id: UUID
    global_position: int
    stream_id: str
    stream_version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        event_id = str(self.event_id)

        global_position = self.global_position

        stream_id = self.stream_id

        stream_version = self.stream_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "event_id": event_id,
            "global_position": global_position,
            "stream_id": stream_id,
            "stream_version": stream_version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_id = UUID(d.pop("event_id"))




        global_position = d.pop("global_position")

        stream_id = d.pop("stream_id")

        stream_version = d.pop("stream_version")

        appended_view = cls(
            event_id=event_id,
            global_position=global_position,
            stream_id=stream_id,
            stream_version=stream_version,
        )


        appended_view.additional_properties = d
        return appended_view

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
