from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Health")



@_attrs_define
class Health:
    """ 
        Attributes:
            database (str):
            redis (str):
     """

    database: str
    redis: str





    def to_dict(self) -> dict[str, Any]:
        database = self.database

        redis = self.redis


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "database": database,
            "redis": redis,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        database = d.pop("database")

        redis = d.pop("redis")

        health = cls(
            database=database,
            redis=redis,
        )

        return health

