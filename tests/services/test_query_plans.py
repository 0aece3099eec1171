"""Every list of the API reads its page from an index: EXPLAIN of the query its service builds,
on a database of its own seeded with enough rows (and ANALYZEd) that the planner's choice is
the one it makes at scale. No planner setting is changed: the plans are the default ones."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, Executable, Select, create_engine, event, select, text
from sqlalchemy.orm import Session

from api.db_roles import migrate
from api.models import VM, Baremetal, Job, JobEvent, User
from api.services import actions, audit, images, jobs, memberships, quotas, snapshots, tenants, vms
from api.services import users as users_service
from api.services.permissions import Target
from tests.conftest import drop_database, recreate_database

SIZES = {
    "tenants": 2000,
    "hosts": 1000,
    "vms": 6000,
    "images": 2000,
    "busy_jobs": 600,  # of VM v3
    "busy_events": 20_000,  # of its first job
    "busy_snapshots": 300,  # of VM v3
    "logins": 60_000,  # audit rows of no object: the busy VM's are a small part of the log
    "grants": 200,  # u1's grants on VMs of other tenants
}

# Rows named by md5(<kind><n>)::uuid, so that the tests can name them too. Tenant t1 owns a
# third of the VMs (interleaved in time with the others'); VM v3 (t1's) is the busy one: many
# jobs, events, snapshots, and 100 audit rows (most rows of the log are logins, of no object).
# u0 is the platform admin; u<n> a tenant_user of t<n> holding vm.view on each VM of t<n>, and
# u1 also on some VMs of other tenants.
SEED = [
    # no audit chain, no FK checks: rows of a test, in a database of their own
    "SET LOCAL session_replication_role = replica",
    """
INSERT INTO tenant (id, name, status, created_at, updated_at)
SELECT md5('t' || i)::uuid, 'tenant-' || i, 'active', now() - make_interval(secs => i), now()
FROM generate_series(1, :tenants) i
""",
    """
INSERT INTO user_account (id, username, password_hash, is_admin, is_active)
SELECT md5('u' || i)::uuid, 'user-' || i, 'x', i = 0, true FROM generate_series(0, :tenants) i
""",
    """
INSERT INTO membership (id, tenant_id, user_id, role)
SELECT md5('m' || i)::uuid, md5('t' || i)::uuid, md5('u' || i)::uuid, 'tenant_user'
FROM generate_series(1, :tenants) i
""",
    """
INSERT INTO baremetal (id, name, libvirt_uri, capacity_vcpus, capacity_ram_mb, capacity_disk_gb,
                       in_inventory, synced_at, state, guest_network)
SELECT md5('h' || i)::uuid, 'host-' || lpad(i::text, 4, '0'), 'qemu:///system', 64, 262144,
       4000, true, now(), CASE WHEN i <= 5 THEN 'missing' ELSE 'active' END, 'nat'
FROM generate_series(1, :hosts) i
""",
    """
INSERT INTO vm (id, tenant_id, name, vcpus, ram_mb, disk_gb, status, baremetal_id, domain_name,
                anti_affinity_group, created_at, updated_at)
SELECT md5('v' || i)::uuid,
       md5('t' || CASE WHEN mod(i, 3) = 0 THEN 1 ELSE 2 + mod(i, :tenants - 1) END)::uuid,
       'vm-' || i, 1, 512, 10,
       CASE WHEN mod(i, 10) = 0 THEN 'deleted' WHEN mod(i, 50) = 1 THEN 'error'
            ELSE 'running' END,
       md5('h' || (1 + mod(i, :hosts)))::uuid, 'vf-vm-' || i,
       CASE WHEN mod(i, 4) = 0 THEN 'web' END,
       now() - make_interval(secs => :vms - i), now()
FROM generate_series(1, :vms) i
""",
    """
INSERT INTO job (id, kind, status, tenant_id, vm_id, playbook, "limit", extravars, stdout,
                 artifacts, created_at, request_id)
