"""VM schemas: sizes and names are validated strictly here, at the edge."""

from typing import Any, ClassVar

import marshmallow as ma

from api.models import HostState, VMStatus
from api.services import guests
from api.services.permissions import ObjectType
from api.web.resources.common import bounded_int, enum_out, slug
from api.web.resources.tenant.schemas import TENANT_ID_EXAMPLE, grant_args_schema

VM_NAME_MAX = 48
# A VM's sizes, at create and resize: the role's ranges (roles/libvirt_guest/vars/main.yml).
VCPUS, RAM_MB, DISK_GB = (1, 64), (64, 1_048_576), (1, 65_536)

KEY_EXAMPLE = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlOzUMN8wurH/zmYVqkTLhtBpIrKJy2HnZrmxN4yDqU ana@laptop"
)
VM_CREATE_EXAMPLE = {
    "tenant_id": TENANT_ID_EXAMPLE,
    "name": "web",
    "vcpus": 1,
    "ram_mb": 512,
    "disk_gb": 10,
    "image_id": "3f0b6a57-2d59-4a52-8c0e-51a1c1f3a0d4",
    "ssh_authorized_keys": [KEY_EXAMPLE],
    "user_data": "#cloud-config\npackages: [nginx]\n",
}
VM_EXAMPLE = {
    "status": "success",
    "data": {
        "id": "00b8c0ba-0349-4dba-a2b1-8c38c04a6337",
        "tenant_id": TENANT_ID_EXAMPLE,
        "name": "web",
        "vcpus": 1,
        "ram_mb": 512,
        "disk_gb": 10,
        "status": "pending",
        "status_reason": None,
        "baremetal": "kvm-01",
        "host_state": "active",
        "anti_affinity_group": None,
        "domain_name": "vf-web-00b8c0ba",
        "domain_uuid": None,
        "image_id": "3f0b6a57-2d59-4a52-8c0e-51a1c1f3a0d4",
        "ssh_authorized_keys": [KEY_EXAMPLE],
        "user_data_present": True,
        "mac": "52:54:00:3a:9c:e1",
        "ssh_port": 22000,
        "addresses": [],
        "addresses_at": None,
        "job_id": "c428f87d-6f6b-4e02-8089-c180cbd6e52a",
        "created_at": "2026-11-26T14:36:02.515729+00:00",
        "updated_at": "2026-11-26T14:36:02.515729+00:00",
        "deleted_at": None,
    },
    "meta": {"request_id": "req-create-1"},
}


class VMCreateSchema(ma.Schema):
    tenant_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True, validate=slug(VM_NAME_MAX))
    vcpus = bounded_int(*VCPUS, required=True)
    ram_mb = bounded_int(*RAM_MB, required=True, metadata={"description": "MiB"})
    disk_gb = bounded_int(*DISK_GB, required=True, metadata={"description": "GiB"})
    anti_affinity_group = ma.fields.String(
        load_default=None,
        validate=slug(VM_NAME_MAX),
        metadata={
            "description": (
                "a group name of the tenant's choosing: no two live VMs of the tenant in the "
                "same group are placed on the same host (409 NO_CAPACITY when no host is left)"
            )
        },
    )
    image_id = ma.fields.UUID(
        load_default=None,
        metadata={
            "description": (
                "the image the disk is made from (a qcow2 overlay grown to disk_gb): public, or "
                "private to the VM's tenant, and active. Absent: a blank disk"
            )
        },
    )
    ssh_authorized_keys = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, guests.KEY_MAX_BYTES)),
        load_default=list,
        validate=ma.validate.Length(max=guests.MAX_KEYS),
        metadata={
            "description": (
                "OpenSSH public keys ('<type> <base64> [comment]'; ssh-ed25519, ssh-rsa, "
                "ecdsa-sha2-nistp256/384/521, sk-*) for the image's default user; needs image_id"
            )
        },
    )
    user_data = ma.fields.String(
        load_default=None,
        metadata={
            "description": (
                "cloud-config YAML, one mapping, at most VIRTFLOW_USER_DATA_MAX_BYTES (16384) "
                "bytes; needs image_id. Write-only: a secret, never shown again (the VM shows "
                "user_data_present)"
            ),
            "writeOnly": True,
        },
    )


