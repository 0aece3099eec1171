from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_envelope_status import JobEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.job import Job
  from ..models.meta import Meta





T = TypeVar("T", bound="JobEnvelope")



@_attrs_define
class JobEnvelope:
    """ 
        Attributes:
            data (Job):
            meta (Meta):
            status (JobEnvelopeStatus):  Default: JobEnvelopeStatus.SUCCESS.
     """

    data: Job
    meta: Meta
    status: JobEnvelopeStatus = JobEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.job import Job # noqa: PLC0415
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
        from ..models.job import Job # noqa: PLC0415
        from ..models.meta import Meta # noqa: PLC0415
        d = dict(src_dict)
        data = Job.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = JobEnvelopeStatus(d.pop("status"))




        job_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return job_envelope

