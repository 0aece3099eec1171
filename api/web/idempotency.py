"""`@idempotent`: a request sent again with its `Idempotency-Key` gets the first answer again.

The decorator goes above `@operation` (it needs the finished response that `@blp.response`
makes). Without the header the view runs as always. With it, the key is claimed in the
request's transaction before the view runs (api/services/idempotency.py); the view's commit()
only flushes, and the transaction commits once the answer is stored with the change. A view
that raises commits nothing, key included: a 4xx or 5xx is never replayed, the key stays free.
A replay is the first answer's status and body (its meta.request_id the first request's),
with `Idempotent-Replayed: true`; the X-Request-ID header is the new request's own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, jsonify, request

from api.db import utcnow
from api.errors import ValidationFailed
from api.services import idempotency
from api.web.audit import note
from api.web.auth import user
from api.web.context import db, hold_commit, release_commit
from api.web.contract import ContractError

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
INVALID_KEY = "Must be 1 to 255 printable ASCII characters."


def idempotent(func: F) -> F:
    """Make a view method take an Idempotency-Key (the contract plugin documents it)."""
    if "response" not in getattr(func, "_apidoc", {}):
        raise ContractError(f"@idempotent goes above @blp.response ({func.__qualname__})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return func(*args, **kwargs)
        if not idempotency.valid_key(key):
            raise ValidationFailed(details={"fields": {"headers": {HEADER: [INVALID_KEY]}}})
        session = db()
        claimed = idempotency.claim(session, user().id, key, _fingerprint(), utcnow())
        if isinstance(claimed, idempotency.Replay):
            return _replay(claimed)
        hold_commit()
        response: Response = func(*args, **kwargs)
        idempotency.store(session, claimed, response.status_code, response.get_json())
        release_commit()
        return response

    wrapper.virtflow_idempotent = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _fingerprint() -> str:
    """The request as the key's fingerprint: method, path (one trailing slash), query, body."""
    body = request.get_json(silent=True) if request.content_length else None
    path = request.path.rstrip("/") + "/"
    return idempotency.fingerprint(request.method, path, request.args.items(multi=True), body)


def _replay(first: idempotency.Replay) -> Response:
    """The first answer again; its audit row says it is a replay of the first request."""
    meta = first.response.get("meta") or {}
    note(idempotent_replay=True, replay_of=meta.get("request_id"))
    response = jsonify(first.response)
    response.status_code = first.status_code
    response.headers[REPLAYED_HEADER] = "true"
    return response
