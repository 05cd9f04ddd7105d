from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="FailedData")



@_attrs_define
class FailedData:
    """ `run.failed`.

        Attributes:
            code (str): Machine code.
            message (str): For people.
            detail (Any | Unset): Any JSON.
     """

    code: str
    message: str
    detail: Any | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        detail = self.detail


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code": code,
            "message": message,
        })
        if detail is not UNSET:
            field_dict["detail"] = detail

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        detail = d.pop("detail", UNSET)

        failed_data = cls(
            code=code,
            message=message,
            detail=detail,
        )

        return failed_data

