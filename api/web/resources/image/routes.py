"""The image catalog: register, list, show and delete images (admins manage, tenants read), and
upload an image's content as a stream."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import (
    ImageInUse,
    ImageInvalid,
    InvalidState,
    NameTaken,
    NotFound,
    PermissionDenied,
)
from api.services import images
from api.web.audit import audited, note
from api.web.auth import user
from api.web.body import STREAMED_TYPE
from api.web.context import commit, db, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate
from api.web.resources.image.schemas import (
    IMAGE_CREATE_EXAMPLE,
    IMAGE_EXAMPLE,
    ImageCreateSchema,
    ImageQuerySchema,
    ImageSchema,
)

blp = Blueprint("image", __name__, url_prefix="/api/v1/image", description="Disk images")

# The upload's body: raw bytes, not JSON (the one exception of api/web/body.py).
RAW_BODY = {
    "required": True,
    "description": "The image file itself, streamed; at most VIRTFLOW_IMAGE_MAX_BYTES bytes.",
    "content": {STREAMED_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def _audit_fields(image: Any) -> dict[str, Any]:
    return {"status": image.status, "name": image.name, "visibility": image.visibility}


@blp.route("/")
class Images(MethodView):
    @operation("image_list")
    @blp.arguments(ImageQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(ImageSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the images the caller may see, by name (public ones and its tenants' private
        ones; admins: all). Deleted ones only with status=deleted."""
        query = images.images_query(db(), user(), **filters)
        return paginate(db(), query, **page)

    @operation("image_create", PermissionDenied, NotFound, NameTaken)
    @blp.arguments(ImageCreateSchema, example=IMAGE_CREATE_EXAMPLE)
    @blp.response(201, envelope(ImageSchema), example=IMAGE_EXAMPLE)
    @audited("image.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Register an image (platform admins): `pending` until its content is uploaded"""
        spec = images.ImageSpec(
            name=args["name"],
            disk_format=args["disk_format"].value,
            default_user=args["default_user"],
            tenant_id=args["tenant_id"],
        )
        image = images.create(db(), user(), spec)
        note("image", image.id, image.tenant_id, after=_audit_fields(image))
        commit()
        return ok(image)


@blp.route("/<uuid:image_id>/")
class ImageById(MethodView):
    @operation("image_get")
    @blp.response(200, envelope(ImageSchema), example=IMAGE_EXAMPLE)
    def get(self, image_id: uuid.UUID) -> dict[str, Any]:
        """Show one image the caller may see (deleted ones included)"""
        return ok(images.get_image(db(), user(), image_id))

    @operation("image_delete", PermissionDenied, InvalidState, ImageInUse)
    @blp.response(200, envelope(ImageSchema))
    @audited("image.delete")
    def delete(self, image_id: uuid.UUID) -> dict[str, Any]:
        """Delete an image (platform admins), refused while VMs that are not deleted use it

        The image becomes `deleted` and its file is removed from the image store.
        """
        image, before = images.delete(db(), user(), image_id)
        note(
            "image",
            image.id,
            image.tenant_id,
            before={"status": before},
            after=_audit_fields(image),
        )
        commit()
        images.remove_file(settings().images_dir, image.id)
        return ok(image)


@blp.route("/<uuid:image_id>/file/")
class ImageFile(MethodView):
    @operation("image_upload", PermissionDenied, InvalidState, ImageInvalid)
    @blp.doc(requestBody=RAW_BODY)
    @blp.response(200, envelope(ImageSchema), example=IMAGE_EXAMPLE)
    @audited("image.upload")
    def put(self, image_id: uuid.UUID) -> dict[str, Any]:
        """Upload a pending image's content (platform admins), as application/octet-stream

        The body is streamed to the image store in chunks while its sha256 is computed, then
        checked with `qemu-img info`: the format must be the declared one, with no backing file
        and no external data file. A refusal (422 IMAGE_INVALID, or 413 past
        VIRTFLOW_IMAGE_MAX_BYTES) keeps nothing and leaves the image `pending`; success makes
        it `active` with its size, virtual size and sha256.
        """
        session, store = db(), settings().images_dir
        image = images.upload_target(session, user(), image_id)
        note("image", image.id, image.tenant_id, before={"status": image.status})
        # No transaction stays open while the body arrives (it may take minutes).
        session.rollback()
        received = images.receive(request.stream, store, image_id, settings().image_max_bytes)
        image = images.accept(session, image_id, received, store)
        note(
            after=_audit_fields(image) | {"sha256": image.sha256, "size": image.size},
        )
        commit()
        return ok(image)
