"""The migrations build the models' schema on an empty database, and unwind completely."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import CheckConstraint

from api.settings import REPO_ROOT
from tests.conftest import ADMIN_URL

ALEMBIC = REPO_ROOT / ".venv" / "bin" / "alembic"


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"virtflow_migrate_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The alembic command as the owner (migrations use VIRTFLOW_MIGRATE_DATABASE_URL)."""
    env = {**os.environ, "VIRTFLOW_MIGRATE_DATABASE_URL": url}
    return subprocess.run(
        [str(ALEMBIC), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tables(url: str) -> set[str]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def test_migrations_upgrade_check_and_downgrade_on_empty_database(empty_database: str) -> None:
    up = alembic(empty_database, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert {"tenant", "user_account", "membership", "baremetal", "vm", "job", "job_event"} <= (
        tables(empty_database)
    )

    check = alembic(empty_database, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    down = alembic(empty_database, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert tables(empty_database) <= {"alembic_version"}

    again = alembic(empty_database, "upgrade", "head")
    assert again.returncode == 0, again.stderr


def test_migrations_have_a_single_head() -> None:
    heads = alembic("postgresql+psycopg://unused@127.0.0.1:1/none", "heads")
    assert heads.returncode == 0, heads.stderr
    assert len([line for line in heads.stdout.splitlines() if line.strip()]) == 1
    assert "(head)" in heads.stdout


def test_migrations_check_constraints_match_models(database_url: str) -> None:
    # alembic check does not compare CHECK constraints: a new enum value or size limit in a
    # model without a migration would only show up as an IntegrityError in production.
    import api.models  # noqa: F401 - registers every table
    from api.db import Base

    expected: dict[str, str] = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                expected[str(constraint.name)] = str(constraint.sqltext)
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        rows = conn.execute(
            "SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'c' AND n.nspname = 'public'"
        ).fetchall()
    actual = {name: definition for name, definition in rows}
    assert set(expected) == set(actual)
    for name, text in expected.items():
        for quoted in re.findall(r"'[^']*'", text):
            assert quoted in actual[name], (name, quoted, actual[name])
        for number in re.findall(r"\b\d+\b", re.sub(r"'[^']*'", "", text)):
            assert re.search(rf"\b{number}\b", actual[name]), (name, number, actual[name])
