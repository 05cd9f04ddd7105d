from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.run_metrics_updated_metrics import RunMetricsUpdatedMetrics





T = TypeVar("T", bound="RunMetricsUpdated")



@_attrs_define
class RunMetricsUpdated:
    """ `run.metrics_updated`: measurements merged into an active run's metrics,
    key by key (a key given replaces the one the run had).

        Attributes:
            metrics (RunMetricsUpdatedMetrics): The measurements.
     """

    metrics: RunMetricsUpdatedMetrics
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_metrics_updated_metrics import RunMetricsUpdatedMetrics # noqa: PLC0415
        metrics = self.metrics.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "metrics": metrics,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_metrics_updated_metrics import RunMetricsUpdatedMetrics # noqa: PLC0415
        d = dict(src_dict)
        metrics = RunMetricsUpdatedMetrics.from_dict(d.pop("metrics"))




        run_metrics_updated = cls(
            metrics=metrics,
        )


        run_metrics_updated.additional_properties = d
        return run_metrics_updated

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
