"""The `virtflow` command: serve, worker, run, db, init, audit, admin, user, inventory, docs."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api import cli_user
from api.settings import REPO_ROOT, Settings

DOCS_DIR = REPO_ROOT / "docs" / "api"
OPENAPI_PATH = DOCS_DIR / "openapi.json"
ERRORS_PATH = DOCS_DIR / "errors.md"


def _settings() -> Settings:
    return Settings.from_env()


def _write_private(path: Path, content: str) -> None:
    """Write a secret file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content + "\n")


@click.group()
def main() -> None:
    """VirtFlow: multi-tenant VMs on baremetal KVM hosts, driven by Ansible."""


@main.command()
def init() -> None:
    """Create the local JWT secret under the state dir unless one is configured."""
    settings = _settings()
    path = settings.state_dir / "jwt_secret"
    if settings.jwt_secret or path.exists():
        click.echo("jwt secret: already configured")
        return
    _write_private(path, secrets.token_urlsafe(48))
    click.echo(f"jwt secret: written to {path} (0600)")


@main.group()
def db() -> None:
    """Database schema commands."""


def _alembic(*args: str) -> None:
    from alembic.config import CommandLine  # noqa: PLC0415 - only the db commands need alembic

    old = Path.cwd()
    os.chdir(REPO_ROOT)  # pyproject.toml holds the alembic configuration
    try:
        CommandLine(prog="alembic").main(list(args))
    finally:
        os.chdir(old)


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate as the owner, then grant the application's role exactly what it uses."""
    from api.db_roles import RoleError, upgrade  # noqa: PLC0415 - only this command needs it

    settings = _settings()
    try:
        created = upgrade(settings.migrate_database_url, settings.database_url)
    except RoleError as exc:
        raise click.ClickException(str(exc)) from exc
    name = make_url(settings.database_url).username
    click.echo(f"application role {name}: {'created' if created else 'exists'}, privileges granted")


@db.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    _alembic("check")


@db.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--url",
    help="Database URL to dump (default: VIRTFLOW_MIGRATE_DATABASE_URL, the owner's: the "
    "application's role may not read every table).",
)
def db_backup(output: Path, url: str | None) -> None:
    """pg_dump the database (custom format) to OUTPUT, with OUTPUT.manifest.json beside it."""
    from api import backup  # noqa: PLC0415 - only these commands need it

    taken = backup.dump(url or _settings().migrate_database_url, output)
    rows = sum(table["rows"] for table in taken.values())
    click.echo(f"backup: {output} ({len(taken)} tables, {rows} rows)")


@db.command("restore-drill")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--admin-url",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="A role that may create and drop databases on the server to restore into.",
)
def db_restore_drill(dump: Path, admin_url: str) -> None:
    """Restore DUMP into a scratch database, compare it with its manifest, drop the database."""
    from api import backup  # noqa: PLC0415 - only these commands need it

    try:
        restored = backup.drill(dump, admin_url)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for table, facts in sorted(restored.items()):
        click.echo(f"{table}: {facts['rows']} rows, digest {facts['digest']}")
    click.echo(f"restore drill: {dump} restored and identical to its manifest")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit log's hash chain; exit 1 naming the first changed, removed or moved row."""
    from api.db import session_factory  # noqa: PLC0415
    from api.services.audit_chain import verify  # noqa: PLC0415

    settings = _settings()
    try:
        with session_factory(settings.database_url, settings.db_timeouts)() as session:
            verdict = verify(session)
    except SQLAlchemyError:
        click.echo("audit log: could not read the audit log; is the database reachable?", err=True)
        sys.exit(2)
    if not verdict.ok:
        raise click.ClickException(
            f"audit log: row {verdict.bad_id} breaks the chain: {verdict.reason}."
        )
    click.echo(f"audit log: {verdict.rows} rows, chain intact up to row {verdict.last_id}")


