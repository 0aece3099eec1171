from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.logout_envelope_status import LogoutEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.logout import Logout
  from ..models.meta import Meta





T = TypeVar("T", bound="LogoutEnvelope")



@_attrs_define
class LogoutEnvelope:
    """ 
        Attributes:
            data (Logout):
            meta (Meta):
            status (LogoutEnvelopeStatus):  Default: LogoutEnvelopeStatus.SUCCESS.
     """

    data: Logout
    meta: Meta
    status: LogoutEnvelopeStatus = LogoutEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.logout import Logout # noqa: PLC0415
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
        from ..models.logout import Logout # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = Logout.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = LogoutEnvelopeStatus(d.pop("status"))




        logout_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return logout_envelope

