from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.metrics_data_metrics import MetricsDataMetrics





T = TypeVar("T", bound="MetricsData")



@_attrs_define
class MetricsData:
    """ `run.metrics_updated`.

        Attributes:
            metrics (MetricsDataMetrics): Measurements (names to any JSON), merged key by key into the run's:
                a name given replaces the run's, the others stay.
     """

    metrics: MetricsDataMetrics





    def to_dict(self) -> dict[str, Any]:
        from ..models.metrics_data_metrics import MetricsDataMetrics # noqa: PLC0415
        metrics = self.metrics.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "metrics": metrics,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metrics_data_metrics import MetricsDataMetrics # noqa: PLC0415
        d = dict(src_dict)
        metrics = MetricsDataMetrics.from_dict(d.pop("metrics"))




        metrics_data = cls(
            metrics=metrics,
        )

        return metrics_data

