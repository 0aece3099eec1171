from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.events_purged_error_body_code import EventsPurgedErrorBodyCode
from typing import cast

if TYPE_CHECKING:
  from ..models.error_details import ErrorDetails





T = TypeVar("T", bound="EventsPurgedErrorBody")



@_attrs_define
class EventsPurgedErrorBody:
    """ 
        Attributes:
            code (EventsPurgedErrorBodyCode):
            details (ErrorDetails): What the code's documentation says it carries; may be empty.
            message (str):
     """

    code: EventsPurgedErrorBodyCode
    details: ErrorDetails
    message: str





    def to_dict(self) -> dict[str, Any]:
        from ..models.error_details import ErrorDetails # noqa: PLC0415
        code = self.code.value

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
        from ..models.error_details import ErrorDetails # noqa: PLC0415
        d = dict(src_dict)
        code = EventsPurgedErrorBodyCode(d.pop("code"))




        details = ErrorDetails.from_dict(d.pop("details"))




        message = d.pop("message")

        events_purged_error_body = cls(
            code=code,
            details=details,
            message=message,
        )

        return events_purged_error_body

