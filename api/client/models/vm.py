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

if TYPE_CHECKING:
  from ..models.address import Address





T = TypeVar("T", bound="VM")



@_attrs_define
class VM:
    """ 
        Attributes:
            addresses (list[Address]): the running guest's IPv4 addresses, as the last domain check read them
            addresses_at (datetime.datetime | None): when a domain check last read the addresses; null: never
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
            image_id (None | UUID): null: a blank disk
            job_id (None | UUID): the VM's latest job
            mac (None | str): the NIC's MAC address
            name (str):
            ram_mb (int):
            ssh_authorized_keys (list[str]):
            ssh_port (int | None): the port on the host's 127.0.0.1 forwarded to the guest's SSH (a host with user-mode
                networking); null otherwise
            status (VMStatus):
            status_reason (None | str):
            tenant_id (UUID):
            updated_at (datetime.datetime):
            user_data_present (bool): the create was given user_data (which is never shown)
            vcpus (int):
     """

    addresses: list[Address]
    addresses_at: datetime.datetime | None
    anti_affinity_group: None | str
    baremetal: None | str
    created_at: datetime.datetime
    deleted_at: datetime.datetime | None
    disk_gb: int
    domain_name: str
    domain_uuid: None | UUID
    host_state: None | VMHostStateType1 | VMHostStateType2Type1 | VMHostStateType3Type1
    id: UUID
    image_id: None | UUID
    job_id: None | UUID
    mac: None | str
    name: str
    ram_mb: int
    ssh_authorized_keys: list[str]
    ssh_port: int | None
    status: VMStatus
    status_reason: None | str
    tenant_id: UUID
    updated_at: datetime.datetime
    user_data_present: bool
    vcpus: int





    def to_dict(self) -> dict[str, Any]:
        from ..models.address import Address # noqa: PLC0415
        addresses = []
        for addresses_item_data in self.addresses:
            addresses_item = addresses_item_data.to_dict()
            addresses.append(addresses_item)



        addresses_at: None | str
        if isinstance(self.addresses_at, datetime.datetime):
            addresses_at = self.addresses_at.isoformat()
        else:
            addresses_at = self.addresses_at

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

        image_id: None | str
        if isinstance(self.image_id, UUID):
            image_id = str(self.image_id)
        else:
            image_id = self.image_id

        job_id: None | str
        if isinstance(self.job_id, UUID):
            job_id = str(self.job_id)
        else:
            job_id = self.job_id

        mac: None | str
        mac = self.mac

        name = self.name

        ram_mb = self.ram_mb

        ssh_authorized_keys = self.ssh_authorized_keys



        ssh_port: int | None
        ssh_port = self.ssh_port

        status = self.status.value

        status_reason: None | str
        status_reason = self.status_reason

        tenant_id = str(self.tenant_id)

        updated_at = self.updated_at.isoformat()

        user_data_present = self.user_data_present

        vcpus = self.vcpus


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "addresses": addresses,
            "addresses_at": addresses_at,
            "anti_affinity_group": anti_affinity_group,
            "baremetal": baremetal,
            "created_at": created_at,
            "deleted_at": deleted_at,
            "disk_gb": disk_gb,
            "domain_name": domain_name,
            "domain_uuid": domain_uuid,
            "host_state": host_state,
            "id": id,
            "image_id": image_id,
            "job_id": job_id,
            "mac": mac,
            "name": name,
            "ram_mb": ram_mb,
            "ssh_authorized_keys": ssh_authorized_keys,
            "ssh_port": ssh_port,
            "status": status,
            "status_reason": status_reason,
            "tenant_id": tenant_id,
            "updated_at": updated_at,
            "user_data_present": user_data_present,
            "vcpus": vcpus,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.address import Address # noqa: PLC0415
        d = dict(src_dict)
        addresses = []
        _addresses = d.pop("addresses")
        for addresses_item_data in (_addresses):
            addresses_item = Address.from_dict(addresses_item_data)



            addresses.append(addresses_item)


        def _parse_addresses_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                addresses_at_type_0 = datetime.datetime.fromisoformat(data)



                return addresses_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        addresses_at = _parse_addresses_at(d.pop("addresses_at"))


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




        def _parse_image_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                image_id_type_0 = UUID(data)



                return image_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        image_id = _parse_image_id(d.pop("image_id"))


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


        def _parse_mac(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mac = _parse_mac(d.pop("mac"))


        name = d.pop("name")

        ram_mb = d.pop("ram_mb")

        ssh_authorized_keys = cast(list[str], d.pop("ssh_authorized_keys"))


        def _parse_ssh_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        ssh_port = _parse_ssh_port(d.pop("ssh_port"))


        status = VMStatus(d.pop("status"))




        def _parse_status_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_reason = _parse_status_reason(d.pop("status_reason"))


        tenant_id = UUID(d.pop("tenant_id"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        user_data_present = d.pop("user_data_present")

        vcpus = d.pop("vcpus")

        vm = cls(
            addresses=addresses,
            addresses_at=addresses_at,
            anti_affinity_group=anti_affinity_group,
            baremetal=baremetal,
            created_at=created_at,
            deleted_at=deleted_at,
            disk_gb=disk_gb,
            domain_name=domain_name,
            domain_uuid=domain_uuid,
            host_state=host_state,
            id=id,
            image_id=image_id,
            job_id=job_id,
            mac=mac,
            name=name,
            ram_mb=ram_mb,
            ssh_authorized_keys=ssh_authorized_keys,
            ssh_port=ssh_port,
            status=status,
            status_reason=status_reason,
            tenant_id=tenant_id,
            updated_at=updated_at,
            user_data_present=user_data_present,
            vcpus=vcpus,
        )

        return vm

