"""VM schemas: sizes and names are validated strictly here, at the edge."""

from typing import Any

import marshmallow as ma

from api.models import VMStatus
from api.services.permissions import ObjectType
from api.web.resources.common import bounded_int, enum_out, slug
from api.web.resources.tenant.schemas import grant_args_schema

VM_NAME_MAX = 48


class VMCreateSchema(ma.Schema):
    tenant_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True, validate=slug(VM_NAME_MAX))
    vcpus = bounded_int(1, 64, required=True)
    ram_mb = bounded_int(64, 1_048_576, required=True, metadata={"description": "MiB"})
    disk_gb = bounded_int(1, 65_536, required=True, metadata={"description": "GiB"})


class VMSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    vcpus = ma.fields.Integer(dump_only=True)
    ram_mb = ma.fields.Integer(dump_only=True)
    disk_gb = ma.fields.Integer(dump_only=True)
    status = enum_out(VMStatus)
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    baremetal = ma.fields.Function(
        lambda vm: vm.baremetal.name if vm.baremetal else None,
        dump_only=True,
        metadata={"description": "inventory name of the baremetal host"},
    )
    domain_name = ma.fields.String(dump_only=True)
    domain_uuid = ma.fields.UUID(dump_only=True, allow_none=True)
    job_id = ma.fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "the VM's latest job"}
    )
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    deleted_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class VMQuerySchema(ma.Schema):
    tenant_id = ma.fields.UUID()
    status = ma.fields.Enum(VMStatus, by_value=True)
    name = ma.fields.String(validate=slug(VM_NAME_MAX))


class StrictBoolean(ma.fields.Boolean):
    """true or false only: no "yes", no 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class VMStopSchema(ma.Schema):
    force = StrictBoolean(
        load_default=False,
        metadata={"description": "power the domain off instead of a graceful shutdown"},
    )


class VMDeleteArgsSchema(ma.Schema):
    force = ma.fields.Boolean(
        load_default=False,
        truthy={"true"},
        falsy={"false"},
        metadata={
            "description": (
                "true: platform admins only. Mark the VM deleted at once, without reaching "
                "libvirt, for a VM whose host is unreachable or gone from the inventory; its "
                "queued jobs are canceled, a running job refuses it (409). Answers 200"
            )
        },
    )


class VMStartSchema(ma.Schema):
    """No fields: an empty JSON object, or no body."""


VMGrantArgsSchema = grant_args_schema(ObjectType.VM)
