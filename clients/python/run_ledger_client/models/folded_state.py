from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.run_view import RunView





T = TypeVar("T", bound="FoldedState")



@_attrs_define
class FoldedState:
    """ A run folded from its events up to a point.

        Attributes:
            events_folded (int): Events folded.
            recorded_at (datetime.datetime): The last event's time.
            run (RunView): A run as a write left it.
     """

    events_folded: int
    recorded_at: datetime.datetime
    run: RunView
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_view import RunView # noqa: PLC0415
        events_folded = self.events_folded

        recorded_at = self.recorded_at.isoformat()

        run = self.run.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "events_folded": events_folded,
            "recorded_at": recorded_at,
            "run": run,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_view import RunView # noqa: PLC0415
        d = dict(src_dict)
        events_folded = d.pop("events_folded")

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))




        run = RunView.from_dict(d.pop("run"))




        folded_state = cls(
            events_folded=events_folded,
            recorded_at=recorded_at,
            run=run,
        )


        folded_state.additional_properties = d
        return folded_state

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