SELECT md5('j' || vm.name || '-' || k)::uuid, 'vm.create', 'successful', vm.tenant_id, vm.id,
       'vm_create.yml', 'host-0001', '{}', '', '{}',
       vm.created_at + make_interval(secs => k), md5('rj' || vm.name || '-' || k)
FROM vm, generate_series(1, CASE WHEN vm.name = 'vm-3' THEN :busy_jobs ELSE 3 END) k
""",
    """
INSERT INTO job_event (job_id, counter, event, changed, stdout, summary, created_at, host)
SELECT md5('jvm-3-1')::uuid, c, 'runner_on_ok', false, '', '{}', now(), 'host-0001'
FROM generate_series(1, :busy_events) c
""",
    """
INSERT INTO job_event (job_id, counter, event, changed, stdout, summary, created_at, host)
SELECT job.id, c, 'runner_on_ok', false, '', '{}', now(), 'host-0001'
FROM job, generate_series(1, 2) c WHERE job.vm_id <> md5('v3')::uuid
""",
    """
INSERT INTO audit_log (created_at, action, outcome, status_code, changes, prev_hash, row_hash,
                       tenant_id, object_type, object_id, request_id, actor_id)
SELECT job.created_at, 'vm.create', 'success', 202, '{}', '', '', job.tenant_id, 'vm',
       job.vm_id::text, job.request_id, md5('u0')::uuid
FROM job WHERE job.vm_id <> md5('v3')::uuid OR job.created_at < (
    SELECT min(created_at) + interval '100 seconds' FROM job WHERE vm_id = md5('v3')::uuid)
ORDER BY job.created_at
""",
    """
INSERT INTO audit_log (created_at, action, outcome, status_code, changes, prev_hash, row_hash,
                       actor_id, request_id)
SELECT now(), 'auth.login', 'success', 200, '{}', '', '', md5('u' || mod(i, :tenants))::uuid,
       md5('rl' || i)
FROM generate_series(1, :logins) i
""",
    """
INSERT INTO audit_log (created_at, action, outcome, status_code, changes, prev_hash, row_hash,
                       object_type, object_id, request_id)
SELECT now(), 'ops.run', 'success', 0, '{}', '', '', 'job', md5('ops' || i)::uuid::text,
       md5('rops' || i)
FROM generate_series(1, 50) i
""",
    """
INSERT INTO object_permission (id, user_id, permission, object_type, object_id, tenant_id)
SELECT md5('g' || vm.name)::uuid, membership.user_id, 'vm.view', 'vm', vm.id, vm.tenant_id
FROM vm JOIN membership ON membership.tenant_id = vm.tenant_id
""",
    """
INSERT INTO object_permission (id, user_id, permission, object_type, object_id, tenant_id)
SELECT md5('gu1' || vm.name)::uuid, md5('u1')::uuid, 'vm.view', 'vm', vm.id, vm.tenant_id
FROM vm WHERE vm.tenant_id <> md5('t1')::uuid ORDER BY vm.name LIMIT :grants
""",
    """
INSERT INTO image (id, name, disk_format, visibility, default_user, status, tenant_id,
                   created_at)
SELECT md5('i' || i)::uuid, 'image-' || i, 'qcow2',
       CASE WHEN mod(i, 2) = 0 THEN 'public' ELSE 'private' END, 'debian',
       CASE WHEN mod(i, 5) = 0 THEN 'deleted' ELSE 'active' END,
       CASE WHEN mod(i, 2) = 1 THEN md5('t' || (1 + mod(i, :tenants)))::uuid END,
       now() - make_interval(secs => i)
FROM generate_series(1, :images) i
""",
    """
INSERT INTO snapshot (id, tenant_id, vm_id, name, status, created_at)
SELECT md5('s' || vm.name || '-' || k)::uuid, vm.tenant_id, vm.id, 'snap-' || k,
       CASE WHEN mod(k, 7) = 0 THEN 'deleted' ELSE 'ready' END,
       vm.created_at + make_interval(secs => k)
