from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="VMStop")



@_attrs_define
class VMStop:
    """ 
        Attributes:
            force (bool | Unset): power the domain off instead of a graceful shutdown Default: False.
            timeout (int | Unset): seconds the guest's ACPI shutdown may take before it is powered off; a deadline, however
                long each check of libvirt takes Default: 60.
     """

    force: bool | Unset = False
    timeout: int | Unset = 60





    def to_dict(self) -> dict[str, Any]:
        force = self.force

        timeout = self.timeout


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if force is not UNSET:
            field_dict["force"] = force
        if timeout is not UNSET:
            field_dict["timeout"] = timeout

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        force = d.pop("force", UNSET)

        timeout = d.pop("timeout", UNSET)

        vm_stop = cls(
            force=force,
            timeout=timeout,
        )

        return vm_stop

