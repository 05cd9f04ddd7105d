from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.retry_scope import RetryScope
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.retried_file import RetriedFile





T = TypeVar("T", bound="RunRetried")



@_attrs_define
class RunRetried:
    """ `run.retried`: a retry began.

        Attributes:
            credits_charged (int): Credits charged for the retry (0 when only pending files are retried).
            job_ids (list[str]): Job ids to enqueue with: `{run_id}:file:{index}`, or `{run_id}` for a whole run.
            scope (RetryScope): What a retry re-executes.
            files (list[RetriedFile] | Unset): Re-enqueued files (empty for a whole-run retry).
     """

    credits_charged: int
    job_ids: list[str]
    scope: RetryScope
    files: list[RetriedFile] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.retried_file import RetriedFile # noqa: PLC0415
        credits_charged = self.credits_charged

        job_ids = self.job_ids



        scope = self.scope.value

        files: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.files, Unset):
            files = []
            for files_item_data in self.files:
                files_item = files_item_data.to_dict()
                files.append(files_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "credits_charged": credits_charged,
            "job_ids": job_ids,
            "scope": scope,
        })
        if files is not UNSET:
            field_dict["files"] = files

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.retried_file import RetriedFile # noqa: PLC0415
        d = dict(src_dict)
        credits_charged = d.pop("credits_charged")

        job_ids = cast(list[str], d.pop("job_ids"))


        scope = RetryScope(d.pop("scope"))




        _files = d.pop("files", UNSET)
        files: list[RetriedFile] | Unset = UNSET
        if _files is not UNSET:
            files = []
            for files_item_data in _files:
                files_item = RetriedFile.from_dict(files_item_data)



                files.append(files_item)


        run_retried = cls(
            credits_charged=credits_charged,
            job_ids=job_ids,
            scope=scope,
            files=files,
        )


        run_retried.additional_properties = d
        return run_retried

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
