from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_status import ErrorStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.idempotency_key_reused_error_body import IdempotencyKeyReusedErrorBody
  from ..models.meta import Meta





T = TypeVar("T", bound="IdempotencyKeyReusedError")



@_attrs_define
class IdempotencyKeyReusedError:
    """ 422 IDEMPOTENCY_KEY_REUSED: This Idempotency-Key was sent with another request; use a new key for a new request.

        Attributes:
            error (IdempotencyKeyReusedErrorBody):
            meta (Meta):
            status (ErrorStatus):
     """

    error: IdempotencyKeyReusedErrorBody
    meta: Meta
    status: ErrorStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.idempotency_key_reused_error_body import IdempotencyKeyReusedErrorBody # noqa: PLC0415
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
        from ..models.idempotency_key_reused_error_body import IdempotencyKeyReusedErrorBody # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        error = IdempotencyKeyReusedErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorStatus(d.pop("status"))




        idempotency_key_reused_error = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return idempotency_key_reused_error

