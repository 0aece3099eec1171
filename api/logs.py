"""Logging with the request id on every line, in the API and in the jobs it queued: as text, or
as one JSON object per line (VIRTFLOW_LOG_FORMAT=json)."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str] = ContextVar("virtflow_request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"
LOG_FORMATS = frozenset({"text", "json"})
JSON_FIELDS = ("levelname", "name", "request_id", "message")
JSON_NAMES = {"levelname": "level", "name": "logger"}
# gunicorn's access-log atoms kept as fields of a JSON access line (the message keeps the rest).
ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
}


class RequestIdFilter(logging.Filter):
    """Stamp each record with the request id of the current request or job."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def formatter(log_format: str) -> logging.Formatter:
    """The text formatter, or a JSON one: {"time", "level", "logger", "request_id",
    "message"}, plus "exc_info" with the traceback and any `extra=` fields."""
    if log_format == "json":
        return JsonFormatter(list(JSON_FIELDS), rename_fields=JSON_NAMES, timestamp="time")
    return logging.Formatter(FORMAT)


def configure(level: str = "INFO", log_format: str = "text") -> None:
    """Install one stderr handler carrying the request id (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)


class NoRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        return True


class AccessFields(logging.Filter):
    """A gunicorn access line's atoms as fields; its request id is the X-Request-ID the app
    answered with (gunicorn logs after the app's context is gone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms: Any = record.args
        if isinstance(atoms, dict):
            for atom, name in ACCESS_FIELDS.items():
                setattr(record, name, atoms.get(atom))
            record.request_id = atoms.get("{x-request-id}o") or "-"
        return True


class GunicornJsonLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own error and access logs as JSON lines, like the app's
    (`virtflow serve` passes it as --logger-class when VIRTFLOW_LOG_FORMAT=json)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(formatter("json"))
                # gunicorn's own lines belong to no request (the context variable would still
                # hold the worker's last one); an access line takes its id from its atoms.
                handler.addFilter(NoRequestId())
        for handler in self.access_log.handlers:
            handler.addFilter(AccessFields())
