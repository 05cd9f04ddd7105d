from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.bucket import Bucket
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="GrantRequest")



@_attrs_define
class GrantRequest:
    """ `POST /v1/accounts/{tenant_id}/grants`.

        Example:
            {'amount': 500, 'bucket': 'monthly', 'reason': 'December allowance'}

        Attributes:
            amount (int): Credits, 1 to 10^12.
            bucket (Bucket): A credit bucket.
            reason (None | str | Unset): Why.
     """

    amount: int
    bucket: Bucket
    reason: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        bucket = self.bucket.value

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "amount": amount,
            "bucket": bucket,
        })
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        bucket = Bucket(d.pop("bucket"))




        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))


        grant_request = cls(
            amount=amount,
            bucket=bucket,
            reason=reason,
        )

        return grant_request

