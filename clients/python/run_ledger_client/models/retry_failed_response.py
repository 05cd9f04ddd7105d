from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.appended_view import AppendedView
  from ..models.run_view import RunView





T = TypeVar("T", bound="RetryFailedResponse")



@_attrs_define
class RetryFailedResponse:
    """ `POST /v1/runs/{id}/retry-failed`.

        Attributes:
            appended (list[AppendedView]): Every event the retry appended, the account's charge included.
            credits_charged (int): Credits charged for the failed files.
            job_ids (list[str]): Job ids to enqueue the files under: `{run_id}:file:{index}`.
            run (RunView): A run as a write left it.
            global_position (int | None | Unset): Global position of the write's last event.
     """

    appended: list[AppendedView]
    credits_charged: int
    job_ids: list[str]
    run: RunView
    global_position: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.appended_view import AppendedView # noqa: PLC0415
        from ..models.run_view import RunView # noqa: PLC0415
        appended = []
        for appended_item_data in self.appended:
            appended_item = appended_item_data.to_dict()
            appended.append(appended_item)



        credits_charged = self.credits_charged

        job_ids = self.job_ids



        run = self.run.to_dict()

        global_position: int | None | Unset
        if isinstance(self.global_position, Unset):
            global_position = UNSET
        else:
            global_position = self.global_position


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "appended": appended,
            "credits_charged": credits_charged,
            "job_ids": job_ids,
            "run": run,
        })
        if global_position is not UNSET:
            field_dict["global_position"] = global_position

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.appended_view import AppendedView # noqa: PLC0415
        from ..models.run_view import RunView # noqa: PLC0415
        d = dict(src_dict)
        appended = []
        _appended = d.pop("appended")
        for appended_item_data in (_appended):
            appended_item = AppendedView.from_dict(appended_item_data)



            appended.append(appended_item)


        credits_charged = d.pop("credits_charged")

        job_ids = cast(list[str], d.pop("job_ids"))


        run = RunView.from_dict(d.pop("run"))




        def _parse_global_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        global_position = _parse_global_position(d.pop("global_position", UNSET))


        retry_failed_response = cls(
            appended=appended,
            credits_charged=credits_charged,
            job_ids=job_ids,
            run=run,
            global_position=global_position,
        )


        retry_failed_response.additional_properties = d
        return retry_failed_response

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
