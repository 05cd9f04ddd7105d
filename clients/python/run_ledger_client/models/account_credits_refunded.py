from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.bucket_split import BucketSplit





T = TypeVar("T", bound="AccountCreditsRefunded")



@_attrs_define
class AccountCreditsRefunded:
    """ `account.credits_refunded`.

        Attributes:
            amount (int): Credits returned.
            monthly_after (int): Monthly balance after this event.
            purchased_after (int): Purchased balance after this event.
            run_id (UUID): The run refunded.
            split (BucketSplit): An amount split between the two credit buckets.
     """

    amount: int
    monthly_after: int
    purchased_after: int
    run_id: UUID
    split: BucketSplit
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.bucket_split import BucketSplit # noqa: PLC0415
        amount = self.amount

        monthly_after = self.monthly_after

        purchased_after = self.purchased_after

        run_id = str(self.run_id)

        split = self.split.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "monthly_after": monthly_after,
            "purchased_after": purchased_after,
            "run_id": run_id,
            "split": split,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bucket_split import BucketSplit # noqa: PLC0415
        d = dict(src_dict)
        amount = d.pop("amount")

        monthly_after = d.pop("monthly_after")

        purchased_after = d.pop("purchased_after")

        run_id = UUID(d.pop("run_id"))




        split = BucketSplit.from_dict(d.pop("split"))




        account_credits_refunded = cls(
            amount=amount,
            monthly_after=monthly_after,
            purchased_after=purchased_after,
            run_id=run_id,
            split=split,
        )


        account_credits_refunded.additional_properties = d
        return account_credits_refunded

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
