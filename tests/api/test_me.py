"""GET /api/v1/auth/me/ for each persona, following membership and grant changes made by the API.

The endpoint itself lives in the auth resource; these tests check that what the tenancy
endpoints change is what `me` reports.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services.permissions import ALL_PERMS, ROLE_PERMS, TENANT_SCOPED
from tests.api.conftest import create_vm
from tests.conftest import Factory
from tests.helpers.personas import Personas, build_personas


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


def me(client: FlaskClient, cast: Personas, persona: str) -> dict[str, Any]:
    resp = client.get("/api/v1/auth/me/", headers=cast.h(persona))
    assert resp.status_code == 200, resp.get_json()
    data: dict[str, Any] = resp.get_json()["data"]
    return data


def tenants_of(data: dict[str, Any]) -> dict[str, tuple[str | None, list[str]]]:
    return {t["name"]: (t["role"], t["permissions"]) for t in data["tenants"]}


def grants_of(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(g["object_id"], g["permission"]) for g in data["object_grants"]}


@pytest.mark.parametrize(
    ("persona", "tenant", "role"),
    [("user_a", "tenant-a", "tenant_user"), ("viewer_a", "tenant-a", "viewer")],
)
def test_me_members_see_their_tenant_role_and_permissions(
    client: FlaskClient, cast: Personas, persona: str, tenant: str, role: str
) -> None:
    data = me(client, cast, persona)
    assert {k: data["user"][k] for k in ("id", "username", "is_admin", "is_active")} == {
        "id": cast.id(persona),
        "username": persona.replace("_", "-"),
        "is_admin": False,
        "is_active": True,
    }
    assert tenants_of(data) == {tenant: (role, sorted(ROLE_PERMS[role]))}
    assert (data["roles"], data["permissions"]) == ([], [])


def test_me_single_grant_user_has_no_tenant_only_its_grant(
    client: FlaskClient, cast: Personas
) -> None:
    data = me(client, cast, "granted")
    assert data["tenants"] == []
    assert grants_of(data) == {(str(cast.vm_a), "vm.view")}


def test_me_admin_holds_everything(client: FlaskClient, cast: Personas) -> None:
    data = me(client, cast, "admin")
    assert data["user"]["is_admin"] is True
    assert (data["roles"], data["permissions"]) == (["admin"], sorted(ALL_PERMS))


def test_me_follows_membership_and_grant_changes(client: FlaskClient, cast: Personas) -> None:
    nobody = cast.id("nobody")
    assert me(client, cast, "nobody")["tenants"] == []
    client.post(
        f"/api/v1/tenant/{cast.b.id}/member/",
        json={"user_id": nobody, "role": "viewer"},
        headers=cast.h("admin"),
    )
    client.post(
        f"/api/v1/tenant/{cast.a.id}/permission/",
        json={"user_id": nobody, "permission": "tenant.admin"},
        headers=cast.h("admin"),
    )
    client.post(
        f"/api/v1/vm/{cast.vm_b}/permission/",
        json={"user_id": nobody, "permission": "vm.change"},
        headers=cast.h("admin"),
    )
    data = me(client, cast, "nobody")
    assert tenants_of(data) == {
        "tenant-a": (None, sorted(TENANT_SCOPED)),
        "tenant-b": ("viewer", sorted(ROLE_PERMS["viewer"])),
    }
    assert grants_of(data) == {(str(cast.vm_b), "vm.change")}
    client.delete(f"/api/v1/tenant/{cast.b.id}/member/{nobody}/", headers=cast.h("admin"))
    data = me(client, cast, "nobody")
    # Leaving tenant B took the grant on its VM along.
    assert set(tenants_of(data)) == {"tenant-a"}
    assert grants_of(data) == set()


def test_me_lists_creator_grants(client: FlaskClient, cast: Personas) -> None:
    vm = create_vm(client, cast.h("user_a"), cast.a.id, "mine")
    data = me(client, cast, "user_a")
    assert grants_of(data) == {(vm["id"], p) for p in ("vm.view", "vm.change", "vm.delete")}
