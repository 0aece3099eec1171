"""A bare Flask app: the ceiling bench/api.py compares the API's create throughput with."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

app = Flask(__name__)


@app.post("/")
def hello() -> dict[str, Any]:
    """Parse a JSON body and answer JSON, as a create does, with no work in between."""
    body = request.get_json(silent=True) or {}
    return {"hello": "world", "name": body.get("name")}
