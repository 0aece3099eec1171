"""PostgreSQL backup and the restore drill: pg_dump, pg_restore and a manifest that checks them.

`dump` exports a snapshot in a REPEATABLE READ transaction, takes the manifest (row count and a
digest of every table's rows) in that snapshot, and has pg_dump dump that very snapshot, so the
manifest describes the dump exactly even while the API writes. `drill` restores a dump into a
scratch database, takes the manifest there, drops the scratch database, and reports what differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

Manifest = dict[str, dict[str, Any]]
TABLES = sql.SQL(
    "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename"
)
# Order-independent digest of a table's rows: md5 of the sorted md5s of each row's text form.
DIGEST = sql.SQL(
    "SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), ''))"
    " FROM {} t"
)


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed, or the restored database differs from the manifest."""


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq URL without the password, and the password as PGPASSWORD."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def manifest(conn: psycopg.Connection[Any]) -> Manifest:
    """Row count and digest of every table of schema public, as this connection sees them."""
    result: Manifest = {}
    for (table,) in conn.execute(TABLES).fetchall():
        count, digest = _one(conn, DIGEST.format(sql.Identifier(table)))
        result[table] = {"rows": count, "digest": digest}
    return result


def _one(conn: psycopg.Connection[Any], query: sql.SQL | sql.Composed) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    if row is None:
        raise BackupError(f"no row from {query.as_string(conn)}")
    return tuple(row)


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        args, check=False, env={**os.environ, **env}, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")


def manifest_path(dump_path: Path) -> Path:
    return dump_path.with_name(dump_path.name + ".manifest.json")


def dump(url: str, out: Path) -> Manifest:
    """pg_dump (custom format) of the database at url into out, and its manifest beside it."""
    dsn, env = libpq(url)
    with psycopg.connect(dsn, password=env.get("PGPASSWORD")) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        (snapshot,) = _one(conn, sql.SQL("SELECT pg_export_snapshot()"))
        taken = manifest(conn)
        args = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={out}", dsn]
        _run(args, env)
    manifest_path(out).write_text(json.dumps(taken, indent=1, sort_keys=True), encoding="utf-8")
    return taken


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new empty database on the admin URL's server, dropped afterwards; yields its URL."""
    dsn, env = libpq(admin_url)
    name = f"virtflow_drill_{uuid.uuid4().hex[:12]}"
    password = env.get("PGPASSWORD")
    with psycopg.connect(dsn, password=password, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, password=password, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


def restore(dump_path: Path, url: str) -> None:
    """pg_restore into an empty database, in one transaction, without owners or grants."""
    dsn, env = libpq(url)
    args = [
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    _run([*args, f"--dbname={dsn}", str(dump_path)], env)


def differences(expected: Manifest, actual: Manifest) -> list[str]:
    """Every table whose rows differ, is missing, or is extra; empty when they agree."""
    found = []
    for table in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(table), actual.get(table)
        if want != got:
            found.append(f"{table}: dump {want}, restored {got}")
    return found


def drill(dump_path: Path, admin_url: str) -> Manifest:
    """Restore the dump into a scratch database and check it against the dump's manifest."""
    expected: Manifest = json.loads(manifest_path(dump_path).read_text(encoding="utf-8"))
    with scratch_database(admin_url) as url:
        restore(dump_path, url)
        dsn, env = libpq(url)
        with psycopg.connect(dsn, password=env.get("PGPASSWORD")) as conn:
            actual = manifest(conn)
    wrong = differences(expected, actual)
    if wrong:
        raise BackupError("the restored database differs from the dump: " + "; ".join(wrong))
    return actual
