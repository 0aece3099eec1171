from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.audit_entry_outcome import AuditEntryOutcome
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.audit_entry_changes import AuditEntryChanges





T = TypeVar("T", bound="AuditEntry")



@_attrs_define
class AuditEntry:
    """ 
        Attributes:
            action (str): e.g. vm.create
            actor_id (None | UUID):
            actor_username (None | str):
            changes (AuditEntryChanges): {"before": {...}, "after": {...}, "details": {...}}
            client_addr (None | str):
            created_at (datetime.datetime):
            error_code (None | str):
            id (int):
            object_id (None | str):
            object_type (None | str):
            outcome (AuditEntryOutcome):
            request_id (None | str):
            status_code (int):
            tenant_id (None | UUID):
     """

    action: str
    actor_id: None | UUID
    actor_username: None | str
    changes: AuditEntryChanges
    client_addr: None | str
    created_at: datetime.datetime
    error_code: None | str
    id: int
    object_id: None | str
    object_type: None | str
    outcome: AuditEntryOutcome
    request_id: None | str
    status_code: int
    tenant_id: None | UUID





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_entry_changes import AuditEntryChanges # noqa: PLC0415
        action = self.action

        actor_id: None | str
        if isinstance(self.actor_id, UUID):
            actor_id = str(self.actor_id)
        else:
            actor_id = self.actor_id

        actor_username: None | str
        actor_username = self.actor_username

        changes = self.changes.to_dict()

        client_addr: None | str
        client_addr = self.client_addr

        created_at = self.created_at.isoformat()

        error_code: None | str
        error_code = self.error_code

        id = self.id

        object_id: None | str
        object_id = self.object_id

        object_type: None | str
        object_type = self.object_type

        outcome = self.outcome.value

        request_id: None | str
        request_id = self.request_id

        status_code = self.status_code

        tenant_id: None | str
        if isinstance(self.tenant_id, UUID):
            tenant_id = str(self.tenant_id)
        else:
            tenant_id = self.tenant_id


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "action": action,
            "actor_id": actor_id,
            "actor_username": actor_username,
            "changes": changes,
            "client_addr": client_addr,
            "created_at": created_at,
            "error_code": error_code,
            "id": id,
            "object_id": object_id,
            "object_type": object_type,
            "outcome": outcome,
            "request_id": request_id,
            "status_code": status_code,
            "tenant_id": tenant_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_entry_changes import AuditEntryChanges # noqa: PLC0415
        d = dict(src_dict)
        action = d.pop("action")

        def _parse_actor_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_id_type_0 = UUID(data)



                return actor_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        actor_id = _parse_actor_id(d.pop("actor_id"))


        def _parse_actor_username(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        actor_username = _parse_actor_username(d.pop("actor_username"))


        changes = AuditEntryChanges.from_dict(d.pop("changes"))




        def _parse_client_addr(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_addr = _parse_client_addr(d.pop("client_addr"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_error_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_code = _parse_error_code(d.pop("error_code"))


        id = d.pop("id")

        def _parse_object_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        object_id = _parse_object_id(d.pop("object_id"))


        def _parse_object_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        object_type = _parse_object_type(d.pop("object_type"))


        outcome = AuditEntryOutcome(d.pop("outcome"))




        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))


        status_code = d.pop("status_code")

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


        audit_entry = cls(
            action=action,
            actor_id=actor_id,
            actor_username=actor_username,
            changes=changes,
            client_addr=client_addr,
            created_at=created_at,
            error_code=error_code,
            id=id,
            object_id=object_id,
            object_type=object_type,
            outcome=outcome,
            request_id=request_id,
            status_code=status_code,
            tenant_id=tenant_id,
        )

        return audit_entry

