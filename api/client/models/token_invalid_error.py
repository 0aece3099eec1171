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
  from ..models.token_invalid_error_body import TokenInvalidErrorBody





T = TypeVar("T", bound="TokenInvalidError")



@_attrs_define
class TokenInvalidError:
    """ 401 TOKEN_INVALID: The token is malformed, has a bad signature or is of the wrong type.

        Attributes:
            error (TokenInvalidErrorBody):
            meta (Meta):
            status (ErrorStatus):
     """

    error: TokenInvalidErrorBody
    meta: Meta
    status: ErrorStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.token_invalid_error_body import TokenInvalidErrorBody # noqa: PLC0415
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
        from ..models.token_invalid_error_body import TokenInvalidErrorBody # noqa: PLC0415
        d = dict(src_dict)
        error = TokenInvalidErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorStatus(d.pop("status"))




        token_invalid_error = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return token_invalid_error

