from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.lineage_node import LineageNode





T = TypeVar("T", bound="Lineage")



@_attrs_define
class Lineage:
    """ A run's lineage: the original run and every rerun descending from it.

        Attributes:
            credits_charged (int): Credits charged over the lineage.
            credits_refunded (int): Credits refunded over the lineage.
            root (LineageNode): A run in a lineage tree.
            run_count (int): Runs in the lineage.
     """

    credits_charged: int
    credits_refunded: int
    root: LineageNode
    run_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.lineage_node import LineageNode # noqa: PLC0415
        credits_charged = self.credits_charged

        credits_refunded = self.credits_refunded

        root = self.root.to_dict()

        run_count = self.run_count


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "credits_charged": credits_charged,
            "credits_refunded": credits_refunded,
            "root": root,
            "run_count": run_count,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.lineage_node import LineageNode # noqa: PLC0415
        d = dict(src_dict)
        credits_charged = d.pop("credits_charged")

        credits_refunded = d.pop("credits_refunded")

        root = LineageNode.from_dict(d.pop("root"))




        run_count = d.pop("run_count")

        lineage = cls(
            credits_charged=credits_charged,
            credits_refunded=credits_refunded,
            root=root,
            run_count=run_count,
        )


        lineage.additional_properties = d
        return lineage

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
