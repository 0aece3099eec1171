"""The app's OpenAPI document as a checker of real responses: each answer of a documented
operation must be a status it lists, and its body must match that status's schema (error codes
included, as each error response's enum lists them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from flask import Flask, Response, request, request_finished
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from api.cli import openapi_text

SPEC_URI = "urn:virtflow:openapi"
_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@cache
def spec() -> dict[str, Any]:
    """The spec the app serves, built once per test session."""
    loaded: dict[str, Any] = json.loads(openapi_text())
    return loaded


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable` becomes a null alternative and
    local refs point into the registered spec."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items()}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = SPEC_URI + out["$ref"]
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(to_json_schema(spec()), default_specification=DRAFT7)
    registry: Registry = Registry().with_resource(SPEC_URI, resource)
    return registry


def spec_path(rule: str) -> str:
    """/api/v1/vm/<uuid:vm_id>/ -> /api/v1/vm/{vm_id}/"""
    return _RULE_ARG.sub(r"{\1}", rule)


def violations(
    path: str, method: str, status: int, body: Any, content_type: str = "application/json"
) -> list[str]:
    """What is wrong with this answer of a documented operation ([] when it conforms or the
    route is not documented). A body that is not JSON (text, an event stream) is checked for
    its content type only."""
    operation = spec()["paths"].get(path, {}).get(method)
    if operation is None:
        return []
    where = f"{method.upper()} {path} -> {status}"
    response = operation["responses"].get(str(status))
    if response is None:
        return [f"{where}: status not documented ({body})"]
    content = response.get("content", {})
    if content and content_type not in content:
        return [f"{where}: content type {content_type} not documented"]
    schema = content.get(content_type, {}).get("schema")
    if schema is None or content_type != "application/json":
        return []
    validator = Draft7Validator(to_json_schema(schema), registry=_registry())
    return [f"{where}: {err.message} at {list(err.path)}" for err in validator.iter_errors(body)]


def check_response(found: list[str], response: Response) -> None:
    """Record what is wrong with the response of the request being finished."""
    if request.url_rule is None or response.status_code == 500:
        return  # unrouted; or a bug, never promised (tests that cause one assert it themselves)
    body = response.get_json(silent=True) if response.is_json else None
    path = spec_path(request.url_rule.rule)
    kind = response.mimetype or ""
    found += violations(path, request.method.lower(), response.status_code, body, kind)


@contextmanager
def responses_checked() -> Iterator[list[str]]:
    """Check every response any app sends while inside; yields the violations found."""
    found: list[str] = []

    def on_finished(_sender: Flask, response: Response, **_extra: Any) -> None:
        check_response(found, response)

    request_finished.connect(on_finished)
    try:
        yield found
    finally:
        request_finished.disconnect(on_finished)
