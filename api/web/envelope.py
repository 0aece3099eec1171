"""The one response envelope: {"status", "data" | "error", "meta": {"request_id", "pagination"}}."""

from __future__ import annotations

import math
import re
import uuid
from functools import cache
from typing import Any

import marshmallow as ma
from flask import g, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def bind_request_id() -> None:
    """Take a well-formed X-Request-ID from the caller, or make one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # fullmatch: with match, `$` would accept a trailing newline, which cannot go in a header.
    g.request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
    request_id_var.set(g.request_id)


def request_id() -> str:
    rid: str = g.get("request_id") or uuid.uuid4().hex
    return rid


def _const(value: str) -> dict[str, Any]:
    """OpenAPI 3.0 has no const: a one-value string enum."""
    return {"type": "string", "enum": [value]}


class PaginationSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class MetaSchema(ma.Schema):
    request_id = ma.fields.String(required=True)
    pagination = ma.fields.Nested(PaginationSchema)


class ListMetaSchema(MetaSchema):
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable UPPER_SNAKE code"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    status = ma.fields.Constant("error", required=True, metadata=_const("error"))
    error = ma.fields.Nested(ErrorBodySchema, required=True)
    meta = ma.fields.Nested(MetaSchema, required=True)


@cache
def envelope(schema: type[ma.Schema], many: bool = False, paged: bool = True) -> type[ma.Schema]:
    """A success envelope schema around schema (named for OpenAPI: VMEnvelope, VMListEnvelope
    with meta.pagination; a list that is not paged, such as a sync's, is an ArrayEnvelope)."""
    base = schema.__name__.removesuffix("Schema")
    kind = ("List" if paged else "Array") if many else ""
    fields: dict[str, Any] = {
        "status": ma.fields.Constant("success", required=True, metadata=_const("success")),
        "data": ma.fields.Nested(schema, many=many, required=True),
        "meta": ma.fields.Nested(ListMetaSchema if many and paged else MetaSchema, required=True),
    }
    name = f"{base}{kind}Envelope"
    return ma.Schema.from_dict(fields, name=name)


def ok(data: Any, pagination: dict[str, int] | None = None) -> dict[str, Any]:
    """The success envelope for data."""
    meta: dict[str, Any] = {"request_id": request_id()}
    if pagination is not None:
        meta["pagination"] = pagination
    return {"status": "success", "data": data, "meta": meta}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error envelope."""
    return {
        "status": "error",
        "error": {"code": code, "message": message, "details": details or {}},
        "meta": {"request_id": request_id()},
    }


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


def paginate(session: Session, query: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """One page of query's rows, enveloped with meta.pagination."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    pages = math.ceil(total / per_page) if total else 0
    return ok(items, {"page": page, "per_page": per_page, "total": total, "pages": pages})