def _utc_time(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.datetime:
    """An ISO 8601 date or time; UTC unless it says otherwise."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@audit.command("export")
@click.option(
    "--before",
    required=True,
    callback=_utc_time,
    help="Export the rows written before this date or time (ISO 8601; UTC unless given).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (JSON lines; gzip when it ends in .gz); must not exist.",
)
@click.option(
    "--after-id",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Start after this row: the last_id of the previous archive.",
)
def audit_export(before: dt.datetime, out: Path, after_id: int) -> None:
    """Write audit rows to an archive that verifies offline; nothing is deleted."""
    from api.db import session_factory  # noqa: PLC0415
    from api.services import audit_archive  # noqa: PLC0415

    if out.exists():
        raise click.ClickException(f"audit export: {out} exists; name a new file.")
    settings = _settings()
    try:
        with session_factory(settings.database_url, settings.db_timeouts)() as session:
            part = audit_archive.span(session, before, after_id)
            if part.count:
                lines = audit_archive.lines(session, part, dt.datetime.now(dt.UTC))
                audit_archive.write(out, lines)
    except SQLAlchemyError:
        click.echo(
            "audit export: could not read the audit log; is the database reachable?", err=True
        )
        sys.exit(2)
    except audit_archive.ChainBroken as exc:
        raise click.ClickException(
            f"audit export: {exc}; nothing written (see `virtflow audit verify`)."
        ) from exc
    if not part.count:
        click.echo(f"audit export: no rows after row {after_id} before {before.isoformat()}")
        return
    click.echo(
        f"audit export: {part.count} rows, {part.first_id} to {part.last_id}, written to {out}; "
        f"last row_hash {(part.last_row_hash or b'').hex()}"
    )


@audit.command("verify-export")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def audit_verify_export(archive: Path) -> None:
    """Check an archive of `audit export` offline; exit 1 naming its first bad line."""
    from api.services import audit_archive  # noqa: PLC0415

    try:
        verdict = audit_archive.verify_file(archive)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"audit archive: {archive} cannot be read ({exc}).") from exc
    if not verdict.ok:
        raise click.ClickException(f"audit archive: line {verdict.bad_line}: {verdict.reason}.")
    header = verdict.header
    click.echo(
        f"audit archive: {verdict.rows} rows, chain intact from row {header['first_id']} to row "
        f"{header['last_id']}; first prev_hash {header['first_prev_hash']}, "
        f"last row_hash {header['last_row_hash']}"
    )


@main.group()
def admin() -> None:
    """Platform admin account."""


@admin.command("ensure")
def admin_ensure() -> None:
    """Create the initial admin; a generated password is printed once and kept 0600."""
    from api.db import session_factory  # noqa: PLC0415
    from api.services.users import ensure_admin  # noqa: PLC0415

    settings = _settings()
    password = settings.admin_password
    generated = not password
    if generated:
        password = secrets.token_urlsafe(18)
    with session_factory(settings.database_url)() as session:
        user, created = ensure_admin(session, settings.admin_username, password)
        session.commit()
    if not created:
        click.echo(f"admin {user.username!r}: exists")
        return
    if generated:
        path = settings.state_dir / "admin_password"
        _write_private(path, password)
        click.echo(f"admin {user.username!r} created; password: {password} (also in {path})")
    else:
        click.echo(f"admin {user.username!r} created with VIRTFLOW_ADMIN_PASSWORD")


@main.group()
def user() -> None:
    """User accounts (the API cannot make platform admins; this can)."""


@user.command("create")
@click.argument("username")
@click.option("--admin", "is_admin", is_flag=True, help="Give the platform role `admin`.")
@click.password_option(
    envvar="VIRTFLOW_NEW_USER_PASSWORD",
    help="Read from VIRTFLOW_NEW_USER_PASSWORD, else prompted for (twice, hidden).",
)
def user_create(username: str, is_admin: bool, password: str) -> None:
    """Create an account; the password follows the API's rules (12 to 1024 characters)."""
    from api.db import session_factory  # noqa: PLC0415
    from api.errors import VirtFlowError  # noqa: PLC0415
    from api.services.users import register_user  # noqa: PLC0415

    with session_factory(_settings().database_url)() as session:
        try:
            account = register_user(session, username, password, is_admin=is_admin)
        except VirtFlowError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail_message}") from exc
        session.commit()
    role = "platform admin" if is_admin else "user"
    click.echo(f"{role} {account.username!r} created: {account.id}")


