from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.baremetal_envelope_status import BaremetalEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.baremetal import Baremetal
  from ..models.meta import Meta





T = TypeVar("T", bound="BaremetalEnvelope")



@_attrs_define
class BaremetalEnvelope:
    """ 
        Attributes:
            data (Baremetal):
            meta (Meta):
            status (BaremetalEnvelopeStatus):  Default: BaremetalEnvelopeStatus.SUCCESS.
     """

    data: Baremetal
    meta: Meta
    status: BaremetalEnvelopeStatus = BaremetalEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.baremetal import Baremetal # noqa: PLC0415
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
        from ..models.baremetal import Baremetal # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = Baremetal.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = BaremetalEnvelopeStatus(d.pop("status"))




        baremetal_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return baremetal_envelope

