from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ledger_entry_kind import LedgerEntryKind
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="LedgerEntry")



@_attrs_define
class LedgerEntry:
    """ One credit transaction.

        Attributes:
            amount (int): Credits moved.
            global_position (int): The event's global position.
            kind (LedgerEntryKind): What a credit-ledger entry did.
            monthly (int): Of which monthly.
            monthly_after (int): Monthly balance after.
            purchased (int): Of which purchased.
            purchased_after (int): Purchased balance after.
            recorded_at (datetime.datetime): When.
            reason (None | str | Unset): Why (grants).
            run_id (None | Unset | UUID): The run charged or refunded.
     """

    amount: int
    global_position: int
    kind: LedgerEntryKind
    monthly: int
    monthly_after: int
    purchased: int
    purchased_after: int
    recorded_at: datetime.datetime
    reason: None | str | Unset = UNSET
    run_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        global_position = self.global_position

        kind = self.kind.value

        monthly = self.monthly

        monthly_after = self.monthly_after

        purchased = self.purchased

        purchased_after = self.purchased_after

        recorded_at = self.recorded_at.isoformat()

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        run_id: None | str | Unset
        if isinstance(self.run_id, Unset):
            run_id = UNSET
        elif isinstance(self.run_id, UUID):
            run_id = str(self.run_id)
        else:
            run_id = self.run_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "global_position": global_position,
            "kind": kind,
            "monthly": monthly,
            "monthly_after": monthly_after,
            "purchased": purchased,
            "purchased_after": purchased_after,
            "recorded_at": recorded_at,
        })
        if reason is not UNSET:
            field_dict["reason"] = reason
        if run_id is not UNSET:
            field_dict["run_id"] = run_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        global_position = d.pop("global_position")

        kind = LedgerEntryKind(d.pop("kind"))




        monthly = d.pop("monthly")

        monthly_after = d.pop("monthly_after")

        purchased = d.pop("purchased")

        purchased_after = d.pop("purchased_after")

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))




        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))


        def _parse_run_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                run_id_type_0 = UUID(data)



                return run_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        run_id = _parse_run_id(d.pop("run_id", UNSET))


        ledger_entry = cls(
            amount=amount,
            global_position=global_position,
            kind=kind,
            monthly=monthly,
            monthly_after=monthly_after,
            purchased=purchased,
            purchased_after=purchased_after,
            recorded_at=recorded_at,
            reason=reason,
            run_id=run_id,
        )


        ledger_entry.additional_properties = d
        return ledger_entry

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
