from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="KeyRotated")



@_attrs_define
class KeyRotated:
    """ `key.rotated`: the key got a new secret; the previous one works until
    `previous_valid_until`.

        Attributes:
            grace_seconds (int): How long the previous secret was left working.
            key_id (UUID): The key.
            previous_valid_until (datetime.datetime): When the previous secret stops working.
     """

    grace_seconds: int
    key_id: UUID
    previous_valid_until: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        grace_seconds = self.grace_seconds

        key_id = str(self.key_id)

        previous_valid_until = self.previous_valid_until.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "grace_seconds": grace_seconds,
            "key_id": key_id,
            "previous_valid_until": previous_valid_until,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grace_seconds = d.pop("grace_seconds")

        key_id = UUID(d.pop("key_id"))




        previous_valid_until = datetime.datetime.fromisoformat(d.pop("previous_valid_until"))




        key_rotated = cls(
            grace_seconds=grace_seconds,
            key_id=key_id,
            previous_valid_until=previous_valid_until,
        )


        key_rotated.additional_properties = d
        return key_rotated

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
