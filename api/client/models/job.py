from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_kind import JobKind
from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.job_artifacts import JobArtifacts
  from ..models.progress import Progress





T = TypeVar("T", bound="Job")



@_attrs_define
class Job:
    """ 
        Attributes:
            artifacts (JobArtifacts):
            baremetal_id (None | UUID): the host of a host job
            cancel_requested_at (datetime.datetime | None): a cancel of the running job was asked: its worker stops it
            created_at (datetime.datetime):
            explanation (None | str):
            finished_at (datetime.datetime | None):
            host (str):
            id (UUID):
            kind (JobKind):
            playbook (str):
            rc (int | None):
            request_id (None | str):
            started_at (datetime.datetime | None):
            status (JobStatus):
            tenant_id (None | UUID):
            vm_id (None | UUID):
            progress (Progress | Unset):
     """

    artifacts: JobArtifacts
    baremetal_id: None | UUID
    cancel_requested_at: datetime.datetime | None
    created_at: datetime.datetime
    explanation: None | str
    finished_at: datetime.datetime | None
    host: str
    id: UUID
    kind: JobKind
    playbook: str
    rc: int | None
    request_id: None | str
    started_at: datetime.datetime | None
    status: JobStatus
    tenant_id: None | UUID
    vm_id: None | UUID
    progress: Progress | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_artifacts import JobArtifacts # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        artifacts = self.artifacts.to_dict()

        baremetal_id: None | str
        if isinstance(self.baremetal_id, UUID):
            baremetal_id = str(self.baremetal_id)
        else:
            baremetal_id = self.baremetal_id

        cancel_requested_at: None | str
        if isinstance(self.cancel_requested_at, datetime.datetime):
            cancel_requested_at = self.cancel_requested_at.isoformat()
        else:
            cancel_requested_at = self.cancel_requested_at

        created_at = self.created_at.isoformat()

        explanation: None | str
        explanation = self.explanation

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        host = self.host

        id = str(self.id)

        kind = self.kind.value

        playbook = self.playbook

        rc: int | None
        rc = self.rc

        request_id: None | str
        request_id = self.request_id

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        tenant_id: None | str
        if isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id

        vm_id: None | str
        if isinstance(self.vm_id, UUID):
            vm_id = str(self.vm_id)
        else:
            vm_id = self.vm_id

        progress: dict[str, Any] | Unset = UNSET
        if not isinstance(self.progress, Unset):
            progress = self.progress.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "artifacts": artifacts,
            "baremetal_id": baremetal_id,
            "cancel_requested_at": cancel_requested_at,
            "created_at": created_at,
            "explanation": explanation,
            "finished_at": finished_at,
            "host": host,
            "id": id,
            "kind": kind,
            "playbook": playbook,
            "rc": rc,
            "request_id": request_id,
            "started_at": started_at,
            "status": status,
            "tenant_id": tenant_id,
            "vm_id": vm_id,
        })
        if progress is not UNSET:
            field_dict["progress"] = progress

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_artifacts import JobArtifacts # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        d = dict(src_dict)
        artifacts = JobArtifacts.from_dict(d.pop("artifacts"))




        def _parse_baremetal_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                baremetal_id_type_0 = UUID(data)



                return baremetal_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        baremetal_id = _parse_baremetal_id(d.pop("baremetal_id"))


        def _parse_cancel_requested_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                cancel_requested_at_type_0 = datetime.datetime.fromisoformat(data)



                return cancel_requested_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        cancel_requested_at = _parse_cancel_requested_at(d.pop("cancel_requested_at"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_explanation(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        explanation = _parse_explanation(d.pop("explanation"))


        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))


        host = d.pop("host")

        id = UUID(d.pop("id"))




        kind = JobKind(d.pop("kind"))




        playbook = d.pop("playbook")

        def _parse_rc(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rc = _parse_rc(d.pop("rc"))


        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))


        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))


        status = JobStatus(d.pop("status"))




        def _parse_tenant_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tenant_id_type_0 = UUID(data)



                return tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id"))


        def _parse_vm_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                vm_id_type_0 = UUID(data)



                return vm_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        vm_id = _parse_vm_id(d.pop("vm_id"))


        _progress = d.pop("progress", UNSET)
        progress: Progress | Unset
        if isinstance(_progress,  Unset):
            progress = UNSET
        else:
            progress = Progress.from_dict(_progress)




        job = cls(
            artifacts=artifacts,
            baremetal_id=baremetal_id,
            cancel_requested_at=cancel_requested_at,
            created_at=created_at,
            explanation=explanation,
            finished_at=finished_at,
            host=host,
            id=id,
            kind=kind,
            playbook=playbook,
            rc=rc,
            request_id=request_id,
            started_at=started_at,
            status=status,
            tenant_id=tenant_id,
            vm_id=vm_id,
            progress=progress,
        )

        return job

