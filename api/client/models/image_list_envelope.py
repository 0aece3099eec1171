from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.image_list_envelope_status import ImageListEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.image import Image
  from ..models.list_meta import ListMeta





T = TypeVar("T", bound="ImageListEnvelope")



@_attrs_define
class ImageListEnvelope:
    """ 
        Attributes:
            data (list[Image]):
            meta (ListMeta):
            status (ImageListEnvelopeStatus):  Default: ImageListEnvelopeStatus.SUCCESS.
     """

    data: list[Image]
    meta: ListMeta
    status: ImageListEnvelopeStatus = ImageListEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.image import Image # noqa: PLC0415
        from ..models.list_meta import ListMeta # noqa: PLC0415
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



        meta = self.meta.to_dict()

        status = self.status.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "data": data,
            "meta": meta,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image import Image # noqa: PLC0415
        from ..models.list_meta import ListMeta # noqa: PLC0415
        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = Image.from_dict(data_item_data)



            data.append(data_item)


        meta = ListMeta.from_dict(d.pop("meta"))




        status = ImageListEnvelopeStatus(d.pop("status"))




        image_list_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return image_list_envelope

