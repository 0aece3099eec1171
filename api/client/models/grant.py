from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.grant_object_type import GrantObjectType
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Grant")



@_attrs_define
class Grant:
    """ 
        Attributes:
            created_at (datetime.datetime):
            granted_by_id (None | UUID):
            id (UUID):
            object_id (UUID):
            object_type (GrantObjectType):
            permission (str):
            tenant_id (UUID):
            user_id (UUID):
     """

    created_at: datetime.datetime
    granted_by_id: None | UUID
    id: UUID
    object_id: UUID
    object_type: GrantObjectType
    permission: str
    tenant_id: UUID
    user_id: UUID





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        granted_by_id: None | str
        if isinstance(self.granted_by_id, UUID):
            granted_by_id = str(self.granted_by_id)
        else:
            granted_by_id = self.granted_by_id

        id = str(self.id)

        object_id = str(self.object_id)

        object_type = self.object_type.value

        permission = self.permission

        tenant_id = str(self.tenant_id)

        user_id = str(self.user_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "created_at": created_at,
            "granted_by_id": granted_by_id,
            "id": id,
            "object_id": object_id,
            "object_type": object_type,
            "permission": permission,
            "tenant_id": tenant_id,
            "user_id": user_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_granted_by_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                granted_by_id_type_0 = UUID(data)



                return granted_by_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        granted_by_id = _parse_granted_by_id(d.pop("granted_by_id"))


        id = UUID(d.pop("id"))




        object_id = UUID(d.pop("object_id"))




        object_type = GrantObjectType(d.pop("object_type"))




        permission = d.pop("permission")

        tenant_id = UUID(d.pop("tenant_id"))




        user_id = UUID(d.pop("user_id"))




        grant = cls(
            created_at=created_at,
            granted_by_id=granted_by_id,
            id=id,
            object_id=object_id,
            object_type=object_type,
            permission=permission,
            tenant_id=tenant_id,
            user_id=user_id,
        )

        return grant

