from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.run_completed_metrics_type_0 import RunCompletedMetricsType0





T = TypeVar("T", bound="RunCompleted")



@_attrs_define
class RunCompleted:
    """ `run.completed`: the run ended successfully, or with some files failed.

        Attributes:
            metrics (None | RunCompletedMetricsType0 | Unset): Measurements merged into the run's metrics, key by key.
            output (Any | Unset): What the run produced, as the pipeline reported it: any JSON.
            with_errors (bool | Unset): True when some files failed or errored: status `completed_with_errors`.
     """

    metrics: None | RunCompletedMetricsType0 | Unset = UNSET
    output: Any | Unset = UNSET
    with_errors: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_completed_metrics_type_0 import RunCompletedMetricsType0 # noqa: PLC0415
        metrics: dict[str, Any] | None | Unset
        if isinstance(self.metrics, Unset):
            metrics = UNSET
        elif isinstance(self.metrics, RunCompletedMetricsType0):
            metrics = self.metrics.to_dict()
        else:
            metrics = self.metrics

        output = self.output

        with_errors = self.with_errors


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if metrics is not UNSET:
            field_dict["metrics"] = metrics
        if output is not UNSET:
            field_dict["output"] = output
        if with_errors is not UNSET:
            field_dict["with_errors"] = with_errors

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_completed_metrics_type_0 import RunCompletedMetricsType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_metrics(data: object) -> None | RunCompletedMetricsType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metrics_type_0 = RunCompletedMetricsType0.from_dict(data)



                return metrics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunCompletedMetricsType0 | Unset, data)

        metrics = _parse_metrics(d.pop("metrics", UNSET))


        output = d.pop("output", UNSET)

        with_errors = d.pop("with_errors", UNSET)

        run_completed = cls(
            metrics=metrics,
            output=output,
            with_errors=with_errors,
        )


        run_completed.additional_properties = d
        return run_completed

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
