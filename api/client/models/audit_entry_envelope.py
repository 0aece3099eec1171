from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.audit_entry_envelope_status import AuditEntryEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.audit_entry import AuditEntry
  from ..models.meta import Meta





T = TypeVar("T", bound="AuditEntryEnvelope")



@_attrs_define
class AuditEntryEnvelope:
    """ 
        Attributes:
            data (AuditEntry):
            meta (Meta):
            status (AuditEntryEnvelopeStatus):  Default: AuditEntryEnvelopeStatus.SUCCESS.
     """

    data: AuditEntry
    meta: Meta
    status: AuditEntryEnvelopeStatus = AuditEntryEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_entry import AuditEntry # noqa: PLC0415
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
        from ..models.audit_entry import AuditEntry # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = AuditEntry.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = AuditEntryEnvelopeStatus(d.pop("status"))




        audit_entry_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return audit_entry_envelope

