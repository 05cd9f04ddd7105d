from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.fact_type import FactType
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.fact_body_data_type_0 import FactBodyDataType0





T = TypeVar("T", bound="FactBody")



@_attrs_define
class FactBody:
    """ One reported event of `POST /v1/runs/{id}/events`.

        Attributes:
            type_ (FactType): The event types `POST /v1/runs/{run_id}/events` takes.
            data (FactBodyDataType0 | None | Unset): The event's data, by type.
            event_id (None | Unset | UUID): The event's id; a repeat with the same id appends nothing.
     """

    type_: FactType
    data: FactBodyDataType0 | None | Unset = UNSET
    event_id: None | Unset | UUID = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.fact_body_data_type_0 import FactBodyDataType0 # noqa: PLC0415
        type_ = self.type_.value

        data: dict[str, Any] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, FactBodyDataType0):
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
        from ..models.fact_body_data_type_0 import FactBodyDataType0 # noqa: PLC0415
        d = dict(src_dict)
        type_ = FactType(d.pop("type"))




        def _parse_data(data: object) -> FactBodyDataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = FactBodyDataType0.from_dict(data)



                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FactBodyDataType0 | None | Unset, data)

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


        fact_body = cls(
            type_=type_,
            data=data,
            event_id=event_id,
        )

        return fact_body

