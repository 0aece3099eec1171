from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from uuid import UUID






T = TypeVar("T", bound="ObjectGrant")



@_attrs_define
class ObjectGrant:
    """ 
        Attributes:
            object_id (UUID):
            object_type (str):
            permission (str):
            tenant_id (UUID):
     """

    object_id: UUID
    object_type: str
    permission: str
    tenant_id: UUID





    def to_dict(self) -> dict[str, Any]:
        object_id = str(self.object_id)

        object_type = self.object_type

        permission = self.permission

        tenant_id = str(self.tenant_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "object_id": object_id,
            "object_type": object_type,
            "permission": permission,
            "tenant_id": tenant_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_id = UUID(d.pop("object_id"))




        object_type = d.pop("object_type")

        permission = d.pop("permission")

        tenant_id = UUID(d.pop("tenant_id"))




        object_grant = cls(
            object_id=object_id,
            object_type=object_type,
            permission=permission,
            tenant_id=tenant_id,
        )

        return object_grant

