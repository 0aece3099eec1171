"""`virtflow audit export`: a stretch of the audit chain as JSON lines that `virtflow audit
verify-export` checks offline, against a real database set up by `virtflow db upgrade`."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from api.cli import main
from api.db import engine_for
from api.db_roles import libpq_url
from api.services import audit_archive
from api.services.audit_chain import GENESIS
from api.settings import Settings
from tests.conftest import ADMIN_URL, app_url, drop_database, recreate_database

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ROWS = 6
# Content whose JSON text is not what Python would write: key order, spacing, a number's digits,
# characters outside ASCII, a quote and a backslash, an escaped NUL as the audit stores it.
ODD_CHANGES = '{"zeta": 1.50, "a": "é ✓ \\"q\\" \\\\ \\\\u0000", "nested": {"b": [1, 2.0, null]}}'


def insert_rows(url: str, rows: list[tuple[dt.datetime, str]]) -> None:
    """Audit rows written by the application's role, with the given times and changes."""
    with psycopg.connect(libpq_url(url)) as conn:
        for created_at, changes in rows:
            conn.execute(
                "INSERT INTO audit_log (created_at, action, outcome, status_code, tenant_id,"
                " actor_username, changes) VALUES (%s, 'test.archive', 'success', 200, %s,"
                " 'ops-é', %s::jsonb)",
                (created_at, uuid.uuid4(), changes),
            )


@pytest.fixture(scope="module")
def chained() -> Iterator[str]:
    """A database set up by `virtflow db upgrade`, with ROWS audit rows an hour apart (the
    owner's URL)."""
    name = f"virtflow_archive_{uuid.uuid4().hex[:8]}"
    owner = recreate_database(name)
    env = {"VIRTFLOW_MIGRATE_DATABASE_URL": owner, "VIRTFLOW_DATABASE_URL": app_url(owner)}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    rows = [(T0 + n * HOUR, ODD_CHANGES if n == 1 else f'{{"n": {n}}}') for n in range(ROWS)]
    insert_rows(app_url(owner), rows)
    yield owner
    drop_database(name)


@pytest.fixture
def copy(chained: str) -> Iterator[str]:
    """A copy of the chained database, for a test that changes it; its owner's URL."""
    name = f"virtflow_archive_copy_{uuid.uuid4().hex[:8]}"
    source = chained.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    yield chained.rsplit("/", 1)[0] + "/" + name
    drop_database(name)


def cli(url: str, *args: str) -> Result:
    """`virtflow audit ...` as the application's role of url's database."""
    result = CliRunner().invoke(main, ["audit", *args], env={"VIRTFLOW_DATABASE_URL": url})
    engine_for(url, Settings().db_timeouts).dispose()
    return result


def export(owner: str, out: Path, before: dt.datetime, *extra: str) -> Result:
    return cli(app_url(owner), "export", "--before", before.isoformat(), "--out", str(out), *extra)


def verify(path: Path) -> Result:
    return CliRunner().invoke(main, ["audit", "verify-export", str(path)])


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header, *rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return header, rows


def chain_head(owner: str) -> tuple[int, str]:
    with psycopg.connect(libpq_url(owner)) as conn:
        found = conn.execute("SELECT last_id, encode(last_hash, 'hex') FROM audit_chain").fetchone()
    assert found is not None
    return found[0], found[1]


