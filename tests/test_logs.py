"""Log lines as text or JSON (VIRTFLOW_LOG_FORMAT), both with the request id; the settings that
choose the format and turn /metrics on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import logs
from api.settings import Settings, SettingsError


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own whose one handler is set up as logs.configure sets the root's."""
    stream = io.StringIO()
    logger = logging.getLogger(f"virtflow-test-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers.clear()


def attach(logger: logging.Logger, stream: io.StringIO, log_format: str) -> None:
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.formatter(log_format))
    logger.addHandler(handler)


def test_logs_json_line_carries_the_request_id(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    attach(logger, stream, "json")
    token = logs.request_id_var.set("req-123")
    try:
        logger.warning("vm %s refused", "web-1", extra={"vm": "web-1"})
    finally:
        logs.request_id_var.reset(token)

    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-123"
    assert line["message"] == "vm web-1 refused"
    assert (line["level"], line["logger"], line["vm"]) == ("WARNING", logger.name, "web-1")
    assert line["time"].startswith("20")


def test_logs_json_exception_keeps_its_traceback_in_one_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    attach(logger, stream, "json")
    token = logs.request_id_var.set("req-789")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("unhandled error")
    finally:
        logs.request_id_var.reset(token)

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["request_id"] == "req-789"
    assert "RuntimeError: boom" in record["exc_info"]


def test_logs_text_line_keeps_its_format(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    attach(logger, stream, "text")
    token = logs.request_id_var.set("req-456")
    try:
        logger.info("hello")
    finally:
        logs.request_id_var.reset(token)
    assert stream.getvalue().rstrip().endswith(f"INFO {logger.name} [request_id=req-456] hello")


@pytest.mark.parametrize(("raw", "expected"), [("", "text"), ("json", "json"), ("JSON", "json")])
def test_settings_log_format_from_env(raw: str, expected: str) -> None:
    assert Settings.from_env({"VIRTFLOW_LOG_FORMAT": raw}).log_format == expected


def test_settings_unknown_log_format_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="VIRTFLOW_LOG_FORMAT"):
        Settings.from_env({"VIRTFLOW_LOG_FORMAT": "xml"})


def test_settings_metrics_token_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("t" * 32 + "\n")
    settings = Settings.from_env({"VIRTFLOW_METRICS_TOKEN_FILE": str(path)})
    assert settings.metrics_token == "t" * 32
    assert "t" * 32 not in repr(settings)


def test_settings_short_metrics_token_refused_when_serving() -> None:
    settings = Settings(jwt_secret="s" * 48, metrics_token="short")
    with pytest.raises(SettingsError, match="VIRTFLOW_METRICS_TOKEN"):
        settings.check_serving()


def test_settings_metrics_dir_defaults_under_the_state_dir() -> None:
    settings = Settings.from_env({"VIRTFLOW_STATE_DIR": "/srv/vf"})
    assert str(settings.metrics_root) == "/srv/vf/metrics"
    other = Settings.from_env({"VIRTFLOW_METRICS_DIR": "/run/vf-metrics"})
    assert str(other.metrics_root) == "/run/vf-metrics"
