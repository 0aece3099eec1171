from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.address_source import AddressSource






T = TypeVar("T", bound="Address")



@_attrs_define
class Address:
    """ 
        Attributes:
            ip (str):
            mac (str):
            prefix (int):
            source (AddressSource): agent: the guest agent; lease: the host's DHCP leases
     """

    ip: str
    mac: str
    prefix: int
    source: AddressSource





    def to_dict(self) -> dict[str, Any]:
        ip = self.ip

        mac = self.mac

        prefix = self.prefix

        source = self.source.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "ip": ip,
            "mac": mac,
            "prefix": prefix,
            "source": source,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ip = d.pop("ip")

        mac = d.pop("mac")

        prefix = d.pop("prefix")

        source = AddressSource(d.pop("source"))




        address = cls(
            ip=ip,
            mac=mac,
            prefix=prefix,
            source=source,
        )

        return address

