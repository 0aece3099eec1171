from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.snapshot_power_state_type_1 import SnapshotPowerStateType1
from ..models.snapshot_power_state_type_2_type_1 import SnapshotPowerStateType2Type1
from ..models.snapshot_power_state_type_3_type_1 import SnapshotPowerStateType3Type1
from ..models.snapshot_status import SnapshotStatus
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="Snapshot")



@_attrs_define
class Snapshot:
    """ 
        Attributes:
            created_at (datetime.datetime):
            deleted_at (datetime.datetime | None):
            description (None | str):
            id (UUID):
            job_id (None | UUID): the snapshot's latest job: its take, its delete or a revert
            name (str):
            power_state (None | SnapshotPowerStateType1 | SnapshotPowerStateType2Type1 | SnapshotPowerStateType3Type1): the
                VM's power state when the snapshot was taken (null until it is ready): a revert ends the VM in it
            status (SnapshotStatus):
            status_reason (None | str):
            tenant_id (UUID):
            updated_at (datetime.datetime):
            vm_id (UUID):
     """

    created_at: datetime.datetime
    deleted_at: datetime.datetime | None
    description: None | str
    id: UUID
    job_id: None | UUID
    name: str
    power_state: None | SnapshotPowerStateType1 | SnapshotPowerStateType2Type1 | SnapshotPowerStateType3Type1
    status: SnapshotStatus
    status_reason: None | str
    tenant_id: UUID
    updated_at: datetime.datetime
    vm_id: UUID





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        deleted_at: None | str
        if isinstance(self.deleted_at, datetime.datetime):
            deleted_at = self.deleted_at.isoformat()
        else:
            deleted_at = self.deleted_at

        description: None | str
        description = self.description

        id = str(self.id)

        job_id: None | str
        if isinstance(self.job_id, UUID):
            job_id = str(self.job_id)
        else:
            job_id = self.job_id

        name = self.name

        power_state: None | str
        if isinstance(self.power_state, SnapshotPowerStateType1):
            power_state = self.power_state.value
        elif isinstance(self.power_state, SnapshotPowerStateType2Type1):
            power_state = self.power_state.value
        elif isinstance(self.power_state, SnapshotPowerStateType3Type1):
            power_state = self.power_state.value
        else:
            power_state = self.power_state

        status = self.status.value

        status_reason: None | str
        status_reason = self.status_reason

        tenant_id = str(self.tenant_id)

        updated_at = self.updated_at.isoformat()

        vm_id = str(self.vm_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "created_at": created_at,
            "deleted_at": deleted_at,
            "description": description,
            "id": id,
            "job_id": job_id,
            "name": name,
            "power_state": power_state,
            "status": status,
            "status_reason": status_reason,
            "tenant_id": tenant_id,
            "updated_at": updated_at,
            "vm_id": vm_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_deleted_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deleted_at_type_0 = datetime.datetime.fromisoformat(data)



                return deleted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        deleted_at = _parse_deleted_at(d.pop("deleted_at"))


        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))


        id = UUID(d.pop("id"))




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


        name = d.pop("name")

        def _parse_power_state(data: object) -> None | SnapshotPowerStateType1 | SnapshotPowerStateType2Type1 | SnapshotPowerStateType3Type1:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                power_state_type_1 = SnapshotPowerStateType1(data)



                return power_state_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                power_state_type_2_type_1 = SnapshotPowerStateType2Type1(data)



                return power_state_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                power_state_type_3_type_1 = SnapshotPowerStateType3Type1(data)



                return power_state_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SnapshotPowerStateType1 | SnapshotPowerStateType2Type1 | SnapshotPowerStateType3Type1, data)

        power_state = _parse_power_state(d.pop("power_state"))


        status = SnapshotStatus(d.pop("status"))




        def _parse_status_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_reason = _parse_status_reason(d.pop("status_reason"))


        tenant_id = UUID(d.pop("tenant_id"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        vm_id = UUID(d.pop("vm_id"))




        snapshot = cls(
            created_at=created_at,
            deleted_at=deleted_at,
            description=description,
            id=id,
            job_id=job_id,
            name=name,
            power_state=power_state,
            status=status,
            status_reason=status_reason,
            tenant_id=tenant_id,
            updated_at=updated_at,
            vm_id=vm_id,
        )

        return snapshot

