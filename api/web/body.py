"""What a request may send: a JSON body, bounded in size and depth, only to routes that take one;
and only text PostgreSQL can store (no NUL character, no lone surrogate).

A chunked body is read here up to the size limit and passed on with a Content-Length, so the
checks below treat both framings alike.

The one exception is STREAMED: an image's content (PUT /api/v1/image/{id}/file/), sent as
application/octet-stream, up to VIRTFLOW_IMAGE_MAX_BYTES instead of VIRTFLOW_MAX_BODY_BYTES, and
never read here: its view streams it to disk in chunks (api.services.images.receive).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from api.services.audit import UNSTORABLE, escape_unstorable
from api.web import routing

# Far deeper than any request schema, far below Python's recursion limit.
MAX_JSON_DEPTH = 32
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
UNSTORABLE_MESSAGE = "Must not contain NUL characters or lone surrogates."
INVALID_JSON = "Invalid JSON body."
READ_SIZE = 64 * 1024

# The only route whose body is not JSON (see the module docstring), matched on the raw path so
# that the WSGI middleware, which runs before routing, applies the same rule as check_request.
STREAMED_METHOD = "PUT"
STREAMED_PATH = re.compile(r"/api/v1/image/[0-9a-fA-F-]{36}/file/?")
STREAMED_TYPE = "application/octet-stream"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class JSONTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"Nested deeper than {MAX_JSON_DEPTH} levels.")


def json_depth(value: object, stop_past: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in value (0 for a scalar), counted without recursion;
    stops counting once past stop_past."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= stop_past:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than MAX_JSON_DEPTH fails to load like malformed JSON (ValueError),
    never with the RecursionError that would end in a 500. Every request.get_json() uses it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep() from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise JSONTooDeep()
        return value


class ChunkedBody:
    """WSGI middleware: a chunked request body becomes a body with a Content-Length.

    It reads one byte past the limit at most: a longer body keeps a Content-Length over the
    limit, which werkzeug refuses with 413 exactly as it refuses a declared one.
    """

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        streamed = is_streamed(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if _is_chunked(environ) and not streamed:
            body = read_at_most(environ["wsgi.input"], self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)


def is_streamed(method: str, path: str) -> bool:
    """Whether this request is the one streamed upload (an image's content)."""
    return method == STREAMED_METHOD and STREAMED_PATH.fullmatch(path) is not None


def _is_chunked(environ: dict[str, Any]) -> bool:
    """Chunked framing wins over any Content-Length sent with it (RFC 9112 6.3), as in werkzeug."""
    codings = environ.get("HTTP_TRANSFER_ENCODING", "").lower().split(",")
    return "chunked" in (c.strip() for c in codings)


def read_at_most(stream: IO[bytes], size: int) -> bytes:
    """Up to size bytes of stream, fewer only when it ends first."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(min(left, READ_SIZE))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def check_request() -> None:
    """before_request: refuse, before any view reads them, a body where the route takes none
    (422), a body that is not JSON (415) or not valid JSON (400), and text that cannot be
    stored (422). Refusing a body nobody reads keeps mass assignment visible: fields sent to a
    route that takes none are an error, never silently ignored (an empty object `{}` is fine).
    """
    if request.endpoint is None:  # routing answers 404/405; nothing reads the request
        return
    _refuse_unstorable("query", request.args.items(multi=True))
    if is_streamed(request.method, request.path):
        _check_streamed()
        return
    if not request.content_length:
        return
    if request.method in WITH_BODY and not request.is_json:
        raise UnsupportedMediaType()
    if not routing.takes_json_body():
        if request.get_json(silent=True) != {}:
            raise ValidationFailed(details={"fields": {"json": ["This endpoint takes no body."]}})
        return
    _refuse_unstorable("json", _walk(_json_body()))


def _check_streamed() -> None:
    """The streamed upload: octet-stream only (415), its own size limit, enforced on a declared
    Content-Length here (413) and by werkzeug on a chunked body as the view reads it."""
    limit = current_app.extensions["virtflow_settings"].image_max_bytes
    request.max_content_length = limit
    if request.mimetype != STREAMED_TYPE:
        raise UnsupportedMediaType(f"Send the image as {STREAMED_TYPE}.")
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"images are limited to {limit} bytes", {"max_bytes": limit})


def _json_body() -> Any:
    """The body as JSON: 400 when it is not, 413 (from werkzeug) past the size limit."""
    data = request.get_data(cache=True)
    try:
        return current_app.json.loads(data)
    except JSONTooDeep as exc:
        raise BadRequest(details={"fields": {"json": [str(exc)]}}) from None
    except ValueError:
        raise BadRequest(details={"fields": {"json": [INVALID_JSON]}}) from None


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, key or string) of every object key and string in a JSON value (depth-bounded)."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, key
            yield from _walk(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index))
    elif isinstance(value, str):
        yield path, value


def _refuse_unstorable(location: str, items: Iterable[tuple[str, Any]]) -> None:
    bad = {
        escape_unstorable(name): [UNSTORABLE_MESSAGE]
        for name, text in items
        if isinstance(text, str) and (UNSTORABLE.search(text) or UNSTORABLE.search(name))
    }
    if bad:
        raise ValidationFailed(details={"fields": {location: bad}})


def body_or_none() -> Any:
    """The JSON body for a hook that runs before check_request (the login limiter's key):
    None when there is none, it is not JSON, or it is too large."""
    try:
        return request.get_json(silent=True)
    except HTTPException:  # 413: check_request answers it
        return None
