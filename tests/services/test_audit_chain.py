"""The audit log's hash chain: the database chains every row, and `virtflow audit verify`
finds the first row a copy altered by its owner breaks."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic.command import upgrade
from alembic.config import Config
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from api.cli import main
from api.db import engine_for
from api.db_roles import libpq_url
from api.models import AuditOutcome
from api.services import audit
from api.services.audit_chain import GENESIS
from api.settings import REPO_ROOT, Settings
from tests.conftest import ADMIN_URL, app_url, drop_database, recreate_database

ROWS = 6
PREVIOUS_REVISION = "c5e1a7f0d2b4"  # the head before the chain


def insert_rows(url: str, count: int, action: str = "test.chain") -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        for n in range(count):
            conn.execute(
                "INSERT INTO audit_log (action, outcome, status_code, changes)"
                " VALUES (%s, 'success', 200, %s::jsonb)",
                (action, f'{{"n": {n}}}'),
            )


def verify(url: str) -> Result:
    """`virtflow audit verify` against url, as the application's role."""
    result = CliRunner().invoke(main, ["audit", "verify"], env={"VIRTFLOW_DATABASE_URL": url})
    engine_for(url, Settings().db_timeouts).dispose()
    return result


def as_owner(owner_url: str, *statements: str) -> None:
    """Alter the audit log as its owner, past its triggers, as a tamperer with that power could."""
    with psycopg.connect(libpq_url(owner_url)) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for statement in statements:
            conn.execute(statement)
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


@pytest.fixture(scope="module")
def chained() -> Iterator[str]:
    """A database set up by `virtflow db upgrade`, with ROWS audit rows written by the app role."""
    name = f"virtflow_chain_{uuid.uuid4().hex[:8]}"
    owner = recreate_database(name)
    env = {"VIRTFLOW_MIGRATE_DATABASE_URL": owner, "VIRTFLOW_DATABASE_URL": app_url(owner)}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "privileges granted" in result.output
    insert_rows(app_url(owner), ROWS)
    yield name
    drop_database(name)


@pytest.fixture
def copy(chained: str) -> Iterator[str]:
    """A copy of the chained database (CREATE DATABASE ... TEMPLATE); its owner's URL."""
    name = f"virtflow_chain_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{chained}"')
    yield ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
    drop_database(name)


def test_audit_verify_untouched_copy_is_ok(copy: str) -> None:
    result = verify(app_url(copy))
    assert result.exit_code == 0, result.output
    assert f"{ROWS} rows, chain intact up to row {ROWS}" in result.output


def test_audit_verify_detects_a_changed_row(copy: str) -> None:
    as_owner(copy, "UPDATE audit_log SET actor_username = 'someone-else' WHERE id = 3")
    result = verify(app_url(copy))
    assert result.exit_code == 1
    assert "row 3 breaks the chain: its content does not match its hash" in result.output


def test_audit_verify_detects_a_removed_row(copy: str) -> None:
    as_owner(copy, "DELETE FROM audit_log WHERE id = 3")
    result = verify(app_url(copy))
    assert result.exit_code == 1
    assert "row 4 breaks the chain: it does not follow the row before it" in result.output


def test_audit_verify_detects_swapped_rows(copy: str) -> None:
    as_owner(
        copy,
        "UPDATE audit_log SET id = -3 WHERE id = 3",
        "UPDATE audit_log SET id = 3 WHERE id = 4",
        "UPDATE audit_log SET id = 4 WHERE id = -3",
    )
    result = verify(app_url(copy))
    assert result.exit_code == 1
    assert "row 3 breaks the chain" in result.output


def test_audit_verify_detects_rows_removed_at_the_end(copy: str) -> None:
    as_owner(copy, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    result = verify(app_url(copy))
    assert result.exit_code == 1
    assert f"row {ROWS} breaks the chain: the newest rows are missing" in result.output


def test_audit_verify_detects_a_changed_row_whose_hash_was_recomputed(copy: str) -> None:
    as_owner(
        copy,
        "UPDATE audit_log SET action = 'rewritten' WHERE id = 2",
        "UPDATE audit_log SET row_hash = virtflow_audit_row_hash(prev_hash, audit_log)"
        " WHERE id = 2",
    )
    result = verify(app_url(copy))
    assert result.exit_code == 1
    assert "row 3 breaks the chain: it does not follow the row before it" in result.output


def test_audit_verify_unreachable_database_exits_2() -> None:
    result = verify("postgresql+psycopg://virtflow_app@127.0.0.1:1/none")
    assert result.exit_code == 2
    assert "could not read the audit log" in result.output
    assert "SELECT" not in result.output


def append(url: str, rows: int, seed: int, committed: list[Any], start: threading.Barrier) -> None:
    """rows audit inserts, each in its own transaction, about a third of them rolled back; an
    error is put in committed, for the test to see."""
    try:
        chance = random.Random(seed)  # noqa: S311 - an interleaving, not a secret
        _append(url, rows, chance, committed, start)
    except Exception as exc:
        committed.append(exc)


def _append(
    url: str, rows: int, chance: random.Random, committed: list[Any], start: threading.Barrier
) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        start.wait(timeout=30)
        for _ in range(rows):
            rollback = chance.random() < 0.3
            with conn.transaction(force_rollback=rollback):
                found = conn.execute(
                    "INSERT INTO audit_log (action, outcome, status_code, changes)"
                    " VALUES ('test.concurrent', 'success', 200, '{}') RETURNING id"
                ).fetchone()
            assert found is not None
            if not rollback:
                committed.append(found[0])


def test_audit_chain_concurrent_appends_with_rollbacks_form_one_chain(copy: str) -> None:
    writers, per_writer = 8, 15
    committed: list[Any] = []
    start = threading.Barrier(writers)
    threads = [
        threading.Thread(target=append, args=(app_url(copy), per_writer, n, committed, start))
        for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(row_id, int) for row_id in committed), committed
    result = verify(app_url(copy))
    assert result.exit_code == 0, result.output
    assert f"{ROWS + len(committed)} rows" in result.output
    assert 0 < len(committed) < writers * per_writer  # some rolled back, and none was lost


def test_audit_chain_migration_chains_the_rows_that_exist() -> None:
    name = f"virtflow_chain_mig_{uuid.uuid4().hex[:8]}"
    owner = recreate_database(name)
    config = Config(toml_file=str(REPO_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = owner
    try:
        upgrade(config, PREVIOUS_REVISION)
        insert_rows(owner, 4, action="test.before_chain")
        upgrade(config, "head")
        with psycopg.connect(libpq_url(owner)) as conn:
            first = conn.execute("SELECT prev_hash FROM audit_log ORDER BY id LIMIT 1").fetchone()
        result = verify(owner)  # the owner may read too
        assert result.exit_code == 0, result.output
        assert "4 rows, chain intact up to row 4" in result.output
        assert first == (GENESIS,)
    finally:
        drop_database(name)


def test_audit_record_chains_each_row_to_the_one_before(db: Session) -> None:
    first = audit.record(db, audit.Entry(action="test.first"), AuditOutcome.SUCCESS, 200, None)
    second = audit.record(db, audit.Entry(action="test.second"), AuditOutcome.SUCCESS, 200, None)
    assert second.id > first.id
    assert second.prev_hash == first.row_hash
    assert len(first.row_hash) == 32 and first.row_hash != second.row_hash
