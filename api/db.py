"""Declarative base with a naming convention, and lazily built engine/session factories."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from typing import Annotated

from sqlalchemy import DateTime, MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

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


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per URL and process, built on first use."""
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def session_factory(url: str) -> sessionmaker[Session]:
    """A sessionmaker bound to the engine for url; sessions do not expire on commit."""
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)
