from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="ChainBreak")



@_attrs_define
class ChainBreak:
    """ The first event whose hash chain does not verify.

        Attributes:
            global_position (int): Its global position.
            reason (str): What is wrong.
            stream_id (str): Stream.
            stream_version (int): Version of the first event that does not verify.
     """

    global_position: int
    reason: str
    stream_id: str
    stream_version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        global_position = self.global_position

        reason = self.reason

        stream_id = self.stream_id

        stream_version = self.stream_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "global_position": global_position,
            "reason": reason,
            "stream_id": stream_id,
            "stream_version": stream_version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        global_position = d.pop("global_position")

        reason = d.pop("reason")

        stream_id = d.pop("stream_id")

        stream_version = d.pop("stream_version")

        chain_break = cls(
            global_position=global_position,
            reason=reason,
            stream_id=stream_id,
            stream_version=stream_version,
        )


        chain_break.additional_properties = d
        return chain_break

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
