from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.file_status import FileStatus
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="FileView")



@_attrs_define
class FileView:
    """ A file of a run.

        Attributes:
            index (int): 0-based index.
            name (str): Name.
            retry_attempt (int): Retries so far.
            status (FileStatus): Status a file can be in.
            error (None | str | Unset): Last error.
     """

    index: int
    name: str
    retry_attempt: int
    status: FileStatus
    error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        index = self.index

        name = self.name

        retry_attempt = self.retry_attempt

        status = self.status.value

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "index": index,
            "name": name,
            "retry_attempt": retry_attempt,
            "status": status,
        })
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        name = d.pop("name")

        retry_attempt = d.pop("retry_attempt")

        status = FileStatus(d.pop("status"))




        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        file_view = cls(
            index=index,
            name=name,
            retry_attempt=retry_attempt,
            status=status,
            error=error,
        )


        file_view.additional_properties = d
        return file_view

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