class VMResizeSchema(ma.Schema):
    """The new size; sizes left out stay as they are. The limits of a create apply."""

    openapi_extra: ClassVar[dict[str, int]] = {"minProperties": 1}

    vcpus = bounded_int(*VCPUS, metadata={"description": "up or down"})
    ram_mb = bounded_int(*RAM_MB, metadata={"description": "MiB, up or down"})
    disk_gb = bounded_int(
        *DISK_GB, metadata={"description": "GiB, grown only: less than the VM's disk is 422"}
    )

    @ma.validates_schema
    def _not_empty(self, data: dict[str, int], **_kwargs: object) -> None:
        if not data:
            raise ma.ValidationError("give at least one of vcpus, ram_mb, disk_gb", "_schema")


VM_RESIZE_EXAMPLE = {"vcpus": 2, "ram_mb": 2048, "disk_gb": 20}


class AddressSchema(ma.Schema):
    mac = ma.fields.String(dump_only=True)
    ip = ma.fields.String(dump_only=True)
    prefix = ma.fields.Integer(dump_only=True)
    source = ma.fields.String(
        dump_only=True,
        metadata={
            "enum": ["agent", "lease"],
            "description": "agent: the guest agent; lease: the host's DHCP leases",
        },
    )


class SSHRouteSchema(ma.Schema):
    user = ma.fields.String(
        dump_only=True, metadata={"description": "the image's default_user, made by cloud-init"}
    )
    host = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": (
                "where SSH connects from the host: 127.0.0.1 (user-mode networking, a forward) "
                "or the guest's address (NAT); null: no address known yet"
            )
        },
    )
    port = ma.fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "null: no address known yet"}
    )
    jump = ma.fields.Dict(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": (
                "the host to jump through, {host, port, user} as Ansible reaches it (user may "
                "be null); null: the host is the controller itself"
            )
        },
    )
    host_key_alias = ma.fields.String(
        dump_only=True,
        metadata={"description": "the name to keep the guest's host key under (known_hosts)"},
    )


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
        allow_none=True,
        metadata={"type": "string", "description": "inventory name of the baremetal host"},
    )
    host_state = ma.fields.Function(
        lambda vm: vm.baremetal.state if vm.baremetal else None,
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "enum": [*(s.value for s in HostState), None],  # null: a VM not placed yet
            "description": (
                "state of the VM's host; `missing` flags a VM whose host left the inventory: "
                "an admin puts the host back or force-deletes the VM"
            ),
        },
    )
    anti_affinity_group = ma.fields.String(dump_only=True, allow_none=True)
    domain_name = ma.fields.String(dump_only=True)
    domain_uuid = ma.fields.UUID(dump_only=True, allow_none=True)
    image_id = ma.fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "null: a blank disk"}
    )
    ssh_authorized_keys = ma.fields.List(ma.fields.String(), dump_only=True)
    user_data_present = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "the create was given user_data (which is never shown)"},
    )
    mac = ma.fields.String(
        dump_only=True, allow_none=True, metadata={"description": "the NIC's MAC address"}
    )
    ssh_port = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": (
                "the port on the host's 127.0.0.1 forwarded to the guest's SSH (a host with "
                "user-mode networking); null otherwise"
            )
        },
    )
    addresses = ma.fields.List(
        ma.fields.Nested(AddressSchema),
        dump_only=True,
        metadata={
            "description": "the running guest's IPv4 addresses, as the last domain check read them"
        },
    )
    addresses_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "when a domain check last read the addresses; null: never"},
    )
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
    anti_affinity_group = ma.fields.String(validate=slug(VM_NAME_MAX))
    baremetal = ma.fields.String(
        validate=ma.validate.Length(1, 255),
        metadata={"description": "VMs on the host of this inventory name"},
    )
    host_state = ma.fields.Enum(
        HostState,
        by_value=True,
        metadata={"description": "VMs on hosts in this state (`missing`: VMs awaiting a decision)"},
    )


class StrictBoolean(ma.fields.Boolean):
    """true or false only: no "yes", no 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


SHUTDOWN_TIMEOUT_MAX = 3600


def shutdown_timeout() -> ma.fields.Integer:
    return bounded_int(
        0,
        SHUTDOWN_TIMEOUT_MAX,
        load_default=60,
        metadata={
            "description": (
                "seconds the guest's ACPI shutdown may take before it is powered off; "
                "a deadline, however long each check of libvirt takes"
            )
        },
    )


class VMStopSchema(ma.Schema):
    force = StrictBoolean(
        load_default=False,
        metadata={"description": "power the domain off instead of a graceful shutdown"},
    )
    timeout = shutdown_timeout()


class VMRebootSchema(ma.Schema):
    hard = StrictBoolean(
        load_default=False,
        metadata={
            "description": (
                "power the domain off at once; false: an ACPI shutdown first, powered off at "
                "the timeout. Either way the domain is then started again as defined"
            )
        },
    )
    timeout = shutdown_timeout()


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
