# ruff: noqa: S608 - the SQL is built from integers (Sizes) and constants only, never input
"""Seeding bench/api.py's database fast: set-based SQL (INSERT ... SELECT generate_series), no ORM.

Everything runs as the schema's owner in one session with session_replication_role = replica,
so no trigger fires (neither the foreign keys' nor the audit log's append-only and chaining
triggers): the rows are generated consistent with each other. The audit log's hash chain is
still real: each seeded row gets prev_hash and row_hash computed by the same SQL function the
trigger and `virtflow audit verify` use (virtflow_audit_row_hash), in id order, and the chain's
head row points at the last one, so rows the API appends later chain onto it.

Ids are derived from row numbers (md5(...)::uuid), so one statement can refer to the rows of
another without reading them back: tenant t is md5('t' || t), user t (tenant t's tenant_user,
who created its VMs) md5('u' || t), VM i md5('vm' || i) in tenant i % tenants on host i % hosts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

GENESIS = "decode(repeat('00', 32), 'hex')"


@dataclass(frozen=True)
class Sizes:
    vms: int = 10_000
    hosts: int = 1_000
    tenants: int = 100
    audit: int = 1_000_000
    events: int = 5_000_000
    grants: int = 400  # extra vm.view grants of the measured tenant_user, outside its tenant

    @property
    def events_per_create(self) -> int:
        """Nine tenths of the events go to the create jobs, evenly."""
        return max((self.events - self.events // 10) // self.vms, 1)

    @property
    def big_job_events(self) -> int:
        """The one long job (a hand run over the fleet) holds the rest, about a tenth."""
        return max(self.events - self.events_per_create * self.vms, 1)


def tenant_id(t: int | str) -> str:
    return f"md5('t' || {t})::uuid"


def user_id(t: int | str) -> str:
    return f"md5('u' || {t})::uuid"


def vm_id(i: int | str) -> str:
    return f"md5('vm' || {i})::uuid"


def create_job_id(i: int | str) -> str:
    return f"md5('job-c' || {i})::uuid"


BIG_JOB_ID = "md5('job-big')::uuid"
YEAR = "interval '365 days'"
# VMs and their jobs span the last 80 days: within the default retention of job events
# (VIRTFLOW_JOB_EVENT_RETENTION_DAYS, 90), past which the events would have been purged.
RECENT = "interval '80 days'"


def _ago(i: str, n: int, span: str = RECENT) -> str:
    """The time of row i of n, spread evenly over span up to now, oldest first (row n-1 is
    the newest), so newest-first orders match id order."""
    return f"now() - {span} * ({n} - {i})::float8 / {max(n, 1)}"


def tenants(s: Sizes, password_hash: str) -> list[tuple[str, tuple[object, ...]]]:
    """Tenants, roomy quotas, one tenant_user per tenant (member of it) with the shared hash."""
    t = "t"
    return [
        (
            f"""INSERT INTO tenant (id, name, status, created_at, updated_at)
            SELECT {tenant_id(t)}, format('bench-%s', lpad(t::text, 3, '0')), 'active',
                   now() - {YEAR}, now()
            FROM generate_series(0, {s.tenants - 1}) t""",
            (),
        ),
        (
            f"""INSERT INTO quota (tenant_id, vcpus, ram_mb, disk_gb, vms, snapshots, updated_at)
            SELECT {tenant_id(t)}, 100000, 100000000, 10000000, 100000, 10000, now()
            FROM generate_series(0, {s.tenants - 1}) t""",
            (),
        ),
        (
            f"""INSERT INTO user_account
                (id, username, password_hash, is_admin, is_active, created_at, updated_at)
            SELECT {user_id(t)}, format('bench-user-%%s', lpad(t::text, 3, '0')), %s,
                   false, true, now() - {YEAR}, now()
            FROM generate_series(0, {s.tenants - 1}) t""",
            (password_hash,),
        ),
        (
            f"""INSERT INTO membership (id, tenant_id, user_id, role, created_at)
            SELECT md5('m' || t)::uuid, {tenant_id(t)}, {user_id(t)}, 'tenant_user', now()
            FROM generate_series(0, {s.tenants - 1}) t""",
            (),
        ),
    ]


def hosts() -> list[tuple[str, tuple[object, ...]]]:
    """The synced hosts made active as a successful host.prepare leaves them, and numbered."""
    return [
        (
            """UPDATE baremetal SET state = 'active', state_reason = NULL, prepared_at = now(),
                discovered = '{"cpus": 64, "memory_mb": 262144, "image_dir_free_gb": 4000,
                               "virt_type": "kvm"}'::jsonb,
                discovered_at = now(), domains_checked_at = now()""",
            (),
        ),
        (
            """CREATE TABLE bench_host AS
            SELECT (row_number() OVER (ORDER BY name) - 1)::int AS idx, id, name FROM baremetal""",
            (),
        ),
        ("CREATE UNIQUE INDEX ON bench_host (idx)", ()),
    ]


def vms(s: Sizes) -> list[tuple[str, tuple[object, ...]]]:
    """VMs (mostly running, some stopped, a few in error) and their creators' grants."""
    i = "i"
    status = (
        "CASE WHEN i % 100 = 99 THEN 'error' WHEN i % 25 = 24 THEN 'stopped' ELSE 'running' END"
    )
    return [
        (
            f"""INSERT INTO vm (id, tenant_id, name, vcpus, ram_mb, disk_gb, status, status_reason,
                baremetal_id, domain_name, domain_uuid, created_by_id, created_at, updated_at,
                mac, addresses, addresses_at)
            SELECT {vm_id(i)}, {tenant_id(f"{i} % {s.tenants}")}, format('vm-%s', i),
                1 + i % 4, 512 * (1 + i % 8), 10 + i % 50, {status},
                CASE WHEN i % 100 = 99 THEN 'the create failed: bench fixture' END,
                h.id, format('vf-vm-%s-%s', i, left(md5('vm' || i), 8)), md5('d' || i)::uuid,
                {user_id(f"{i} % {s.tenants}")}, {_ago(i, s.vms)}, now(),
                format('52:54:00:%s:%s:%s', lpad(to_hex((i >> 16) & 255), 2, '0'),
                       lpad(to_hex((i >> 8) & 255), 2, '0'), lpad(to_hex(i & 255), 2, '0')),
                jsonb_build_array(jsonb_build_object('mac', '52:54:00:00:00:01',
                    'ip', format('192.168.%s.%s', (i / 250) % 256, 2 + i % 250),
                    'prefix', 24, 'source', 'agent')),
                now()
            FROM generate_series(0, {s.vms - 1}) i
            JOIN bench_host h ON h.idx = i % {s.hosts}""",
            (),
        ),
        (
            f"""INSERT INTO object_permission
                (id, user_id, permission, object_type, object_id, tenant_id, granted_by_id,
                 created_at)
            SELECT gen_random_uuid(), {user_id(f"{i} % {s.tenants}")}, p, 'vm', {vm_id(i)},
                   {tenant_id(f"{i} % {s.tenants}")}, {user_id(f"{i} % {s.tenants}")}, now()
            FROM generate_series(0, {s.vms - 1}) i,
                 unnest(ARRAY['vm.view', 'vm.change', 'vm.delete']) p""",
            (),
        ),
        (
            # The measured user (tenant 0's) also sees VMs of other tenants by a vm.view grant.
            f"""INSERT INTO object_permission
                (id, user_id, permission, object_type, object_id, tenant_id, granted_by_id,
                 created_at)
            SELECT gen_random_uuid(), {user_id(0)}, 'vm.view', 'vm', {vm_id(i)},
                   {tenant_id(f"{i} % {s.tenants}")}, NULL, now()
            FROM generate_series(0, {s.vms - 1}) i
            WHERE i % {s.tenants} <> 0
            ORDER BY md5('g' || i) LIMIT {s.grants}""",
            (),
        ),
    ]


