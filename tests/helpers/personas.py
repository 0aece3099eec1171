"""The personas the tenancy API tests share.

A platform admin, tenant_user and viewer of tenant A, tenant_user of tenant B, a user whose only
access is one grant (vm.view) on a VM of A, and a user with nothing at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from flask.testing import FlaskClient

from api.models import Tenant, User
from api.services.permissions import Perm, Target, assign_perm
from tests.api.conftest import create_vm
from tests.conftest import Factory

Headers = dict[str, str]


@dataclass
class Personas:
    a: Tenant
    b: Tenant
    vm_a: uuid.UUID  # a VM of tenant A, created by the admin
    vm_b: uuid.UUID  # a VM of tenant B
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, Headers] = field(default_factory=dict)

    def h(self, name: str) -> Headers:
        return self.headers[name]

    def id(self, name: str) -> str:
        return str(self.users[name].id)


def build_personas(client: FlaskClient, make: Factory) -> Personas:
    """The shared cast; every token is fresh, so sensitive endpoints test permissions only."""
    a, b = make.tenant("tenant-a"), make.tenant("tenant-b")
    admin = make.user("root", is_admin=True)
    admin_headers = make.headers(admin, fresh=True)
    vm_a = uuid.UUID(create_vm(client, admin_headers, a.id, "vm-a")["id"])
    vm_b = uuid.UUID(create_vm(client, admin_headers, b.id, "vm-b")["id"])
    cast = Personas(a, b, vm_a, vm_b)
    cast.users["admin"] = admin
    for name, tenant, role in (
        ("user_a", a, "tenant_user"),
        ("viewer_a", a, "viewer"),
        ("user_b", b, "tenant_user"),
    ):
        cast.users[name] = make.user(name.replace("_", "-"))
        make.member(cast.users[name], tenant, role)
    cast.users["granted"] = make.user("granted")
    assign_perm(make.session, cast.users["granted"].id, Perm.VM_VIEW, Target(a.id, vm_a), admin)
    cast.users["nobody"] = make.user("nobody")
    cast.headers = {n: make.headers(u, fresh=True) for n, u in cast.users.items()}
    return cast
