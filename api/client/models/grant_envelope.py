from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.grant_envelope_status import GrantEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.grant import Grant
  from ..models.meta import Meta





T = TypeVar("T", bound="GrantEnvelope")



@_attrs_define
class GrantEnvelope:
    """ 
        Attributes:
            data (Grant):
            meta (Meta):
            status (GrantEnvelopeStatus):  Default: GrantEnvelopeStatus.SUCCESS.
     """

    data: Grant
    meta: Meta
    status: GrantEnvelopeStatus = GrantEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.grant import Grant # noqa: PLC0415
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
        from ..models.grant import Grant # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = Grant.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = GrantEnvelopeStatus(d.pop("status"))




        grant_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return grant_envelope

