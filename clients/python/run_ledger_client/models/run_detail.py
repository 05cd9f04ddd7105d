from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.run_status import RunStatus
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.file_view import FileView
  from ..models.run_error_view import RunErrorView
  from ..models.run_view_metrics import RunViewMetrics
  from ..models.stage_view import StageView





T = TypeVar("T", bound="RunDetail")



@_attrs_define
class RunDetail:
    """ A run as the run history shows it.

        Attributes:
            credits_charged (int): Credits charged.
            credits_per_file (int): Credits per failed file on retry.
            credits_refunded (int): Credits refunded.
            current_stage (int): 1-based number of the first stage not completed.
            files (list[FileView]): Files.
            max_retry_count (int): Retry limit.
            metrics (RunViewMetrics): Its measurements, merged key by key from `run.metrics_updated` and
                `run.completed`: names to any JSON.
            owner_id (str): Owner.
            retry_count (int): Whole-run retries so far.
            run_id (UUID): Id.
            stages (list[StageView]): Stages.
            status (RunStatus): Where a run is in its life.
            tenant_id (str): Tenant.
            created_at (datetime.datetime): When it was created.
            reruns (list[UUID]): Runs that rerun this one, oldest first.
            updated_at (datetime.datetime): When it last changed.
            company_id (None | str | Unset): Company id.
            company_name (None | str | Unset): Company name.
            document_name (None | str | Unset): Document name.
            document_url (None | str | Unset): Document URL.
            error (None | RunErrorView | Unset):
            input_version (None | str | Unset): Input version.
            output (Any | Unset): What the run produced, as its `run.completed` reported it.
                Any JSON (I-JSON: see docs/decisions.md).
            pipeline_version (None | str | Unset): Pipeline version.
            project_id (None | str | Unset): Project.
            rerun_of (None | Unset | UUID): The run this one re-executes.
            version (int | None | Unset): The run stream's version.
            completed_at (datetime.datetime | None | Unset): When it ended (unset while it runs); the same as `finished_at`.
            finished_at (datetime.datetime | None | Unset): When it ended (unset while it runs).
            started_at (datetime.datetime | None | Unset): When its current attempt started (unset while it is queued).
     """

    credits_charged: int
    credits_per_file: int
    credits_refunded: int
    current_stage: int
    files: list[FileView]
    max_retry_count: int
    metrics: RunViewMetrics
    owner_id: str
    retry_count: int
    run_id: UUID
    stages: list[StageView]
    status: RunStatus
    tenant_id: str
    created_at: datetime.datetime
    reruns: list[UUID]
    updated_at: datetime.datetime
    company_id: None | str | Unset = UNSET
    company_name: None | str | Unset = UNSET
    document_name: None | str | Unset = UNSET
    document_url: None | str | Unset = UNSET
    error: None | RunErrorView | Unset = UNSET
    input_version: None | str | Unset = UNSET
    output: Any | Unset = UNSET
    pipeline_version: None | str | Unset = UNSET
    project_id: None | str | Unset = UNSET
    rerun_of: None | Unset | UUID = UNSET
    version: int | None | Unset = UNSET
    completed_at: datetime.datetime | None | Unset = UNSET
    finished_at: datetime.datetime | None | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.file_view import FileView # noqa: PLC0415
        from ..models.run_error_view import RunErrorView # noqa: PLC0415
        from ..models.run_view_metrics import RunViewMetrics # noqa: PLC0415
        from ..models.stage_view import StageView # noqa: PLC0415
        credits_charged = self.credits_charged

        credits_per_file = self.credits_per_file

        credits_refunded = self.credits_refunded

        current_stage = self.current_stage

        files = []
        for files_item_data in self.files:
            files_item = files_item_data.to_dict()
            files.append(files_item)



        max_retry_count = self.max_retry_count

        metrics = self.metrics.to_dict()

        owner_id = self.owner_id

        retry_count = self.retry_count

        run_id = str(self.run_id)

        stages = []
        for stages_item_data in self.stages:
            stages_item = stages_item_data.to_dict()
            stages.append(stages_item)



        status = self.status.value

        tenant_id = self.tenant_id

        created_at = self.created_at.isoformat()

        reruns = []
        for reruns_item_data in self.reruns:
            reruns_item = str(reruns_item_data)
            reruns.append(reruns_item)



        updated_at = self.updated_at.isoformat()

        company_id: None | str | Unset
        if isinstance(self.company_id, Unset):
            company_id = UNSET
        else:
            company_id = self.company_id

        company_name: None | str | Unset
        if isinstance(self.company_name, Unset):
            company_name = UNSET
        else:
            company_name = self.company_name

        document_name: None | str | Unset
        if isinstance(self.document_name, Unset):
            document_name = UNSET
        else:
            document_name = self.document_name

        document_url: None | str | Unset
        if isinstance(self.document_url, Unset):
            document_url = UNSET
        else:
            document_url = self.document_url

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, RunErrorView):
            error = self.error.to_dict()
        else:
            error = self.error

        input_version: None | str | Unset
        if isinstance(self.input_version, Unset):
            input_version = UNSET
        else:
            input_version = self.input_version

        output = self.output

        pipeline_version: None | str | Unset
        if isinstance(self.pipeline_version, Unset):
            pipeline_version = UNSET
        else:
            pipeline_version = self.pipeline_version

        project_id: None | str | Unset
        if isinstance(self.project_id, Unset):
            project_id = UNSET
        else:
            project_id = self.project_id

        rerun_of: None | str | Unset
        if isinstance(self.rerun_of, Unset):
            rerun_of = UNSET
        elif isinstance(self.rerun_of, UUID):
            rerun_of = str(self.rerun_of)
        else:
            rerun_of = self.rerun_of

        version: int | None | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        completed_at: None | str | Unset
        if isinstance(self.completed_at, Unset):
            completed_at = UNSET
        elif isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "credits_charged": credits_charged,
            "credits_per_file": credits_per_file,
            "credits_refunded": credits_refunded,
            "current_stage": current_stage,
            "files": files,
            "max_retry_count": max_retry_count,
            "metrics": metrics,
            "owner_id": owner_id,
            "retry_count": retry_count,
            "run_id": run_id,
            "stages": stages,
            "status": status,
            "tenant_id": tenant_id,
            "created_at": created_at,
            "reruns": reruns,
            "updated_at": updated_at,
        })
        if company_id is not UNSET:
            field_dict["company_id"] = company_id
        if company_name is not UNSET:
            field_dict["company_name"] = company_name
        if document_name is not UNSET:
            field_dict["document_name"] = document_name
        if document_url is not UNSET:
            field_dict["document_url"] = document_url
        if error is not UNSET:
            field_dict["error"] = error
        if input_version is not UNSET:
            field_dict["input_version"] = input_version
        if output is not UNSET:
            field_dict["output"] = output
        if pipeline_version is not UNSET:
            field_dict["pipeline_version"] = pipeline_version
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if rerun_of is not UNSET:
            field_dict["rerun_of"] = rerun_of
        if version is not UNSET:
            field_dict["version"] = version
        if completed_at is not UNSET:
            field_dict["completed_at"] = completed_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if started_at is not UNSET:
            field_dict["started_at"] = started_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.file_view import FileView # noqa: PLC0415
        from ..models.run_error_view import RunErrorView # noqa: PLC0415
        from ..models.run_view_metrics import RunViewMetrics # noqa: PLC0415
        from ..models.stage_view import StageView # noqa: PLC0415
        d = dict(src_dict)
        credits_charged = d.pop("credits_charged")

        credits_per_file = d.pop("credits_per_file")

        credits_refunded = d.pop("credits_refunded")

        current_stage = d.pop("current_stage")

        files = []
        _files = d.pop("files")
        for files_item_data in (_files):
            files_item = FileView.from_dict(files_item_data)



            files.append(files_item)


        max_retry_count = d.pop("max_retry_count")

        metrics = RunViewMetrics.from_dict(d.pop("metrics"))




        owner_id = d.pop("owner_id")

        retry_count = d.pop("retry_count")

        run_id = UUID(d.pop("run_id"))




        stages = []
        _stages = d.pop("stages")
        for stages_item_data in (_stages):
            stages_item = StageView.from_dict(stages_item_data)



            stages.append(stages_item)


        status = RunStatus(d.pop("status"))




        tenant_id = d.pop("tenant_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        reruns = []
        _reruns = d.pop("reruns")
        for reruns_item_data in (_reruns):
            reruns_item = UUID(reruns_item_data)



            reruns.append(reruns_item)


        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_company_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        company_id = _parse_company_id(d.pop("company_id", UNSET))


        def _parse_company_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        company_name = _parse_company_name(d.pop("company_name", UNSET))


        def _parse_document_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_name = _parse_document_name(d.pop("document_name", UNSET))


        def _parse_document_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_url = _parse_document_url(d.pop("document_url", UNSET))


        def _parse_error(data: object) -> None | RunErrorView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_1 = RunErrorView.from_dict(data)



                return error_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunErrorView | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        def _parse_input_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        input_version = _parse_input_version(d.pop("input_version", UNSET))


        output = d.pop("output", UNSET)

        def _parse_pipeline_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pipeline_version = _parse_pipeline_version(d.pop("pipeline_version", UNSET))


        def _parse_project_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        project_id = _parse_project_id(d.pop("project_id", UNSET))


        def _parse_rerun_of(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rerun_of_type_0 = UUID(data)



                return rerun_of_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        rerun_of = _parse_rerun_of(d.pop("rerun_of", UNSET))


        def _parse_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        version = _parse_version(d.pop("version", UNSET))


        def _parse_completed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)



                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        completed_at = _parse_completed_at(d.pop("completed_at", UNSET))


        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))


        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))


        run_detail = cls(
            credits_charged=credits_charged,
            credits_per_file=credits_per_file,
            credits_refunded=credits_refunded,
            current_stage=current_stage,
            files=files,
            max_retry_count=max_retry_count,
            metrics=metrics,
            owner_id=owner_id,
            retry_count=retry_count,
            run_id=run_id,
            stages=stages,
            status=status,
            tenant_id=tenant_id,
            created_at=created_at,
            reruns=reruns,
            updated_at=updated_at,
            company_id=company_id,
            company_name=company_name,
            document_name=document_name,
            document_url=document_url,
            error=error,
            input_version=input_version,
            output=output,
            pipeline_version=pipeline_version,
            project_id=project_id,
            rerun_of=rerun_of,
            version=version,
            completed_at=completed_at,
            finished_at=finished_at,
            started_at=started_at,
        )


        run_detail.additional_properties = d
        return run_detail

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
