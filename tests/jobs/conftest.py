"""Job functions run against the test database and settings, with a fake ansible-runner."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from jobs import base


@pytest.fixture(autouse=True)
def job_env(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """jobs.base hands out the test's savepoint sessions and the test settings."""
    monkeypatch.setattr(base, "sessions", lambda: sessions)
    monkeypatch.setattr(base, "throwaway", sessions)
    monkeypatch.setattr(base, "settings", lambda: settings)
