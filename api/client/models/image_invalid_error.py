from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_status import ErrorStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.image_invalid_error_body import ImageInvalidErrorBody
  from ..models.meta import Meta





T = TypeVar("T", bound="ImageInvalidError")



@_attrs_define
class ImageInvalidError:
    """ 422 IMAGE_INVALID: The image content was refused (format not as declared, a backing or external data file, or
    unreadable); details give the reason. Nothing was kept.

        Attributes:
            error (ImageInvalidErrorBody):
            meta (Meta):
            status (ErrorStatus):
     """

    error: ImageInvalidErrorBody
    meta: Meta
    status: ErrorStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.image_invalid_error_body import ImageInvalidErrorBody # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        error = self.error.to_dict()

        meta = self.meta.to_dict()

        status = self.status.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "error": error,
            "meta": meta,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_invalid_error_body import ImageInvalidErrorBody # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        error = ImageInvalidErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorStatus(d.pop("status"))




        image_invalid_error = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return image_invalid_error

