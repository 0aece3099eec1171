from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.image_envelope_status import ImageEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.image import Image
  from ..models.meta import Meta





T = TypeVar("T", bound="ImageEnvelope")



@_attrs_define
class ImageEnvelope:
    """ 
        Attributes:
            data (Image):
            meta (Meta):
            status (ImageEnvelopeStatus):  Default: ImageEnvelopeStatus.SUCCESS.
     """

    data: Image
    meta: Meta
    status: ImageEnvelopeStatus = ImageEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.image import Image # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        data = self.data.to_dict()

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
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = Image.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ImageEnvelopeStatus(d.pop("status"))




        image_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return image_envelope

