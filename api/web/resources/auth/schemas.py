"""Login, token, password and "who am I" schemas."""

import marshmallow as ma

from api.models import TenantRole, TenantStatus
from api.web.resources.user.schemas import UserSchema, new_password_field


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "seconds until the access token expires"}
    )


class LogoutSchema(ma.Schema):
    logged_out = ma.fields.Boolean(
        required=True,
        metadata={"description": "the session's access and refresh tokens are revoked"},
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )
    new_password = new_password_field(required=True)

    @ma.validates_schema
    def _differs(self, data: dict[str, str], **_kwargs: object) -> None:
        if data.get("current_password") == data.get("new_password"):
            raise ma.ValidationError("must differ from the current password", "new_password")


class PasswordChangedSchema(ma.Schema):
    other_sessions_ended = ma.fields.Integer(
        required=True, metadata={"description": "sessions other than this one, now revoked"}
    )


class TenantAccessSchema(ma.Schema):
    id = ma.fields.Function(
        lambda a: str(a.tenant.id), dump_only=True, metadata={"type": "string", "format": "uuid"}
    )
    name = ma.fields.Function(lambda a: a.tenant.name, dump_only=True, metadata={"type": "string"})
    status = ma.fields.Function(
        lambda a: a.tenant.status,
        dump_only=True,
        metadata={"type": "string", "enum": [s.value for s in TenantStatus]},
    )
    role = ma.fields.String(
        dump_only=True,
        allow_none=True,
        # null in the enum too: OpenAPI 3.0 allows null for a nullable enum only if it is listed
        metadata={"enum": [*(r.value for r in TenantRole), None], "description": "membership role"},
    )
    permissions = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "effective permissions on the tenant: role plus grants"},
    )


class ObjectGrantSchema(ma.Schema):
    object_type = ma.fields.String(dump_only=True)
    object_id = ma.fields.UUID(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    permission = ma.fields.String(dump_only=True)


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, dump_only=True)
    roles = ma.fields.List(
        ma.fields.String(), dump_only=True, metadata={"description": "platform roles"}
    )
    permissions = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "held on every object through the platform role"},
    )
    tenants = ma.fields.List(ma.fields.Nested(TenantAccessSchema), dump_only=True)
    object_grants = ma.fields.List(ma.fields.Nested(ObjectGrantSchema), dump_only=True)
