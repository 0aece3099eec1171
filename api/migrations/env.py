"""Alembic environment: the owner's URL (VIRTFLOW_MIGRATE_DATABASE_URL), with timeouts."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

import api.models  # noqa: F401 - registers every table on Base.metadata
from api.db import Base
from api.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or Settings.from_env().migrate_database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url())
    with engine.connect() as connection:
        # Never queue behind a long lock in production; fail fast and retry instead.
        connection.execute(text("SET lock_timeout = '5s'"))
        connection.execute(text("SET statement_timeout = '300s'"))
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
