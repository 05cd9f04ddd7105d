from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.chain_break import ChainBreak
  from ..models.checkpoint_check import CheckpointCheck





T = TypeVar("T", bound="VerifyResponse")



@_attrs_define
class VerifyResponse:
    """ The hash-chain check's outcome.

        Attributes:
            events_checked (int): Events checked.
            ok (bool): True when every chain verified.
            streams_checked (int): Streams checked.
            checkpoints (CheckpointCheck | None | Unset):
            first_bad (ChainBreak | None | Unset):
     """

    events_checked: int
    ok: bool
    streams_checked: int
    checkpoints: CheckpointCheck | None | Unset = UNSET
    first_bad: ChainBreak | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.chain_break import ChainBreak # noqa: PLC0415
        from ..models.checkpoint_check import CheckpointCheck # noqa: PLC0415
        events_checked = self.events_checked

        ok = self.ok

        streams_checked = self.streams_checked

        checkpoints: dict[str, Any] | None | Unset
        if isinstance(self.checkpoints, Unset):
            checkpoints = UNSET
        elif isinstance(self.checkpoints, CheckpointCheck):
            checkpoints = self.checkpoints.to_dict()
        else:
            checkpoints = self.checkpoints

        first_bad: dict[str, Any] | None | Unset
        if isinstance(self.first_bad, Unset):
            first_bad = UNSET
        elif isinstance(self.first_bad, ChainBreak):
            first_bad = self.first_bad.to_dict()
        else:
            first_bad = self.first_bad


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "events_checked": events_checked,
            "ok": ok,
            "streams_checked": streams_checked,
        })
        if checkpoints is not UNSET:
            field_dict["checkpoints"] = checkpoints
        if first_bad is not UNSET:
            field_dict["first_bad"] = first_bad

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chain_break import ChainBreak # noqa: PLC0415
        from ..models.checkpoint_check import CheckpointCheck # noqa: PLC0415
        d = dict(src_dict)
        events_checked = d.pop("events_checked")

        ok = d.pop("ok")

        streams_checked = d.pop("streams_checked")

        def _parse_checkpoints(data: object) -> CheckpointCheck | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                checkpoints_type_1 = CheckpointCheck.from_dict(data)



                return checkpoints_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CheckpointCheck | None | Unset, data)

        checkpoints = _parse_checkpoints(d.pop("checkpoints", UNSET))


        def _parse_first_bad(data: object) -> ChainBreak | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                first_bad_type_1 = ChainBreak.from_dict(data)



                return first_bad_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChainBreak | None | Unset, data)

        first_bad = _parse_first_bad(d.pop("first_bad", UNSET))


        verify_response = cls(
            events_checked=events_checked,
            ok=ok,
            streams_checked=streams_checked,
            checkpoints=checkpoints,
            first_bad=first_bad,
        )


        verify_response.additional_properties = d
        return verify_response

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
