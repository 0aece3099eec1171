from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.action_result import ActionResult
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.action_actor_type_1_type_0 import ActionActorType1Type0
  from ..models.actor import Actor





T = TypeVar("T", bound="Action")



@_attrs_define
class Action:
    """ 
        Attributes:
            action (str): the job's kind, or the audit action: vm.create, vm.stop, vm.reconcile, vm.force_delete, ops.run
                ...
            actor (ActionActorType1Type0 | Actor | None): the user who asked; null for the reconciler and hand runs
            audit_id (int | None): the audit row that recorded a change without a job, or a hand run
            finished_at (datetime.datetime | None):
            job_id (None | UUID): the job that ran it; for vm.reconcile the job whose report found the change; null for a
                force delete
            message (None | str): the job's explanation, or what a change without a job saw
            request_id (None | str):
            requested_at (datetime.datetime):
            result (ActionResult):
            source (str): `api` (a request, by `actor`), `reconciler` (libvirt changed without VirtFlow) or `ops:<OS user>`
                (a hand run of a playbook)
            started_at (datetime.datetime | None):
            status_after (None | str): a change without a job: the VM's status after it
            status_before (None | str): a change without a job: the VM's status before it
     """

    action: str
    actor: ActionActorType1Type0 | Actor | None
    audit_id: int | None
    finished_at: datetime.datetime | None
    job_id: None | UUID
    message: None | str
    request_id: None | str
    requested_at: datetime.datetime
    result: ActionResult
    source: str
    started_at: datetime.datetime | None
    status_after: None | str
    status_before: None | str





    def to_dict(self) -> dict[str, Any]:
        from ..models.action_actor_type_1_type_0 import ActionActorType1Type0 # noqa: PLC0415
        from ..models.actor import Actor # noqa: PLC0415
        action = self.action

        actor: dict[str, Any] | None
        if isinstance(self.actor, Actor):
            actor = self.actor.to_dict()
        elif isinstance(self.actor, ActionActorType1Type0):
            actor = self.actor.to_dict()
        else:
            actor = self.actor

        audit_id: int | None
        audit_id = self.audit_id

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        job_id: None | str
        if isinstance(self.job_id, UUID):
            job_id = str(self.job_id)
        else:
            job_id = self.job_id

        message: None | str
        message = self.message

        request_id: None | str
        request_id = self.request_id

        requested_at = self.requested_at.isoformat()

        result = self.result.value

        source = self.source

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status_after: None | str
        status_after = self.status_after

        status_before: None | str
        status_before = self.status_before


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "action": action,
            "actor": actor,
            "audit_id": audit_id,
            "finished_at": finished_at,
            "job_id": job_id,
            "message": message,
            "request_id": request_id,
            "requested_at": requested_at,
            "result": result,
            "source": source,
            "started_at": started_at,
            "status_after": status_after,
            "status_before": status_before,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.action_actor_type_1_type_0 import ActionActorType1Type0 # noqa: PLC0415
        from ..models.actor import Actor # noqa: PLC0415
        d = dict(src_dict)
        action = d.pop("action")

        def _parse_actor(data: object) -> ActionActorType1Type0 | Actor | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                actor_type_0 = Actor.from_dict(data)



                return actor_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                actor_type_1_type_0 = ActionActorType1Type0.from_dict(data)



                return actor_type_1_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ActionActorType1Type0 | Actor | None, data)

        actor = _parse_actor(d.pop("actor"))


        def _parse_audit_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        audit_id = _parse_audit_id(d.pop("audit_id"))


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


        def _parse_job_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                job_id_type_0 = UUID(data)



                return job_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        job_id = _parse_job_id(d.pop("job_id"))


        def _parse_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        message = _parse_message(d.pop("message"))


        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))


        requested_at = datetime.datetime.fromisoformat(d.pop("requested_at"))




        result = ActionResult(d.pop("result"))




        source = d.pop("source")

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


        def _parse_status_after(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_after = _parse_status_after(d.pop("status_after"))


        def _parse_status_before(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_before = _parse_status_before(d.pop("status_before"))


        action = cls(
            action=action,
            actor=actor,
            audit_id=audit_id,
            finished_at=finished_at,
            job_id=job_id,
            message=message,
            request_id=request_id,
            requested_at=requested_at,
            result=result,
            source=source,
            started_at=started_at,
            status_after=status_after,
            status_before=status_before,
        )

        return action

