from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.tenant_access_role_type_1 import TenantAccessRoleType1
from ..models.tenant_access_role_type_2_type_1 import TenantAccessRoleType2Type1
from ..models.tenant_access_role_type_3_type_1 import TenantAccessRoleType3Type1
from ..models.tenant_access_status import TenantAccessStatus
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="TenantAccess")



@_attrs_define
class TenantAccess:
    """ 
        Attributes:
            id (UUID):
            name (str):
            permissions (list[str]): effective permissions on the tenant: role plus grants
            role (None | TenantAccessRoleType1 | TenantAccessRoleType2Type1 | TenantAccessRoleType3Type1): membership role
            status (TenantAccessStatus):
     """

    id: UUID
    name: str
    permissions: list[str]
    role: None | TenantAccessRoleType1 | TenantAccessRoleType2Type1 | TenantAccessRoleType3Type1
    status: TenantAccessStatus





    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        permissions = self.permissions



        role: None | str
        if isinstance(self.role, TenantAccessRoleType1):
            role = self.role.value
        elif isinstance(self.role, TenantAccessRoleType2Type1):
            role = self.role.value
        elif isinstance(self.role, TenantAccessRoleType3Type1):
            role = self.role.value
        else:
            role = self.role

        status = self.status.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "id": id,
            "name": name,
            "permissions": permissions,
            "role": role,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))




        name = d.pop("name")

        permissions = cast(list[str], d.pop("permissions"))


        def _parse_role(data: object) -> None | TenantAccessRoleType1 | TenantAccessRoleType2Type1 | TenantAccessRoleType3Type1:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                role_type_1 = TenantAccessRoleType1(data)



                return role_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                role_type_2_type_1 = TenantAccessRoleType2Type1(data)



                return role_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                role_type_3_type_1 = TenantAccessRoleType3Type1(data)



                return role_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TenantAccessRoleType1 | TenantAccessRoleType2Type1 | TenantAccessRoleType3Type1, data)

        role = _parse_role(d.pop("role"))


        status = TenantAccessStatus(d.pop("status"))




        tenant_access = cls(
            id=id,
            name=name,
            permissions=permissions,
            role=role,
            status=status,
        )

        return tenant_access