@main.group()
def inventory() -> None:
    """Ansible inventory commands."""


@inventory.command("sync")
def inventory_sync() -> None:
    """Mirror the baremetal group of the inventory into the database."""
    from api.db import session_factory  # noqa: PLC0415
    from api.services import inventory as inv  # noqa: PLC0415

    settings = _settings()
    fingerprint = inv.digest(settings.inventory_path)
    entries = inv.baremetal_hosts(inv.read_inventory(settings.inventory_path))
    with session_factory(settings.database_url)() as session:
        hosts = inv.sync(session, entries, settings.capacity_policy)
        inv.record_synced(session, settings.inventory_path, fingerprint)
        session.commit()
    for host in hosts:
        state = "in inventory" if host.in_inventory else "REMOVED from inventory"
        click.echo(
            f"{host.name}: {host.capacity_vcpus} vCPU, {host.capacity_ram_mb} MiB, "
            f"{host.capacity_disk_gb} GiB, {host.libvirt_uri} ({state})"
        )


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(bind: str, workers: int) -> None:
    """Serve the API with gunicorn."""
    settings = _settings()
    settings.check_serving()
    argv = [sys.executable, *_gunicorn_args(bind, workers, settings.log_format)]
    # exec keeps this pid: the metrics directory is named by gunicorn's master.
    os.execve(sys.executable, argv, _serving_env(settings, os.getpid()))


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # api.web.metrics reads it


def _serving_env(settings: Settings, owner: int) -> dict[str, str]:
    """gunicorn's environment: with metrics on, a fresh directory where its workers write their
    metric files (prometheus_client's multiprocess mode), for a scrape to add them up."""
    env = dict(os.environ)
    if settings.metrics_token:
        env[MULTIPROC_ENV] = str(fresh_metrics_dir(settings.metrics_root, owner))
    return env


