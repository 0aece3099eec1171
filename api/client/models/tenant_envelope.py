from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.tenant_envelope_status import TenantEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.tenant import Tenant





T = TypeVar("T", bound="TenantEnvelope")



@_attrs_define
class TenantEnvelope:
    """ 
        Attributes:
            data (Tenant):
            meta (Meta):
            status (TenantEnvelopeStatus):  Default: TenantEnvelopeStatus.SUCCESS.
     """

    data: Tenant
    meta: Meta
    status: TenantEnvelopeStatus = TenantEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.tenant import Tenant # noqa: PLC0415
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
        from ..models.tenant import Tenant # noqa: PLC0415
        d = dict(src_dict)
        data = Tenant.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = TenantEnvelopeStatus(d.pop("status"))




        tenant_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return tenant_envelope

