from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.file_status import FileStatus
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="FileData")



@_attrs_define
class FileData:
    """ `run.file_updated`.

        Attributes:
            index (int): 0-based file index.
            status (FileStatus): Status a file can be in.
            error (None | str | Unset): Why it failed.
     """

    index: int
    status: FileStatus
    error: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        index = self.index

        status = self.status.value

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "index": index,
            "status": status,
        })
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        status = FileStatus(d.pop("status"))




        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        file_data = cls(
            index=index,
            status=status,
            error=error,
        )

        return file_data

