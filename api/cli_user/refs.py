"""Turning what a user types into ids: a tenant by id or by name, a VM or job id."""

from __future__ import annotations

import uuid

from api.cli_user import exits
from api.cli_user.session import Session
from api.client.api.tenant import tenant_list
from api.client.models import TenantListEnvelope


def parse_id(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise exits.Failure(exits.USAGE, f"{what} {text!r} is not an id (a UUID)") from None


def tenant_id(session: Session, ref: str) -> uuid.UUID:
    """A tenant's id from its id or its name (among the tenants the caller can see)."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    found = session.call(TenantListEnvelope, tenant_list.sync_detailed, name=ref).data
    named = [tenant for tenant in found if tenant.name == ref]
    match = [t.id for t in named if t.status != "deleted"] or [t.id for t in named]
    if not match:
        raise exits.Failure(exits.NOT_FOUND, f"NOT_FOUND: no tenant named {ref!r} that you can see")
    return match[0]
