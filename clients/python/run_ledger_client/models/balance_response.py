from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.appended_view import AppendedView





T = TypeVar("T", bound="BalanceResponse")



@_attrs_define
class BalanceResponse:
    """ A tenant's credit balance.

        Attributes:
            appended (list[AppendedView]): The events the grant appended (the originals for a repeat).
            consumed (int): Credits ever deducted.
            monthly (int): Monthly allowance left.
            purchased (int): Purchased credits left.
            refunded (int): Credits ever refunded.
            tenant_id (str): Tenant.
            total (int): `monthly + purchased`.
            global_position (int | None | Unset): Global position of the write's last event.
     """

    appended: list[AppendedView]
    consumed: int
    monthly: int
    purchased: int
    refunded: int
    tenant_id: str
    total: int
    global_position: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.appended_view import AppendedView # noqa: PLC0415
        appended = []
        for appended_item_data in self.appended:
            appended_item = appended_item_data.to_dict()
            appended.append(appended_item)



        consumed = self.consumed

        monthly = self.monthly

        purchased = self.purchased

        refunded = self.refunded

        tenant_id = self.tenant_id

        total = self.total

        global_position: int | None | Unset
        if isinstance(self.global_position, Unset):
            global_position = UNSET
        else:
            global_position = self.global_position


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "appended": appended,
            "consumed": consumed,
            "monthly": monthly,
            "purchased": purchased,
            "refunded": refunded,
            "tenant_id": tenant_id,
            "total": total,
        })
        if global_position is not UNSET:
            field_dict["global_position"] = global_position

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.appended_view import AppendedView # noqa: PLC0415
        d = dict(src_dict)
        appended = []
        _appended = d.pop("appended")
        for appended_item_data in (_appended):
            appended_item = AppendedView.from_dict(appended_item_data)



            appended.append(appended_item)


        consumed = d.pop("consumed")

        monthly = d.pop("monthly")

        purchased = d.pop("purchased")

        refunded = d.pop("refunded")

        tenant_id = d.pop("tenant_id")

        total = d.pop("total")

        def _parse_global_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        global_position = _parse_global_position(d.pop("global_position", UNSET))


        balance_response = cls(
            appended=appended,
            consumed=consumed,
            monthly=monthly,
            purchased=purchased,
            refunded=refunded,
            tenant_id=tenant_id,
            total=total,
            global_position=global_position,
        )


        balance_response.additional_properties = d
        return balance_response

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
