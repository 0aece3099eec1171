from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.password_changed_envelope_status import PasswordChangedEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.password_changed import PasswordChanged





T = TypeVar("T", bound="PasswordChangedEnvelope")



@_attrs_define
class PasswordChangedEnvelope:
    """ 
        Attributes:
            data (PasswordChanged):
            meta (Meta):
            status (PasswordChangedEnvelopeStatus):  Default: PasswordChangedEnvelopeStatus.SUCCESS.
     """

    data: PasswordChanged
    meta: Meta
    status: PasswordChangedEnvelopeStatus = PasswordChangedEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.password_changed import PasswordChanged # noqa: PLC0415
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
        from ..models.password_changed import PasswordChanged # noqa: PLC0415
        d = dict(src_dict)
        data = PasswordChanged.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = PasswordChangedEnvelopeStatus(d.pop("status"))




        password_changed_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return password_changed_envelope

