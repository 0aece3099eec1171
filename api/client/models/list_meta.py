from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.pagination import Pagination





T = TypeVar("T", bound="ListMeta")



@_attrs_define
class ListMeta:
    """ 
        Attributes:
            pagination (Pagination):
            request_id (str):
     """

    pagination: Pagination
    request_id: str





    def to_dict(self) -> dict[str, Any]:
        from ..models.pagination import Pagination # noqa: PLC0415
        pagination = self.pagination.to_dict()

        request_id = self.request_id


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "pagination": pagination,
            "request_id": request_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.pagination import Pagination # noqa: PLC0415
        d = dict(src_dict)
        pagination = Pagination.from_dict(d.pop("pagination"))




        request_id = d.pop("request_id")

        list_meta = cls(
            pagination=pagination,
            request_id=request_id,
        )

        return list_meta