def jobs(s: Sizes) -> list[tuple[str, tuple[object, ...]]]:
    """A create job per VM, a later power job for every other VM, and one long hand run."""
    i = "i"
    return [
        (
            f"""INSERT INTO job (id, kind, status, tenant_id, vm_id, playbook, "limit", extravars,
                rc, stdout, artifacts, request_id, created_by_id, created_at, started_at,
                finished_at)
            SELECT {create_job_id(i)}, 'vm.create',
                CASE WHEN i % 100 = 99 THEN 'failed' ELSE 'successful' END,
                {tenant_id(f"{i} % {s.tenants}")}, {vm_id(i)}, 'vm_create.yml', h.name,
                jsonb_build_object('virtflow_guests', jsonb_build_array(jsonb_build_object(
                    'name', format('vf-vm-%s', i), 'vcpus', 1 + i % 4))),
                CASE WHEN i % 100 = 99 THEN 2 ELSE 0 END, '', '{{}}'::jsonb,
                format('bench-job-c-%s', i), {user_id(f"{i} % {s.tenants}")},
                {_ago(i, s.vms)}, {_ago(i, s.vms)} + interval '1 second',
                {_ago(i, s.vms)} + interval '40 seconds'
            FROM generate_series(0, {s.vms - 1}) i
            JOIN bench_host h ON h.idx = i % {s.hosts}""",
            (),
        ),
        (
            f"""INSERT INTO job (id, kind, status, tenant_id, vm_id, playbook, "limit", extravars,
                rc, stdout, artifacts, request_id, created_by_id, created_at, started_at,
                finished_at, prior_status)
            SELECT md5('job-p' || i)::uuid, CASE WHEN i % 4 = 0 THEN 'vm.stop' ELSE 'vm.refresh' END,
                'successful', {tenant_id(f"{i} % {s.tenants}")}, {vm_id(i)}, 'vm_power.yml',
                h.name, '{{}}'::jsonb, 0, '', '{{}}'::jsonb, format('bench-job-p-%s', i),
                {user_id(f"{i} % {s.tenants}")}, {_ago(i, s.vms)} + interval '1 hour',
                {_ago(i, s.vms)} + interval '1 hour 1 second',
                {_ago(i, s.vms)} + interval '1 hour 9 seconds', 'running'
            FROM generate_series(0, {s.vms - 1}, 2) i
            JOIN bench_host h ON h.idx = i % {s.hosts}""",
            (),
        ),
        (
            f"""INSERT INTO job (id, kind, status, playbook, "limit", extravars, rc, stdout,
                artifacts, request_id, created_at, started_at, finished_at)
            VALUES ({BIG_JOB_ID}, 'ops.run', 'successful', 'host_prepare.yml', 'baremetal',
                '{{}}'::jsonb, 0, '', '{{}}'::jsonb, 'bench-job-big', now() - interval '2 days',
                now() - interval '2 days', now() - interval '1 day')""",
            (),
        ),
    ]


