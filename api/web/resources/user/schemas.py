"""User schemas: only the username and password are ever written, and only on creation."""

import marshmallow as ma

from api.services.users import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    USERNAME_RE,
    USERNAME_RULE,
)


def username_field(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=USERNAME_MAX),
            ma.validate.Regexp(rf"^{USERNAME_RE.pattern}$", error=f"must be {USERNAME_RULE}"),
            # Python's `$` also matches before a final newline, which Regexp would let through.
            ma.validate.ContainsNoneOf("\n", error="must not contain a line break"),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


def new_password_field(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX),
        **kwargs,  # type: ignore[arg-type]
    )


class StrictBoolean(ma.fields.Boolean):
    """A JSON true or false; no "no", 0 or "off" (marshmallow's Boolean takes those)."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: object) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UserCreateSchema(ma.Schema):
    username = username_field(required=True)
    password = new_password_field(required=True)


class UserUpdateSchema(ma.Schema):
    """Admins enable or disable an account; every other field is read-only (422)."""

    is_active = StrictBoolean(required=True)


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    username = ma.fields.String(dump_only=True)
    is_admin = ma.fields.Boolean(
        dump_only=True, metadata={"description": "platform role `admin`; set with the CLI only"}
    )
    is_active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class UserQuerySchema(ma.Schema):
    username = username_field()
    is_active = ma.fields.Boolean()
