from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.bucket_split import BucketSplit





T = TypeVar("T", bound="RunRefunded")



@_attrs_define
class RunRefunded:
    """ `run.refunded`: credits returned for this run.

        Attributes:
            amount (int): Credits returned.
            split (BucketSplit): An amount split between the two credit buckets.
            reason (None | str | Unset): Why, as the caller said.
     """

    amount: int
    split: BucketSplit
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.bucket_split import BucketSplit # noqa: PLC0415
        amount = self.amount

        split = self.split.to_dict()

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "split": split,
        })
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bucket_split import BucketSplit # noqa: PLC0415
        d = dict(src_dict)
        amount = d.pop("amount")

        split = BucketSplit.from_dict(d.pop("split"))




        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))


        run_refunded = cls(
            amount=amount,
            split=split,
            reason=reason,
        )


        run_refunded.additional_properties = d
        return run_refunded

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
