from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.completed_data_metrics_type_0 import CompletedDataMetricsType0





T = TypeVar("T", bound="CompletedData")



@_attrs_define
class CompletedData:
    """ `run.completed`.

        Attributes:
            metrics (CompletedDataMetricsType0 | None | Unset): Final measurements, merged key by key into the run's.
            output (Any | Unset): What the run produced: any JSON (I-JSON), a markdown string included.
     """

    metrics: CompletedDataMetricsType0 | None | Unset = UNSET
    output: Any | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.completed_data_metrics_type_0 import CompletedDataMetricsType0 # noqa: PLC0415
        metrics: dict[str, Any] | None | Unset
        if isinstance(self.metrics, Unset):
            metrics = UNSET
        elif isinstance(self.metrics, CompletedDataMetricsType0):
            metrics = self.metrics.to_dict()
        else:
            metrics = self.metrics

        output = self.output


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if metrics is not UNSET:
            field_dict["metrics"] = metrics
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.completed_data_metrics_type_0 import CompletedDataMetricsType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_metrics(data: object) -> CompletedDataMetricsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metrics_type_0 = CompletedDataMetricsType0.from_dict(data)



                return metrics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompletedDataMetricsType0 | None | Unset, data)

        metrics = _parse_metrics(d.pop("metrics", UNSET))


        output = d.pop("output", UNSET)

        completed_data = cls(
            metrics=metrics,
            output=output,
        )

        return completed_data

