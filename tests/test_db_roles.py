"""The application's database role owns nothing and cannot rewrite the audit log; the owner's
`virtflow db upgrade` grants it exactly what the app uses, on every table it finds."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.db_roles import (
    APPEND_ONLY,
    NO_ACCESS,
    READ_ONLY,
    AppRole,
    RoleError,
    check_owns_nothing,
    ensure_role,
    grant,
    libpq_url,
)
from tests.conftest import ADMIN_URL, APP_ROLE
from tests.helpers.stack import VENV_BIN, running_stack


@pytest.fixture
def as_app(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The test database as the application's role (autocommit: each statement stands alone)."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        yield conn


@pytest.fixture
def as_owner(owner_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The test database as its owner, in one transaction that is rolled back."""
    with psycopg.connect(libpq_url(owner_url)) as conn:
        yield conn
        conn.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log ADD COLUMN note text",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP TRIGGER audit_log_chain ON audit_log",
        "DROP TABLE audit_log",
        "CREATE OR REPLACE FUNCTION virtflow_audit_log_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        "DROP FUNCTION virtflow_audit_log_chain()",
        "INSERT INTO audit_log (id, action, outcome, status_code) VALUES (1, 'x', 'success', 200)",
        "INSERT INTO audit_log (action, outcome, status_code, row_hash)"
        " VALUES ('x', 'success', 200, '\\x00')",
        "UPDATE audit_chain SET last_id = 0",
        "DELETE FROM audit_chain",
    ],
)
def test_db_roles_app_role_cannot_rewrite_the_audit_log(
    as_app: psycopg.Connection[Any], statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app.execute(statement)


def test_db_roles_app_role_owns_nothing(as_owner: psycopg.Connection[Any]) -> None:
    check_owns_nothing(as_owner, APP_ROLE)
    owned = as_owner.execute(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)"
        " + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid), r.rolsuper"
        " FROM pg_roles r WHERE rolname = %s",
        (APP_ROLE,),
    ).fetchone()
    assert owned == (0, False)


def test_db_roles_app_role_cannot_create_tables(as_app: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app.execute("CREATE TABLE mine (x int)")


def privileges(conn: psycopg.Connection[Any], table: str) -> set[str]:
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    return {
        kind
        for kind in kinds
        if conn.execute(
            "SELECT has_table_privilege(%s, %s, %s)", (APP_ROLE, f"public.{table}", kind)
        ).fetchone()
        == (True,)
    }


def test_db_roles_app_role_may_change_every_table_but_the_audit_ones(
    as_owner: psycopg.Connection[Any],
) -> None:
    tables = [
        row[0]
        for row in as_owner.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    ]
    dml = {"SELECT", "INSERT", "UPDATE", "DELETE"}
    found = {table: privileges(as_owner, table) for table in tables}
    assert found["audit_log"] == {"SELECT"}  # and INSERT of some columns: below
    assert found["audit_chain"] == {"SELECT"}
    assert found["alembic_version"] == set()
    others = set(tables) - APPEND_ONLY - READ_ONLY - NO_ACCESS
    assert {"vm", "job", "job_event", "tenant"} <= others
    assert all(found[table] == dml for table in others), found


def column_insertable(conn: psycopg.Connection[Any], column: str) -> bool:
    found = conn.execute(
        "SELECT has_column_privilege(%s, 'public.audit_log', %s, 'INSERT')", (APP_ROLE, column)
    ).fetchone()
    return found == (True,)


@pytest.mark.parametrize(
    ("column", "insertable"),
    [("id", False), ("prev_hash", False), ("row_hash", False), ("action", True), ("changes", True)],
)
def test_db_roles_app_role_inserts_audit_rows_but_never_their_id_or_hashes(
    as_owner: psycopg.Connection[Any], column: str, insertable: bool
) -> None:
    assert column_insertable(as_owner, column) is insertable


def test_db_roles_grant_covers_a_table_added_by_a_later_migration(
    as_owner: psycopg.Connection[Any],
) -> None:
    as_owner.execute("CREATE TABLE added_later (id bigserial PRIMARY KEY, note text)")
    grant(as_owner, APP_ROLE)  # what `virtflow db upgrade` runs after the migrations
    assert privileges(as_owner, "added_later") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    usage = as_owner.execute(
        "SELECT has_sequence_privilege(%s, 'added_later_id_seq', 'USAGE')", (APP_ROLE,)
    ).fetchone()
    assert usage == (True,)


def test_db_roles_ensure_role_concurrently_creates_it_once() -> None:
    name = f"virtflow_test_role_{uuid.uuid4().hex[:8]}"
    results: list[bool] = []
    start = threading.Barrier(4)

    def create() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            start.wait(timeout=10)
            results.append(ensure_role(conn, AppRole(name, None)))

    threads = [threading.Thread(target=create) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False, False, False, True]
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_db_roles_refuse_the_owner_as_the_application_role() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/virtflow"
    with pytest.raises(RoleError, match="other than the owner"):
        AppRole.from_urls(url, url)


def test_db_roles_refuse_a_superuser_as_the_application_role(
    as_owner: psycopg.Connection[Any],
) -> None:
    with pytest.raises(RoleError, match="neither a superuser"):
        check_owns_nothing(as_owner, "postgres")


def test_db_roles_refuse_urls_naming_two_databases() -> None:
    with pytest.raises(RoleError, match="one database"):
        AppRole.from_urls(
            "postgresql+psycopg://virtflow_app@127.0.0.1:5432/a",
            "postgresql+psycopg://postgres@127.0.0.1:5432/b",
        )


def test_db_roles_stack_serves_and_audits_as_the_application_role(tmp_path: Path) -> None:
    """gunicorn and a worker, set up as `make run` does, work as the role that owns nothing."""
    with running_stack(tmp_path, prepare=()) as stack:
        stack.login()
        created = stack.call("POST", "/api/v1/tenant/", json={"name": "roles-check"})
        assert created.status_code == 201, created.text
        users = stack.sql(
            "SELECT DISTINCT usename FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            stack.db_name,
        )
        verified = subprocess.run(
            [str(VENV_BIN / "virtflow"), "audit", "verify"],
            env=stack.env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert users == [(APP_ROLE,)]
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout
