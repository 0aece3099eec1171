"""The OpenAPI contract: each operation declares its id and the errors its view raises, and an
apispec plugin writes them into the spec with what the request pipeline adds.

A view method carries `@operation("vm_stop", PermissionDenied, InvalidState, ResourceBusy)`.
The plugin adds the pipeline's own errors (a token's 401s, 404 for a path id, 413/415/400 for
bodies, 422, 429 when throttled, 503), answers each status with the envelopes of its codes
(one component per code, built from the VirtFlowError registry), marks public operations
`security: []`, and documents X-Request-ID and Retry-After; on an `@idempotent` operation, the
Idempotency-Key header, Idempotent-Replayed, and its 422 and 409. A documented view without
@operation stops the app from starting: no route reaches the spec without an id and its errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import Flask
from werkzeug.routing import Rule

from api.errors import (
    AccountDisabled,
    AuthRequired,
    BadRequest,
    Conflict,
    DependencyUnavailable,
    IdempotencyKeyReused,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UnsupportedMediaType,
    ValidationFailed,
    VirtFlowError,
    registry,
)
from api.web.envelope import REQUEST_ID_HEADER

F = TypeVar("F", bound=Callable[..., Any])

# noun_verb, lower-case: vm_create, job_events_list, tenant_quota_check.
OPERATION_ID_RE = re.compile(r"^[a-z]+(_[a-z]+)+$")
TOKEN_ERRORS: tuple[type[VirtFlowError], ...] = (
    AuthRequired,
    TokenInvalid,
    TokenExpired,
    TokenRevoked,
    AccountDisabled,
)
WITH_BODY = frozenset({"post", "put", "patch"})
# Input text PostgreSQL cannot store is refused (422, api/web/body.py): the spec says so.
NO_NUL = "^[^\\u0000]*$"
RETRY_AFTER = "Retry-After"
# What @idempotent (api/web/idempotency.py) adds to an operation: a request header, a response
# header on its successes, and its refusals (another request's key; a first one still running).
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
IDEMPOTENCY_ERRORS: tuple[type[VirtFlowError], ...] = (IdempotencyKeyReused, Conflict)
# 1 to 255 printable ASCII characters (api.services.idempotency.KEY_RE).
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"}


class ContractError(Exception):
    """A documented view that does not declare its contract."""


@dataclass(frozen=True)
class Operation:
    id: str
    raises: tuple[type[VirtFlowError], ...]


def operation(operation_id: str, *raises: type[VirtFlowError]) -> Callable[[F], F]:
    """Name a view method's operation and the errors it raises beyond the pipeline's own."""
    if not OPERATION_ID_RE.fullmatch(operation_id):
        raise ContractError(f"operationId {operation_id!r} is not noun_verb")

    def mark(func: F) -> F:
        func.virtflow_operation = Operation(operation_id, raises)  # type: ignore[attr-defined]
        return func

    return mark


def error_schema_name(err: type[VirtFlowError]) -> str:
    """NOT_FOUND -> NotFoundError, VALIDATION_ERROR -> ValidationError."""
    words = err.code.lower().split("_")
    name = "".join(w.capitalize() for w in words)
    return name if name.endswith("Error") else f"{name}Error"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _error_envelope(err: type[VirtFlowError]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The error envelope whose code can only be err's, and its `error` object."""
    body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "enum": [err.code]},
            "message": {"type": "string"},
            "details": _ref("schemas", "ErrorDetails"),
        },
    }
    return {
        "type": "object",
        "description": f"{err.status} {err.code}: {err.message}",
        "additionalProperties": False,
        "required": ["status", "error", "meta"],
        "properties": {
            "status": _ref("schemas", "ErrorStatus"),
            "error": _ref("schemas", f"{error_schema_name(err)}Body"),
            "meta": _ref("schemas", "Meta"),
        },
    }, body


def _headers(status: int) -> dict[str, Any]:
    headers = {REQUEST_ID_HEADER: _ref("headers", REQUEST_ID_HEADER)}
    if status in (429, 503):
        headers[RETRY_AFTER] = _ref("headers", RETRY_AFTER)
    return headers


def _error_response(status: int, errors: list[type[VirtFlowError]]) -> dict[str, Any]:
    refs = [_ref("schemas", error_schema_name(e)) for e in errors]
    schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
    return {
        "description": "\n".join(f"- `{e.code}`: {e.message}" for e in errors),
        "headers": _headers(status),
        "content": {"application/json": {"schema": schema}},
    }


def _by_status(errors: Iterable[type[VirtFlowError]]) -> dict[int, list[type[VirtFlowError]]]:
    grouped: dict[int, list[type[VirtFlowError]]] = {}
    for err in sorted(set(errors), key=lambda e: (e.status, e.code)):
        grouped.setdefault(err.status, []).append(err)
    return grouped


@dataclass(frozen=True)
class _Route:
    """What the pipeline does for a route, read from its view's marks."""

    public: bool
    throttled: bool
    has_path_id: bool
    idempotent: bool = False


def no_nul(_converter: Any, field: ma.fields.Field[Any], ret: dict[str, Any]) -> dict[str, Any]:
    """apispec attribute function: a free-text input string documents that NUL is refused
    (strings with a pattern, a format or an enum exclude it already)."""
    free_text = ret.get("type") == "string" and not {"pattern", "format", "enum"} & set(ret)
    return {"pattern": NO_NUL} if free_text and not field.dump_only else {}


