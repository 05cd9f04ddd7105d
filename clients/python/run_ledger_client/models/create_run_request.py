from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.company_body import CompanyBody
  from ..models.document_body import DocumentBody
  from ..models.file_body import FileBody





T = TypeVar("T", bound="CreateRunRequest")



@_attrs_define
class CreateRunRequest:
    """ `POST /v1/runs`.

        Example:
            {'company': {'id': 'acme', 'name': 'Acme Corp'}, 'credits_per_file': 2, 'document': {'name': 'Q3 report.pdf',
                'url': 's3://documents/q3-report.pdf'}, 'files': [{'name': 'page-1.png'}, {'name': 'page-2.png'}],
                'idempotency_key': 'create-q3-report-0001', 'input_version': 'v5', 'inputs': {'language': 'en'},
                'max_retry_count': 3, 'owner_id': 'user-42', 'pipeline_version': '2.3.0', 'project_id': 'quarterly-reports',
                'stages': ['extract', 'classify', 'summarize']}

        Attributes:
            owner_id (str): The person who owns the run.
            company (CompanyBody | None | Unset):
            credits_per_file (int | None | Unset): Credits per failed file on retry (default 1).
            document (DocumentBody | None | Unset):
            files (list[FileBody] | None | Unset): Files, in order (indexed from 0).
            idempotency_key (None | str | Unset): Unique per tenant: creating again with it returns the existing run.
            input_version (None | str | Unset): Input version.
            inputs (Any | Unset): The run's inputs.
                Any JSON (I-JSON: see docs/decisions.md).
            max_retry_count (int | None | Unset): Retry limit, 1 to 10 (default 3).
            pipeline_version (None | str | Unset): Pipeline version.
            project_id (None | str | Unset): Project; a project run needs `inputs`, or it is recorded as failed with
                `NO_INPUTS`.
            run_id (None | Unset | UUID): The run's id; generated when absent.
            stages (list[str] | None | Unset): Stage names, in order (stages are numbered from 1).
            tenant_id (None | str | Unset): Admin keys only (and required for them); other keys create runs for their own
                tenant.
     """

    owner_id: str
    company: CompanyBody | None | Unset = UNSET
    credits_per_file: int | None | Unset = UNSET
    document: DocumentBody | None | Unset = UNSET
    files: list[FileBody] | None | Unset = UNSET
    idempotency_key: None | str | Unset = UNSET
    input_version: None | str | Unset = UNSET
    inputs: Any | Unset = UNSET
    max_retry_count: int | None | Unset = UNSET
    pipeline_version: None | str | Unset = UNSET
    project_id: None | str | Unset = UNSET
    run_id: None | Unset | UUID = UNSET
    stages: list[str] | None | Unset = UNSET
    tenant_id: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.company_body import CompanyBody # noqa: PLC0415
        from ..models.document_body import DocumentBody # noqa: PLC0415
        from ..models.file_body import FileBody # noqa: PLC0415
        owner_id = self.owner_id

        company: dict[str, Any] | None | Unset
        if isinstance(self.company, Unset):
            company = UNSET
        elif isinstance(self.company, CompanyBody):
            company = self.company.to_dict()
        else:
            company = self.company

        credits_per_file: int | None | Unset
        if isinstance(self.credits_per_file, Unset):
            credits_per_file = UNSET
        else:
            credits_per_file = self.credits_per_file

        document: dict[str, Any] | None | Unset
        if isinstance(self.document, Unset):
            document = UNSET
        elif isinstance(self.document, DocumentBody):
            document = self.document.to_dict()
        else:
            document = self.document

        files: list[dict[str, Any]] | None | Unset
        if isinstance(self.files, Unset):
            files = UNSET
        elif isinstance(self.files, list):
            files = []
            for files_type_0_item_data in self.files:
                files_type_0_item = files_type_0_item_data.to_dict()
                files.append(files_type_0_item)


        else:
            files = self.files

        idempotency_key: None | str | Unset
        if isinstance(self.idempotency_key, Unset):
            idempotency_key = UNSET
        else:
            idempotency_key = self.idempotency_key

        input_version: None | str | Unset
        if isinstance(self.input_version, Unset):
            input_version = UNSET
        else:
            input_version = self.input_version

        inputs = self.inputs

        max_retry_count: int | None | Unset
        if isinstance(self.max_retry_count, Unset):
            max_retry_count = UNSET
        else:
            max_retry_count = self.max_retry_count

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

        run_id: None | str | Unset
        if isinstance(self.run_id, Unset):
            run_id = UNSET
        elif isinstance(self.run_id, UUID):
            run_id = str(self.run_id)
        else:
            run_id = self.run_id

        stages: list[str] | None | Unset
        if isinstance(self.stages, Unset):
            stages = UNSET
        elif isinstance(self.stages, list):
            stages = self.stages


        else:
            stages = self.stages

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        else:
            tenant_id = self.tenant_id


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "owner_id": owner_id,
        })
        if company is not UNSET:
            field_dict["company"] = company
        if credits_per_file is not UNSET:
            field_dict["credits_per_file"] = credits_per_file
        if document is not UNSET:
            field_dict["document"] = document
        if files is not UNSET:
            field_dict["files"] = files
        if idempotency_key is not UNSET:
            field_dict["idempotency_key"] = idempotency_key
        if input_version is not UNSET:
            field_dict["input_version"] = input_version
        if inputs is not UNSET:
            field_dict["inputs"] = inputs
        if max_retry_count is not UNSET:
            field_dict["max_retry_count"] = max_retry_count
        if pipeline_version is not UNSET:
            field_dict["pipeline_version"] = pipeline_version
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if run_id is not UNSET:
            field_dict["run_id"] = run_id
        if stages is not UNSET:
            field_dict["stages"] = stages
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.company_body import CompanyBody # noqa: PLC0415
        from ..models.document_body import DocumentBody # noqa: PLC0415
        from ..models.file_body import FileBody # noqa: PLC0415
        d = dict(src_dict)
        owner_id = d.pop("owner_id")

        def _parse_company(data: object) -> CompanyBody | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                company_type_1 = CompanyBody.from_dict(data)



                return company_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompanyBody | None | Unset, data)

        company = _parse_company(d.pop("company", UNSET))


        def _parse_credits_per_file(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        credits_per_file = _parse_credits_per_file(d.pop("credits_per_file", UNSET))


        def _parse_document(data: object) -> DocumentBody | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                document_type_1 = DocumentBody.from_dict(data)



                return document_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DocumentBody | None | Unset, data)

        document = _parse_document(d.pop("document", UNSET))


        def _parse_files(data: object) -> list[FileBody] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                files_type_0 = []
                _files_type_0 = data
                for files_type_0_item_data in (_files_type_0):
                    files_type_0_item = FileBody.from_dict(files_type_0_item_data)



                    files_type_0.append(files_type_0_item)

                return files_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[FileBody] | None | Unset, data)

        files = _parse_files(d.pop("files", UNSET))


        def _parse_idempotency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotency_key", UNSET))


        def _parse_input_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        input_version = _parse_input_version(d.pop("input_version", UNSET))


        inputs = d.pop("inputs", UNSET)

        def _parse_max_retry_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_retry_count = _parse_max_retry_count(d.pop("max_retry_count", UNSET))


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


        def _parse_run_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                run_id_type_0 = UUID(data)



                return run_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        run_id = _parse_run_id(d.pop("run_id", UNSET))


        def _parse_stages(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                stages_type_0 = cast(list[str], data)

                return stages_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        stages = _parse_stages(d.pop("stages", UNSET))


        def _parse_tenant_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))


        create_run_request = cls(
            owner_id=owner_id,
            company=company,
            credits_per_file=credits_per_file,
            document=document,
            files=files,
            idempotency_key=idempotency_key,
            input_version=input_version,
            inputs=inputs,
            max_retry_count=max_retry_count,
            pipeline_version=pipeline_version,
            project_id=project_id,
            run_id=run_id,
            stages=stages,
            tenant_id=tenant_id,
        )

        return create_run_request

