"""The image catalog through the API: register, list, show, delete, and content uploads streamed
to the image store and checked by qemu-img (real qcow2 and raw files)."""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from api import cli
from api.models import VM, AuditLog, AuditOutcome, Image, ImageStatus, VMStatus
from api.services import images
from api.settings import Settings
from tests.api.conftest import build_app
from tests.conftest import Factory
from tests.helpers.http import assert_error, chunked
from tests.helpers.images import (
    MiB,
    qcow2,
    qcow2_with_backing,
    qcow2_with_data_file,
    raw,
    stored_image,
)
from tests.helpers.personas import Personas, build_personas

Headers = dict[str, str]
OCTETS = "application/octet-stream"


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


def empty(store: Path) -> None:
    for path in store.iterdir() if store.exists() else ():
        path.unlink()


@pytest.fixture
def store(settings: Settings) -> Iterator[Path]:
    """The test session's image store, empty before and after each test (other modules upload
    to it too)."""
    empty(settings.images_dir)
    yield settings.images_dir
    empty(settings.images_dir)


def stored(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


def register(client: FlaskClient, headers: Headers, **body: Any) -> TestResponse:
    return client.post("/api/v1/image/", json={"name": "debian-12", **body}, headers=headers)


def upload(
    client: FlaskClient, headers: Headers, image_id: object, data: bytes | io.IOBase
) -> TestResponse:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    length = len(data) if isinstance(data, bytes) else None
    extra = {"Content-Length": str(length)} if length is not None else {}
    return client.put(
        f"/api/v1/image/{image_id}/file/",
        input_stream=stream,
        headers={**headers, "Content-Type": OCTETS, **extra},
    )


def pending(client: FlaskClient, cast: Personas, **body: Any) -> dict[str, Any]:
    resp = register(client, cast.h("admin"), **body)
    assert resp.status_code == 201, resp.get_json()
    data: dict[str, Any] = resp.get_json()["data"]
    return data


# --------------------------------------------------------------------------------------------
# Registering, listing, showing


def test_image_register_as_admin(client: FlaskClient, cast: Personas, db: Session) -> None:
    resp = register(
        client,
        cast.h("admin"),
        format="raw",
        default_user="debian",
        visibility="private",
        tenant_id=str(cast.a.id),
    )
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    assert {k: data[k] for k in ("name", "format", "visibility", "status", "default_user")} == {
        "name": "debian-12",
        "format": "raw",
        "visibility": "private",
        "status": "pending",
        "default_user": "debian",
    }
    assert data["tenant_id"] == str(cast.a.id) and data["sha256"] is None
    row = db.scalars(select(AuditLog).where(AuditLog.action == "image.create")).one()
    assert (row.outcome, row.object_id, row.tenant_id) == ("success", data["id"], cast.a.id)


@pytest.mark.parametrize("persona", ["user_a", "viewer_a", "user_b", "granted", "nobody"])
def test_image_register_refused_to_non_admins(
    client: FlaskClient, cast: Personas, db: Session, persona: str
) -> None:
    assert_error(register(client, cast.h(persona)), 403, "PERMISSION_DENIED")
    assert db.scalars(select(Image)).all() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "../../etc/shadow"},
        {"name": "Debian"},
        {"name": "a" * 65},
        {"name": "deb\n"},
        {"default_user": "root;reboot"},
        {"default_user": "-o"},
        {"default_user": "x" * 33},
        {"format": "vmdk"},
        {"visibility": "private"},  # without its tenant
        {"visibility": "public", "tenant_id": str(uuid.uuid4())},
        {"status": "active"},
        {"sha256": "0" * 64},
    ],
)
def test_image_register_refuses_bad_fields(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, Any]
) -> None:
    assert_error(register(client, cast.h("admin"), **body), 422, "VALIDATION_ERROR")
    assert db.scalars(select(Image)).all() == []


def test_image_register_name_taken_and_unknown_tenant(client: FlaskClient, cast: Personas) -> None:
    pending(client, cast)
    assert_error(register(client, cast.h("admin")), 409, "NAME_TAKEN")
    body = {"name": "other", "visibility": "private", "tenant_id": str(uuid.uuid4())}
    assert_error(register(client, cast.h("admin"), **body), 404, "NOT_FOUND")


