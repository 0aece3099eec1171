from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.object_grant import ObjectGrant
  from ..models.tenant_access import TenantAccess
  from ..models.user import User





T = TypeVar("T", bound="Me")



@_attrs_define
class Me:
    """ 
        Attributes:
            object_grants (list[ObjectGrant]):
            permissions (list[str]): held on every object through the platform role
            roles (list[str]): platform roles
            tenants (list[TenantAccess]):
            user (User):
     """

    object_grants: list[ObjectGrant]
    permissions: list[str]
    roles: list[str]
    tenants: list[TenantAccess]
    user: User





    def to_dict(self) -> dict[str, Any]:
        from ..models.object_grant import ObjectGrant # noqa: PLC0415
        from ..models.tenant_access import TenantAccess # noqa: PLC0415
        from ..models.user import User # noqa: PLC0415
        object_grants = []
        for object_grants_item_data in self.object_grants:
            object_grants_item = object_grants_item_data.to_dict()
            object_grants.append(object_grants_item)



        permissions = self.permissions



        roles = self.roles



        tenants = []
        for tenants_item_data in self.tenants:
            tenants_item = tenants_item_data.to_dict()
            tenants.append(tenants_item)



        user = self.user.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "object_grants": object_grants,
            "permissions": permissions,
            "roles": roles,
            "tenants": tenants,
            "user": user,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.object_grant import ObjectGrant # noqa: PLC0415
        from ..models.tenant_access import TenantAccess # noqa: PLC0415
        from ..models.user import User # noqa: PLC0415
        d = dict(src_dict)
        object_grants = []
        _object_grants = d.pop("object_grants")
        for object_grants_item_data in (_object_grants):
            object_grants_item = ObjectGrant.from_dict(object_grants_item_data)



            object_grants.append(object_grants_item)


        permissions = cast(list[str], d.pop("permissions"))


        roles = cast(list[str], d.pop("roles"))


        tenants = []
        _tenants = d.pop("tenants")
        for tenants_item_data in (_tenants):
            tenants_item = TenantAccess.from_dict(tenants_item_data)



            tenants.append(tenants_item)


        user = User.from_dict(d.pop("user"))




        me = cls(
            object_grants=object_grants,
            permissions=permissions,
            roles=roles,
            tenants=tenants,
            user=user,
        )

        return me