def _event_select(job: str, counter: str, host: str) -> str:
    """One ansible-runner event's columns: runner_on_start/runner_on_ok pairs after a start."""
    return f"""{job}, {counter},
        CASE WHEN {counter} = 1 THEN 'playbook_on_start'
             WHEN {counter} % 2 = 0 THEN 'runner_on_start' ELSE 'runner_on_ok' END,
        'bench play', format('task %s', {counter} / 2), {host},
        CASE WHEN {counter} > 1 AND {counter} % 2 = 1 THEN
             CASE WHEN {counter} % 3 = 0 THEN 'changed' ELSE 'ok' END END,
        {counter} % 3 = 0,
        CASE WHEN {counter} % 2 = 1 THEN format('ok: [%s] => task %s', {host}, {counter} / 2)
             ELSE '' END,
        CASE WHEN {counter} % 2 = 1 THEN jsonb_build_object('changed', {counter} % 3 = 0,
             'msg', 'bench') ELSE '{{}}'::jsonb END"""


def events(s: Sizes) -> list[tuple[str, tuple[object, ...]]]:
    """events_per_create events for each create job (job after job), then the long run's."""
    columns = (
        "job_id, counter, event, play, task, host, status, changed, stdout, summary, created_at"
    )
    per, big = s.events_per_create, s.big_job_events
    return [
        (
            f"""INSERT INTO job_event ({columns})
            SELECT {_event_select(create_job_id("i"), "c", "h.name")},
                   {_ago("i", s.vms)} + c * interval '50 milliseconds'
            FROM generate_series(0, {s.vms - 1}) i
            JOIN bench_host h ON h.idx = i % {s.hosts},
            LATERAL generate_series(1, {per}) c""",
            (),
        ),
        (
            f"""INSERT INTO job_event ({columns})
            SELECT {_event_select(BIG_JOB_ID, "c", "h.name")},
                   now() - interval '2 days' + c * interval '10 milliseconds'
            FROM generate_series(1, {big}) c
            JOIN bench_host h ON h.idx = c % {s.hosts}""",
            (),
        ),
    ]


