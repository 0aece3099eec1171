from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="UnmanagedDomain")



@_attrs_define
class UnmanagedDomain:
    """ 
        Attributes:
            name (str):
            ram_mb (int): maximum memory, MiB
            state (str): as virsh names it
            uuid (str):
            vcpus (int):
     """

    name: str
    ram_mb: int
    state: str
    uuid: str
    vcpus: int





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        ram_mb = self.ram_mb

        state = self.state

        uuid = self.uuid

        vcpus = self.vcpus


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "name": name,
            "ram_mb": ram_mb,
            "state": state,
            "uuid": uuid,
            "vcpus": vcpus,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        ram_mb = d.pop("ram_mb")

        state = d.pop("state")

        uuid = d.pop("uuid")

        vcpus = d.pop("vcpus")

        unmanaged_domain = cls(
            name=name,
            ram_mb=ram_mb,
            state=state,
            uuid=uuid,
            vcpus=vcpus,
        )

        return unmanaged_domain

