"""The OpenAPI document as a contract: operation ids, error responses from the registry, public
operations, required output fields, headers, examples; and the Swagger UI served offline."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import marshmallow as ma
import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import registry
from api.settings import Settings
from api.web.app import create_app
from api.web.contract import OPERATION_ID_RE, ContractError, error_schema_name, output_fields
from api.web.resources import BLUEPRINTS
from api.web.resources.vm.schemas import VMSchema
from tests.helpers.openapi import spec, to_json_schema, violations

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = {("/api/v1/auth/login/", "post"), ("/api/v1/health/", "get")}
EXAMPLED = {"auth_login", "tenant_create", "vm_create", "vm_get", "job_get", "tenant_quota_get"}
ENVELOPE = {
    "status": "error",
    "error": {"message": "m", "details": {}},
    "meta": {"request_id": "r"},
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def error(code: str) -> dict[str, Any]:
    return {**ENVELOPE, "error": {**ENVELOPE["error"], "code": code}}


def test_openapi_every_operation_has_a_unique_noun_verb_id() -> None:
    ids = [op.get("operationId", "") for _path, _method, op in operations()]
    assert len(ids) >= 49
    assert [i for i in ids if not OPERATION_ID_RE.fullmatch(i)] == []
    assert len(set(ids)) == len(ids)
    named = {(p, m): op["operationId"] for p, m, op in operations()}
    assert named[("/api/v1/vm/", "post")] == "vm_create"
    assert named[("/api/v1/vm/{vm_id}/stop/", "post")] == "vm_stop"
    assert named[("/api/v1/job/{job_id}/events/", "get")] == "job_events_list"


def test_openapi_a_view_without_operation_stops_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    blp = Blueprint("undeclared", __name__, url_prefix="/api/v1/undeclared")

    @blp.route("/")
    class Undeclared(MethodView):
        @blp.response(200)
        def get(self) -> dict[str, Any]:
            """Answer without a contract"""
            return {}

    monkeypatch.setattr("api.web.app.BLUEPRINTS", (*BLUEPRINTS, blp))
    with pytest.raises(ContractError, match=r"GET /api/v1/undeclared/ has no @operation"):
        create_app(
            Settings(database_url="postgresql+psycopg://unused@127.0.0.1/x", jwt_secret="x" * 40)
        )


def test_openapi_error_responses_are_the_registry_codes_of_their_status() -> None:
    by_code = {cls.code: cls.status for cls in registry()}
    for path, method, op in operations():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            refs = [s["$ref"] for s in schema.get("oneOf", [schema])]
            codes = [spec()["components"]["schemas"][r.rsplit("/", 1)[1] + "Body"] for r in refs]
            enums = [c["properties"]["code"]["enum"] for c in codes]
            assert all(len(e) == 1 and by_code[e[0]] == int(status) for e in enums), (path, method)
    assert "default" not in {s for _p, _m, op in operations() for s in op["responses"]}


def test_openapi_every_operation_lists_the_pipeline_errors() -> None:
    for path, method, op in operations():
        statuses = set(op["responses"])
        assert {"422", "503"} <= statuses, (path, method)
        unauthorized = json.dumps(op["responses"].get("401", {}))
        assert ("AuthRequiredError" in unauthorized) == ((path, method) not in PUBLIC)
        if method in ("post", "put", "patch"):
            assert {"413", "415"} <= statuses, (path, method)
        if "{" in path:
            assert "404" in statuses, (path, method)
    login = spec()["paths"]["/api/v1/auth/login/"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    assert login["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvalidCredentialsError"
    }


def test_openapi_checker_refuses_an_undeclared_code_and_a_missing_field() -> None:
    stop = "/api/v1/vm/{vm_id}/stop/"
    assert violations(stop, "post", 409, error("RESOURCE_BUSY")) == []
    assert violations(stop, "post", 409, error("NAME_TAKEN")) != []
    assert violations("/api/v1/vm/{vm_id}/", "get", 409, error("INVALID_STATE")) != []
    partial = {"status": "success", "data": {"id": "x"}, "meta": {"request_id": "r"}}
    assert any(
        "'name' is a required property" in v
        for v in violations("/api/v1/vm/{vm_id}/", "get", 200, partial)
    )


def test_openapi_public_operations_have_empty_security() -> None:
    for path, method, op in operations():
        if (path, method) in PUBLIC:
            assert op["security"] == [], (path, method)
        else:
            assert "security" not in op or op["security"] == [{"bearerAuth": []}], (path, method)
    assert spec()["security"] == [{"bearerAuth": []}]


def test_openapi_output_schemas_require_every_field_they_always_write() -> None:
    schemas = spec()["components"]["schemas"]
    assert schemas["VM"]["required"] == output_fields(VMSchema())
    assert schemas["VM"]["properties"]["baremetal"]["nullable"] is True
    assert "progress" not in schemas["Job"]["required"]
    assert "status" in schemas["Job"]["required"]
    for name in ("Tenant", "Grant", "Member", "User", "AuditEntry", "Baremetal", "JobEvent", "Me"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name


def test_openapi_quota_limits_need_one_and_power_bodies_are_optional() -> None:
    assert spec()["components"]["schemas"]["QuotaLimits"]["minProperties"] == 1
    for action in ("stop", "start"):
        body = spec()["paths"][f"/api/v1/vm/{{vm_id}}/{action}/"]["post"]["requestBody"]
        assert body["required"] is False


def test_openapi_request_id_and_retry_after_are_described() -> None:
    for path, method, op in operations():
        assert {"$ref": "#/components/parameters/X-Request-ID"} in op["parameters"]
        for status, response in op["responses"].items():
            headers = response["headers"]
            assert "X-Request-ID" in headers, (path, method, status)
            assert ("Retry-After" in headers) == (status in ("429", "503")), (path, method, status)
    assert spec()["components"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_openapi_main_operations_have_examples_that_match_their_schemas() -> None:
    seen = set()
    for path, method, op in operations():
        if op["operationId"] not in EXAMPLED:
            continue
        seen.add(op["operationId"])
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert "example" in body, op["operationId"]
        success = next(s for s in op["responses"] if int(s) < 300)
        example = op["responses"][success]["content"]["application/json"]["example"]
        assert violations(path, method, int(success), example) == [], op["operationId"]
    assert seen == EXAMPLED


def test_openapi_error_schema_names_follow_the_codes() -> None:
    names = {error_schema_name(cls) for cls in registry() if cls.status < 500}
    assert {"NotFoundError", "ValidationError", "QuotaExceededError"} <= names
    assert names <= set(spec()["components"]["schemas"])


def test_openapi_schemas_translate_nullable_for_checking() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }


def test_swagger_ui_is_served_from_local_assets(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r"https?:|//[a-z]", html) is None, "the page must not load anything remote"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(a.rsplit("/", 1)[1] for a in assets) == [
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    ]
    for asset in assets:
        resp = client.get(asset)
        assert resp.status_code == 200, asset
        assert resp.mimetype in ("text/css", "text/javascript", "application/javascript")
        assert len(resp.data) > 10_000
    assert client.get("/api/v1/docs/assets/missing.js").status_code == 404


def test_swagger_ui_has_no_online_validator(app: Flask) -> None:
    html = app.test_client().get("/api/v1/docs/").get_data(as_text=True)
    assert '"validatorUrl": null' in html


def test_openapi_schema_extra_is_merged(app: Flask) -> None:
    class Limits(ma.Schema):
        openapi_extra: ClassVar[dict[str, int]] = {"minProperties": 1}
        a = ma.fields.Integer()

    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    api.spec.components.schema("LimitsForTest", schema=Limits)
    assert api.spec.to_dict()["components"]["schemas"]["LimitsForTest"]["minProperties"] == 1
