"""The image catalog's service: registration, visibility, deletion, and content checked by
qemu-img (real files made with qemu-img create)."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from api.errors import (
    ImageInUse,
    ImageInvalid,
    InvalidState,
    NameTaken,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
)
from api.models import VM, Image, ImageStatus, Tenant, User, VMStatus
from api.services import images, vms
from api.services.images import ImageSpec
from tests.conftest import Factory
from tests.helpers.images import (
    MiB,
    qcow2,
    qcow2_with_backing,
    qcow2_with_data_file,
    raw,
    stored_image,
)


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


def receive_file(path: Path, store: Path, image: Image, limit: int = 64 * MiB) -> images.Received:
    with path.open("rb") as stream:
        return images.receive(stream, store, image.id, limit)


# --------------------------------------------------------------------------------------------
# Registering and reading


def test_images_register_makes_a_pending_image(db: Session, admin: User, make: Factory) -> None:
    tenant = make.tenant()
    spec = ImageSpec("debian-12", "raw", "debian", tenant.id)
    image = images.create(db, admin, spec)
    assert (image.status, image.disk_format, image.visibility) == ("pending", "raw", "private")
    assert (image.tenant_id, image.default_user, image.created_by_id) == (
        tenant.id,
        "debian",
        admin.id,
    )
    assert (image.sha256, image.size, image.virtual_size) == (None, None, None)


def test_images_register_refuses_non_admins(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    member = make.user()
    make.member(member, tenant, "tenant_user")
    with pytest.raises(PermissionDenied):
        images.create(db, member, ImageSpec("mine", tenant_id=tenant.id))


def test_images_register_name_taken_among_live_images(db: Session, admin: User) -> None:
    images.create(db, admin, ImageSpec("debian-12"))
    with pytest.raises(NameTaken):
        images.create(db, admin, ImageSpec("debian-12"))
    stored_image(db, name="old", status=ImageStatus.DELETED)
    assert images.create(db, admin, ImageSpec("old")).status == "pending"  # a deleted one frees it


def test_images_register_unknown_tenant_is_not_found(db: Session, admin: User) -> None:
    with pytest.raises(NotFound):
        images.create(db, admin, ImageSpec("lost", tenant_id=uuid.uuid4()))


@pytest.mark.parametrize(
    ("name", "user"),
    [
        ("../../etc/passwd", "debian"),
        ("Debian", "debian"),
        ("a" * 65, "debian"),
        ("deb\n", "debian"),
        ("debian", "root;id"),
        ("debian", "-rf"),
        ("debian", "9lives"),
        ("debian", "u" * 33),
        ("debian", "deb\n"),
    ],
)
def test_images_register_refuses_unsafe_names(
    db: Session, admin: User, name: str, user: str
) -> None:
    with pytest.raises(ValidationFailed):
        images.register(db, ImageSpec(name, default_user=user), admin)


def test_images_visibility_public_own_tenant_private_admins_all(
    db: Session, admin: User, make: Factory
) -> None:
    a, b = make.tenant(), make.tenant()
    viewer_a, stranger = make.user(), make.user()
    make.member(viewer_a, a, "viewer")
    public = stored_image(db)
    private_a = stored_image(db, tenant_id=a.id)
    private_b = stored_image(db, tenant_id=b.id)
    stored_image(db, status=ImageStatus.DELETED)

    def seen(user: User) -> set[uuid.UUID]:
        return {image.id for image in db.scalars(images.images_query(db, user))}

    assert seen(viewer_a) == {public.id, private_a.id}
    assert seen(stranger) == {public.id}
    assert {public.id, private_a.id, private_b.id} <= seen(admin)
    with pytest.raises(NotFound):
        images.get_image(db, viewer_a, private_b.id)
    with pytest.raises(NotFound):
        images.get_image(db, stranger, private_a.id)
    assert images.get_image(db, viewer_a, private_a.id) is private_a


def test_images_filters_never_widen(db: Session, make: Factory) -> None:
    a, b = make.tenant(), make.tenant()
    user_a = make.user()
    make.member(user_a, a, "tenant_user")
    private_b = stored_image(db, tenant_id=b.id)
    for filters in ({"tenant_id": b.id}, {"name": private_b.name}, {"visibility": "private"}):
        found = db.scalars(images.images_query(db, user_a, **filters)).all()
        assert private_b not in found


# --------------------------------------------------------------------------------------------
# Deleting


def vm_using(db: Session, admin: User, tenant: Tenant, image: Image) -> VM:
    job = vms.create_vm(db, admin, vms.VMRequest(tenant.id, "web", 1, 64, 1), None)
    vm = db.get_one(VM, job.vm_id)
    vm.image_id = image.id  # VM create does not set it yet: what it will do
    db.flush()
    return vm


def test_images_delete_refused_while_a_vm_uses_it(db: Session, admin: User, make: Factory) -> None:
    make.baremetal("bm-1")
    tenant = make.tenant()
    image = stored_image(db)
    vm = vm_using(db, admin, tenant, image)
    with pytest.raises(ImageInUse) as refused:
        images.delete(db, admin, image.id)
    assert refused.value.details == {"vm_ids": [str(vm.id)], "count": 1}
    assert image.status == ImageStatus.ACTIVE
    vm.status = VMStatus.DELETED  # a deleted VM no longer holds it
    db.flush()
    deleted, before = images.delete(db, admin, image.id)
    assert (deleted.status, before) == ("deleted", "active")
    assert deleted.deleted_at is not None
    with pytest.raises(InvalidState):
        images.delete(db, admin, image.id)


def test_images_delete_refuses_non_admins_and_hides_private(db: Session, make: Factory) -> None:
    a, b = make.tenant(), make.tenant()
    user_a = make.user()
    make.member(user_a, a, "tenant_user")
    with pytest.raises(PermissionDenied):
        images.delete(db, user_a, stored_image(db, tenant_id=a.id).id)
    with pytest.raises(NotFound):
        images.delete(db, user_a, stored_image(db, tenant_id=b.id).id)


# --------------------------------------------------------------------------------------------
# Content


def test_images_receive_hashes_in_chunks_and_leaves_a_temporary_file(
    db: Session, store: Path
) -> None:
    image = stored_image(db, status=ImageStatus.PENDING)
    data = bytes(range(256)) * (3 * MiB // 256 + 7)

    class Reads(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.sizes: list[int] = []

        def read(self, size: int | None = -1, /) -> bytes:
            self.sizes.append(size or -1)
            return super().read(size)

    source = Reads(data)
    received = images.receive(source, store, image.id, 64 * MiB)
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.size == len(data) == received.path.stat().st_size
    assert set(source.sizes) == {images.CHUNK_BYTES}  # never "read it all"
    assert received.path.parent == store and received.path.name.endswith(".part")


def test_images_receive_logs_progress_every_so_many_mib(
    db: Session, store: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(images, "PROGRESS_BYTES", 2 * MiB)
    image = stored_image(db, status=ImageStatus.PENDING)
    with caplog.at_level(logging.INFO, logger="api.services.images"):
        images.receive(io.BytesIO(b"x" * (7 * MiB)), store, image.id, 64 * MiB)
    progress = [r.getMessage() for r in caplog.records if "MiB received" in r.getMessage()]
    assert progress == [f"image {image.id}: {n} MiB received" for n in (2, 4, 6)]


def test_images_receive_past_the_limit_leaves_nothing(db: Session, store: Path) -> None:
    image = stored_image(db, status=ImageStatus.PENDING)
    with pytest.raises(PayloadTooLarge):
        images.receive(io.BytesIO(b"x" * (2 * MiB + 1)), store, image.id, 2 * MiB)
    assert leftovers(store) == []


def test_images_inspect_accepts_qcow2_and_raw(tmp_path: Path) -> None:
    assert images.inspect(qcow2(tmp_path / "a.qcow2", "16M"), "qcow2") == images.Inspected(
        "qcow2", 16 * MiB
    )
    assert images.inspect(raw(tmp_path / "b.raw", MiB), "raw") == images.Inspected("raw", MiB)


@pytest.mark.parametrize(
    ("make_file", "declared", "reason"),
    [
        (lambda d: raw(d / "r.img"), "qcow2", "format_mismatch"),
        (lambda d: qcow2(d / "q.img"), "raw", "format_mismatch"),
        (lambda d: qcow2_with_backing(d / "b.img"), "qcow2", "backing_file"),
        (lambda d: qcow2_with_backing(d / "s.img", "/etc/shadow"), "qcow2", "backing_file"),
        (lambda d: qcow2_with_data_file(d / "d.img", d / "data"), "qcow2", "data_file"),
        (lambda d: raw(d / "e.img", 0), "raw", "empty"),
    ],
    ids=["raw-as-qcow2", "qcow2-as-raw", "backing", "backing-shadow", "data-file", "empty"],
)
def test_images_inspect_refuses(tmp_path: Path, make_file, declared: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImageInvalid) as refused:
        images.inspect(make_file(tmp_path), declared)
    assert refused.value.details["reason"] == reason


def test_images_accept_makes_the_image_active_under_its_id(
    db: Session, store: Path, tmp_path: Path
) -> None:
    image = stored_image(db, status=ImageStatus.PENDING)
    source = qcow2(tmp_path / "disk.qcow2")
    received = receive_file(source, store, image)
    accepted = images.accept(db, image.id, received, store)
    assert (accepted.status, accepted.virtual_size, accepted.size) == (
        "active",
        16 * MiB,
        source.stat().st_size,
    )
    assert accepted.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert leftovers(store) == [str(image.id)]
    assert (store / str(image.id)).read_bytes() == source.read_bytes()


def test_images_accept_refused_keeps_nothing_and_stays_pending(
    db: Session, store: Path, tmp_path: Path
) -> None:
    image = stored_image(db, status=ImageStatus.PENDING)
    received = receive_file(qcow2_with_backing(tmp_path / "evil.qcow2"), store, image)
    with pytest.raises(ImageInvalid):
        images.accept(db, image.id, received, store)
    assert leftovers(store) == []
    assert image.status == ImageStatus.PENDING and image.sha256 is None


def test_images_accept_second_upload_loses(db: Session, store: Path, tmp_path: Path) -> None:
    image = stored_image(db, status=ImageStatus.PENDING)
    first = receive_file(qcow2(tmp_path / "one.qcow2"), store, image)
    second = receive_file(qcow2(tmp_path / "two.qcow2", "32M"), store, image)
    images.accept(db, image.id, first, store)
    with pytest.raises(InvalidState):
        images.accept(db, image.id, second, store)
    assert leftovers(store) == [str(image.id)]
    assert image.virtual_size == 16 * MiB


def test_images_import_file_registers_and_stores(
    db: Session, store: Path, tmp_path: Path, make: Factory
) -> None:
    tenant = make.tenant()
    source = qcow2(tmp_path / "disk.qcow2")
    spec = ImageSpec("imported", "qcow2", "cloud", tenant.id)
    image = images.import_file(db, source, spec, store, 64 * MiB)
    assert (image.status, image.visibility, image.tenant_id) == ("active", "private", tenant.id)
    assert image.created_by_id is None
    assert (store / str(image.id)).read_bytes() == source.read_bytes()


def test_images_import_file_too_large_or_not_a_file(
    db: Session, store: Path, tmp_path: Path
) -> None:
    source = raw(tmp_path / "big.raw", 2 * MiB)
    with pytest.raises(PayloadTooLarge):
        images.import_file(db, source, ImageSpec("big", "raw"), store, MiB)
    with pytest.raises(NotFound):
        images.import_file(db, tmp_path, ImageSpec("dir", "raw"), store, MiB)
    assert leftovers(store) == []