def fresh_metrics_dir(root: Path, owner: int) -> Path:
    """An empty <root>/<owner pid>; directories left by servers that are gone are removed, and
    so is a leftover of this pid (a container's pid 1 is the same at every start)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in root.iterdir():
        if old.name.isdigit() and (int(old.name) == owner or not _alive(int(old.name))):
            shutil.rmtree(old, ignore_errors=True)
    path = root / str(owner)
    path.mkdir(mode=0o700)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


# What gunicorn refuses itself, before the app sees the request (so outside the envelope, with
# its own HTML body): a request line over 4094 bytes (414), more than 50 header fields or one
# over 8190 bytes (431), a malformed request line or header (400). The longest request line
# the API needs (every audit filter set) is under 1 KB; a bearer token under 1 KB.
GUNICORN_LIMITS = (
    "--limit-request-line",
    "4094",
    "--limit-request-fields",
    "50",
    "--limit-request-field_size",
    "8190",
)


def _gunicorn_args(bind: str, workers: int, log_format: str = "text") -> list[str]:
    json_logs = ["--logger-class", "api.logs.GunicornJsonLogger"] if log_format == "json" else []
    return [
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--no-control-socket",  # several gunicorns on one host must not share one socket
        *GUNICORN_LIMITS,
        *json_logs,
        "api.wsgi:app",
    ]


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker(burst: bool) -> None:
    """Run one RQ worker on the VirtFlow queue, with the periodic sweep of lost jobs."""
    # By module name: the API package never imports jobs (the worker process is jobs').
    os.execv(sys.executable, [sys.executable, "-m", "jobs.worker", *(["--burst"] if burst else [])])


@main.group()
def jobs() -> None:
    """Job maintenance."""


@jobs.command("sweep")
def jobs_sweep() -> None:
    """Sweep now: expired leases end `error`, lost queued jobs are queued again, orphans die."""
    os.execv(sys.executable, [sys.executable, "-m", "jobs.worker", "--sweep-once"])


@main.group()
def host() -> None:
    """Baremetal host lifecycle."""


@host.command("prepare")
@click.argument("name")
def host_prepare(name: str) -> None:
    """Run host_prepare.yml on one inventory host as a recorded job, here and now (no worker)."""
    os.execv(sys.executable, [sys.executable, "-m", "jobs.hosts", "prepare", name])


@main.group()
def image() -> None:
    """The image catalog, and the images VirtFlow builds itself."""


@image.command("build-default")
@click.option("--force", is_flag=True, help="Build even if this recipe's image is cached.")
def image_build_default(force: bool) -> None:
    """Print the path of the cached default image, building it first if missing."""
    from api.images import default_image  # noqa: PLC0415 - only this command needs it

    cache = _settings().image_cache
    log = lambda line: click.echo(line, err=True)  # noqa: E731 - progress on stderr, path on stdout
    try:
        built = default_image.ensure(cache, force=force, log=log)
    except default_image.ImageBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(built.path))


@image.command("ensure-default")
def image_ensure_default() -> None:
    """Register the default image, public, unless it is registered: built first if not cached.

    Its name carries the recipe's hash (debian-12-<8 hex>), so a new recipe registers a new
    image beside the old one, which an admin deletes when no VM uses it."""
    from sqlalchemy import select  # noqa: PLC0415

    from api.db import session_factory  # noqa: PLC0415
    from api.errors import VirtFlowError  # noqa: PLC0415
    from api.images import default_image  # noqa: PLC0415
    from api.models import Image, ImageStatus  # noqa: PLC0415
    from api.services import images  # noqa: PLC0415

    settings = _settings()
    log = lambda line: click.echo(line, err=True)  # noqa: E731 - progress on stderr
    try:
        built = default_image.ensure(settings.image_cache, log=log)
    except default_image.ImageBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = built.manifest
    name = f"{manifest['name']}-{manifest['hash'][:8]}"
    with session_factory(settings.database_url, settings.db_timeouts)() as session:
        live = session.scalar(
            select(Image).where(Image.name == name, Image.status != ImageStatus.DELETED)
        )
        if live is not None:
            click.echo(f"default image {name!r} is registered: {live.id} ({live.status})")
            return
        spec = images.ImageSpec(name, manifest["format"], manifest["default_user"], None)
        try:
            done = images.import_file(
                session, built.path, spec, settings.images_dir, settings.image_max_bytes
            )
        except VirtFlowError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail_message}") from exc
        session.commit()
        click.echo(f"default image {name!r} registered, public: {done.id}")


@image.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="A slug, unique among images (a-z, 0-9, '-').")
@click.option("--format", "disk_format", type=click.Choice(["qcow2", "raw"]), default="qcow2")
@click.option("--default-user", default="virtflow", show_default=True, help="Its cloud login.")
@click.option("--public", is_flag=True, help="Every user sees it (the default).")
@click.option("--tenant", "tenant", help="Private to this tenant (its name or id).")
def image_import(
    *, path: Path, name: str, disk_format: str, default_user: str, public: bool, tenant: str | None
) -> None:
    """Add a file of this machine to the image catalog, checked like an upload (qemu-img)."""
    from api.db import session_factory  # noqa: PLC0415
    from api.errors import VirtFlowError  # noqa: PLC0415
    from api.services import images  # noqa: PLC0415

    if public and tenant:
        raise click.UsageError("--public and --tenant exclude each other")
    settings = _settings()
    with session_factory(settings.database_url)() as session:
        try:
            tenant_id = images.tenant_id_of(session, tenant) if tenant else None
            spec = images.ImageSpec(name, disk_format, default_user, tenant_id)
            done = images.import_file(
                session, path, spec, settings.images_dir, settings.image_max_bytes
            )
        except VirtFlowError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail_message}") from exc
        session.commit()
        click.echo(
            f"image {done.name!r} active: {done.id} ({done.disk_format}, {done.visibility}, "
            f"virtual size {done.virtual_size} bytes, sha256 {done.sha256})"
        )


MAX_AUTO_WORKERS = 8


def worker_count(settings: Settings) -> int:
    """VIRTFLOW_WORKERS, or when 0 one per baremetal host of the inventory plus one for the
    single-VM actions while every host runs a batch (at most MAX_AUTO_WORKERS)."""
    if settings.workers:
        return settings.workers
    from api.services import inventory  # noqa: PLC0415

    try:
        hosts = len(inventory.baremetal_hosts(inventory.read_inventory(settings.inventory_path)))
    except (inventory.InventoryError, OSError, subprocess.TimeoutExpired):
        hosts = 1  # an unreadable inventory: the workers' own sync reports it
    return min(max(hosts, 1) + 1, MAX_AUTO_WORKERS)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
def run(bind: str) -> None:
    """Serve the API and run the workers (VIRTFLOW_WORKERS) in the foreground; Ctrl-C stops
    them all."""
    settings = _settings()
    settings.check_serving()
    env = _serving_env(settings, os.getpid())
    count = worker_count(settings)
    click.echo(f"starting the API on {bind} and {count} worker(s)")
    children = [
        subprocess.Popen([sys.executable, *_gunicorn_args(bind, 2, settings.log_format)], env=env),
        *(subprocess.Popen([sys.executable, "-m", "api.cli", "worker"]) for _ in range(count)),
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    codes = [child.wait(timeout=60) for child in children]
    sys.exit(0 if stopping else max(abs(c) for c in codes) or 1)


@main.group()
def docs() -> None:
    """Generated from the code: the OpenAPI spec, the error-code table, the API client."""


def openapi_text() -> str:
    """The OpenAPI document of the app, as committed in docs/api/openapi.json."""
    from api.web.app import create_app  # noqa: PLC0415

    settings = Settings(jwt_secret=secrets.token_urlsafe(48))
    app = create_app(settings)
    with app.app_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def errors_text() -> str:
    from api.errors import markdown_table  # noqa: PLC0415

    return markdown_table()


def _generate(path: Path, text: str, check: bool) -> None:
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            raise click.ClickException(f"{path} is stale: run `virtflow docs {path.stem}`")
        click.echo(f"{path}: up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


@docs.command("openapi")
@click.option("--check", is_flag=True, help="Fail if the committed file differs.")
def docs_openapi(check: bool) -> None:
    """Write docs/api/openapi.json."""
    _generate(OPENAPI_PATH, openapi_text(), check)


@docs.command("errors")
@click.option("--check", is_flag=True, help="Fail if the committed file differs.")
def docs_errors(check: bool) -> None:
    """Write docs/api/errors.md."""
    _generate(ERRORS_PATH, errors_text(), check)


@docs.command("client")
@click.option("--check", is_flag=True, help="Fail if the committed package differs.")
def docs_client(check: bool) -> None:
    """Regenerate api/client from the OpenAPI document (openapi-python-client)."""
    from api import clientgen  # noqa: PLC0415 - only this command needs the generator

    changed = clientgen.regenerate(openapi_text(), check)
    if check and changed:
        raise click.ClickException(
            f"api/client is stale ({', '.join(changed[:5])}): run `virtflow docs client`"
        )
    click.echo(f"{clientgen.CLIENT_DIR}: {'rewritten' if changed else 'up to date'}")


# The tenant's commands: HTTP to a server, through the generated client (api/client).
cli_user.register(main)

if __name__ == "__main__":
    main()
