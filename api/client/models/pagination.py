from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Pagination")



@_attrs_define
class Pagination:
    """ 
        Attributes:
            page (int):
            pages (int):
            per_page (int):
            total (int):
     """

    page: int
    pages: int
    per_page: int
    total: int





    def to_dict(self) -> dict[str, Any]:
        page = self.page

        pages = self.pages

        per_page = self.per_page

        total = self.total


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "total": total,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        page = d.pop("page")

        pages = d.pop("pages")

        per_page = d.pop("per_page")

        total = d.pop("total")

        pagination = cls(
            page=page,
            pages=pages,
            per_page=per_page,
            total=total,
        )

        return pagination