FROM vm, generate_series(1, CASE WHEN vm.name = 'vm-3' THEN :busy_snapshots ELSE 1 END) k
""",
]


def seeded(kind: str, n: int | str) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"{kind}{n}".encode()).hexdigest())  # noqa: S324 - test ids


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A database of this module's own, migrated, seeded and analyzed (as its owner)."""
    name = f"virtflow_plans_{uuid.uuid4().hex[:8]}"
    url = recreate_database(name)
    try:
        migrate(url)
        eng = create_engine(url)
        with eng.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement), SIZES)
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # statistics, and the visibility map
        yield eng
        eng.dispose()
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@dataclass(frozen=True)
class Node:
    type: str
    relation: str | None
    index: str | None


def plan(session: Session, query: Executable) -> list[Node]:
    """The nodes of query's plan, as EXPLAIN (FORMAT JSON) gives it with the default settings:
    the statement and its parameters exactly as the service's query sends them."""
    conn = session.connection()

    def explain(*args: Any) -> tuple[str, Any]:
        statement, parameters = args[2], args[3]
        return f"EXPLAIN (FORMAT JSON) {statement}", parameters

    event.listen(conn, "before_cursor_execute", explain, retval=True)
    try:
        cursor = conn.execute(query).cursor  # the rows are EXPLAIN's, not the query's
        assert cursor is not None
        (raw,) = cursor.fetchone() or (None,)
    finally:
        event.remove(conn, "before_cursor_execute", explain)
    tree = raw if isinstance(raw, list) else json.loads(str(raw))
    nodes: list[Node] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(Node(node["Node Type"], node.get("Relation Name"), node.get("Index Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(tree[0]["Plan"])
    return nodes


def page(query: Select[Any]) -> Select[Any]:
    """What paginate adds: a page of 50 (and one more, to know whether there is a next)."""
    return query.limit(51)


def assert_served(
    nodes: list[Node], index: str | tuple[str, ...], table: str, *, sorted_by_index: bool = True
) -> None:
    """index (or one of them) reads table, which is never scanned whole; with sorted_by_index,
    no Sort either: the index gives the order (an Incremental Sort finishes an order an index
    gives in part, and is allowed). Without it, the index finds a few rows, which are sorted."""
    shown = "\n".join(f"{n.type} {n.relation or ''} {n.index or ''}" for n in nodes)
    wanted = (index,) if isinstance(index, str) else index
    assert any(n.index in wanted for n in nodes), f"{index} not used:\n{shown}"
    assert not any(n.type == "Seq Scan" and n.relation == table for n in nodes), shown
    if sorted_by_index:
        assert not any(n.type == "Sort" for n in nodes), shown


def user(session: Session, n: int) -> User:
    return session.get_one(User, seeded("u", n))


# --- VMs ----------------------------------------------------------------------------------------


def test_query_plans_vm_list_admin_reads_the_newest_first_index(session: Session) -> None:
    query = page(vms.vms_query(user(session, 0)))
    assert_served(plan(session, query), "ix_vm_created_at_id", "vm")


def test_query_plans_vm_list_deep_page_reads_the_index_and_no_job_per_row(
    session: Session,
) -> None:
    nodes = plan(session, page(vms.vms_query(user(session, 0))).offset(3000))
    assert_served(nodes, "ix_vm_created_at_id", "vm")
    assert not any(n.relation == "job" for n in nodes)  # job_id is read for the page alone


def test_query_plans_vm_list_tenant_user_with_grants_reads_the_index(session: Session) -> None:
    query = page(vms.vms_query(user(session, 1)))  # its tenant's VMs and GRANTS others
    assert_served(plan(session, query), "ix_vm_created_at_id", "vm")


# A big tenant's rows may be read in order from the list's own index (a third of them match:
# the next 50 are near); a small tenant's are found by the tenant's index and sorted.
BIG, SMALL = seeded("t", 1), seeded("t", 5)


@pytest.mark.parametrize(
    ("tenant_id", "index", "sorted_by_index"),
    [
        (BIG, ("ix_vm_tenant_id_created_at_id", "ix_vm_created_at_id"), True),
        (SMALL, "ix_vm_tenant_id_created_at_id", False),
    ],
)
def test_query_plans_vm_list_of_a_tenant_reads_an_index(
    session: Session, tenant_id: uuid.UUID, index: str | tuple[str, ...], sorted_by_index: bool
) -> None:
    query = page(vms.vms_query(user(session, 0), tenant_id=tenant_id))
    assert_served(plan(session, query), index, "vm", sorted_by_index=sorted_by_index)


@pytest.mark.parametrize(
    ("filters", "index", "sorted_by_index"),
    [
        ({"status": "running"}, "ix_vm_created_at_id", True),
        ({"status": "error"}, "ix_vm_status", False),  # a few: found, then sorted
        ({"tenant_id": seeded("t", 1), "status": "running"}, "ix_vm_tenant_id_created_at_id", True),
        ({"name": "vm-3"}, "ix_vm_name", False),
        ({"tenant_id": seeded("t", 1), "name": "vm-3"}, "ix_vm_name", False),
        (
            {"tenant_id": seeded("t", 1), "anti_affinity_group": "web"},
            "ix_vm_tenant_id_created_at_id",
            True,
        ),
        # a host's or the missing hosts' VMs: a few, sorted after the index found them
        ({"baremetal": "host-0007"}, "ix_vm_baremetal_id", False),
        ({"host_state": "missing"}, "ix_vm_baremetal_id", False),
    ],
)
def test_query_plans_vm_list_filters_read_an_index(
    session: Session, filters: dict[str, Any], index: str, sorted_by_index: bool
) -> None:
    query = page(vms.vms_query(user(session, 0), **filters))
    assert_served(plan(session, query), index, "vm", sorted_by_index=sorted_by_index)


def test_query_plans_vm_list_page_job_ids_read_the_latest_job_by_index(
    session: Session,
) -> None:
    page_ids = [seeded("v", n) for n in range(1, 51)]
    query = select(VM.id, vms.LATEST_JOB).where(VM.id.in_(page_ids))  # as with_job_ids
    assert_served(plan(session, query), "ix_job_vm_id_created_at_id", "job")


def test_query_plans_vm_list_page_has_each_vms_latest_job(session: Session) -> None:
    listed = session.scalars(page(vms.vms_query(user(session, 0))).offset(100)).all()
    vms.with_job_ids(session, listed)
    assert len(listed) == 51
    for vm in listed:  # each VM's third job is its latest; v3 has more
        last = SIZES["busy_jobs"] if vm.name == "vm-3" else 3
        assert vm.job_id == seeded("j", f"{vm.name}-{last}"), vm.name


# --- jobs and their events ----------------------------------------------------------------------


def test_query_plans_job_list_admin_reads_the_newest_first_index(session: Session) -> None:
    assert_served(
        plan(session, page(jobs.jobs_query(user(session, 0)))), "ix_job_created_at_id", "job"
    )


def test_query_plans_job_list_tenant_user_reads_the_index(session: Session) -> None:
    assert_served(
        plan(session, page(jobs.jobs_query(user(session, 1)))), "ix_job_created_at_id", "job"
    )


@pytest.mark.parametrize(
    ("filters", "index", "sorted_by_index"),
    [
        ({"tenant_id": BIG}, ("ix_job_tenant_id_created_at_id", "ix_job_created_at_id"), True),
        ({"tenant_id": SMALL}, "ix_job_tenant_id_created_at_id", False),
        ({"vm_id": seeded("v", 3)}, "ix_job_vm_id_created_at_id", True),
        ({"vm_id": seeded("v", 5)}, "ix_job_vm_id_created_at_id", False),
    ],
)
def test_query_plans_job_list_filters_read_their_index(
    session: Session,
    filters: dict[str, Any],
    index: str | tuple[str, ...],
    sorted_by_index: bool,
) -> None:
    query = page(jobs.jobs_query(user(session, 0), **filters))
    assert_served(plan(session, query), index, "job", sorted_by_index=sorted_by_index)


@pytest.mark.parametrize("after", [None, 15_000])
def test_query_plans_job_events_page_reads_the_job_counter_index(
    session: Session, after: int | None
) -> None:
    job = session.get_one(Job, seeded("jvm-3-", 1))
    query = jobs.events_query(job)
    if after is not None:  # keyset paging: the page after a counter
        query = query.where(JobEvent.counter > after)
    assert_served(plan(session, page(query)), "uq_job_event_job_id_counter", "job_event")


# --- the audit log ------------------------------------------------------------------------------


VM3, VM5 = str(seeded("v", 3)), str(seeded("v", 5))


@pytest.mark.parametrize(
    ("given", "index", "sorted_by_index"),
    [
        ({}, "pk_audit_log", True),
        ({"request_id": hashlib.md5(b"rjvm-5-2").hexdigest()}, "ix_audit_log_request_id_id", False),  # noqa: S324
        ({"object_id": VM3}, "ix_audit_log_object_id_id", True),
        # one more condition, fewer rows expected: the VM's rows may be found, then sorted
        ({"object_type": "vm", "object_id": VM3}, "ix_audit_log_object_id_id", False),
        ({"object_id": VM5}, "ix_audit_log_object_id_id", False),
        ({"tenant_id": BIG}, ("ix_audit_log_tenant_id_id", "pk_audit_log"), True),
        ({"tenant_id": SMALL}, "ix_audit_log_tenant_id_id", False),
    ],
)
def test_query_plans_audit_list_reads_an_index(
    session: Session, given: dict[str, Any], index: str | tuple[str, ...], sorted_by_index: bool
) -> None:
    query = page(audit.audit_query(user(session, 0), audit.AuditFilter(**given)))
    assert_served(plan(session, query), index, "audit_log", sorted_by_index=sorted_by_index)


# --- the other lists ----------------------------------------------------------------------------


def test_query_plans_tenant_list_reads_the_newest_first_index(session: Session) -> None:
    query = page(tenants.tenants_query(user(session, 0)))
    assert_served(plan(session, query), "ix_tenant_created_at_id", "tenant")


def test_query_plans_user_list_reads_the_username_index(session: Session) -> None:
    query = page(users_service.users_query(user(session, 0)))
    assert_served(plan(session, query), "uq_user_account_username", "user_account")


def test_query_plans_image_list_reads_the_live_name_index(session: Session) -> None:
    query = page(images.images_query(session, user(session, 0)))
    assert_served(plan(session, query), "uq_image_name_live", "image")


def test_query_plans_snapshot_list_reads_the_vm_index(session: Session) -> None:
    query = page(snapshots.snapshots_query(session, user(session, 0), seeded("v", 3)))
    assert_served(plan(session, query), "ix_snapshot_vm_id_created_at_id", "snapshot")


def test_query_plans_action_list_reads_the_vm_jobs_and_object_indexes(session: Session) -> None:
    query = page(actions.vm_history(session, user(session, 0), seeded("v", 3)))
    nodes = plan(session, query)  # a UNION of the VM's rows, sorted: one VM's, not a table
    for index, table in (
        ("ix_job_vm_id_created_at_id", "job"),
        ("ix_audit_log_object_id_id", "audit_log"),
        ("ix_audit_log_action", "audit_log"),
    ):
        assert_served(nodes, index, table, sorted_by_index=False)


def test_query_plans_baremetal_list_reads_the_name_index(session: Session) -> None:
    query = page(select(Baremetal).order_by(Baremetal.name))  # as the route builds it
    assert_served(plan(session, query), "uq_baremetal_name", "baremetal")


def test_query_plans_member_and_grant_lists_read_their_index(session: Session) -> None:
    admin = user(session, 0)
    members = page(memberships.members_query(session, admin, seeded("t", 1)))
    assert_served(
        plan(session, members),
        "uq_membership_tenant_id_user_id",
        "membership",
        sorted_by_index=False,
    )
    grants = page(memberships.grants_query(Target(seeded("t", 1), seeded("v", 3))))
    assert_served(
        plan(session, grants),
        "ix_object_permission_object",
        "object_permission",
        sorted_by_index=False,
    )


def test_query_plans_usage_list_reads_the_tenant_name_index(session: Session) -> None:
    query = page(quotas.usage_query(user(session, 0)))
    assert_served(plan(session, query), "uq_tenant_name", "tenant")
