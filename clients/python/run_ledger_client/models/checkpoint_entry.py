from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="CheckpointEntry")



@_attrs_define
class CheckpointEntry:
    """ One signed checkpoint.

        Attributes:
            created_at (datetime.datetime): When the log signed it.
            note (str): The note, with every signature.
            root_hash (str): The tree's root, base64.
            tree_size (int): Events (from position 1) the tree holds.
     """

    created_at: datetime.datetime
    note: str
    root_hash: str
    tree_size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        note = self.note

        root_hash = self.root_hash

        tree_size = self.tree_size


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "note": note,
            "root_hash": root_hash,
            "tree_size": tree_size,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        note = d.pop("note")

        root_hash = d.pop("root_hash")

        tree_size = d.pop("tree_size")

        checkpoint_entry = cls(
            created_at=created_at,
            note=note,
            root_hash=root_hash,
            tree_size=tree_size,
        )


        checkpoint_entry.additional_properties = d
        return checkpoint_entry

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
