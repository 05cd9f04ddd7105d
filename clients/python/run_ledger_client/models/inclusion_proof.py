from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="InclusionProof")



@_attrs_define
class InclusionProof:
    """ An RFC 9162 §2.1.3 inclusion proof.

        Attributes:
            event_hash (str): The event's hash (the leaf's input), base64.
            leaf_index (int): `position - 1`.
            path (list[str]): The inclusion path from the leaf's sibling up, base64.
            position (int): The event's global position.
            tree_size (int): The tree's size.
     """

    event_hash: str
    leaf_index: int
    path: list[str]
    position: int
    tree_size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        event_hash = self.event_hash

        leaf_index = self.leaf_index

        path = self.path



        position = self.position

        tree_size = self.tree_size


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "event_hash": event_hash,
            "leaf_index": leaf_index,
            "path": path,
            "position": position,
            "tree_size": tree_size,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_hash = d.pop("event_hash")

        leaf_index = d.pop("leaf_index")

        path = cast(list[str], d.pop("path"))


        position = d.pop("position")

        tree_size = d.pop("tree_size")

        inclusion_proof = cls(
            event_hash=event_hash,
            leaf_index=leaf_index,
            path=path,
            position=position,
            tree_size=tree_size,
        )


        inclusion_proof.additional_properties = d
        return inclusion_proof

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
