from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.run_metrics_updated_fact_type import RunMetricsUpdatedFactType
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.metrics_data import MetricsData





T = TypeVar("T", bound="RunMetricsUpdatedFact")



@_attrs_define
class RunMetricsUpdatedFact:
    """ Measurements of an active run.

        Attributes:
            data (MetricsData): `run.metrics_updated`.
            type_ (RunMetricsUpdatedFactType):
            event_id (None | Unset | UUID): The event's id; a repeat with the same id appends nothing.
     """

    data: MetricsData
    type_: RunMetricsUpdatedFactType
    event_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.metrics_data import MetricsData # noqa: PLC0415
        data = self.data.to_dict()

        type_ = self.type_.value

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
            "data": data,
            "type": type_,
        })
        if event_id is not UNSET:
            field_dict["event_id"] = event_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metrics_data import MetricsData # noqa: PLC0415
        d = dict(src_dict)
        data = MetricsData.from_dict(d.pop("data"))




        type_ = RunMetricsUpdatedFactType(d.pop("type"))




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


        run_metrics_updated_fact = cls(
            data=data,
            type_=type_,
            event_id=event_id,
        )


        run_metrics_updated_fact.additional_properties = d
        return run_metrics_updated_fact

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
