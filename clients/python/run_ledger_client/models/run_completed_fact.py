from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.run_completed_fact_type import RunCompletedFactType
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.completed_data import CompletedData





T = TypeVar("T", bound="RunCompletedFact")



@_attrs_define
class RunCompletedFact:
    """ The run ended.

        Attributes:
            type_ (RunCompletedFactType):
            data (CompletedData | None | Unset):
            event_id (None | Unset | UUID): The event's id; a repeat with the same id appends nothing.
     """

    type_: RunCompletedFactType
    data: CompletedData | None | Unset = UNSET
    event_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.completed_data import CompletedData # noqa: PLC0415
        type_ = self.type_.value

        data: dict[str, Any] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, CompletedData):
            data = self.data.to_dict()
        else:
            data = self.data

        event_id: None | str | Unset
        if isinstance(self.event_id, Unset):
            event_id = UNSET
        elif isinstance(self.event_id, UUID):
            event_id = str(self.event_id)
        else:
            event_id = self.event_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "type": type_,
        })
        if data is not UNSET:
            field_dict["data"] = data
        if event_id is not UNSET:
            field_dict["event_id"] = event_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.completed_data import CompletedData # noqa: PLC0415
        d = dict(src_dict)
        type_ = RunCompletedFactType(d.pop("type"))




        def _parse_data(data: object) -> CompletedData | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_1 = CompletedData.from_dict(data)



                return data_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompletedData | None | Unset, data)

        data = _parse_data(d.pop("data", UNSET))


        def _parse_event_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                event_id_type_0 = UUID(data)



                return event_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        event_id = _parse_event_id(d.pop("event_id", UNSET))


        run_completed_fact = cls(
            type_=type_,
            data=data,
            event_id=event_id,
        )


        run_completed_fact.additional_properties = d
        return run_completed_fact

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
