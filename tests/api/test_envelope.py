"""One envelope for every response, and one translation point from errors to HTTP."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import cli, errors
from api.models import Tenant
from api.settings import REPO_ROOT, Settings
from api.web import body
from api.web.app import create_app
from api.web.auth import public
from api.web.context import db
from tests.api.conftest import vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error, chunked
from tests.helpers.stack import free_port, wait_for

UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


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


# --- hostile inputs: every one a 4xx envelope, never a 500 ------------------------------------

DEEP = "[" * 30_000 + "]" * 30_000  # 60 KB, under the size limit


@pytest.mark.parametrize("path", ["/api/v1/auth/login/", "/api/v1/vm/"])
def test_envelope_deeply_nested_body_is_400(
    client: FlaskClient, admin_headers: dict[str, str], path: str
) -> None:
    resp = client.post(path, data=DEEP, content_type="application/json", headers=admin_headers)
    body = assert_error(resp, 400, "BAD_REQUEST")
    assert body["error"]["details"] == {"fields": {"json": ["Nested deeper than 32 levels."]}}


def test_envelope_body_nested_just_past_the_depth_limit_is_400(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    deep = "[" * 33 + "]" * 33
    resp = client.post(
        "/api/v1/vm/", data=deep, content_type="application/json", headers=admin_headers
    )
    assert_error(resp, 400, "BAD_REQUEST")
    shallow = json.dumps({"name": [[["x"]]]})
    resp = client.post(
        "/api/v1/vm/", data=shallow, content_type="application/json", headers=admin_headers
    )
    assert_error(resp, 422, "VALIDATION_ERROR")


def test_envelope_deeply_nested_body_on_a_route_without_body_is_422(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    path = f"/api/v1/job/{uuid.uuid4()}/cancel/"
    resp = client.post(path, data=DEEP, content_type="application/json", headers=admin_headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert body["error"]["details"] == {"fields": {"json": ["This endpoint takes no body."]}}


@pytest.mark.parametrize("username", ["a\x00b", "\ud800", "\x00"])
def test_envelope_unstorable_text_in_a_body_is_422(client: FlaskClient, username: str) -> None:
    raw = json.dumps({"username": username, "password": "whatever-it-is"})
    resp = client.post("/api/v1/auth/login/", data=raw, content_type="application/json")
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert body["error"]["details"]["fields"]["json"] == {
        "username": ["Must not contain NUL characters or lone surrogates."]
    }


def test_envelope_unstorable_key_in_a_body_is_422_and_named_escaped(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory
) -> None:
    raw = json.dumps({**vm_body(make.tenant().id), "bad\x00key": 1})
    resp = client.post(
        "/api/v1/vm/", data=raw, content_type="application/json", headers=admin_headers
    )
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert fields == {
        "json": {"bad\\u0000key": ["Must not contain NUL characters or lone surrogates."]}
    }


@pytest.mark.parametrize("name", ["action", "object_type", "object_id", "request_id"])
def test_envelope_nul_in_an_audit_filter_is_422(
    client: FlaskClient, admin_headers: dict[str, str], name: str
) -> None:
    resp = client.get(f"/api/v1/audit/?{name}=a%00b", headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert fields == {"query": {name: ["Must not contain NUL characters or lone surrogates."]}}


@pytest.mark.parametrize("name", ["host", "event"])
def test_envelope_nul_in_a_job_event_filter_is_422(
    client: FlaskClient, admin_headers: dict[str, str], name: str
) -> None:
    # Checked before the view looks the job up: the answer does not depend on the job.
    resp = client.get(f"/api/v1/job/{uuid.uuid4()}/events/?{name}=%00", headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["query"]) == [name]


def test_envelope_audit_id_past_bigint_is_404(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    for audit_id in (2**63, 2**63 - 1, 10**40):
        resp = client.get(f"/api/v1/audit/{audit_id}/", headers=admin_headers)
        assert_error(resp, 404, "NOT_FOUND")


def test_envelope_nul_in_an_unrouted_path_is_404(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    assert_error(client.post("/api/v1/nowhere%00x/", headers=admin_headers), 404, "NOT_FOUND")


# --- chunked bodies get the checks a Content-Length body gets -----------------------------------


def test_envelope_chunked_body_over_limit_is_413(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory, settings: Settings
) -> None:
    body = vm_body(make.tenant().id, padding="x" * settings.max_body_bytes)
    resp = chunked(client, "POST", "/api/v1/vm/", json.dumps(body).encode(), admin_headers)
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    big_login = json.dumps({"username": "u" * settings.max_body_bytes, "password": "p"})
    assert_error(
        chunked(client, "POST", "/api/v1/auth/login/", big_login.encode()), 413, "PAYLOAD_TOO_LARGE"
    )


def test_envelope_chunked_body_at_the_limit_is_read(
    client: FlaskClient, admin_headers: dict[str, str], make: Factory, settings: Settings
) -> None:
    body = vm_body(make.tenant().id, padding="")
    raw = json.dumps(body)
    raw = json.dumps({**body, "padding": "x" * (settings.max_body_bytes - len(raw))})
    assert len(raw) == settings.max_body_bytes
    resp = chunked(client, "POST", "/api/v1/vm/", raw.encode(), admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert "padding" in fields["json"]


def test_envelope_chunked_body_that_is_not_json_is_415(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    resp = chunked(
        client, "POST", "/api/v1/vm/", b'{"a": 1}', admin_headers, content_type="text/plain"
    )
    assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_envelope_chunked_body_on_a_route_without_body_is_422(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    tenant = make.tenant()
    headers = make.headers(make.user(is_admin=True), fresh=True)
    resp = chunked(client, "DELETE", f"/api/v1/tenant/{tenant.id}/", b'{"a": 1}', headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert body["error"]["details"] == {"fields": {"json": ["This endpoint takes no body."]}}
    db.refresh(tenant)
    assert tenant.status == "active"


def test_envelope_empty_chunked_body_is_no_body(client: FlaskClient, make: Factory) -> None:
    headers = make.headers(make.user())
    resp = chunked(client, "POST", "/api/v1/auth/logout/", b"", headers, content_type=None)
    assert resp.status_code == 200, resp.get_json()


def test_envelope_chunked_body_is_read_like_a_declared_one(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    resp = chunked(client, "POST", "/api/v1/tenant/", b'{"name": "chunky"}', admin_headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["data"]["name"] == "chunky"


# --- behind gunicorn: what it refuses itself, and chunked bodies as it passes them on ------------


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API under gunicorn with the arguments `virtflow serve` uses; its base URL.

    Only requests that write nothing are sent to it (GETs, refusals gunicorn answers itself).
    """
    port = free_port()
    env = {
        **os.environ,
        "VIRTFLOW_JWT_SECRET": "g" * 48,
        "VIRTFLOW_QUEUE": f"virtflow-test-{uuid.uuid4().hex[:8]}",
        "VIRTFLOW_STATE_DIR": str(tmp_path_factory.mktemp("gunicorn-state")),
    }
    argv = [sys.executable, *cli._gunicorn_args(f"127.0.0.1:{port}", 1)]
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("gunicorn serving", lambda: _answers(base), timeout=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/v1/nowhere/", timeout=2).status_code == 404
    except requests.ConnectionError:
        return False


def raw_request(base: str, data: bytes) -> bytes:
    """Send bytes as they are and read the whole answer (gunicorn closes after an error)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        parts = []
        while part := sock.recv(65536):
            parts.append(part)
    return b"".join(parts)


def test_gunicorn_passes_requests_to_the_enveloping_app(gunicorn: str) -> None:
    resp = requests.get(f"{gunicorn}/api/v1/nowhere/", timeout=10)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /api/v1/" + b"x" * 4100 + b"/ HTTP/1.1\r\nHost: a\r\n\r\n", b"414"),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(51)) + b"\r\n",
            b"431",
        ),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * 8200 + b"\r\n\r\n", b"431"),
        (b"NOT AN HTTP REQUEST\r\n\r\n", b"400"),
    ],
    ids=["request-line-over-4094", "51-header-fields", "header-over-8190", "malformed"],
)
def test_gunicorn_refuses_oversized_or_malformed_requests_itself(
    gunicorn: str, request_bytes: bytes, status: bytes
) -> None:
    """gunicorn answers these before the app: HTML, outside the envelope (documented)."""
    answer = raw_request(gunicorn, request_bytes)
    head, _, page = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status, head
    assert b"Content-Type: text/html" in head
    assert page.startswith(b"<html>")


def test_gunicorn_admits_what_the_api_needs(gunicorn: str) -> None:
    long_query = "&".join(f"f{n}={'v' * 30}" for n in range(100))  # about 3.5 KB
    headers = {f"X-Header-{n}": "v" for n in range(40)}
    headers["Authorization"] = "Bearer " + "t" * 4000
    resp = requests.get(f"{gunicorn}/api/v1/nowhere/?{long_query}", headers=headers, timeout=10)
    assert resp.status_code == 404 and resp.json()["status"] == "error"


def test_gunicorn_chunked_bodies_get_the_size_and_no_body_checks(gunicorn: str) -> None:
    url = f"{gunicorn}/api/v1/openapi.json"  # a GET: nothing is written
    sent = {"Content-Type": "application/json"}
    resp = requests.get(url, data=iter([b'{"a": ', b"1}"]), headers=sent, timeout=10)
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == {"fields": {"json": ["This endpoint takes no body."]}}
    chunks = iter([b"x" * 32_768] * 3)  # 96 KiB, past the 64 KiB limit
    resp = requests.get(url, data=chunks, headers=sent, timeout=10)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert requests.get(url, data=iter([b""]), timeout=10).status_code == 200


def test_gunicorn_limits_are_the_same_in_docker_compose() -> None:
    """compose's api runs `virtflow serve`, which passes GUNICORN_LIMITS to gunicorn."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]["api"]["command"][:2] == ["virtflow", "serve"]
    assert " ".join(cli.GUNICORN_LIMITS) in " ".join(cli._gunicorn_args("0.0.0.0:8000", 4))


def test_body_read_at_most_stops_one_past_what_it_needs() -> None:
    assert body.read_at_most(io.BytesIO(b"x" * 10), 4) == b"xxxx"
    assert body.read_at_most(io.BytesIO(b"x" * 3), 4) == b"xxx"
    assert body.read_at_most(io.BytesIO(b"x" * 200_000), 150_001) == b"x" * 150_001


def test_body_json_depth_counts_without_recursion() -> None:
    assert body.json_depth("x") == 0
    assert body.json_depth({"a": [1, {"b": []}]}) == 4
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    assert body.json_depth(deep) > body.MAX_JSON_DEPTH


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
