from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="VMResize")



@_attrs_define
class VMResize:
    """ 
        Attributes:
            disk_gb (int | Unset): GiB, grown only: less than the VM's disk is 422
            ram_mb (int | Unset): MiB, up or down
            vcpus (int | Unset): up or down
     """

    disk_gb: int | Unset = UNSET
    ram_mb: int | Unset = UNSET
    vcpus: int | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        disk_gb = self.disk_gb

        ram_mb = self.ram_mb

        vcpus = self.vcpus


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if disk_gb is not UNSET:
            field_dict["disk_gb"] = disk_gb
        if ram_mb is not UNSET:
            field_dict["ram_mb"] = ram_mb
        if vcpus is not UNSET:
            field_dict["vcpus"] = vcpus

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gb = d.pop("disk_gb", UNSET)

        ram_mb = d.pop("ram_mb", UNSET)

        vcpus = d.pop("vcpus", UNSET)

        vm_resize = cls(
            disk_gb=disk_gb,
            ram_mb=ram_mb,
            vcpus=vcpus,
        )

        return vm_resize

