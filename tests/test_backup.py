"""The restore drill for real: pg_dump a migrated database, pg_restore it elsewhere, compare."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.command import upgrade
from alembic.config import Config
from click.testing import CliRunner

from api import backup, cli
from api.settings import REPO_ROOT

ADMIN_URL = os.environ.get(
    "VIRTFLOW_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def drill_databases() -> set[str]:
    with psycopg.connect(ADMIN_URL) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'virtflow_drill_%'")
        return {name for (name,) in rows}


@pytest.fixture
def source_url() -> Iterator[str]:
    """A database of its own, migrated, with two tenants and one user committed."""
    name = f"virtflow_backup_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    try:
        config = Config(toml_file=str(REPO_ROOT / "pyproject.toml"))
        config.attributes["database_url"] = url
        upgrade(config, "head")
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            for tenant in ("acme", "globex"):
                conn.execute(
                    "INSERT INTO tenant (id, name, status) VALUES (%s, %s, 'active')",
                    (uuid.uuid4(), tenant),
                )
            conn.execute(
                "INSERT INTO user_account (id, username, password_hash, is_admin, is_active)"
                " VALUES (%s, 'alice', 'x', false, true)",
                (uuid.uuid4(),),
            )
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump(url: str, out: Path) -> None:
    result = CliRunner().invoke(cli.main, ["db", "backup", str(out), "--url", url])
    assert result.exit_code == 0, result.output


def test_backup_restore_drill_restores_every_row(source_url: str, tmp_path: Path) -> None:
    before = drill_databases()
    out = tmp_path / "virtflow.dump"
    dump(source_url, out)
    manifest = json.loads((tmp_path / "virtflow.dump.manifest.json").read_text())
    assert (manifest["tenant"]["rows"], manifest["user_account"]["rows"]) == (2, 1)
    assert manifest["alembic_version"]["rows"] == 1

    result = CliRunner().invoke(
        cli.main, ["db", "restore-drill", str(out), "--admin-url", ADMIN_URL]
    )

    assert result.exit_code == 0, result.output
    assert "tenant: 2 rows" in result.output and "user_account: 1 rows" in result.output
    assert "identical to its manifest" in result.output
    assert drill_databases() == before  # the scratch database is gone


def test_backup_restore_drill_fails_when_the_restore_differs(
    source_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "virtflow.dump"
    dump(source_url, out)
    path = tmp_path / "virtflow.dump.manifest.json"
    manifest = json.loads(path.read_text())
    manifest["tenant"]["rows"] = 3  # what a dump that lost a row would look like
    path.write_text(json.dumps(manifest))

    result = CliRunner().invoke(
        cli.main, ["db", "restore-drill", str(out), "--admin-url", ADMIN_URL]
    )

    assert result.exit_code == 1
    assert "differs from the dump: tenant: dump {" in result.output


def test_backup_dumps_the_snapshot_its_manifest_counted(
    source_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant committed between the manifest and pg_dump is in neither of them."""
    counted = backup.manifest
    written = []

    def manifest_then_write(conn: psycopg.Connection[Any]) -> backup.Manifest:
        taken = counted(conn)
        if not written:
            with psycopg.connect(source_url.replace("+psycopg", "")) as other:
                other.execute(
                    "INSERT INTO tenant (id, name, status) VALUES (%s, 'late', 'active')",
                    (uuid.uuid4(),),
                )
            written.append(True)
        return taken

    monkeypatch.setattr(backup, "manifest", manifest_then_write)
    out = tmp_path / "virtflow.dump"
    dump(source_url, out)
    monkeypatch.setattr(backup, "manifest", counted)

    result = CliRunner().invoke(
        cli.main, ["db", "restore-drill", str(out), "--admin-url", ADMIN_URL]
    )

    assert written and result.exit_code == 0, result.output
    assert "tenant: 2 rows" in result.output
