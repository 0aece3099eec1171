from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from uuid import UUID






T = TypeVar("T", bound="VMCreate")



@_attrs_define
class VMCreate:
    """ 
        Attributes:
            disk_gb (int): GiB
            name (str):
            ram_mb (int): MiB
            tenant_id (UUID):
            vcpus (int):
            anti_affinity_group (None | str | Unset): a group name of the tenant's choosing: no two live VMs of the tenant
                in the same group are placed on the same host (409 NO_CAPACITY when no host is left)
     """

    disk_gb: int
    name: str
    ram_mb: int
    tenant_id: UUID
    vcpus: int
    anti_affinity_group: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        disk_gb = self.disk_gb

        name = self.name

        ram_mb = self.ram_mb

        tenant_id = str(self.tenant_id)

        vcpus = self.vcpus

        anti_affinity_group: None | str | Unset
        if isinstance(self.anti_affinity_group, Unset):
            anti_affinity_group = UNSET
        else:
            anti_affinity_group = self.anti_affinity_group


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "disk_gb": disk_gb,
            "name": name,
            "ram_mb": ram_mb,
            "tenant_id": tenant_id,
            "vcpus": vcpus,
        })
        if anti_affinity_group is not UNSET:
            field_dict["anti_affinity_group"] = anti_affinity_group

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gb = d.pop("disk_gb")

        name = d.pop("name")

        ram_mb = d.pop("ram_mb")

        tenant_id = UUID(d.pop("tenant_id"))




        vcpus = d.pop("vcpus")

        def _parse_anti_affinity_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        anti_affinity_group = _parse_anti_affinity_group(d.pop("anti_affinity_group", UNSET))


        vm_create = cls(
            disk_gb=disk_gb,
            name=name,
            ram_mb=ram_mb,
            tenant_id=tenant_id,
            vcpus=vcpus,
            anti_affinity_group=anti_affinity_group,
        )

        return vm_create

