from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_stdout_envelope_status import JobStdoutEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.job_stdout import JobStdout
  from ..models.meta import Meta





T = TypeVar("T", bound="JobStdoutEnvelope")



@_attrs_define
class JobStdoutEnvelope:
    """ 
        Attributes:
            data (JobStdout):
            meta (Meta):
            status (JobStdoutEnvelopeStatus):  Default: JobStdoutEnvelopeStatus.SUCCESS.
     """

    data: JobStdout
    meta: Meta
    status: JobStdoutEnvelopeStatus = JobStdoutEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_stdout import JobStdout # noqa: PLC0415
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
        from ..models.job_stdout import JobStdout # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = JobStdout.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = JobStdoutEnvelopeStatus(d.pop("status"))




        job_stdout_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return job_stdout_envelope

