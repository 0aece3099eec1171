"""Declarative base with a naming convention; lazily built, fork-safe engines and sessions."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from sqlalchemy import DateTime, MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

uuid_pk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
created_at = Annotated[
    dt.datetime, mapped_column(DateTime(timezone=True), server_default=func.now())
]
updated_at = Annotated[
    dt.datetime,
    mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now()),
]


class Base(DeclarativeBase):
    """Root of every model; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """Timezone-aware now, for timestamps set from Python."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Timeouts:
    """Client-side limits of every connection: nothing waits on PostgreSQL past these."""

    connect_seconds: int = 5
    statement_ms: int = 15_000
    pool_checkout_seconds: int = 5

    def connect_args(self) -> dict[str, Any]:
        ms = self.statement_ms
        return {
            "connect_timeout": self.connect_seconds,
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
        }


_ENGINES: dict[tuple[str, Timeouts], Engine] = {}


def engine_for(url: str, timeouts: Timeouts = Timeouts()) -> Engine:
    """One pooled engine per URL and process, built on first use."""
    key = (url, timeouts)
    if key not in _ENGINES:
        _ENGINES[key] = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            pool_timeout=timeouts.pool_checkout_seconds,
            connect_args=timeouts.connect_args(),
        )
    return _ENGINES[key]


def session_factory(url: str, timeouts: Timeouts = Timeouts()) -> sessionmaker[Session]:
    """A sessionmaker bound to the engine for url; sessions do not expire on commit."""
    return sessionmaker(bind=engine_for(url, timeouts), expire_on_commit=False)


@contextmanager
def throwaway_session(url: str, timeouts: Timeouts = Timeouts()) -> Iterator[Session]:
    """A session on a connection of its own, closed afterwards: for a process that forks
    (an RQ worker's parent), which must never keep a pooled connection a child could inherit."""
    engine = create_engine(url, poolclass=NullPool, connect_args=timeouts.connect_args())
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _forget_pools_in_child() -> None:
    # A forked child must not use, or close, its parent's connections: drop them unclosed
    # (SQLAlchemy's "using connection pools with multiprocessing" recipe).
    for engine in _ENGINES.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)
