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
            image_id (None | Unset | UUID): the image the disk is made from (a qcow2 overlay grown to disk_gb): public, or
                private to the VM's tenant, and active. Absent: a blank disk
            ssh_authorized_keys (list[str] | Unset): OpenSSH public keys ('<type> <base64> [comment]'; ssh-ed25519, ssh-rsa,
                ecdsa-sha2-nistp256/384/521, sk-*) for the image's default user; needs image_id
            user_data (None | str | Unset): cloud-config YAML, one mapping, at most VIRTFLOW_USER_DATA_MAX_BYTES (16384)
                bytes; needs image_id. Write-only: a secret, never shown again (the VM shows user_data_present)
     """

    disk_gb: int
    name: str
    ram_mb: int
    tenant_id: UUID
    vcpus: int
    anti_affinity_group: None | str | Unset = UNSET
    image_id: None | Unset | UUID = UNSET
    ssh_authorized_keys: list[str] | Unset = UNSET
    user_data: None | str | Unset = UNSET





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

        image_id: None | str | Unset
        if isinstance(self.image_id, Unset):
            image_id = UNSET
        elif isinstance(self.image_id, UUID):
            image_id = str(self.image_id)
        else:
            image_id = self.image_id

        ssh_authorized_keys: list[str] | Unset = UNSET
        if not isinstance(self.ssh_authorized_keys, Unset):
            ssh_authorized_keys = self.ssh_authorized_keys



        user_data: None | str | Unset
        if isinstance(self.user_data, Unset):
            user_data = UNSET
        else:
            user_data = self.user_data


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
        if image_id is not UNSET:
            field_dict["image_id"] = image_id
        if ssh_authorized_keys is not UNSET:
            field_dict["ssh_authorized_keys"] = ssh_authorized_keys
        if user_data is not UNSET:
            field_dict["user_data"] = user_data

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


        def _parse_image_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                image_id_type_0 = UUID(data)



                return image_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        image_id = _parse_image_id(d.pop("image_id", UNSET))


        ssh_authorized_keys = cast(list[str], d.pop("ssh_authorized_keys", UNSET))


        def _parse_user_data(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_data = _parse_user_data(d.pop("user_data", UNSET))


        vm_create = cls(
            disk_gb=disk_gb,
            name=name,
            ram_mb=ram_mb,
            tenant_id=tenant_id,
            vcpus=vcpus,
            anti_affinity_group=anti_affinity_group,
            image_id=image_id,
            ssh_authorized_keys=ssh_authorized_keys,
            user_data=user_data,
        )

        return vm_create

