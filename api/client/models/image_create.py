from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.image_create_format import ImageCreateFormat
from ..models.image_create_visibility import ImageCreateVisibility
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="ImageCreate")



@_attrs_define
class ImageCreate:
    """ 
        Attributes:
            name (str): unique among images that are not deleted
            default_user (str | Unset): the login the image's cloud-init creates Default: 'virtflow'.
            format_ (ImageCreateFormat | Unset): what the content must be; qemu-img checks it on upload Default:
                ImageCreateFormat.QCOW2.
            tenant_id (None | Unset | UUID): the tenant of a private image; must be absent for a public one
            visibility (ImageCreateVisibility | Unset):  Default: ImageCreateVisibility.PUBLIC.
     """

    name: str
    default_user: str | Unset = 'virtflow'
    format_: ImageCreateFormat | Unset = ImageCreateFormat.QCOW2
    tenant_id: None | Unset | UUID = UNSET
    visibility: ImageCreateVisibility | Unset = ImageCreateVisibility.PUBLIC





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        default_user = self.default_user

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value


        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        elif isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        visibility: str | Unset = UNSET
        if not isinstance(self.visibility, Unset):
            visibility = self.visibility.value



        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
        })
        if default_user is not UNSET:
            field_dict["default_user"] = default_user
        if format_ is not UNSET:
            field_dict["format"] = format_
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if visibility is not UNSET:
            field_dict["visibility"] = visibility

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        default_user = d.pop("default_user", UNSET)

        _format_ = d.pop("format", UNSET)
        format_: ImageCreateFormat | Unset
        if isinstance(_format_,  Unset):
            format_ = UNSET
        else:
            format_ = ImageCreateFormat(_format_)




        def _parse_tenant_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tenant_id_type_0 = UUID(data)



                return tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))


        _visibility = d.pop("visibility", UNSET)
        visibility: ImageCreateVisibility | Unset
        if isinstance(_visibility,  Unset):
            visibility = UNSET
        else:
            visibility = ImageCreateVisibility(_visibility)




        image_create = cls(
            name=name,
            default_user=default_user,
            format_=format_,
            tenant_id=tenant_id,
            visibility=visibility,
        )

        return image_create

