from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="VMReboot")



@_attrs_define
class VMReboot:
    """ 
        Attributes:
            hard (bool | Unset): power the domain off at once; false: an ACPI shutdown first, powered off at the timeout.
                Either way the domain is then started again as defined Default: False.
            timeout (int | Unset): seconds the guest's ACPI shutdown may take before it is powered off; a deadline, however
                long each check of libvirt takes Default: 60.
     """

    hard: bool | Unset = False
    timeout: int | Unset = 60





    def to_dict(self) -> dict[str, Any]:
        hard = self.hard

        timeout = self.timeout


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if hard is not UNSET:
            field_dict["hard"] = hard
        if timeout is not UNSET:
            field_dict["timeout"] = timeout

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        hard = d.pop("hard", UNSET)

        timeout = d.pop("timeout", UNSET)

        vm_reboot = cls(
            hard=hard,
            timeout=timeout,
        )

        return vm_reboot

