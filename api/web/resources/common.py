"""Validators and field types shared by resource schemas."""

from __future__ import annotations

from enum import StrEnum

import marshmallow as ma

# Names reach libvirt XML and Ansible: a strict slug keeps both safe.
SLUG_RE = r"^[a-z][a-z0-9-]*$"


def slug(max_len: int) -> list[ma.validate.Validator]:
    """Lower-case letter first, then lower-case letters, digits and '-'."""
    return [
        ma.validate.Length(min=1, max=max_len),
        ma.validate.Regexp(
            SLUG_RE,
            error="must start with a lower-case letter and use only a-z, 0-9 and '-'",
        ),
        # Python's `$` also matches before a final newline, which Regexp would let through.
        ma.validate.ContainsNoneOf("\n", error="must not contain a line break"),
    ]


def bounded_int(low: int, high: int, **kwargs: object) -> ma.fields.Integer:
    """A strict integer (no floats, no strings) in [low, high]."""
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=low, max=high), **kwargs)  # type: ignore[arg-type]


def enum_out(enum: type[StrEnum], **kwargs: object) -> ma.fields.String:
    """A read-only string field documented with the enum's values (stored as plain strings)."""
    return ma.fields.String(dump_only=True, metadata={"enum": [m.value for m in enum]}, **kwargs)  # type: ignore[arg-type]
