from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from uuid import UUID

if TYPE_CHECKING:
  from ..models.quota_resources import QuotaResources





T = TypeVar("T", bound="Quota")



@_attrs_define
class Quota:
    """ 
        Attributes:
            resources (QuotaResources): one entry per resource: vcpus, ram_mb, disk_gb, vms, snapshots
            tenant_id (UUID):
     """

    resources: QuotaResources
    tenant_id: UUID





    def to_dict(self) -> dict[str, Any]:
        from ..models.quota_resources import QuotaResources # noqa: PLC0415
        resources = self.resources.to_dict()

        tenant_id = str(self.tenant_id)


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "resources": resources,
            "tenant_id": tenant_id,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quota_resources import QuotaResources # noqa: PLC0415
        d = dict(src_dict)
        resources = QuotaResources.from_dict(d.pop("resources"))




        tenant_id = UUID(d.pop("tenant_id"))




        quota = cls(
            resources=resources,
            tenant_id=tenant_id,
        )

        return quota

