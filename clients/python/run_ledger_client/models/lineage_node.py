from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.run_status import RunStatus
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="LineageNode")



@_attrs_define
class LineageNode:
    """ A run in a lineage tree.

        Attributes:
            created_at (datetime.datetime): When it was created.
            credits_charged (int): Credits charged to it.
            credits_refunded (int): Credits refunded to it.
            reruns (list[LineageNode]): Its reruns, oldest first.
            run_id (UUID): Id.
            status (RunStatus): Where a run is in its life.
     """

    created_at: datetime.datetime
    credits_charged: int
    credits_refunded: int
    reruns: list[LineageNode]
    run_id: UUID
    status: RunStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        credits_charged = self.credits_charged

        credits_refunded = self.credits_refunded

        reruns = []
        for reruns_item_data in self.reruns:
            reruns_item = reruns_item_data.to_dict()
            reruns.append(reruns_item)



        run_id = str(self.run_id)

        status = self.status.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "credits_charged": credits_charged,
            "credits_refunded": credits_refunded,
            "reruns": reruns,
            "run_id": run_id,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        credits_charged = d.pop("credits_charged")

        credits_refunded = d.pop("credits_refunded")

        reruns = []
        _reruns = d.pop("reruns")
        for reruns_item_data in (_reruns):
            reruns_item = LineageNode.from_dict(reruns_item_data)



            reruns.append(reruns_item)


        run_id = UUID(d.pop("run_id"))




        status = RunStatus(d.pop("status"))




        lineage_node = cls(
            created_at=created_at,
            credits_charged=credits_charged,
            credits_refunded=credits_refunded,
            reruns=reruns,
            run_id=run_id,
            status=status,
        )


        lineage_node.additional_properties = d
        return lineage_node

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
