"""Login and token schemas."""

import marshmallow as ma


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
