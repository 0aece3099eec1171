"""The generated API docs are committed up to date and cover every route and error code."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from api import cli, errors
from api.settings import Settings
from api.web.app import create_app

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
