from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="User")



@_attrs_define
class User:
    """ 
        Attributes:
            created_at (datetime.datetime):
            id (UUID):
            is_active (bool):
            is_admin (bool): platform role `admin`; set with the CLI only
            updated_at (datetime.datetime):
            username (str):
     """

    created_at: datetime.datetime
    id: UUID
    is_active: bool
    is_admin: bool
    updated_at: datetime.datetime
    username: str





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = str(self.id)

        is_active = self.is_active

        is_admin = self.is_admin

        updated_at = self.updated_at.isoformat()

        username = self.username


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "created_at": created_at,
            "id": id,
            "is_active": is_active,
            "is_admin": is_admin,
            "updated_at": updated_at,
            "username": username,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        id = UUID(d.pop("id"))




        is_active = d.pop("is_active")

        is_admin = d.pop("is_admin")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        username = d.pop("username")

        user = cls(
            created_at=created_at,
            id=id,
            is_active=is_active,
            is_admin=is_admin,
            updated_at=updated_at,
            username=username,
        )

        return user

