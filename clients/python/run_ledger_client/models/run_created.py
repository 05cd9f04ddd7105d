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
  from ..models.company import Company
  from ..models.document import Document
  from ..models.file_spec import FileSpec





T = TypeVar("T", bound="RunCreated")



@_attrs_define
class RunCreated:
    """ `run.created`: a run exists.

        Attributes:
            credits_per_file (int): Credits charged per failed file on retry.
            max_retry_count (int): Retry limit per file and for the whole run (1..=10).
            owner_id (str): The person who owns the run (may rerun and retry it).
            run_id (UUID): The run's id; the stream is `run-{run_id}`.
            tenant_id (str): Owning tenant.
            company (Company | None | Unset):
            document (Document | None | Unset):
            files (list[FileSpec] | Unset): Files, in order; file indexes are 0-based.
            idempotency_key (None | str | Unset): Idempotency key, unique per tenant.
            input_version (None | str | Unset): Version of the inputs the run executes.
            inputs (Any | Unset): The run's inputs, as given.
            pipeline_version (None | str | Unset): Pipeline version that executes the run.
            project_id (None | str | Unset): Project the run belongs to, if any.
            stages (list[str] | Unset): Stage names, in order; stage numbers are 1-based.
     """

    credits_per_file: int
    max_retry_count: int
    owner_id: str
    run_id: UUID
    tenant_id: str
    company: Company | None | Unset = UNSET
    document: Document | None | Unset = UNSET
    files: list[FileSpec] | Unset = UNSET
    idempotency_key: None | str | Unset = UNSET
    input_version: None | str | Unset = UNSET
    inputs: Any | Unset = UNSET
    pipeline_version: None | str | Unset = UNSET
    project_id: None | str | Unset = UNSET
    stages: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.company import Company # noqa: PLC0415
        from ..models.document import Document # noqa: PLC0415
        from ..models.file_spec import FileSpec # noqa: PLC0415
        credits_per_file = self.credits_per_file

        max_retry_count = self.max_retry_count

        owner_id = self.owner_id

        run_id = str(self.run_id)

        tenant_id = self.tenant_id

        company: dict[str, Any] | None | Unset
        if isinstance(self.company, Unset):
            company = UNSET
        elif isinstance(self.company, Company):
            company = self.company.to_dict()
        else:
            company = self.company

        document: dict[str, Any] | None | Unset
        if isinstance(self.document, Unset):
            document = UNSET
        elif isinstance(self.document, Document):
            document = self.document.to_dict()
        else:
            document = self.document

        files: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.files, Unset):
            files = []
            for files_item_data in self.files:
                files_item = files_item_data.to_dict()
                files.append(files_item)



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

        stages: list[str] | Unset = UNSET
        if not isinstance(self.stages, Unset):
            stages = self.stages




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "credits_per_file": credits_per_file,
            "max_retry_count": max_retry_count,
            "owner_id": owner_id,
            "run_id": run_id,
            "tenant_id": tenant_id,
        })
        if company is not UNSET:
            field_dict["company"] = company
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
        if pipeline_version is not UNSET:
            field_dict["pipeline_version"] = pipeline_version
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if stages is not UNSET:
            field_dict["stages"] = stages

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.company import Company # noqa: PLC0415
        from ..models.document import Document # noqa: PLC0415
        from ..models.file_spec import FileSpec # noqa: PLC0415
        d = dict(src_dict)
        credits_per_file = d.pop("credits_per_file")

        max_retry_count = d.pop("max_retry_count")

        owner_id = d.pop("owner_id")

        run_id = UUID(d.pop("run_id"))




        tenant_id = d.pop("tenant_id")

        def _parse_company(data: object) -> Company | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                company_type_1 = Company.from_dict(data)



                return company_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Company | None | Unset, data)

        company = _parse_company(d.pop("company", UNSET))


        def _parse_document(data: object) -> Document | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                document_type_1 = Document.from_dict(data)



                return document_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Document | None | Unset, data)

        document = _parse_document(d.pop("document", UNSET))


        _files = d.pop("files", UNSET)
        files: list[FileSpec] | Unset = UNSET
        if _files is not UNSET:
            files = []
            for files_item_data in _files:
                files_item = FileSpec.from_dict(files_item_data)



                files.append(files_item)


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


        stages = cast(list[str], d.pop("stages", UNSET))


        run_created = cls(
            credits_per_file=credits_per_file,
            max_retry_count=max_retry_count,
            owner_id=owner_id,
            run_id=run_id,
            tenant_id=tenant_id,
            company=company,
            document=document,
            files=files,
            idempotency_key=idempotency_key,
            input_version=input_version,
            inputs=inputs,
            pipeline_version=pipeline_version,
            project_id=project_id,
            stages=stages,
        )


        run_created.additional_properties = d
        return run_created

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
