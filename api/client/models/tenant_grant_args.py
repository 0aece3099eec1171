from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.tenant_grant_args_permission import TenantGrantArgsPermission
from uuid import UUID






T = TypeVar("T", bound="TenantGrantArgs")



@_attrs_define
class TenantGrantArgs:
    """ 
        Attributes:
            permission (TenantGrantArgsPermission): grantable on a tenant
            user_id (UUID):
     """

    permission: TenantGrantArgsPermission
    user_id: UUID





    def to_dict(self) -> dict[str, Any]:
        permission = self.permission.value

        user_id = str(self.user_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "permission": permission,
            "user_id": user_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        permission = TenantGrantArgsPermission(d.pop("permission"))




        user_id = UUID(d.pop("user_id"))




        tenant_grant_args = cls(
            permission=permission,
            user_id=user_id,
        )

        return tenant_grant_args

