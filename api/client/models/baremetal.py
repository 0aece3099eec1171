from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.baremetal_state import BaremetalState
from typing import cast
from uuid import UUID
import datetime

if TYPE_CHECKING:
  from ..models.baremetal_allocated import BaremetalAllocated
  from ..models.baremetal_allocation_ratios import BaremetalAllocationRatios
  from ..models.baremetal_capacity import BaremetalCapacity
  from ..models.baremetal_declared import BaremetalDeclared
  from ..models.baremetal_discovered_type_0 import BaremetalDiscoveredType0
  from ..models.baremetal_free import BaremetalFree
  from ..models.baremetal_overrides import BaremetalOverrides
  from ..models.baremetal_reserved import BaremetalReserved
  from ..models.baremetal_unmanaged import BaremetalUnmanaged
  from ..models.unmanaged_domain import UnmanagedDomain





T = TypeVar("T", bound="Baremetal")



@_attrs_define
class Baremetal:
    """ 
        Attributes:
            allocated (BaremetalAllocated): what the host's VMs that are not deleted take
            allocation_ratios (BaremetalAllocationRatios): {cpu, ram, disk}: the settings with this host's host_vars
                overrides
            capacity (BaremetalCapacity): placeable {vcpus, ram_mb, disk_gb}: the capacity_* fields
            capacity_disk_gb (int):
            capacity_ram_mb (int):
            capacity_source (str): where capacity came from: inventory (virtflow_capacity_* vars), discovered (discovered x
                ratio - reserved), mixed, or none
            capacity_vcpus (int):
            declared (BaremetalDeclared): the inventory's virtflow_capacity_* vars; null: not set
            dedicated_tenant_id (None | UUID): the one tenant whose VMs the host takes; null: shared
            discovered (BaremetalDiscoveredType0 | None): what host_prepare.yml found: cpus, memory_mb, image_dir_free_gb,
                libvirt_version, qemu_version, virt_type; null: never prepared
            discovered_at (datetime.datetime | None):
            domains_checked_at (datetime.datetime | None):
            free (BaremetalFree): capacity - allocated - unmanaged (negative when the capacity shrank below it)
            id (UUID):
            in_inventory (bool):
            libvirt_uri (str):
            name (str):
            overrides (BaremetalOverrides): the host_vars virtflow_<ratio or reserved> overrides
            prepared_at (datetime.datetime | None):
            reserved (BaremetalReserved): {vcpus, ram_mb, disk_gb} kept for the host itself
            state (BaremetalState):
            state_reason (None | str):
            synced_at (datetime.datetime):
            unmanaged (BaremetalUnmanaged): what its unmanaged domains take (vCPUs and RAM as libvirt defines them; disk
                unknown: 0)
            unmanaged_domains (list[UnmanagedDomain]): domains libvirt lists that match no VM, never adopted
            vm_count (int): VMs not deleted
     """

    allocated: BaremetalAllocated
    allocation_ratios: BaremetalAllocationRatios
    capacity: BaremetalCapacity
    capacity_disk_gb: int
    capacity_ram_mb: int
    capacity_source: str
    capacity_vcpus: int
    declared: BaremetalDeclared
    dedicated_tenant_id: None | UUID
    discovered: BaremetalDiscoveredType0 | None
    discovered_at: datetime.datetime | None
    domains_checked_at: datetime.datetime | None
    free: BaremetalFree
    id: UUID
    in_inventory: bool
    libvirt_uri: str
    name: str
    overrides: BaremetalOverrides
    prepared_at: datetime.datetime | None
    reserved: BaremetalReserved
    state: BaremetalState
    state_reason: None | str
    synced_at: datetime.datetime
    unmanaged: BaremetalUnmanaged
    unmanaged_domains: list[UnmanagedDomain]
    vm_count: int





    def to_dict(self) -> dict[str, Any]:
        from ..models.baremetal_allocated import BaremetalAllocated # noqa: PLC0415
        from ..models.baremetal_allocation_ratios import BaremetalAllocationRatios # noqa: PLC0415
        from ..models.baremetal_capacity import BaremetalCapacity # noqa: PLC0415
        from ..models.baremetal_declared import BaremetalDeclared # noqa: PLC0415
        from ..models.baremetal_discovered_type_0 import BaremetalDiscoveredType0 # noqa: PLC0415
        from ..models.baremetal_free import BaremetalFree # noqa: PLC0415
        from ..models.baremetal_overrides import BaremetalOverrides # noqa: PLC0415
        from ..models.baremetal_reserved import BaremetalReserved # noqa: PLC0415
        from ..models.baremetal_unmanaged import BaremetalUnmanaged # noqa: PLC0415
        from ..models.unmanaged_domain import UnmanagedDomain # noqa: PLC0415
        allocated = self.allocated.to_dict()

        allocation_ratios = self.allocation_ratios.to_dict()

        capacity = self.capacity.to_dict()

        capacity_disk_gb = self.capacity_disk_gb

        capacity_ram_mb = self.capacity_ram_mb

        capacity_source = self.capacity_source

        capacity_vcpus = self.capacity_vcpus

        declared = self.declared.to_dict()

        dedicated_tenant_id: None | str
        if isinstance(self.dedicated_tenant_id, UUID):
            dedicated_tenant_id = str(self.dedicated_tenant_id)
        else:
            dedicated_tenant_id = self.dedicated_tenant_id

        discovered: dict[str, Any] | None
        if isinstance(self.discovered, BaremetalDiscoveredType0):
            discovered = self.discovered.to_dict()
        else:
            discovered = self.discovered

        discovered_at: None | str
        if isinstance(self.discovered_at, datetime.datetime):
            discovered_at = self.discovered_at.isoformat()
        else:
            discovered_at = self.discovered_at

        domains_checked_at: None | str
        if isinstance(self.domains_checked_at, datetime.datetime):
            domains_checked_at = self.domains_checked_at.isoformat()
        else:
            domains_checked_at = self.domains_checked_at

        free = self.free.to_dict()

        id = str(self.id)

        in_inventory = self.in_inventory

        libvirt_uri = self.libvirt_uri

        name = self.name

        overrides = self.overrides.to_dict()

        prepared_at: None | str
        if isinstance(self.prepared_at, datetime.datetime):
            prepared_at = self.prepared_at.isoformat()
        else:
            prepared_at = self.prepared_at

        reserved = self.reserved.to_dict()

        state = self.state.value

        state_reason: None | str
        state_reason = self.state_reason

        synced_at = self.synced_at.isoformat()

        unmanaged = self.unmanaged.to_dict()

        unmanaged_domains = []
        for unmanaged_domains_item_data in self.unmanaged_domains:
            unmanaged_domains_item = unmanaged_domains_item_data.to_dict()
            unmanaged_domains.append(unmanaged_domains_item)



        vm_count = self.vm_count


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "allocated": allocated,
            "allocation_ratios": allocation_ratios,
            "capacity": capacity,
            "capacity_disk_gb": capacity_disk_gb,
            "capacity_ram_mb": capacity_ram_mb,
            "capacity_source": capacity_source,
            "capacity_vcpus": capacity_vcpus,
            "declared": declared,
            "dedicated_tenant_id": dedicated_tenant_id,
            "discovered": discovered,
            "discovered_at": discovered_at,
            "domains_checked_at": domains_checked_at,
            "free": free,
            "id": id,
            "in_inventory": in_inventory,
            "libvirt_uri": libvirt_uri,
            "name": name,
            "overrides": overrides,
            "prepared_at": prepared_at,
            "reserved": reserved,
            "state": state,
            "state_reason": state_reason,
            "synced_at": synced_at,
            "unmanaged": unmanaged,
            "unmanaged_domains": unmanaged_domains,
            "vm_count": vm_count,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.baremetal_allocated import BaremetalAllocated # noqa: PLC0415
        from ..models.baremetal_allocation_ratios import BaremetalAllocationRatios # noqa: PLC0415
        from ..models.baremetal_capacity import BaremetalCapacity # noqa: PLC0415
        from ..models.baremetal_declared import BaremetalDeclared # noqa: PLC0415
        from ..models.baremetal_discovered_type_0 import BaremetalDiscoveredType0 # noqa: PLC0415
        from ..models.baremetal_free import BaremetalFree # noqa: PLC0415
        from ..models.baremetal_overrides import BaremetalOverrides # noqa: PLC0415
        from ..models.baremetal_reserved import BaremetalReserved # noqa: PLC0415
        from ..models.baremetal_unmanaged import BaremetalUnmanaged # noqa: PLC0415
        from ..models.unmanaged_domain import UnmanagedDomain # noqa: PLC0415
        d = dict(src_dict)
        allocated = BaremetalAllocated.from_dict(d.pop("allocated"))




        allocation_ratios = BaremetalAllocationRatios.from_dict(d.pop("allocation_ratios"))




        capacity = BaremetalCapacity.from_dict(d.pop("capacity"))




        capacity_disk_gb = d.pop("capacity_disk_gb")

        capacity_ram_mb = d.pop("capacity_ram_mb")

        capacity_source = d.pop("capacity_source")

        capacity_vcpus = d.pop("capacity_vcpus")

        declared = BaremetalDeclared.from_dict(d.pop("declared"))




        def _parse_dedicated_tenant_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                dedicated_tenant_id_type_0 = UUID(data)



                return dedicated_tenant_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        dedicated_tenant_id = _parse_dedicated_tenant_id(d.pop("dedicated_tenant_id"))


        def _parse_discovered(data: object) -> BaremetalDiscoveredType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                discovered_type_0 = BaremetalDiscoveredType0.from_dict(data)



                return discovered_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BaremetalDiscoveredType0 | None, data)

        discovered = _parse_discovered(d.pop("discovered"))


        def _parse_discovered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                discovered_at_type_0 = datetime.datetime.fromisoformat(data)



                return discovered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        discovered_at = _parse_discovered_at(d.pop("discovered_at"))


        def _parse_domains_checked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                domains_checked_at_type_0 = datetime.datetime.fromisoformat(data)



                return domains_checked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        domains_checked_at = _parse_domains_checked_at(d.pop("domains_checked_at"))


        free = BaremetalFree.from_dict(d.pop("free"))




        id = UUID(d.pop("id"))




        in_inventory = d.pop("in_inventory")

        libvirt_uri = d.pop("libvirt_uri")

        name = d.pop("name")

        overrides = BaremetalOverrides.from_dict(d.pop("overrides"))




        def _parse_prepared_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                prepared_at_type_0 = datetime.datetime.fromisoformat(data)



                return prepared_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        prepared_at = _parse_prepared_at(d.pop("prepared_at"))


        reserved = BaremetalReserved.from_dict(d.pop("reserved"))




        state = BaremetalState(d.pop("state"))




        def _parse_state_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        state_reason = _parse_state_reason(d.pop("state_reason"))


        synced_at = datetime.datetime.fromisoformat(d.pop("synced_at"))




        unmanaged = BaremetalUnmanaged.from_dict(d.pop("unmanaged"))




        unmanaged_domains = []
        _unmanaged_domains = d.pop("unmanaged_domains")
        for unmanaged_domains_item_data in (_unmanaged_domains):
            unmanaged_domains_item = UnmanagedDomain.from_dict(unmanaged_domains_item_data)



            unmanaged_domains.append(unmanaged_domains_item)


        vm_count = d.pop("vm_count")

        baremetal = cls(
            allocated=allocated,
            allocation_ratios=allocation_ratios,
            capacity=capacity,
            capacity_disk_gb=capacity_disk_gb,
            capacity_ram_mb=capacity_ram_mb,
            capacity_source=capacity_source,
            capacity_vcpus=capacity_vcpus,
            declared=declared,
            dedicated_tenant_id=dedicated_tenant_id,
            discovered=discovered,
            discovered_at=discovered_at,
            domains_checked_at=domains_checked_at,
            free=free,
            id=id,
            in_inventory=in_inventory,
            libvirt_uri=libvirt_uri,
            name=name,
            overrides=overrides,
            prepared_at=prepared_at,
            reserved=reserved,
            state=state,
            state_reason=state_reason,
            synced_at=synced_at,
            unmanaged=unmanaged,
            unmanaged_domains=unmanaged_domains,
            vm_count=vm_count,
        )

        return baremetal

