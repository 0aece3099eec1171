"""One envelope for every response, and one translation point from errors to HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from api import errors
from api.models import Tenant
from api.settings import Settings
from api.web.app import create_app
from api.web.auth import public
from api.web.context import db
from tests.api.conftest import vm_body
from tests.conftest import Factory

UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def assert_error(resp: TestResponse, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = resp.get_json()
    assert resp.status_code == status, body
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    assert body["meta"]["request_id"] == resp.headers["X-Request-ID"]
    return body


@pytest.fixture
def throwaway_app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    """A fresh app with extra routes that fail on purpose."""
    app = create_app(settings)
    app.extensions["virtflow_sessions"] = sessions

    @public
    def boom() -> str:
        raise RuntimeError("secret-internal-detail in /srv/virtflow/api/thing.py")

    @public
    def duplicate_tenant() -> str:
        session = db()
        session.add_all([Tenant(name="dup-tenant"), Tenant(name="dup-tenant")])
        session.flush()
        return "unreachable"

    app.add_url_rule("/api/v1/boom/", view_func=boom)
    app.add_url_rule("/api/v1/duplicate/", view_func=duplicate_tenant, methods=["POST"])
    return app


def test_envelope_success_has_status_data_and_request_id(client: FlaskClient) -> None:
    resp = client.get("/api/v1/health/")
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["status"] == "success"
    assert body["data"] == {"database": "ok", "redis": "ok"}
    assert body["meta"]["request_id"] == resp.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["meta"]["request_id"])


def test_envelope_request_ids_differ_between_requests(client: FlaskClient) -> None:
    first = client.get("/api/v1/health/").get_json()["meta"]["request_id"]
    second = client.get("/api/v1/health/").get_json()["meta"]["request_id"]
    assert first != second


def test_envelope_echoes_well_formed_request_id(client: FlaskClient) -> None:
    rid = "abc-123.def:456_X"
    resp = client.get("/api/v1/health/", headers={"X-Request-ID": rid})
    assert resp.headers["X-Request-ID"] == rid
    assert resp.get_json()["meta"]["request_id"] == rid


def test_envelope_echoes_request_id_on_errors(client: FlaskClient) -> None:
    resp = client.get("/api/v1/nowhere/", headers={"X-Request-ID": "trace-42"})
    body = assert_error(resp, 404, "NOT_FOUND")
    assert body["meta"]["request_id"] == "trace-42"


@pytest.mark.parametrize(
    "bad",
    ["x" * 300, "x" * 129, "has spaces", "semi;colon", "<script>", "quote'd", "ünïcode"],
)
def test_envelope_replaces_malformed_request_id(client: FlaskClient, bad: str) -> None:
    resp = client.get("/api/v1/health/", headers={"X-Request-ID": bad})
    rid = resp.headers["X-Request-ID"]
    assert rid != bad
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert resp.get_json()["meta"]["request_id"] == rid


def test_envelope_replaces_request_id_with_newline(client: FlaskClient) -> None:
    # werkzeug refuses a raw newline in a header value, so build the environ by hand.
    resp = client.get("/api/v1/health/", environ_base={"HTTP_X_REQUEST_ID": "ok\nInjected: 1"})
    assert "\n" not in resp.headers["X-Request-ID"]
    assert "Injected" not in resp.headers
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


@pytest.mark.parametrize("bad", ["abc\n", "abc\r\n", "\nabc"])
def test_envelope_replaces_request_id_with_line_break_at_either_end(
    client: FlaskClient, bad: str
) -> None:
    resp = client.get("/api/v1/health/", environ_base={"HTTP_X_REQUEST_ID": bad})
    assert resp.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])
    assert resp.get_json()["meta"]["request_id"] == resp.headers["X-Request-ID"]


def test_envelope_accepts_request_id_of_128_chars(client: FlaskClient) -> None:
    rid = "a" * 128
    resp = client.get("/api/v1/health/", headers={"X-Request-ID": rid})
    assert resp.headers["X-Request-ID"] == rid


def test_envelope_unknown_path_is_404(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/no-such-thing/", headers=admin_headers), 404, "NOT_FOUND")
    assert_error(client.get("/nowhere"), 404, "NOT_FOUND")


def test_envelope_unknown_object_id_is_404(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    url = "/api/v1/vm/00000000-0000-0000-0000-000000000000/"
    assert_error(client.get(url, headers=admin_headers), 404, "NOT_FOUND")


def test_envelope_wrong_method_is_405_with_allow(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    resp = client.put("/api/v1/vm/", json={}, headers=admin_headers)
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    allowed = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed
    assert resp.headers["Content-Type"] == "application/json"


def test_envelope_missing_token_is_401_auth_required(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/vm/"), 401, "AUTH_REQUIRED")
    assert_error(
        client.get("/api/v1/vm/", headers={"Authorization": "Basic Zm9vOmJhcg=="}),
        401,
        "AUTH_REQUIRED",
    )


def test_envelope_validation_error_lists_fields(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory
) -> None:
    tenant = make.tenant()
    body = vm_body(tenant.id, vcpus=0)
    del body["name"]
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert set(fields["json"]) == {"name", "vcpus"}
    assert all(isinstance(m, list) and m for m in fields["json"].values())


def test_envelope_query_validation_error_lists_fields(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    resp = client.get("/api/v1/vm/?status=bogus", headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert set(fields["query"]) == {"status"}
    resp = client.get("/api/v1/vm/?per_page=0", headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert set(fields["query"]) == {"per_page"}


def test_envelope_malformed_json_is_400(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    resp = client.post(
        "/api/v1/vm/",
        data='{"name": "web-1",',
        content_type="application/json",
        headers=admin_headers,
    )
    assert_error(resp, 400, "BAD_REQUEST")


def test_envelope_body_over_limit_is_413(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory, settings: Settings
) -> None:
    body = vm_body(make.tenant().id, padding="x" * settings.max_body_bytes)
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


def test_envelope_body_under_limit_is_read(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory
) -> None:
    # Same request, small enough: now the schema sees it (and rejects the unknown field).
    body = vm_body(make.tenant().id, padding="x" * 1000)
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert "padding" in fields["json"]


def test_envelope_unexpected_exception_is_500_without_trace(throwaway_app: Flask) -> None:
    resp = throwaway_app.test_client().get("/api/v1/boom/", headers={"X-Request-ID": "r-500"})
    body = assert_error(resp, 500, "INTERNAL_ERROR")
    assert body["meta"]["request_id"] == "r-500"
    assert body["error"]["details"] == {}
    text = resp.get_data(as_text=True)
    for leak in ("secret-internal-detail", "Traceback", "RuntimeError", ".py"):
        assert leak not in text


def test_envelope_integrity_error_is_409_conflict(throwaway_app: Flask) -> None:
    resp = throwaway_app.test_client().post("/api/v1/duplicate/")
    body = assert_error(resp, 409, "CONFLICT")
    assert body["error"]["details"] == {"constraint": "uq_tenant_name"}
    assert "duplicate key" not in resp.get_data(as_text=True)


def test_envelope_integrity_error_rolls_back(
    throwaway_app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    throwaway_app.test_client().post("/api/v1/duplicate/")
    resp = client.get("/api/v1/tenant/?name=dup-tenant", headers=admin_headers)
    assert resp.get_json()["meta"]["pagination"]["total"] == 0


def test_errors_registry_codes_are_upper_snake_and_unique() -> None:
    codes = [cls.code for cls in errors.registry()]
    assert len(codes) == len(set(codes))
    assert all(UPPER_SNAKE.match(code) for code in codes), codes
    assert {"INTERNAL_ERROR", "VALIDATION_ERROR", "NOT_FOUND", "CONFLICT"} <= set(codes)


def test_errors_registry_has_every_subclass_with_a_status_and_message() -> None:
    registry = errors.registry()
    assert errors.DependencyUnavailable in registry and errors.VirtFlowError in registry
    for cls in registry:
        assert 400 <= cls.status <= 599
        assert cls.message.strip()
    assert registry == sorted(registry, key=lambda c: (c.status, c.code))


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (404, "NOT_FOUND"),
        (405, "METHOD_NOT_ALLOWED"),
        (418, "BAD_REQUEST"),
        (503, "DEPENDENCY_UNAVAILABLE"),
    ],
)
def test_errors_by_status_maps_werkzeug_statuses(status: int, code: str) -> None:
    assert errors.by_status(status).code == code


def test_errors_by_status_server_errors_are_internal() -> None:
    assert errors.by_status(502) is errors.VirtFlowError


def test_errors_instance_keeps_message_and_details() -> None:
    err = errors.NameTaken("taken!", {"field": "name"})
    assert (err.detail_message, err.details, str(err)) == ("taken!", {"field": "name"}, "taken!")
    assert errors.NotFound().detail_message == errors.NotFound.message
