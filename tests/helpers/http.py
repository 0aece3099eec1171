"""Assertions and request helpers for the API's HTTP envelope, shared by the API tests."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def assert_error(resp: TestResponse, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = resp.get_json()
    assert resp.status_code == status, body
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    assert body["meta"]["request_id"] == resp.headers["X-Request-ID"]
    return body


def chunked(
    client: FlaskClient,
    method: str,
    path: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    *,
    content_type: str | None = "application/json",
) -> TestResponse:
    """A request framed as gunicorn passes a chunked body on: Transfer-Encoding, a terminated
    input stream (the test client adds a Content-Length, which chunked framing overrides)."""
    sent = {"Transfer-Encoding": "chunked", **(headers or {})}
    if content_type:
        sent["Content-Type"] = content_type
    return client.open(
        path,
        method=method,
        input_stream=io.BytesIO(data),
        headers=sent,
        environ_overrides={"wsgi.input_terminated": True},
    )
