"""The docs hold: generated files up to date, hand-written facts equal to what the code has."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Table

from api import cli, errors
from api.db import Base
from api.models import HostState, ImageStatus, JobStatus, SnapshotStatus, TenantStatus, VMStatus
from api.services.hosts import TRANSITIONS, HostAction
from api.settings import REPO_ROOT, Settings
from api.web.app import create_app
from tests.helpers import docs_text

# werkzeug converters, e.g. <uuid:vm_id>, become OpenAPI parameters, {vm_id}.
CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli.openapi_text())
    return data


def test_docs_openapi_is_up_to_date() -> None:
    committed = cli.OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == cli.openapi_text(), "run `virtflow docs openapi` and commit the result"


def test_docs_errors_is_up_to_date() -> None:
    committed = cli.ERRORS_PATH.read_text(encoding="utf-8")
    assert committed == cli.errors_text(), "run `virtflow docs errors` and commit the result"


def test_docs_check_commands_pass() -> None:
    runner = CliRunner()
    for command in ("openapi", "errors"):
        result = runner.invoke(cli.main, ["docs", command, "--check"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_docs_openapi_has_every_route() -> None:
    app = create_app(Settings(jwt_secret="d" * 48))
    documented = json.loads(cli.openapi_text())["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = CONVERTER.sub(r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        if path not in documented or not methods <= set(documented[path]):
            missing.append((path, sorted(methods)))
    assert missing == []


def test_docs_openapi_paths_follow_house_style(spec: dict[str, Any]) -> None:
    for path in spec["paths"]:
        assert path.startswith("/api/v1/") and path.endswith("/"), path


def test_docs_openapi_operations_have_summaries(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                assert operation.get("summary"), (method, path)


def test_docs_openapi_documents_bearer_auth(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_docs_errors_lists_every_code() -> None:
    table = cli.ERRORS_PATH.read_text(encoding="utf-8")
    for cls in errors.registry():
        assert f"| {cls.status} | `{cls.code}` |" in table, cls.code


def test_docs_errors_table_rows_are_unique() -> None:
    rows = [
        line
        for line in errors.markdown_table().splitlines()
        if line.startswith("| 4") or line.startswith("| 5")
    ]
    assert len(rows) == len(errors.registry())
    assert len(set(rows)) == len(rows)


# The hand-written docs against the code: each check fails in both directions, naming the gap.


def metadata_tables() -> Iterable[tuple[str, Table]]:
    return Base.metadata.tables.items()


def api_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(jwt_secret="d" * 48))
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routes.add((method, CONVERTER.sub(r"{\1}", rule.rule)))
    return routes


def test_docs_endpoint_tables_match_the_routes() -> None:
    routes = api_routes()
    documented = docs_text.documented_endpoints()
    assert docs_text.missing_or_extra(routes, documented) == docs_text.AGREE


def test_docs_status_table_matches_the_error_registry() -> None:
    registry = {(cls.status, cls.code) for cls in errors.registry()}
    table = docs_text.status_table_pairs()
    assert {
        "in the code, not in the docs": sorted(registry - table),
        "in the docs, not in the code": sorted(table - registry),
    } == docs_text.AGREE


def test_docs_every_status_and_code_mention_matches_the_registry() -> None:
    status_of = {cls.code: cls.status for cls in errors.registry()}
    wrong = [
        (file, line, status, code, status_of.get(code))
        for file, line, status, code in docs_text.status_code_mentions()
        if status_of.get(code) != status
    ]
    assert wrong == [], "(file, line, documented status, code, registry status)"


def test_docs_settings_table_matches_settings_from_env() -> None:
    env = docs_text.RecordingEnv()
    Settings.from_env(env)
    assert docs_text.missing_or_extra(env.asked, docs_text.settings_table()) == docs_text.AGREE


# Shell placeholders the docs use for values a reader fills in; no code reads them.
DOC_PLACEHOLDERS = {"VIRTFLOW_DATABASE_URL_PSQL"}
CODE_PATHS = ("api", "jobs", "playbooks", "roles")
CODE_FILES = ("Makefile", "docker-compose.yml", "Dockerfile", "ansible.cfg", "tests/conftest.py")


def code_env_names() -> dict[str, set[str]]:
    paths = [
        path
        for top in CODE_PATHS
        for path in (REPO_ROOT / top).rglob("*")
        if path.is_file() and path.suffix in {".py", ".yml", ".yaml", ".j2", ".cfg"}
    ]
    return docs_text.env_names(paths + [REPO_ROOT / name for name in CODE_FILES])


def test_docs_every_environment_variable_in_the_code_is_documented() -> None:
    env = docs_text.RecordingEnv()
    Settings.from_env(env)
    in_code = set(code_env_names()) | env.asked
    in_docs = set(docs_text.env_names(docs_text.current_docs()))
    assert sorted(in_code - in_docs) == []


def test_docs_every_documented_environment_variable_exists() -> None:
    env = docs_text.RecordingEnv()
    Settings.from_env(env)
    known = set(code_env_names()) | env.asked | DOC_PLACEHOLDERS
    documented = docs_text.env_names(docs_text.current_docs())
    assert {name: sorted(files) for name, files in documented.items() if name not in known} == {}


@pytest.mark.parametrize(
    ("heading", "enum"),
    [
        ("### VM", VMStatus),
        ("### Job", JobStatus),
        ("### Baremetal host", HostState),
        ("### Tenant", TenantStatus),
        ("### Snapshot", SnapshotStatus),
        ("### Image", ImageStatus),
    ],
)
def test_docs_state_diagrams_have_exactly_the_states(heading: str, enum: type[StrEnum]) -> None:
    states = docs_text.diagram_states(docs_text.state_diagram(heading))
    assert docs_text.missing_or_extra({s.value for s in enum}, states) == docs_text.AGREE


@pytest.mark.parametrize(
    ("action", "label"),
    [(HostAction.PREPARE, "prepare"), (HostAction.MAINTENANCE_ON, "maintenance on")],
)
def test_docs_host_diagram_starts_each_action_from_the_transition_table(
    action: HostAction, label: str
) -> None:
    rule = TRANSITIONS[action]
    edges = docs_text.state_diagram("### Baremetal host")
    sources = {a for a, b, text in edges if b == rule.becomes and text.split(" (")[0] == label}
    allowed = {state.value for state in rule.allowed_from}
    assert docs_text.missing_or_extra(allowed, sources) == docs_text.AGREE


def test_docs_er_diagram_has_every_table_and_column() -> None:
    entities = docs_text.er_entities()
    tables = {name: {col.name for col in table.columns} for name, table in metadata_tables()}
    assert docs_text.missing_or_extra(tables, set(entities)) == docs_text.AGREE
    differ = {
        name: docs_text.missing_or_extra(cols, entities[name]) for name, cols in tables.items()
    }
    assert {name: gap for name, gap in differ.items() if gap != docs_text.AGREE} == {}


def test_docs_table_sections_have_every_table_and_column() -> None:
    sections = docs_text.table_sections()
    tables = {name: {col.name for col in table.columns} for name, table in metadata_tables()}
    assert docs_text.missing_or_extra(tables, set(sections)) == docs_text.AGREE
    differ = {
        name: docs_text.missing_or_extra(cols, sections[name]) for name, cols in tables.items()
    }
    assert {name: gap for name, gap in differ.items() if gap != docs_text.AGREE} == {}


def test_docs_migration_table_lists_every_revision() -> None:
    files = {path.name for path in (REPO_ROOT / "api/migrations/versions").glob("*.py")}
    listed = set(
        re.findall(r"^\| `[0-9a-f]{12}` \| `([^`]+\.py)` \|", docs_text.read("data-model.md"), re.M)
    )
    assert docs_text.missing_or_extra(files, listed) == docs_text.AGREE
