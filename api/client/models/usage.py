from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.usage_tenant_status import UsageTenantStatus
from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.usage_resources import UsageResources





T = TypeVar("T", bound="Usage")



@_attrs_define
class Usage:
    """ 
        Attributes:
            resources (UsageResources): one entry per resource: vcpus, ram_mb, disk_gb, vms, snapshots
            tenant_id (UUID):
            tenant_name (str):
            tenant_status (UsageTenantStatus):
     """

    resources: UsageResources
    tenant_id: UUID
    tenant_name: str
    tenant_status: UsageTenantStatus





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_resources import UsageResources # noqa: PLC0415
        resources = self.resources.to_dict()

        tenant_id = str(self.tenant_id)

        tenant_name = self.tenant_name

        tenant_status = self.tenant_status.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "resources": resources,
            "tenant_id": tenant_id,
            "tenant_name": tenant_name,
            "tenant_status": tenant_status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_resources import UsageResources # noqa: PLC0415
        d = dict(src_dict)
        resources = UsageResources.from_dict(d.pop("resources"))




        tenant_id = UUID(d.pop("tenant_id"))




        tenant_name = d.pop("tenant_name")

        tenant_status = UsageTenantStatus(d.pop("tenant_status"))




        usage = cls(
            resources=resources,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            tenant_status=tenant_status,
        )

        return usage

