from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_envelope_status import ErrorEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.error_body import ErrorBody
  from ..models.meta import Meta





T = TypeVar("T", bound="ErrorEnvelope")



@_attrs_define
class ErrorEnvelope:
    """ 
        Attributes:
            error (ErrorBody):
            meta (Meta):
            status (ErrorEnvelopeStatus):  Default: ErrorEnvelopeStatus.ERROR.
     """

    error: ErrorBody
    meta: Meta
    status: ErrorEnvelopeStatus = ErrorEnvelopeStatus.ERROR





    def to_dict(self) -> dict[str, Any]:
        from ..models.error_body import ErrorBody # noqa: PLC0415
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
        from ..models.error_body import ErrorBody # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        error = ErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorEnvelopeStatus(d.pop("status"))




        error_envelope = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return error_envelope

