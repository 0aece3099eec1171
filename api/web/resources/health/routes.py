"""Liveness and readiness: database and Redis reachability."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import DependencyUnavailable
from api.web.auth import public
from api.web.context import db, job_queue
from api.web.contract import operation
from api.web.envelope import envelope, ok

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Service health")


class HealthSchema(ma.Schema):
    database = ma.fields.String(required=True)
    redis = ma.fields.String(required=True)


def _check_database() -> str:
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unavailable"
    return "ok"


def _check_redis() -> str:
    try:
        job_queue().redis.ping()
    except RedisError:
        return "unavailable"
    return "ok"


@blp.route("/")
@public
class Health(MethodView):
    @operation("health_get")
    @blp.response(200, envelope(HealthSchema))
    def get(self) -> dict[str, Any]:
        """Report whether the database and the queue are reachable (503 when one is not)"""
        checks = {"database": _check_database(), "redis": _check_redis()}
        if any(state != "ok" for state in checks.values()):
            raise DependencyUnavailable(details=checks)
        return ok(checks)