def test_audit_export_writes_every_row_and_verifies_offline(chained: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = export(chained, out, T0 + 24 * HOUR)
    assert result.exit_code == 0, result.output
    header, rows = read(out)
    last_id, last_hash = chain_head(chained)
    assert (header["count"], header["first_id"], header["last_id"]) == (ROWS, 1, last_id)
    assert header["first_prev_hash"] == GENESIS.hex()
    assert header["last_row_hash"] == last_hash == rows[-1]["row_hash"]
    assert f"last row_hash {last_hash}" in result.output
    assert [row["id"] for row in rows] == list(range(1, ROWS + 1))
    assert rows[0]["created_at"] == "2026-03-01T00:00:00.000000Z"
    assert rows[1]["changes"] == json.loads(ODD_CHANGES)
    assert rows[1]["actor_username"] == "ops-é"
    assert out.stat().st_mode & 0o777 == 0o600
    checked = verify(out)
    assert checked.exit_code == 0, checked.output
    assert f"{ROWS} rows, chain intact from row 1 to row {ROWS}" in checked.output


def test_audit_export_stops_at_the_first_row_written_at_or_after_before(
    chained: str, tmp_path: Path
) -> None:
    out = tmp_path / "early.jsonl"
    assert export(chained, out, T0 + 3 * HOUR).exit_code == 0
    header, rows = read(out)
    assert [row["id"] for row in rows] == [1, 2, 3]
    assert (header["count"], header["last_id"]) == (3, 3)
    assert verify(out).exit_code == 0


def test_audit_export_archives_chain_one_to_the_next(chained: str, tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl.gz"
    assert export(chained, first, T0 + 2 * HOUR).exit_code == 0
    head, _ = read(first)
    result = export(chained, second, T0 + 24 * HOUR, "--after-id", str(head["last_id"]))
    assert result.exit_code == 0, result.output
    with gzip.open(second, "rt", encoding="utf-8") as archive:
        tail = json.loads(archive.readline())
    assert (tail["first_id"], tail["count"]) == (head["last_id"] + 1, ROWS - head["count"])
    assert tail["first_prev_hash"] == head["last_row_hash"]
    checked = verify(second)
    assert checked.exit_code == 0, checked.output
    assert f"chain intact from row 3 to row {ROWS}" in checked.output


def test_audit_export_of_nothing_writes_nothing(chained: str, tmp_path: Path) -> None:
    out = tmp_path / "none.jsonl"
    result = export(chained, out, T0 - HOUR)
    assert result.exit_code == 0, result.output
    assert "no rows after row 0 before 2026-02-28T23:00:00+00:00" in result.output
    assert not out.exists()


def test_audit_export_never_overwrites(chained: str, tmp_path: Path) -> None:
    out = tmp_path / "kept.jsonl"
    out.write_text("mine\n", encoding="utf-8")
    result = export(chained, out, T0 + 24 * HOUR)
    assert result.exit_code == 1
    assert "exists; name a new file" in result.output
    assert out.read_text(encoding="utf-8") == "mine\n"


def test_audit_export_refuses_a_broken_chain_and_writes_nothing(copy: str, tmp_path: Path) -> None:
    with psycopg.connect(libpq_url(copy)) as conn:  # the owner, past the triggers
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_log SET action = 'rewritten' WHERE id = 4")
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    out = tmp_path / "broken.jsonl"
    result = export(copy, out, T0 + 24 * HOUR)
    assert result.exit_code == 1
    assert "row 4 breaks the chain: its content does not match its hash" in result.output
    assert list(tmp_path.iterdir()) == []


def test_audit_export_unreachable_database_exits_2(tmp_path: Path) -> None:
    result = cli(
        "postgresql+psycopg://virtflow_app@127.0.0.1:1/none",
        "export",
        "--before",
        "2027-01-01",
        "--out",
        str(tmp_path / "x.jsonl"),
    )
    assert result.exit_code == 2
    assert "could not read the audit log" in result.output


def test_audit_export_before_must_be_a_date(tmp_path: Path) -> None:
    result = cli(app_url(ADMIN_URL), "export", "--before", "soon", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "'soon' is not an ISO 8601 date or time" in result.output


# --- verify-export: an archive changed after the export ---------------------------------------


@pytest.fixture(scope="module")
def archive(chained: str, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The lines of an archive of every row."""
    out = tmp_path_factory.mktemp("archive") / "all.jsonl"
    assert export(chained, out, T0 + 24 * HOUR).exit_code == 0
    return out.read_text(encoding="utf-8").splitlines(keepends=True)


def edited(lines: list[str], number: int, **changes: Any) -> list[str]:
    """lines with line number (1: the header) changed."""
    row = json.loads(lines[number - 1])
    row.update(changes)
    return [*lines[: number - 1], json.dumps(row) + "\n", *lines[number:]]


def rehashed(lines: list[str], number: int, action: str) -> list[str]:
    """A row's action changed in its columns and in its hashed text alike."""
    row = json.loads(lines[number - 1])
    content = json.loads(row["hashed"])
    content[5] = action
    return edited(lines, number, action=action, hashed=json.dumps(content))


@pytest.mark.parametrize(
    ("tamper", "line", "reason"),
    [
        (lambda ls: edited(ls, 3, action="other"), 3, "columns are not the content its hash"),
        (lambda ls: rehashed(ls, 3, "other"), 3, "row 2's content does not match its hash"),
        (lambda ls: [*ls[:2], *ls[3:]], 3, "row 3 does not follow the row before it"),
        (lambda ls: ls[:-1], ROWS + 1, f"it holds {ROWS - 1} rows; its header says {ROWS}"),
        (lambda ls: edited(ls, 1, count=ROWS + 1), ROWS + 2, "its header says"),
        (lambda ls: edited(ls, 1, first_prev_hash="00" * 31 + "01"), 2, "does not follow"),
        (lambda ls: edited(ls, 1, version=2), 1, "is not a virtflow-audit-archive 1 header"),
        (lambda ls: ["{not json\n", *ls[1:]], 1, "not an archive header"),
        (lambda ls: [*ls[:2], "[]\n", *ls[2:]], 3, "not a row of the archive"),
    ],
)
def test_audit_verify_export_finds_the_first_bad_line(
    archive: list[str], tmp_path: Path, tamper: Any, line: int, reason: str
) -> None:
    path = tmp_path / "tampered.jsonl"
    path.write_text("".join(tamper(archive)), encoding="utf-8")
    result = verify(path)
    assert result.exit_code == 1
    assert f"line {line}: " in result.output and reason in result.output


def test_audit_verify_archive_reads_what_the_export_wrote(archive: list[str]) -> None:
    verdict = audit_archive.verify_archive(archive)
    assert verdict.ok and verdict.rows == ROWS
    assert verdict.header["format"] == audit_archive.FORMAT
