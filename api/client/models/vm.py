from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.vm_host_state_type_1 import VMHostStateType1
from ..models.vm_host_state_type_2_type_1 import VMHostStateType2Type1
from ..models.vm_host_state_type_3_type_1 import VMHostStateType3Type1
from ..models.vm_status import VMStatus
from typing import cast
from uuid import UUID
import datetime






T = TypeVar("T", bound="VM")



@_attrs_define
class VM:
    """ 
        Attributes:
            anti_affinity_group (None | str):
            baremetal (None | str): inventory name of the baremetal host
            created_at (datetime.datetime):
            deleted_at (datetime.datetime | None):
            disk_gb (int):
            domain_name (str):
            domain_uuid (None | UUID):
            host_state (None | VMHostStateType1 | VMHostStateType2Type1 | VMHostStateType3Type1): state of the VM's host;
                `missing` flags a VM whose host left the inventory: an admin puts the host back or force-deletes the VM
            id (UUID):
            job_id (None | UUID): the VM's latest job
            name (str):
            ram_mb (int):
            status (VMStatus):
            status_reason (None | str):
            tenant_id (UUID):
            updated_at (datetime.datetime):
            vcpus (int):
     """

    anti_affinity_group: None | str
    baremetal: None | str
    created_at: datetime.datetime
    deleted_at: datetime.datetime | None
    disk_gb: int
    domain_name: str
    domain_uuid: None | UUID
    host_state: None | VMHostStateType1 | VMHostStateType2Type1 | VMHostStateType3Type1
    id: UUID
    job_id: None | UUID
    name: str
    ram_mb: int
    status: VMStatus
    status_reason: None | str
    tenant_id: UUID
    updated_at: datetime.datetime
    vcpus: int





    def to_dict(self) -> dict[str, Any]:
        anti_affinity_group: None | str
        anti_affinity_group = self.anti_affinity_group

        baremetal: None | str
        baremetal = self.baremetal

        created_at = self.created_at.isoformat()

        deleted_at: None | str
        if isinstance(self.deleted_at, datetime.datetime):
            deleted_at = self.deleted_at.isoformat()
        else:
            deleted_at = self.deleted_at

        disk_gb = self.disk_gb

        domain_name = self.domain_name

        domain_uuid: None | str
        if isinstance(self.domain_uuid, UUID):
            domain_uuid = str(self.domain_uuid)
        else:
            domain_uuid = self.domain_uuid

        host_state: None | str
        if isinstance(self.host_state, VMHostStateType1):
            host_state = self.host_state.value
        elif isinstance(self.host_state, VMHostStateType2Type1):
            host_state = self.host_state.value
        elif isinstance(self.host_state, VMHostStateType3Type1):
            host_state = self.host_state.value
        else:
            host_state = self.host_state

        id = str(self.id)

        job_id: None | str
        if isinstance(self.job_id, UUID):
            job_id = str(self.job_id)
        else:
            job_id = self.job_id

        name = self.name

        ram_mb = self.ram_mb

        status = self.status.value

        status_reason: None | str
        status_reason = self.status_reason

        tenant_id = str(self.tenant_id)

        updated_at = self.updated_at.isoformat()

        vcpus = self.vcpus


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "anti_affinity_group": anti_affinity_group,
            "baremetal": baremetal,
            "created_at": created_at,
            "deleted_at": deleted_at,
            "disk_gb": disk_gb,
            "domain_name": domain_name,
            "domain_uuid": domain_uuid,
            "host_state": host_state,
            "id": id,
            "job_id": job_id,
            "name": name,
            "ram_mb": ram_mb,
            "status": status,
            "status_reason": status_reason,
            "tenant_id": tenant_id,
            "updated_at": updated_at,
            "vcpus": vcpus,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_anti_affinity_group(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        anti_affinity_group = _parse_anti_affinity_group(d.pop("anti_affinity_group"))


        def _parse_baremetal(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        baremetal = _parse_baremetal(d.pop("baremetal"))


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


        disk_gb = d.pop("disk_gb")

        domain_name = d.pop("domain_name")

        def _parse_domain_uuid(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                domain_uuid_type_0 = UUID(data)



                return domain_uuid_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        domain_uuid = _parse_domain_uuid(d.pop("domain_uuid"))


        def _parse_host_state(data: object) -> None | VMHostStateType1 | VMHostStateType2Type1 | VMHostStateType3Type1:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                host_state_type_1 = VMHostStateType1(data)



                return host_state_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                host_state_type_2_type_1 = VMHostStateType2Type1(data)



                return host_state_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                host_state_type_3_type_1 = VMHostStateType3Type1(data)



                return host_state_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | VMHostStateType1 | VMHostStateType2Type1 | VMHostStateType3Type1, data)

        host_state = _parse_host_state(d.pop("host_state"))


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

        ram_mb = d.pop("ram_mb")

        status = VMStatus(d.pop("status"))




        def _parse_status_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_reason = _parse_status_reason(d.pop("status_reason"))


        tenant_id = UUID(d.pop("tenant_id"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        vcpus = d.pop("vcpus")

        vm = cls(
            anti_affinity_group=anti_affinity_group,
            baremetal=baremetal,
            created_at=created_at,
            deleted_at=deleted_at,
            disk_gb=disk_gb,
            domain_name=domain_name,
            domain_uuid=domain_uuid,
            host_state=host_state,
            id=id,
            job_id=job_id,
            name=name,
            ram_mb=ram_mb,
            status=status,
            status_reason=status_reason,
            tenant_id=tenant_id,
            updated_at=updated_at,
            vcpus=vcpus,
        )

        return vm