def test_image_visibility_through_list_and_get(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    public = stored_image(db, name="public-one")
    private_a = stored_image(db, name="private-a", tenant_id=cast.a.id)
    private_b = stored_image(db, name="private-b", tenant_id=cast.b.id)
    seen = {
        "admin": {public.id, private_a.id, private_b.id},
        "user_a": {public.id, private_a.id},
        "viewer_a": {public.id, private_a.id},
        "user_b": {public.id, private_b.id},
        "granted": {public.id},  # a VM grant is not membership of its tenant
        "nobody": {public.id},
    }
    for persona, expected in seen.items():
        resp = client.get("/api/v1/image/", headers=cast.h(persona))
        assert {uuid.UUID(i["id"]) for i in resp.get_json()["data"]} == expected, persona
        for image in (public, private_a, private_b):
            got = client.get(f"/api/v1/image/{image.id}/", headers=cast.h(persona))
            if image.id in expected:
                assert got.status_code == 200
            else:  # another tenant's private image answers like a missing one
                missing = client.get(f"/api/v1/image/{uuid.uuid4()}/", headers=cast.h(persona))
                assert_error(got, 404, "NOT_FOUND")
                assert got.get_json()["error"] == missing.get_json()["error"]


def test_image_list_filters(client: FlaskClient, cast: Personas, db: Session) -> None:
    public = stored_image(db, name="public-one")
    private_a = stored_image(db, name="private-a", tenant_id=cast.a.id)
    stored_image(db, name="gone", status=ImageStatus.DELETED)
    h = cast.h("admin")

    def names(**query: str) -> list[str]:
        resp = client.get("/api/v1/image/", headers=h, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return [i["name"] for i in resp.get_json()["data"]]

    assert names() == ["private-a", "public-one"]
    assert names(visibility="public") == [public.name]
    assert names(tenant_id=str(cast.a.id)) == [private_a.name]
    assert names(name="public-one") == [public.name]
    assert names(status="deleted") == ["gone"]
    # A tenant's user naming another tenant finds nothing.
    resp = client.get(
        "/api/v1/image/", headers=cast.h("user_b"), query_string={"tenant_id": str(cast.a.id)}
    )
    assert resp.get_json()["data"] == []


# --------------------------------------------------------------------------------------------
# Deleting


def test_image_delete_refused_while_a_vm_uses_it(
    client: FlaskClient, cast: Personas, db: Session, store: Path, tmp_path: Path
) -> None:
    image = pending(client, cast)
    assert (
        upload(client, cast.h("admin"), image["id"], qcow2(tmp_path / "d").read_bytes()).status_code
        == 200
    )
    vm = db.get_one(VM, cast.vm_a)
    vm.image_id = uuid.UUID(image["id"])  # VM create does not set it yet
    db.flush()
    refused = assert_error(
        client.delete(f"/api/v1/image/{image['id']}/", headers=cast.h("admin")),
        409,
        "IMAGE_IN_USE",
    )
    assert refused["error"]["details"] == {"vm_ids": [str(cast.vm_a)], "count": 1}
    assert stored(store) == [image["id"]]
    vm.status = VMStatus.DELETED
    db.flush()
    resp = client.delete(f"/api/v1/image/{image['id']}/", headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["status"] == "deleted"
    assert stored(store) == []  # its file is gone
    assert_error(
        client.delete(f"/api/v1/image/{image['id']}/", headers=cast.h("admin")),
        409,
        "INVALID_STATE",
    )


def test_image_delete_permissions(client: FlaskClient, cast: Personas, db: Session) -> None:
    private_a = stored_image(db, tenant_id=cast.a.id)
    assert_error(
        client.delete(f"/api/v1/image/{private_a.id}/", headers=cast.h("user_a")),
        403,
        "PERMISSION_DENIED",
    )
    assert_error(
        client.delete(f"/api/v1/image/{private_a.id}/", headers=cast.h("user_b")),
        404,
        "NOT_FOUND",
    )
    assert db.get_one(Image, private_a.id).status == ImageStatus.ACTIVE


# --------------------------------------------------------------------------------------------
# Uploading content


def test_image_upload_qcow2(
    client: FlaskClient, cast: Personas, db: Session, store: Path, tmp_path: Path
) -> None:
    image = pending(client, cast)
    content = qcow2(tmp_path / "disk.qcow2", "64M").read_bytes()
    resp = upload(client, cast.h("admin"), image["id"], content)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()["data"]
    assert (data["status"], data["virtual_size"], data["size"]) == (
        "active",
        64 * MiB,
        len(content),
    )
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored(store) == [image["id"]]
    assert (store / image["id"]).read_bytes() == content
    row = db.scalars(select(AuditLog).where(AuditLog.action == "image.upload")).one()
    assert row.outcome == "success"
    assert (row.changes["before"]["status"], row.changes["after"]["status"]) == (
        "pending",
        "active",
    )
    # Content never changes once active.
    assert_error(upload(client, cast.h("admin"), image["id"], content), 409, "INVALID_STATE")


def test_image_upload_raw_chunked_larger_than_the_body_limit(
    client: FlaskClient, cast: Personas, store: Path, tmp_path: Path, settings: Settings
) -> None:
    """3 MiB, far past VIRTFLOW_MAX_BODY_BYTES, sent with chunked framing: streamed through."""
    assert settings.max_body_bytes < 3 * MiB
    image = pending(client, cast, name="raw-disk", format="raw")
    content = raw(tmp_path / "disk.raw", 3 * MiB).read_bytes()
    resp = chunked(
        client,
        "PUT",
        f"/api/v1/image/{image['id']}/file/",
        content,
        cast.h("admin"),
        content_type=OCTETS,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert (store / image["id"]).stat().st_size == 3 * MiB


class Reads(io.BytesIO):
    """A request body that records how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)

    def readinto(self, buffer: Any, /) -> int:
        self.asked.append(len(buffer))
        return super().readinto(buffer)


def test_image_upload_is_read_in_chunks_never_whole(
    client: FlaskClient, cast: Personas, store: Path, tmp_path: Path
) -> None:
    image = pending(client, cast, name="raw-disk", format="raw")
    content = raw(tmp_path / "disk.raw", 5 * MiB).read_bytes()
    body = Reads(content)
    resp = client.put(
        f"/api/v1/image/{image['id']}/file/",
        input_stream=body,
        headers={**cast.h("admin"), "Content-Type": OCTETS, "Content-Length": str(len(content))},
    )
    assert resp.status_code == 200, resp.get_json()
    assert body.asked and max(body.asked) <= images.CHUNK_BYTES and -1 not in body.asked
    assert len(body.asked) >= 5  # one read per chunk, not one for the whole body


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app over real HTTP on a loopback port (one request at a time: it shares the test's
    database connection)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)


def test_image_upload_over_http_streams_in_bounded_memory(
    served: str, client: FlaskClient, cast: Personas, store: Path
) -> None:
    """96 MiB sent chunked over a socket: the process never holds more than a few MiB of it."""
    image = pending(client, cast, name="big-raw", format="raw")
    block = bytes(range(256)) * 4096  # 1 MiB, the same object every time
    digest = hashlib.sha256()
    for _ in range(96):
        digest.update(block)

    def body() -> Iterator[bytes]:
        yield from (block for _ in range(96))

    headers = {**cast.h("admin"), "Content-Type": OCTETS}
    tracemalloc.start()
    try:
        resp = httpx.put(
            f"{served}/api/v1/image/{image['id']}/file/",
            content=body(),
            headers=headers,
            timeout=60,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["sha256"] == digest.hexdigest()
    assert (store / image["id"]).stat().st_size == 96 * MiB
    # About 6 MiB whatever the size (11 when this is the process's first request: imports).
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB for a 96 MiB upload"


@pytest.mark.parametrize(
    ("declared", "make_file", "reason"),
    [
        ("qcow2", lambda d: raw(d / "r.img"), "format_mismatch"),
        ("raw", lambda d: qcow2(d / "q.img"), "format_mismatch"),
        ("qcow2", lambda d: qcow2_with_backing(d / "b.img", "/etc/shadow"), "backing_file"),
        ("qcow2", lambda d: qcow2_with_backing(d / "h.img"), "backing_file"),
        ("qcow2", lambda d: qcow2_with_data_file(d / "x.img", d / "data"), "data_file"),
        ("raw", lambda d: raw(d / "e.img", 0), "empty"),
    ],
    ids=[
        "raw-as-qcow2",
        "qcow2-as-raw",
        "backing-shadow",
        "backing-hostname",
        "data-file",
        "empty",
    ],
)
def test_image_upload_refused_keeps_nothing(  # type: ignore[no-untyped-def]
    client: FlaskClient,
    cast: Personas,
    db: Session,
    *,
    store: Path,
    tmp_path: Path,
    declared: str,
    make_file,
    reason: str,
) -> None:
    image = pending(client, cast, format=declared)
    resp = upload(client, cast.h("admin"), image["id"], make_file(tmp_path).read_bytes())
    body = assert_error(resp, 422, "IMAGE_INVALID")
    assert body["error"]["details"]["reason"] == reason
    assert stored(store) == []  # not the file, not its temporary
    db.expire_all()
    row = db.get_one(Image, uuid.UUID(image["id"]))
    assert (row.status, row.sha256, row.size) == ("pending", None, None)
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "image.upload")).one()
    assert (audit.outcome, audit.error_code) == (AuditOutcome.DENIED, "IMAGE_INVALID")


@pytest.fixture
def small_limit_app(
    settings: Settings, sessions: sessionmaker[Session], redis: Redis
) -> Iterator[Flask]:
    yield from build_app(settings, sessions, redis, image_max_bytes=MiB)


def test_image_upload_past_the_limit_is_413_with_nothing_left(
    small_limit_app: Flask, cast: Personas, db: Session, store: Path, tmp_path: Path
) -> None:
    client = small_limit_app.test_client()
    image = pending(client, cast, format="raw")
    content = raw(tmp_path / "big.raw", 2 * MiB).read_bytes()
    declared = upload(client, cast.h("admin"), image["id"], content)
    assert_error(declared, 413, "PAYLOAD_TOO_LARGE")
    framed = chunked(
        client,
        "PUT",
        f"/api/v1/image/{image['id']}/file/",
        content,
        cast.h("admin"),
        content_type=OCTETS,
    )
    assert_error(framed, 413, "PAYLOAD_TOO_LARGE")
    assert stored(store) == []
    db.expire_all()
    assert db.get_one(Image, uuid.UUID(image["id"])).status == ImageStatus.PENDING
    # Within the limit it is accepted.
    fits = upload(client, cast.h("admin"), image["id"], raw(tmp_path / "ok.raw", MiB).read_bytes())
    assert fits.status_code == 200, fits.get_json()


def test_image_upload_media_type_and_permissions(
    client: FlaskClient, cast: Personas, db: Session, store: Path, tmp_path: Path
) -> None:
    image = pending(client, cast, visibility="private", tenant_id=str(cast.a.id))
    path = f"/api/v1/image/{image['id']}/file/"
    content = qcow2(tmp_path / "d.qcow2").read_bytes()
    as_json = client.put(path, json={"status": "active"}, headers=cast.h("admin"))
    assert_error(as_json, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(upload(client, cast.h("user_a"), image["id"], content), 403, "PERMISSION_DENIED")
    assert_error(upload(client, cast.h("viewer_a"), image["id"], content), 403, "PERMISSION_DENIED")
    assert_error(upload(client, cast.h("user_b"), image["id"], content), 404, "NOT_FOUND")
    assert_error(upload(client, cast.h("admin"), uuid.uuid4(), content), 404, "NOT_FOUND")
    assert stored(store) == []
    db.expire_all()
    assert db.get_one(Image, uuid.UUID(image["id"])).status == ImageStatus.PENDING


def test_image_other_routes_keep_the_json_body_limit(client: FlaskClient, cast: Personas) -> None:
    """The streamed exception is that one route: a large body elsewhere is still 413."""
    body = b'{"name": "' + b"a" * (128 * 1024) + b'"}'
    resp = client.post(
        "/api/v1/image/",
        data=body,
        headers={**cast.h("admin"), "Content-Type": "application/json"},
    )
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


# --------------------------------------------------------------------------------------------
# The admin CLI


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]) -> None:
    """The CLI commits into the test's savepoint instead of the real database."""
    monkeypatch.setattr("api.db.session_factory", lambda _url: sessions)


def test_cli_image_import(
    cli_db: None, db: Session, make: Factory, store: Path, tmp_path: Path
) -> None:
    tenant = make.tenant("acme")
    source = qcow2(tmp_path / "disk.qcow2", "32M")
    env = {"VIRTFLOW_IMAGE_STORE": str(store)}
    args = ["image", "import", str(source), "--name", "acme-base", "--default-user", "acme"]
    result = CliRunner().invoke(cli.main, [*args, "--tenant", "acme"], env=env)
    assert result.exit_code == 0, result.output
    image = db.scalars(select(Image).where(Image.name == "acme-base")).one()
    assert (image.status, image.visibility, image.tenant_id) == ("active", "private", tenant.id)
    assert (image.virtual_size, image.default_user) == (32 * MiB, "acme")
    assert image.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert str(image.id) in result.output
    assert stored(store) == [str(image.id)]


def test_cli_image_import_refuses_a_backing_file(
    cli_db: None, db: Session, store: Path, tmp_path: Path
) -> None:
    source = qcow2_with_backing(tmp_path / "evil.qcow2", "/etc/shadow")
    env = {"VIRTFLOW_IMAGE_STORE": str(store)}
    result = CliRunner().invoke(
        cli.main, ["image", "import", str(source), "--name", "evil", "--public"], env=env
    )
    assert result.exit_code != 0
    assert "IMAGE_INVALID" in result.output and "backing file" in result.output
    assert db.scalars(select(Image).where(Image.name == "evil")).first() is None
    assert stored(store) == []


def test_cli_image_import_format_and_visibility_options(
    cli_db: None, store: Path, tmp_path: Path
) -> None:
    source = raw(tmp_path / "disk.raw")
    env = {"VIRTFLOW_IMAGE_STORE": str(store)}
    base = ["image", "import", str(source), "--name", "plain"]
    mismatch = CliRunner().invoke(cli.main, base, env=env)  # qcow2 by default
    assert mismatch.exit_code != 0 and "IMAGE_INVALID" in mismatch.output
    both = CliRunner().invoke(cli.main, [*base, "--public", "--tenant", "x"], env=env)
    assert both.exit_code == 2
    fine = CliRunner().invoke(cli.main, [*base, "--format", "raw"], env=env)
    assert fine.exit_code == 0, fine.output
    assert "public" in fine.output
