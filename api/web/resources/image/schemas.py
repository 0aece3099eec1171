"""Image schemas: the name and default_user reach libvirt and cloud-init, so both are strict."""

from typing import Any

import marshmallow as ma

from api.models import ImageFormat, ImageStatus, ImageVisibility
from api.services.images import DEFAULT_USER_RE, NAME_MAX
from api.web.resources.common import enum_out, slug

IMAGE_CREATE_EXAMPLE = {
    "name": "debian-12",
    "format": "qcow2",
    "default_user": "debian",
    "visibility": "public",
}
IMAGE_EXAMPLE = {
    "status": "success",
    "data": {
        "id": "6f1c2b9e-8a4d-4e0f-9b7a-2c3d4e5f6a7b",
        "name": "debian-12",
        "format": "qcow2",
        "visibility": "public",
        "tenant_id": None,
        "default_user": "debian",
        "status": "pending",
        "virtual_size": None,
        "size": None,
        "sha256": None,
        "created_at": "2026-11-30T13:02:11.120034+00:00",
        "updated_at": "2026-11-30T13:02:11.120034+00:00",
        "deleted_at": None,
    },
    "meta": {"request_id": "req-image-1"},
}


class ImageCreateSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=slug(NAME_MAX),
        metadata={"description": "unique among images that are not deleted"},
    )
    disk_format = ma.fields.Enum(
        ImageFormat,
        by_value=True,
        data_key="format",
        load_default=ImageFormat.QCOW2,
        metadata={"description": "what the content must be; qemu-img checks it on upload"},
    )
    default_user = ma.fields.String(
        load_default="virtflow",
        validate=[
            ma.validate.Regexp(
                DEFAULT_USER_RE.pattern + r"\Z",
                error="must be a POSIX user name: [a-z_][a-z0-9_-]*, at most 32 characters",
            )
        ],
        metadata={"description": "the login the image's cloud-init creates"},
    )
    visibility = ma.fields.Enum(ImageVisibility, by_value=True, load_default=ImageVisibility.PUBLIC)
    tenant_id = ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "the tenant of a private image; must be absent for a public one"},
    )

    @ma.validates_schema
    def _tenant_matches_visibility(self, data: dict[str, Any], **_: Any) -> None:
        private = data.get("visibility") == ImageVisibility.PRIVATE
        if private and data.get("tenant_id") is None:
            raise ma.ValidationError("a private image needs its tenant_id", "tenant_id")
        if not private and data.get("tenant_id") is not None:
            raise ma.ValidationError("a public image belongs to no tenant", "tenant_id")


class ImageSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    disk_format = ma.fields.String(
        dump_only=True, data_key="format", metadata={"enum": [f.value for f in ImageFormat]}
    )
    visibility = enum_out(ImageVisibility)
    tenant_id = ma.fields.UUID(dump_only=True, allow_none=True)
    default_user = ma.fields.String(dump_only=True)
    status = enum_out(ImageStatus)
    virtual_size = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "bytes the guest sees (qemu-img), once the content is in"},
    )
    size = ma.fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "bytes of the stored file"}
    )
    sha256 = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "hex sha256 of the content, computed as it was received"},
    )
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    deleted_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class ImageQuerySchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=NAME_MAX))
    visibility = ma.fields.Enum(ImageVisibility, by_value=True)
    tenant_id = ma.fields.UUID()
    status = ma.fields.Enum(
        ImageStatus,
        by_value=True,
        metadata={"description": "only images in this status (default: all but deleted)"},
    )
