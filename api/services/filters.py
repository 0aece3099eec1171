"""Query filters shared by list services: they narrow the visible set, never widen it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

T = TypeVar("T")


def narrow(query: Select[T], model: type[Any], **equals: object) -> Select[T]:
    """Add `model.<name> == value` for every given filter whose value is not None."""
    for name, value in equals.items():
        if value is not None:
            query = query.where(getattr(model, name) == value)
    return query
