from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.error_body_details import ErrorBodyDetails





T = TypeVar("T", bound="ErrorBody")



@_attrs_define
class ErrorBody:
    """ 
        Attributes:
            code (str): stable UPPER_SNAKE code
            details (ErrorBodyDetails):
            message (str):
     """

    code: str
    details: ErrorBodyDetails
    message: str





    def to_dict(self) -> dict[str, Any]:
        from ..models.error_body_details import ErrorBodyDetails # noqa: PLC0415
        code = self.code

        details = self.details.to_dict()

        message = self.message


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code": code,
            "details": details,
            "message": message,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_body_details import ErrorBodyDetails # noqa: PLC0415
        d = dict(src_dict)
        code = d.pop("code")

        details = ErrorBodyDetails.from_dict(d.pop("details"))




        message = d.pop("message")

        error_body = cls(
            code=code,
            details=details,
            message=message,
        )

        return error_body

