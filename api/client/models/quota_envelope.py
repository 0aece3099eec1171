from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.quota_envelope_status import QuotaEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.quota import Quota





T = TypeVar("T", bound="QuotaEnvelope")



@_attrs_define
class QuotaEnvelope:
    """ 
        Attributes:
            data (Quota):
            meta (Meta):
            status (QuotaEnvelopeStatus):  Default: QuotaEnvelopeStatus.SUCCESS.
     """

    data: Quota
    meta: Meta
    status: QuotaEnvelopeStatus = QuotaEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.quota import Quota # noqa: PLC0415
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
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.quota import Quota # noqa: PLC0415
        d = dict(src_dict)
        data = Quota.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = QuotaEnvelopeStatus(d.pop("status"))




        quota_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return quota_envelope