AUDIT_ACTIONS = "ARRAY['vm.create', 'vm.stop', 'vm.start', 'vm.delete', 'vm.reboot', 'quota.check']"


def audit(s: Sizes) -> list[tuple[str, tuple[object, ...]]]:
    """Audit rows about the VMs in a staging table, then chained into audit_log in id order."""
    i = "i"
    return [
        ("CREATE TABLE bench_audit (LIKE audit_log)", ()),
        (
            f"""INSERT INTO bench_audit (id, created_at, actor_id, actor_username, tenant_id,
                action, object_type, object_id, outcome, status_code, error_code, request_id,
                client_addr, changes, prev_hash, row_hash)
            SELECT i, {_ago(i, s.audit, YEAR)}, {user_id(f"{i} % {s.tenants}")},
                format('bench-user-%s', lpad((i % {s.tenants})::text, 3, '0')),
                {tenant_id(f"{i} % {s.tenants}")}, ({AUDIT_ACTIONS})[1 + i % 6], 'vm',
                ({vm_id(f"(i / 7) % {s.vms}")})::text,
                CASE WHEN i % 20 = 0 THEN 'denied' ELSE 'success' END,
                CASE WHEN i % 20 = 0 THEN 409 ELSE 202 END,
                CASE WHEN i % 20 = 0 THEN 'INVALID_STATE' END,
                format('bench-req-%s', i), '127.0.0.1',
                jsonb_build_object('after', jsonb_build_object('status', 'pending', 'n', i)),
                ''::bytea, ''::bytea
            FROM generate_series(1, {s.audit}) i""",
            (),
        ),
        ("CREATE UNIQUE INDEX ON bench_audit (id)", ()),
        (CHAIN, ()),
        ("DROP TABLE bench_audit", ()),
    ]


# prev_hash and row_hash of each staged row in id order, computed by the function the trigger
# and `virtflow audit verify` use; then one set-based insert and the chain's head.
CHAIN = f"""
DO $$
DECLARE
    r audit_log;
    prev bytea := {GENESIS};
    ids bigint[] := '{{}}';
    prevs bytea[] := '{{}}';
    hashes bytea[] := '{{}}';
BEGIN
    FOR r IN SELECT * FROM bench_audit ORDER BY id LOOP
        ids := ids || r.id;
        prevs := prevs || prev;
        prev := virtflow_audit_row_hash(prev, r);
        hashes := hashes || prev;
    END LOOP;
    UPDATE bench_audit b SET prev_hash = c.p, row_hash = c.h
    FROM unnest(ids, prevs, hashes) AS c(id, p, h) WHERE b.id = c.id;
    INSERT INTO audit_log SELECT * FROM bench_audit ORDER BY id;
    UPDATE audit_chain SET last_id = coalesce(ids[array_upper(ids, 1)], 0),
        last_hash = prev WHERE id = 1;
END;
$$;
"""


def finish() -> list[tuple[str, tuple[object, ...]]]:
    """Identity sequences past the seeded ids, and the helper table gone."""
    return [
        (
            "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM audit_log), false)",
            (),
        ),
        (
            "SELECT setval(pg_get_serial_sequence('job_event', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM job_event), false)",
            (),
        ),
        ("DROP TABLE bench_host", ()),
    ]


def seed(owner_dsn: str, s: Sizes, password_hash: str, say: Callable[[str], None]) -> None:
    """Every step in one session as the owner, timed; then VACUUM ANALYZE, as autovacuum would
    have by the time a table is this big."""
    steps = [
        ("tenants, quotas, users", tenants(s, password_hash)),
        ("hosts active", hosts()),
        ("vms and grants", vms(s)),
        ("jobs", jobs(s)),
        ("job events", events(s)),
        ("audit rows (hash-chained)", audit(s)),
        ("sequences", finish()),
    ]
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for label, statements in steps:
            t0 = time.perf_counter()
            with conn.transaction():
                for sql, params in statements:
                    conn.execute(sql, params or None)
            say(f"seed: {label} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        say(f"seed: VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")
