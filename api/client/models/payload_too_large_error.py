from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_status import ErrorStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.payload_too_large_error_body import PayloadTooLargeErrorBody





T = TypeVar("T", bound="PayloadTooLargeError")



@_attrs_define
class PayloadTooLargeError:
    """ 413 PAYLOAD_TOO_LARGE: The request body is larger than the server accepts.

        Attributes:
            error (PayloadTooLargeErrorBody):
            meta (Meta):
            status (ErrorStatus):
     """

    error: PayloadTooLargeErrorBody
    meta: Meta
    status: ErrorStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.payload_too_large_error_body import PayloadTooLargeErrorBody # noqa: PLC0415
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
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.payload_too_large_error_body import PayloadTooLargeErrorBody # noqa: PLC0415
        d = dict(src_dict)
        error = PayloadTooLargeErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorStatus(d.pop("status"))




        payload_too_large_error = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return payload_too_large_error

