from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="DocumentBody")



@_attrs_define
class DocumentBody:
    """ A document of a run.

        Attributes:
            name (str): Display name.
            url (str): Where it is stored.
     """

    name: str
    url: str





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
            "url": url,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        document_body = cls(
            name=name,
            url=url,
        )

        return document_body

