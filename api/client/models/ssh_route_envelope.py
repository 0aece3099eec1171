from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.ssh_route_envelope_status import SSHRouteEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.ssh_route import SSHRoute





T = TypeVar("T", bound="SSHRouteEnvelope")



@_attrs_define
class SSHRouteEnvelope:
    """ 
        Attributes:
            data (SSHRoute):
            meta (Meta):
            status (SSHRouteEnvelopeStatus):  Default: SSHRouteEnvelopeStatus.SUCCESS.
     """

    data: SSHRoute
    meta: Meta
    status: SSHRouteEnvelopeStatus = SSHRouteEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.ssh_route import SSHRoute # noqa: PLC0415
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
        from ..models.ssh_route import SSHRoute # noqa: PLC0415
        d = dict(src_dict)
        data = SSHRoute.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = SSHRouteEnvelopeStatus(d.pop("status"))




        ssh_route_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return ssh_route_envelope

