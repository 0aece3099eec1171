from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="QuotaExceeded")



@_attrs_define
class QuotaExceeded:
    """ 
        Attributes:
            limit (int):
            requested (int):
            resource (str):
            used (int):
     """

    limit: int
    requested: int
    resource: str
    used: int





    def to_dict(self) -> dict[str, Any]:
        limit = self.limit

        requested = self.requested

        resource = self.resource

        used = self.used


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "limit": limit,
            "requested": requested,
            "resource": resource,
            "used": used,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        limit = d.pop("limit")

        requested = d.pop("requested")

        resource = d.pop("resource")

        used = d.pop("used")

        quota_exceeded = cls(
            limit=limit,
            requested=requested,
            resource=resource,
            used=used,
        )

        return quota_exceeded

