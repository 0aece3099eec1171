"""The one response envelope: {"status", "data" | "error", "meta": {"request_id", "pagination"}}."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import marshmallow as ma
from flask import current_app, g, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

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
    total_is_estimate = ma.fields.Boolean(
        metadata={
            "description": "present (true) when the list has more rows than "
            "VIRTFLOW_EXACT_COUNT_LIMIT: total and pages are then the planner's estimate"
        }
    )
    next = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "lists paged by cursor (job events, the audit log): the `after` that "
            "reads the page after this one; null on the last page"
        },
    )


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


DEFAULT_EXACT_COUNT_LIMIT = 10_000  # Settings.exact_count_limit


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


@dataclass(frozen=True)
class Keyset:
    """A list ordered by one unique integer column, which a cursor names a row by."""

    column: InstrumentedAttribute[int]
    descending: bool = False

    def after(self, query: Select[Any], cursor: int) -> Select[Any]:
        """The rows of query that come after the cursor's row in the list's order."""
        return query.where(self.column < cursor if self.descending else self.column > cursor)

    def key(self, item: object) -> int:
        value: int = getattr(item, self.column.key)
        return value


def paginate(session: Session, query: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """One page of query's rows, enveloped with meta.pagination."""
    return _paged(session, query, page, per_page, None)


def paginate_keyset(
    session: Session,
    query: Select[Any],
    keyset: Keyset,
    *,
    page: int,
    per_page: int,
    after: int | None = None,
) -> dict[str, Any]:
    """One page of query's rows (ordered by keyset) whose meta.pagination says the cursor of
    the next page (`next`); `after` starts the list after that row: page, total and pages
    are then of the rows after it."""
    if after is not None:
        query = keyset.after(query, after)
    return _paged(session, query, page, per_page, keyset)


def _paged(
    session: Session, query: Select[Any], page: int, per_page: int, keyset: Keyset | None
) -> dict[str, Any]:
    offset = (page - 1) * per_page
    rows = session.scalars(query.limit(per_page + 1).offset(offset)).all()
    if len(rows) <= per_page and (rows or page == 1):  # the last page: the total is known
        total, estimated = offset + len(rows), False
    else:
        total, estimated = count(session, query, _exact_count_limit())
    pagination: dict[str, Any] = {
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": math.ceil(total / per_page) if total else 0,
    }
    if estimated:
        pagination["total_is_estimate"] = True
    if keyset is not None:
        pagination["next"] = _next(keyset, rows, per_page)
    return ok(rows[:per_page], pagination)


def _next(keyset: Keyset, rows: Sequence[object], per_page: int) -> int | None:
    return keyset.key(rows[per_page - 1]) if len(rows) > per_page else None


def _exact_count_limit() -> int:
    found = current_app.extensions.get("virtflow_settings")
    return found.exact_count_limit if found is not None else DEFAULT_EXACT_COUNT_LIMIT


def count(session: Session, query: Select[Any], limit: int) -> tuple[int, bool]:
    """query's rows and whether that is an estimate: an exact count of at most limit rows,
    beyond it the planner's estimate (at least limit + 1), so no page counts a whole table."""
    bounded = query.order_by(None).limit(limit + 1).subquery()
    exact = session.scalar(select(func.count()).select_from(bounded)) or 0
    if exact <= limit:
        return exact, False
    return max(estimate(session, query), limit + 1), True


def estimate(session: Session, query: Select[Any]) -> int:
    """The planner's estimate of query's rows (EXPLAIN: table statistics, no rows read)."""
    compiled = query.order_by(None).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    explain = f"EXPLAIN (FORMAT JSON) {compiled}"
    plan = session.connection().exec_driver_sql(explain, compiled.params).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])
