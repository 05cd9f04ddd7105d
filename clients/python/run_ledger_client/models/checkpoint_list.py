from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.checkpoint_entry import CheckpointEntry





T = TypeVar("T", bound="CheckpointList")



@_attrs_define
class CheckpointList:
    """ A page of the checkpoint history.

        Attributes:
            checkpoints (list[CheckpointEntry]): Checkpoints, smallest tree first.
            next_after (int): Pass as `after` for the next page.
            verifier_key (None | str | Unset): The log's verifier key, when this service signs.
     """

    checkpoints: list[CheckpointEntry]
    next_after: int
    verifier_key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.checkpoint_entry import CheckpointEntry # noqa: PLC0415
        checkpoints = []
        for checkpoints_item_data in self.checkpoints:
            checkpoints_item = checkpoints_item_data.to_dict()
            checkpoints.append(checkpoints_item)



        next_after = self.next_after

        verifier_key: None | str | Unset
        if isinstance(self.verifier_key, Unset):
            verifier_key = UNSET
        else:
            verifier_key = self.verifier_key


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "checkpoints": checkpoints,
            "next_after": next_after,
        })
        if verifier_key is not UNSET:
            field_dict["verifier_key"] = verifier_key

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.checkpoint_entry import CheckpointEntry # noqa: PLC0415
        d = dict(src_dict)
        checkpoints = []
        _checkpoints = d.pop("checkpoints")
        for checkpoints_item_data in (_checkpoints):
            checkpoints_item = CheckpointEntry.from_dict(checkpoints_item_data)



            checkpoints.append(checkpoints_item)


        next_after = d.pop("next_after")

        def _parse_verifier_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        verifier_key = _parse_verifier_key(d.pop("verifier_key", UNSET))


        checkpoint_list = cls(
            checkpoints=checkpoints,
            next_after=next_after,
            verifier_key=verifier_key,
        )


        checkpoint_list.additional_properties = d
        return checkpoint_list

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
