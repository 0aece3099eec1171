"""Column helpers shared by the models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


def enum_check(column: str, enum: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK that keeps a string column inside an enum (cheaper to migrate than PG enums)."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)
