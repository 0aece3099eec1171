from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.error_status import ErrorStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.events_purged_error_body import EventsPurgedErrorBody
  from ..models.meta import Meta





T = TypeVar("T", bound="EventsPurgedError")



@_attrs_define
class EventsPurgedError:
    """ 410 EVENTS_PURGED: This job's events were purged: it ended longer ago than events are kept.

        Attributes:
            error (EventsPurgedErrorBody):
            meta (Meta):
            status (ErrorStatus):
     """

    error: EventsPurgedErrorBody
    meta: Meta
    status: ErrorStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.events_purged_error_body import EventsPurgedErrorBody # noqa: PLC0415
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
        from ..models.events_purged_error_body import EventsPurgedErrorBody # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        error = EventsPurgedErrorBody.from_dict(d.pop("error"))




        meta = Meta.from_dict(d.pop("meta"))




        status = ErrorStatus(d.pop("status"))




        events_purged_error = cls(
            error=error,
            meta=meta,
            status=status,
        )

        return events_purged_error

