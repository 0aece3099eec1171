"""What the matched view declares: its method function and its flask-smorest API doc."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request


def view_method() -> Callable[..., Any] | None:
    """The MethodView method (or view function) that serves this request, if a route matched."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else view


def apidoc() -> dict[str, Any]:
    """flask-smorest's documentation of the view method (arguments, responses)."""
    doc: dict[str, Any] = getattr(view_method(), "_apidoc", {}) or {}
    return doc


def takes_json_body() -> bool:
    """Whether the view declares a JSON body with @blp.arguments."""
    parameters = apidoc().get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" for p in parameters)
