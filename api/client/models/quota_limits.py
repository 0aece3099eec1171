from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="QuotaLimits")



@_attrs_define
class QuotaLimits:
    """ 
        Attributes:
            disk_gb (int | Unset): GiB
            ram_mb (int | Unset): MiB
            snapshots (int | Unset):
            vcpus (int | Unset):
            vms (int | Unset):
     """

    disk_gb: int | Unset = UNSET
    ram_mb: int | Unset = UNSET
    snapshots: int | Unset = UNSET
    vcpus: int | Unset = UNSET
    vms: int | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        disk_gb = self.disk_gb

        ram_mb = self.ram_mb

        snapshots = self.snapshots

        vcpus = self.vcpus

        vms = self.vms


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if disk_gb is not UNSET:
            field_dict["disk_gb"] = disk_gb
        if ram_mb is not UNSET:
            field_dict["ram_mb"] = ram_mb
        if snapshots is not UNSET:
            field_dict["snapshots"] = snapshots
        if vcpus is not UNSET:
            field_dict["vcpus"] = vcpus
        if vms is not UNSET:
            field_dict["vms"] = vms

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gb = d.pop("disk_gb", UNSET)

        ram_mb = d.pop("ram_mb", UNSET)

        snapshots = d.pop("snapshots", UNSET)

        vcpus = d.pop("vcpus", UNSET)

        vms = d.pop("vms", UNSET)

        quota_limits = cls(
            disk_gb=disk_gb,
            ram_mb=ram_mb,
            snapshots=snapshots,
            vcpus=vcpus,
            vms=vms,
        )

        return quota_limits

