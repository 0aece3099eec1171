from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Resource")



@_attrs_define
class Resource:
    """ 
        Attributes:
            available (int): max(limit - used, 0)
            limit (int):
            used (int):
     """

    available: int
    limit: int
    used: int





    def to_dict(self) -> dict[str, Any]:
        available = self.available

        limit = self.limit

        used = self.used


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "available": available,
            "limit": limit,
            "used": used,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        available = d.pop("available")

        limit = d.pop("limit")

        used = d.pop("used")

        resource = cls(
            available=available,
            limit=limit,
            used=used,
        )

        return resource

