from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="QuotaCheck")



@_attrs_define
class QuotaCheck:
    """ 
        Attributes:
            disk_gb (int): GiB
            ram_mb (int): MiB
            vcpus (int):
            vms (int | Unset): default 1 Default: 1.
     """

    disk_gb: int
    ram_mb: int
    vcpus: int
    vms: int | Unset = 1





    def to_dict(self) -> dict[str, Any]:
        disk_gb = self.disk_gb

        ram_mb = self.ram_mb

        vcpus = self.vcpus

        vms = self.vms


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "disk_gb": disk_gb,
            "ram_mb": ram_mb,
            "vcpus": vcpus,
        })
        if vms is not UNSET:
            field_dict["vms"] = vms

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gb = d.pop("disk_gb")

        ram_mb = d.pop("ram_mb")

        vcpus = d.pop("vcpus")

        vms = d.pop("vms", UNSET)

        quota_check = cls(
            disk_gb=disk_gb,
            ram_mb=ram_mb,
            vcpus=vcpus,
            vms=vms,
        )

        return quota_check

