from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.member_role import MemberRole
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Member")



@_attrs_define
class Member:
    """ 
        Attributes:
            created_at (datetime.datetime):
            role (MemberRole):
            tenant_id (UUID):
            user_id (UUID):
            username (str):
     """

    created_at: datetime.datetime
    role: MemberRole
    tenant_id: UUID
    user_id: UUID
    username: str





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        role = self.role.value

        tenant_id = str(self.tenant_id)

        user_id = str(self.user_id)

        username = self.username


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "created_at": created_at,
            "role": role,
            "tenant_id": tenant_id,
            "user_id": user_id,
            "username": username,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        role = MemberRole(d.pop("role"))




        tenant_id = UUID(d.pop("tenant_id"))




        user_id = UUID(d.pop("user_id"))




        username = d.pop("username")

        member = cls(
            created_at=created_at,
            role=role,
            tenant_id=tenant_id,
            user_id=user_id,
            username=username,
        )

        return member

