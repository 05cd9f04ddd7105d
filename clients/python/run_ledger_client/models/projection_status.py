from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.projection_state import ProjectionState
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="ProjectionStatus")



@_attrs_define
class ProjectionStatus:
    """ A read model's progress.

        Attributes:
            checkpoint (int): Last position applied.
            head (int): Newest position in the log.
            lag_events (int): Events not yet applied.
            lag_seconds (float): Age of the oldest event not yet applied, in seconds (0 when caught up).
            name (str): Name.
            state (ProjectionState): Where a read model is.
            updated_at (datetime.datetime): When the checkpoint last moved.
            last_error (None | str | Unset): The last failure, until a batch succeeds.
            rebuild_position (int | None | Unset): How far a running rebuild has replayed.
            rebuilt_at (datetime.datetime | None | Unset): When the read model was last rebuilt.
     """

    checkpoint: int
    head: int
    lag_events: int
    lag_seconds: float
    name: str
    state: ProjectionState
    updated_at: datetime.datetime
    last_error: None | str | Unset = UNSET
    rebuild_position: int | None | Unset = UNSET
    rebuilt_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        checkpoint = self.checkpoint

        head = self.head

        lag_events = self.lag_events

        lag_seconds = self.lag_seconds

        name = self.name

        state = self.state.value

        updated_at = self.updated_at.isoformat()

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        rebuild_position: int | None | Unset
        if isinstance(self.rebuild_position, Unset):
            rebuild_position = UNSET
        else:
            rebuild_position = self.rebuild_position

        rebuilt_at: None | str | Unset
        if isinstance(self.rebuilt_at, Unset):
            rebuilt_at = UNSET
        elif isinstance(self.rebuilt_at, datetime.datetime):
            rebuilt_at = self.rebuilt_at.isoformat()
        else:
            rebuilt_at = self.rebuilt_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "checkpoint": checkpoint,
            "head": head,
            "lag_events": lag_events,
            "lag_seconds": lag_seconds,
            "name": name,
            "state": state,
            "updated_at": updated_at,
        })
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if rebuild_position is not UNSET:
            field_dict["rebuild_position"] = rebuild_position
        if rebuilt_at is not UNSET:
            field_dict["rebuilt_at"] = rebuilt_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        checkpoint = d.pop("checkpoint")

        head = d.pop("head")

        lag_events = d.pop("lag_events")

        lag_seconds = d.pop("lag_seconds")

        name = d.pop("name")

        state = ProjectionState(d.pop("state"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))


        def _parse_rebuild_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebuild_position = _parse_rebuild_position(d.pop("rebuild_position", UNSET))


        def _parse_rebuilt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rebuilt_at_type_0 = datetime.datetime.fromisoformat(data)



                return rebuilt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        rebuilt_at = _parse_rebuilt_at(d.pop("rebuilt_at", UNSET))


        projection_status = cls(
            checkpoint=checkpoint,
            head=head,
            lag_events=lag_events,
            lag_seconds=lag_seconds,
            name=name,
            state=state,
            updated_at=updated_at,
            last_error=last_error,
            rebuild_position=rebuild_position,
            rebuilt_at=rebuilt_at,
        )


        projection_status.additional_properties = d
        return projection_status

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
