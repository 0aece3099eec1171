"""Column and index helpers shared by the models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, text


def enum_check(column: str, enum: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK that keeps a string column inside an enum (cheaper to migrate than PG enums)."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


def newest_first(table: str, *leading: str) -> Index:
    """ix_<table>[_<leading>...]_created_at_id on (leading..., created_at DESC, id): the order
    of a list `ORDER BY created_at DESC, id`, after equality on the leading columns, read from
    the index instead of sorting the table (tests/services/test_query_plans.py)."""
    name = "_".join(["ix", table, *leading, "created_at_id"])
    return Index(name, *leading, text("created_at DESC"), "id")
