from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="CheckpointCheck")



@_attrs_define
class CheckpointCheck:
    """ The signed checkpoints' check: each signed root recomputed from the
    events' hashes, each signature and cosignature verified.

        Attributes:
            checked (int): Checkpoints checked.
            covered_position (int): Events up to this position are under a checkpoint that verified.
            problems (list[str]): What does not verify, with where it is.
     """

    checked: int
    covered_position: int
    problems: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        checked = self.checked

        covered_position = self.covered_position

        problems = self.problems




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "checked": checked,
            "covered_position": covered_position,
            "problems": problems,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        checked = d.pop("checked")

        covered_position = d.pop("covered_position")

        problems = cast(list[str], d.pop("problems"))


        checkpoint_check = cls(
            checked=checked,
            covered_position=covered_position,
            problems=problems,
        )


        checkpoint_check.additional_properties = d
        return checkpoint_check

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
