"""Database roles: the owner runs the migrations; the application's role owns nothing.

`upgrade` is what `virtflow db upgrade` does: migrate as the owner, create the application's role
if the cluster has none of that name, then grant it exactly what the API, the workers and the
ops-run callback use, computed from the catalog, so tables added by later migrations are covered
the next time it runs (docs/adr/0009-application-role-and-audit-hash-chain.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from api.settings import REPO_ROOT

# Every table in schema public gets SELECT, INSERT, UPDATE, DELETE, except these.
APPEND_ONLY = frozenset({"audit_log"})  # SELECT, and INSERT of the columns the app may set
SET_BY_DATABASE = frozenset({"id", "prev_hash", "row_hash"})  # never written by the app
READ_ONLY = frozenset({"audit_chain"})  # `virtflow audit verify` reads the chain's head
NO_ACCESS = frozenset({"alembic_version"})
DML = sql.SQL("SELECT, INSERT, UPDATE, DELETE")

Conn = psycopg.Connection[Any]


class RoleError(ValueError):
    """The two database URLs do not describe an owner and a role that owns nothing."""


@dataclass(frozen=True)
class AppRole:
    name: str
    password: str | None

    @classmethod
    def from_urls(cls, app_url: str, owner_url: str) -> AppRole:
        """The application's role as VIRTFLOW_DATABASE_URL names it, checked against the owner's."""
        app, owner = make_url(app_url), make_url(owner_url)
        if not app.username:
            raise RoleError("VIRTFLOW_DATABASE_URL must name the application's database role.")
        if app.username == owner.username:
            raise RoleError(
                "VIRTFLOW_DATABASE_URL must name a role other than the owner that migrates."
            )
        if app.database != owner.database:
            raise RoleError(
                "VIRTFLOW_DATABASE_URL and VIRTFLOW_MIGRATE_DATABASE_URL must name one database."
            )
        return cls(app.username, app.password)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def migrate(owner_url: str) -> None:
    """alembic upgrade head, as the owner."""
    from alembic.command import upgrade as alembic_upgrade  # noqa: PLC0415 - heavy, rare
    from alembic.config import Config  # noqa: PLC0415

    config = Config(toml_file=str(REPO_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = owner_url
    alembic_upgrade(config, "head")


def upgrade(owner_url: str, app_url: str) -> bool:
    """Migrate, then give the application's role its privileges; True if the role was created."""
    role = AppRole.from_urls(app_url, owner_url)
    migrate(owner_url)
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        created = ensure_role(conn, role)
    with psycopg.connect(libpq_url(owner_url)) as conn:  # commits at the end of the block
        check_owns_nothing(conn, role.name)
        grant(conn, role.name)
    return created


def ensure_role(conn: Conn, role: AppRole) -> bool:
    """Create the role unless it exists; roles are cluster-wide, so several databases (and
    concurrent upgrades) share one. An existing role is left as it is, password included."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,)).fetchone():
        return False
    create = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role.name))
    if role.password:
        create += sql.SQL(" PASSWORD {}").format(sql.Literal(role.password))
    try:
        conn.execute(create)
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return False  # another upgrade created it meanwhile
    return True


# What would let the role act as the owner, or own something here.
POWERS = """
SELECT r.rolsuper OR pg_has_role(r.oid, current_user, 'MEMBER'),
       EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database()
               AND d.datdba = r.oid)
       OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid)
       OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.proowner = r.oid)
       OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid)
FROM pg_roles r WHERE r.rolname = %s
"""


def check_owns_nothing(conn: Conn, name: str) -> None:
    found = conn.execute(POWERS, (name,)).fetchone()
    if found is None:
        raise RoleError(f"The database role {name} does not exist.")
    acts_as_owner, owns = found
    if acts_as_owner:
        raise RoleError(f"The role {name} must be neither a superuser nor a member of the owner.")
    if owns:
        raise RoleError(f"The role {name} owns objects in this database; the owner must own them.")


def grant(conn: Conn, name: str) -> None:
    """Replace the role's privileges on schema public by exactly what the app uses, in the
    caller's transaction (so the app never sees a half-granted schema)."""
    who = sql.Identifier(name)
    for kind in ("TABLES", "SEQUENCES"):
        conn.execute(
            sql.SQL("REVOKE ALL ON ALL {} IN SCHEMA public FROM {}").format(sql.SQL(kind), who)
        )
    for table in _tables(conn):
        privileges = _privileges(conn, table)
        if privileges is not None:
            conn.execute(
                sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, sql.Identifier(table), who)
            )
    for sequence in _serial_sequences(conn):
        conn.execute(
            sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(sequence), who)
        )


def _privileges(conn: Conn, table: str) -> sql.Composable | None:
    if table in NO_ACCESS:
        return None
    if table in READ_ONLY:
        return sql.SQL("SELECT")
    if table in APPEND_ONLY:
        columns = [c for c in _columns(conn, table) if c not in SET_BY_DATABASE]
        return sql.SQL("SELECT, INSERT ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
    return DML


def _tables(conn: Conn) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return sorted(row[0] for row in rows)


def _columns(conn: Conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum",
        (f"public.{table}",),
    ).fetchall()
    return [row[0] for row in rows]


def _serial_sequences(conn: Conn) -> list[str]:
    """Sequences of serial-style defaults, which need USAGE for nextval(); identity columns'
    own sequences need none (INSERT on the table is enough)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname = 'public' AND NOT EXISTS ("
        "  SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
        "  AND d.objid = c.oid AND d.deptype = 'i')"
    ).fetchall()
    return sorted(row[0] for row in rows)
