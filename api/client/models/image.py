from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.image_format import ImageFormat
from ..models.image_status import ImageStatus
from ..models.image_visibility import ImageVisibility
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Image")



@_attrs_define
class Image:
    """ 
        Attributes:
            created_at (datetime.datetime):
            default_user (str):
            deleted_at (datetime.datetime | None):
            format_ (ImageFormat):
            id (UUID):
            name (str):
            sha256 (None | str): hex sha256 of the content, computed as it was received
            size (int | None): bytes of the stored file
            status (ImageStatus):
            tenant_id (None | UUID):
            updated_at (datetime.datetime):
            virtual_size (int | None): bytes the guest sees (qemu-img), once the content is in
            visibility (ImageVisibility):
     """

    created_at: datetime.datetime
    default_user: str
    deleted_at: datetime.datetime | None
    format_: ImageFormat
    id: UUID
    name: str
    sha256: None | str
    size: int | None
    status: ImageStatus
    tenant_id: None | UUID
    updated_at: datetime.datetime
    virtual_size: int | None
    visibility: ImageVisibility





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        default_user = self.default_user

        deleted_at: None | str
        if isinstance(self.deleted_at, datetime.datetime):
            deleted_at = self.deleted_at.isoformat()
        else:
            deleted_at = self.deleted_at

        format_ = self.format_.value

        id = str(self.id)

        name = self.name

        sha256: None | str
        sha256 = self.sha256

        size: int | None
        size = self.size

        status = self.status.value

        tenant_id: None | str
        if isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        updated_at = self.updated_at.isoformat()

        virtual_size: int | None
        virtual_size = self.virtual_size

        visibility = self.visibility.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "created_at": created_at,
            "default_user": default_user,
            "deleted_at": deleted_at,
            "format": format_,
            "id": id,
            "name": name,
            "sha256": sha256,
            "size": size,
            "status": status,
            "tenant_id": tenant_id,
            "updated_at": updated_at,
            "virtual_size": virtual_size,
            "visibility": visibility,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        default_user = d.pop("default_user")

        def _parse_deleted_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deleted_at_type_0 = datetime.datetime.fromisoformat(data)



                return deleted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        deleted_at = _parse_deleted_at(d.pop("deleted_at"))


        format_ = ImageFormat(d.pop("format"))




        id = UUID(d.pop("id"))




        name = d.pop("name")

        def _parse_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sha256 = _parse_sha256(d.pop("sha256"))


        def _parse_size(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        size = _parse_size(d.pop("size"))


        status = ImageStatus(d.pop("status"))




        def _parse_tenant_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tenant_id_type_0 = UUID(data)



                return tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id"))


        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_virtual_size(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        virtual_size = _parse_virtual_size(d.pop("virtual_size"))


        visibility = ImageVisibility(d.pop("visibility"))




        image = cls(
            created_at=created_at,
            default_user=default_user,
            deleted_at=deleted_at,
            format_=format_,
            id=id,
            name=name,
            sha256=sha256,
            size=size,
            status=status,
            tenant_id=tenant_id,
            updated_at=updated_at,
            virtual_size=virtual_size,
            visibility=visibility,
        )

        return image

