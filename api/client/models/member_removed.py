from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.member_removed_role import MemberRemovedRole
from uuid import UUID






T = TypeVar("T", bound="MemberRemoved")



@_attrs_define
class MemberRemoved:
    """ 
        Attributes:
            delegated_grants_revoked (int): other users' grants that were delegated from the user's grants or role
                (transitively), revoked with them; the audit row lists them
            grants_dropped (int): the user's grants inside the tenant, removed
            role (MemberRemovedRole):
            tenant_id (UUID):
            user_id (UUID):
     """

    delegated_grants_revoked: int
    grants_dropped: int
    role: MemberRemovedRole
    tenant_id: UUID
    user_id: UUID





    def to_dict(self) -> dict[str, Any]:
        delegated_grants_revoked = self.delegated_grants_revoked

        grants_dropped = self.grants_dropped

        role = self.role.value

        tenant_id = str(self.tenant_id)

        user_id = str(self.user_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "delegated_grants_revoked": delegated_grants_revoked,
            "grants_dropped": grants_dropped,
            "role": role,
            "tenant_id": tenant_id,
            "user_id": user_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        delegated_grants_revoked = d.pop("delegated_grants_revoked")

        grants_dropped = d.pop("grants_dropped")

        role = MemberRemovedRole(d.pop("role"))




        tenant_id = UUID(d.pop("tenant_id"))




        user_id = UUID(d.pop("user_id"))




        member_removed = cls(
            delegated_grants_revoked=delegated_grants_revoked,
            grants_dropped=grants_dropped,
            role=role,
            tenant_id=tenant_id,
            user_id=user_id,
        )

        return member_removed

