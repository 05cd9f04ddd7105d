from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.stage_status import StageStatus
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="StageData")



@_attrs_define
class StageData:
    """ `run.stage_updated`.

        Attributes:
            stage (int): 1-based stage number.
            status (StageStatus): Status a stage can be reported in.
            error (None | str | Unset): Why it failed.
            output (Any | Unset): What it produced: any JSON (I-JSON), a markdown string included.
     """

    stage: int
    status: StageStatus
    error: None | str | Unset = UNSET
    output: Any | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        stage = self.stage

        status = self.status.value

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        output = self.output


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "stage": stage,
            "status": status,
        })
        if error is not UNSET:
            field_dict["error"] = error
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        stage = d.pop("stage")

        status = StageStatus(d.pop("status"))




        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        output = d.pop("output", UNSET)

        stage_data = cls(
            stage=stage,
            status=status,
            error=error,
            output=output,
        )

        return stage_data

