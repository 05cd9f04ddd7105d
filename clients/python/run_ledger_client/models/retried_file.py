from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="RetriedFile")



@_attrs_define
class RetriedFile:
    """ A file re-enqueued by a retry.

        Attributes:
            charged (bool): Whether this file was charged (it had `failed`) or free (it was `pending`).
            index (int): 0-based file index.
            retry_attempt (int): The attempt this retry starts (previous attempt + 1).
     """

    charged: bool
    index: int
    retry_attempt: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        charged = self.charged

        index = self.index

        retry_attempt = self.retry_attempt


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "charged": charged,
            "index": index,
            "retry_attempt": retry_attempt,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        charged = d.pop("charged")

        index = d.pop("index")

        retry_attempt = d.pop("retry_attempt")

        retried_file = cls(
            charged=charged,
            index=index,
            retry_attempt=retry_attempt,
        )


        retried_file.additional_properties = d
        return retried_file

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
