"""Idempotency keys: the fingerprint, the key's form, claiming, and the purge of expired keys."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import IdempotencyKeyReused
from api.models import IdempotencyKey
from api.services import idempotency
from tests.conftest import Factory

BODY = {"name": "web", "sizes": {"vcpus": 1, "ram_mb": 64}}


def test_idempotency_fingerprint_is_of_the_canonical_request() -> None:
    same = idempotency.fingerprint("post", "/a/", [("y", "2"), ("x", "1")], BODY)
    assert same == idempotency.fingerprint(
        "POST",
        "/a/",
        [("x", "1"), ("y", "2")],
        {"sizes": {"ram_mb": 64, "vcpus": 1}, "name": "web"},
    )
    others = [
        idempotency.fingerprint("PUT", "/a/", [("x", "1"), ("y", "2")], BODY),
        idempotency.fingerprint("POST", "/b/", [("x", "1"), ("y", "2")], BODY),
        idempotency.fingerprint("POST", "/a/", [("x", "1")], BODY),
        idempotency.fingerprint("POST", "/a/", [("x", "1"), ("y", "2")], {**BODY, "name": "db"}),
        idempotency.fingerprint("POST", "/a/", [("x", "1"), ("y", "2")], None),
    ]
    assert len({same, *others}) == 6
    assert len(same) == 64


@pytest.mark.parametrize(
    ("key", "valid"),
    [("a", True), (" ~!", True), ("k" * 255, True), ("", False), ("k" * 256, False),
     ("caf\u00e9", False), ("a\nb", False), ("\x00", False)],
)  # fmt: skip
def test_idempotency_key_is_1_to_255_printable_ascii(key: str, valid: bool) -> None:
    assert idempotency.valid_key(key) is valid


def test_idempotency_claim_inserts_then_replays_then_refuses_another_request(
    db: Session, make: Factory
) -> None:
    user, now = make.user(), utcnow()
    row = idempotency.claim(db, user.id, "k", "f" * 64, now)
    assert isinstance(row, IdempotencyKey) and row.status_code is None
    idempotency.store(db, row, 202, {"status": "success"})
    assert idempotency.claim(db, user.id, "k", "f" * 64, now) == idempotency.Replay(
        202, {"status": "success"}
    )
    with pytest.raises(IdempotencyKeyReused):
        idempotency.claim(db, user.id, "k", "e" * 64, now)


def test_idempotency_claim_of_an_expired_key_starts_it_again(db: Session, make: Factory) -> None:
    user, now = make.user(), utcnow()
    first = idempotency.claim(db, user.id, "k", "f" * 64, now - idempotency.TTL)
    assert isinstance(first, IdempotencyKey)
    idempotency.store(db, first, 202, {"status": "success"})
    again = idempotency.claim(db, user.id, "k", "e" * 64, now)
    assert again is first  # the same row, another request's now
    assert (again.fingerprint, again.status_code, again.response) == ("e" * 64, None, None)
    assert again.created_at == now


def test_idempotency_purge_deletes_only_keys_older_than_24h(db: Session, make: Factory) -> None:
    user, now = make.user(), utcnow()
    for key, age in (("old", dt.timedelta(hours=24)), ("new", dt.timedelta(hours=23))):
        row = idempotency.claim(db, user.id, key, "f" * 64, now - age)
        assert isinstance(row, IdempotencyKey)
        idempotency.store(db, row, 202, {})
    assert idempotency.purge_expired(db, now) == 1
    assert list(db.scalars(select(IdempotencyKey.key))) == ["new"]
    assert idempotency.purge_expired(db, now + dt.timedelta(hours=1)) == 1