def pipeline_errors(method: str, op: dict[str, Any], route: _Route) -> list[type[VirtFlowError]]:
    """The errors every request of this kind can meet before or around its view."""
    found: list[type[VirtFlowError]] = [ValidationFailed, DependencyUnavailable]
    if not route.public:
        found += TOKEN_ERRORS
    if route.throttled:
        found.append(RateLimited)
    if route.has_path_id:
        found.append(NotFound)
    if method in WITH_BODY:
        found.append(UnsupportedMediaType)
    if method in WITH_BODY or method == "delete":
        found.append(PayloadTooLarge)
    if "requestBody" in op:
        found.append(BadRequest)
    if route.idempotent:
        found += IDEMPOTENCY_ERRORS
    return found


class ContractPlugin(BasePlugin):
    """Writes each operation's declared contract into the spec (see the module docstring)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin) and plugin.converter is not None:
                plugin.converter.add_attribute_function(no_nul)  # type: ignore[no-untyped-call]
        spec.components.schema("ErrorStatus", {"type": "string", "enum": ["error"]})
        spec.components.schema(
            "ErrorDetails",
            {
                "type": "object",
                "additionalProperties": {},
                "description": "What the code's documentation says it carries; may be empty.",
            },
        )
        for err in registry():
            if err.status < 500 or err.retry_after is not None:  # a 500 is never promised
                envelope, body = _error_envelope(err)
                spec.components.schema(f"{error_schema_name(err)}Body", body)
                spec.components.schema(error_schema_name(err), envelope)
        spec.components.header(
            REQUEST_ID_HEADER,
            {
                "description": "The request's id: the caller's X-Request-ID when it matches "
                "^[A-Za-z0-9._:-]{1,128}$, else one the server made. Also meta.request_id.",
                "required": True,
                "schema": {"type": "string"},
            },
        )
        spec.components.header(
            RETRY_AFTER,
            {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
        )
        spec.components.parameter(
            IDEMPOTENCY_KEY,
            "header",
            {
                "description": "Send the request again with the same key (and the same method, "
                "path and body) within 24 h to get its first answer again instead of a second "
                "effect; per user. See docs/api.md, Idempotency.",
                "required": False,
                "schema": IDEMPOTENCY_KEY_SCHEMA,
            },
        )
        spec.components.header(
            IDEMPOTENT_REPLAYED,
            {
                "description": "`true` when this is the first answer to the request's "
                "Idempotency-Key, replayed (meta.request_id is then the first request's).",
                "required": False,
                "schema": {"type": "string", "enum": ["true"]},
            },
        )
        spec.components.parameter(
            REQUEST_ID_HEADER,
            "header",
            {
                "description": "An id for this request, echoed in the response, the logs, the "
                "audit row and the jobs it queues; one of ^[A-Za-z0-9._:-]{1,128}$ is kept, "
                "any other value is replaced by a server-made id.",
                "required": False,
                "schema": {"type": "string"},
            },
        )

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> Any:
        """Output schemas (every field dump-only) require every field they do not list in
        `optional_output`; a schema's `openapi_extra` is merged in (minProperties ...)."""
        if kwargs.get("schema") is None:
            return None
        schema = resolve_schema_instance(kwargs["schema"])
        extra: dict[str, Any] = dict(getattr(schema, "openapi_extra", {}))
        if schema.fields and all(f.dump_only for f in schema.fields.values()):
            extra["required"] = output_fields(schema)
        return extra

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule: Rule = kwargs["rule"]
        view = self.app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method, op in (operations or {}).items():
            func = getattr(view_class, method, None) if view_class else view
            declared: Operation | None = getattr(func, "virtflow_operation", None)
            if declared is None:
                raise ContractError(f"{method.upper()} {path} has no @operation(...)")
            route = _Route(
                public=bool(getattr(view_class or view, "virtflow_public", False)),
                throttled=bool(getattr(view_class or view, "virtflow_throttle_failures", False)),
                has_path_id=bool(rule.arguments),
                idempotent=bool(getattr(func, "virtflow_idempotent", False)),
            )
            self._write(method, op, declared, route)

    @staticmethod
    def _write(method: str, op: dict[str, Any], declared: Operation, route: _Route) -> None:
        op["operationId"] = declared.id
        if route.public:
            op["security"] = []
        op.setdefault("parameters", []).append(REQUEST_ID_HEADER)  # apispec makes it a $ref
        if route.idempotent:
            op["parameters"].append(IDEMPOTENCY_KEY)
        responses: dict[str, Any] = {}
        for status, response in op.get("responses", {}).items():
            if str(status) != "default" and int(status) < 400:
                response.setdefault("headers", {}).update(_headers(int(status)))
                if route.idempotent:
                    response["headers"][IDEMPOTENT_REPLAYED] = _ref("headers", IDEMPOTENT_REPLAYED)
                responses[str(status)] = response
        errors = [*pipeline_errors(method, op, route), *declared.raises]
        for status, group in _by_status(errors).items():
            responses[str(status)] = _error_response(status, group)
        op["responses"] = responses


def output_fields(schema: ma.Schema) -> list[str]:
    """The keys an output schema always writes (what the spec marks required)."""
    optional: frozenset[str] = getattr(schema, "optional_output", frozenset())
    return [f.data_key or n for n, f in schema.dump_fields.items() if n not in optional]
