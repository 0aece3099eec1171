"""The image catalog under gunicorn, as `virtflow serve` runs it: an image streamed to the real
server (chunked, and with a Content-Length), stored under its id with its sha256 and checked by
qemu-img; a qcow2 whose backing file is /etc/shadow and an image past the limit keep nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.images import MiB, qcow2, qcow2_with_backing
from tests.helpers.stack import Stack, running_stack

OCTETS = {"Content-Type": "application/octet-stream"}
LIMIT = 64 * MiB


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn on a fresh database, no worker, no host: images need neither."""
    workdir = tmp_path_factory.mktemp("images-e2e")
    env = {"VIRTFLOW_IMAGE_STORE": str(workdir / "store"), "VIRTFLOW_IMAGE_MAX_BYTES": str(LIMIT)}
    with running_stack(workdir, with_worker=False, prepare=(), env=env) as stack:
        stack.login()
        yield stack


def store_of(stack: Stack) -> list[str]:
    store = Path(stack.env["VIRTFLOW_IMAGE_STORE"])
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


def register(stack: Stack, name: str, disk_format: str = "qcow2") -> str:
    resp = stack.call("POST", "/api/v1/image/", json={"name": name, "format": disk_format})
    assert resp.status_code == 201, resp.text
    image_id: str = resp.json()["data"]["id"]
    return image_id


def test_e2e_image_upload_chunked_through_gunicorn(served: Stack, tmp_path: Path) -> None:
    image_id = register(served, "streamed-qcow2")
    content = qcow2(tmp_path / "disk.qcow2", "1G").read_bytes()

    def pieces() -> Iterator[bytes]:  # requests sends a generator chunked
        for start in range(0, len(content), 64 * 1024):
            yield content[start : start + 64 * 1024]

    resp = served.call("PUT", f"/api/v1/image/{image_id}/file/", data=pieces(), headers=OCTETS)
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert (data["status"], data["virtual_size"]) == ("active", 1024 * MiB)
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert image_id in store_of(served)
    shown = served.call("GET", f"/api/v1/image/{image_id}/").json()["data"]
    assert shown["sha256"] == data["sha256"]


def test_e2e_image_upload_past_the_body_limit_with_a_length(served: Stack, tmp_path: Path) -> None:
    """20 MiB with a Content-Length: far past VIRTFLOW_MAX_BODY_BYTES, within the image limit."""
    image_id = register(served, "raw-20m", "raw")
    content = bytes(range(256)) * (20 * MiB // 256)
    resp = served.call("PUT", f"/api/v1/image/{image_id}/file/", data=content, headers=OCTETS)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["size"] == 20 * MiB


def test_e2e_image_upload_refusals_keep_nothing(served: Stack, tmp_path: Path) -> None:
    before = store_of(served)
    evil = register(served, "evil")
    content = qcow2_with_backing(tmp_path / "evil.qcow2", "/etc/shadow").read_bytes()
    resp = served.call("PUT", f"/api/v1/image/{evil}/file/", data=content, headers=OCTETS)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["details"]["reason"] == "backing_file"
    big = register(served, "too-big", "raw")
    resp = served.call(
        "PUT", f"/api/v1/image/{big}/file/", data=b"\0" * (LIMIT + 1), headers=OCTETS
    )
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert store_of(served) == before
    for image_id in (evil, big):
        assert served.call("GET", f"/api/v1/image/{image_id}/").json()["data"]["status"] == (
            "pending"
        )
