from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Balance")



@_attrs_define
class Balance:
    """ A tenant's credit balance.

        Attributes:
            consumed (int): Credits ever deducted.
            monthly (int): Monthly allowance left.
            purchased (int): Purchased credits left.
            refunded (int): Credits ever refunded.
            tenant_id (str): Tenant.
            total (int): `monthly + purchased`.
     """

    consumed: int
    monthly: int
    purchased: int
    refunded: int
    tenant_id: str
    total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        consumed = self.consumed

        monthly = self.monthly

        purchased = self.purchased

        refunded = self.refunded

        tenant_id = self.tenant_id

        total = self.total


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "consumed": consumed,
            "monthly": monthly,
            "purchased": purchased,
            "refunded": refunded,
            "tenant_id": tenant_id,
            "total": total,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        consumed = d.pop("consumed")

        monthly = d.pop("monthly")

        purchased = d.pop("purchased")

        refunded = d.pop("refunded")

        tenant_id = d.pop("tenant_id")

        total = d.pop("total")

        balance = cls(
            consumed=consumed,
            monthly=monthly,
            purchased=purchased,
            refunded=refunded,
            tenant_id=tenant_id,
            total=total,
        )


        balance.additional_properties = d
        return balance

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
