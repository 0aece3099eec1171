"""`virtflow vm ...`: a tenant's VMs through the API, optionally waiting for their jobs."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from api.cli_user import exits, progress, refs
from api.cli_user import output as out
from api.cli_user import ssh as guest_ssh
from api.cli_user.session import Session, config_dir, current
from api.client.api.vm import (
    vm_create,
    vm_delete,
    vm_get,
    vm_list,
    vm_reboot,
    vm_resize,
    vm_ssh_route,
    vm_start,
    vm_stop,
)
from api.client.api.vm_action import vm_action_list
from api.client.models import (
    VM,
    ActionListEnvelope,
    JobStatus,
    SSHRouteEnvelope,
    VmActionListResult,
    VMCreate,
    VMEnvelope,
    VMListEnvelope,
    VmListStatus,
    VMReboot,
    VMResize,
    VMStatus,
    VMStop,
)
from api.client.types import UNSET

F = TypeVar("F", bound=Callable[..., Any])
LIST_COLUMNS = ("id", "name", "status", "vcpus", "ram_mb", "disk_gb", "baremetal", "tenant_id")
SHOW_FIELDS = (
    "id", "name", "status", "status_reason", "tenant_id", "vcpus", "ram_mb", "disk_gb",
    "baremetal", "host_state", "anti_affinity_group", "image_id", "ssh_authorized_keys",
    "user_data_present", "mac", "addresses", "domain_name", "domain_uuid", "job_id",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip
PAGE = 200  # the API's largest page
ACTION_COLUMNS = ("requested_at", "action", "result", "by", "job_id", "message")


def wait_option(fn: F) -> F:
    option = click.option(
        "--wait", is_flag=True, help="Wait for the VM's job to end; exit 1 unless it succeeded."
    )
    return option(fn)


def key_option(fn: F) -> F:
    option = click.option(
        "--idempotency-key",
        metavar="KEY",
        help="Sent as Idempotency-Key (default: a new UUID per command): the same request with "
        "the same key within 24 h is done once, and answered as the first time.",
    )
    return option(fn)


def new_key(given: str | None) -> str:
    """The command's Idempotency-Key: the given one, else one of its own, kept for its retries."""
    return given or str(uuid.uuid4())


@click.group()
def vm() -> None:
    """Your VMs (through the API, as the logged-in user)."""


@vm.command("create")
@click.option("--tenant", required=True, help="The tenant's id or name.")
@click.option("--name", required=True, help="A slug, unique among the tenant's live VMs.")
@click.option("--vcpus", required=True, type=int)
@click.option("--ram-mb", required=True, type=int, help="MiB.")
@click.option("--disk-gb", required=True, type=int, help="GiB.")
@click.option("--anti-affinity-group", help="No two live VMs of the group share a host.")
@click.option("--image", "image_id", help="The id of the image the disk is made from.")
@click.option(
    "--ssh-key",
    "ssh_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A public key file (e.g. ~/.ssh/id_ed25519.pub) for the image's user; repeatable.",
)
@click.option(
    "--user-data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A cloud-config file for cloud-init; write-only (never shown again).",
)
@wait_option
@key_option
@out.output_option
def create(
    *,
    tenant: str,
    name: str,
    vcpus: int,
    ram_mb: int,
    disk_gb: int,
    anti_affinity_group: str | None,
    image_id: str | None,
    ssh_keys: tuple[Path, ...],
    user_data: Path | None,
    wait: bool,
    idempotency_key: str | None,
    output: str,
) -> None:
    """Create a VM; with --wait, until it runs."""
    session = current()
    body = VMCreate(
        tenant_id=refs.tenant_id(session, tenant),
        name=name,
        vcpus=vcpus,
        ram_mb=ram_mb,
        disk_gb=disk_gb,
        anti_affinity_group=anti_affinity_group or UNSET,
        image_id=refs.parse_id(image_id, "image") if image_id else UNSET,
        ssh_authorized_keys=[_public_key(path) for path in ssh_keys] or UNSET,
        user_data=user_data.read_text(encoding="utf-8") if user_data else UNSET,
    )
    answer = session.call(
        VMEnvelope, vm_create.sync_detailed, body=body, idempotency_key=new_key(idempotency_key)
    ).data
    settle(session, answer, wait, output, VMStatus.RUNNING)


def _public_key(path: Path) -> str:
    """The one key of a public key file (the API checks it)."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    if len(keys) != 1:
        raise exits.Failure(exits.USAGE, f"{path} holds {len(keys)} keys; give one per --ssh-key")
    return keys[0]


@vm.command("list")
@click.option("--tenant", help="The tenant's id or name.")
@click.option("--status", type=click.Choice([s.value for s in VmListStatus]))
@click.option("--name", help="Only VMs with this name.")
@out.output_option
def list_vms(tenant: str | None, status: str | None, name: str | None, output: str) -> None:
    """The VMs you can see, every page."""
    session = current()
    filters: dict[str, Any] = {
        "tenant_id": refs.tenant_id(session, tenant) if tenant else UNSET,
        "status": VmListStatus(status) if status else UNSET,
        "name": name or UNSET,
    }
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = session.call(
            VMListEnvelope, vm_list.sync_detailed, page=page, per_page=PAGE, **filters
        )
        rows += [item.to_dict() for item in answer.data]
        if page >= answer.meta.pagination.pages:
            break
        page += 1
    out.show(rows, output, lambda data: out.table(LIST_COLUMNS, _cells(data)))


@vm.command("show")
@click.argument("vm_id")
@out.output_option
def show(vm_id: str, output: str) -> None:
    """One VM."""
    target = refs.parse_id(vm_id, "VM")
    found = current().call(VMEnvelope, vm_get.sync_detailed, target).data
    show_vm(found, output)


@vm.command("actions")
@click.argument("vm_id")
@click.option("--action", "action_name", help="Only this action, e.g. vm.stop or ops.run.")
@click.option("--result", type=click.Choice([r.value for r in VmActionListResult]))
@out.output_option
def actions(vm_id: str, action_name: str | None, result: str | None, output: str) -> None:
    """A VM's history, newest first: its jobs, hand runs and out-of-band changes."""
    target = refs.parse_id(vm_id, "VM")
    session = current()
    filters: dict[str, Any] = {
        "action": action_name or UNSET,
        "result": VmActionListResult(result) if result else UNSET,
    }
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = session.call(
            ActionListEnvelope,
            vm_action_list.sync_detailed,
            target,
            page=page,
            per_page=PAGE,
            **filters,
        )
        rows += [item.to_dict() for item in answer.data]
        if page >= answer.meta.pagination.pages:
            break
        page += 1
    out.show(rows, output, lambda data: out.table(ACTION_COLUMNS, _action_cells(data)))


def _action_cells(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[_by(row) if c == "by" else row.get(c) for c in ACTION_COLUMNS] for row in rows]


def _by(row: dict[str, Any]) -> str:
    """The user who asked, else the source: reconciler, ops:<OS user>."""
    actor = row.get("actor")
    return str(actor["username"]) if actor else str(row["source"])


@vm.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("vm_id")
@click.option(
    "--identity",
    "-i",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key for the guest (default: ssh's own keys and agent).",
)
@click.option(
    "--jump-identity",
    envvar="VIRTFLOW_SSH_JUMP_IDENTITY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key for the VM's baremetal host, when the route jumps through it "
    "(default: ssh's own keys and agent; env VIRTFLOW_SSH_JUMP_IDENTITY).",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh(
    vm_id: str, identity: Path | None, jump_identity: Path | None, command: tuple[str, ...]
) -> None:
    """SSH to the VM as its image's user, through its host; after `--`, a command to run.

    Exits with ssh's own exit code (255: ssh could not connect)."""
    target = refs.parse_id(vm_id, "VM")
    found = current().call(SSHRouteEnvelope, vm_ssh_route.sync_detailed, target).data
    if found.host is None or found.port is None:
        raise exits.Failure(
            exits.CONFLICT, f"VM {target} has no address yet; try again once it has booted"
        )
    jump = None
    if found.jump is not None:
        hop = found.jump.additional_properties  # {host, port, user}, as Ansible reaches the host
        user = hop.get("user")
        jump = guest_ssh.Jump(str(hop["host"]), int(hop["port"]), str(user) if user else None)
    route = guest_ssh.Route(found.user, found.host, found.port, found.host_key_alias, jump)
    folder = config_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    argv = guest_ssh.argv(
        route,
        config_dir=folder,
        identity=identity,
        jump_identity=jump_identity,
        command=command,
    )
    raise SystemExit(subprocess.call(argv))


def timeout_option(fn: F) -> F:
    option = click.option(
        "--timeout",
        type=click.IntRange(0, 3600),
        default=60,
        show_default=True,
        help="Seconds the clean (ACPI) shutdown may take before the VM is powered off.",
    )
    return option(fn)


@vm.command("stop")
@click.argument("vm_id")
@click.option("--force", is_flag=True, help="Power off at once instead of a clean shutdown.")
@timeout_option
@wait_option
@key_option
@out.output_option
def stop(
    vm_id: str, *, force: bool, timeout: int, wait: bool, idempotency_key: str | None, output: str
) -> None:
    """Stop a running VM; with --wait, until it is stopped."""
    target = refs.parse_id(vm_id, "VM")
    session = current()
    body = VMStop(force=force, timeout=timeout)
    key = new_key(idempotency_key)
    answer = session.call(VMEnvelope, vm_stop.sync_detailed, target, body=body, idempotency_key=key)
    settle(session, answer.data, wait, output, VMStatus.STOPPED)


@vm.command("reboot")
@click.argument("vm_id")
@click.option("--hard", is_flag=True, help="Power off at once instead of a clean shutdown.")
@timeout_option
@wait_option
@key_option
@out.output_option
def reboot(
    vm_id: str, *, hard: bool, timeout: int, wait: bool, idempotency_key: str | None, output: str
) -> None:
    """Reboot a running VM (shut off, then started again); with --wait, until it runs."""
    target = refs.parse_id(vm_id, "VM")
    session = current()
    body = VMReboot(hard=hard, timeout=timeout)
    key = new_key(idempotency_key)
    answer = session.call(
        VMEnvelope, vm_reboot.sync_detailed, target, body=body, idempotency_key=key
    )
    settle(session, answer.data, wait, output, VMStatus.RUNNING)


@vm.command("resize")
@click.argument("vm_id")
@click.option("--vcpus", type=int, help="Up or down.")
@click.option("--ram-mb", type=int, help="MiB, up or down.")
@click.option("--disk-gb", type=int, help="GiB, grown only.")
@wait_option
@key_option
@out.output_option
def resize(
    vm_id: str,
    *,
    vcpus: int | None,
    ram_mb: int | None,
    disk_gb: int | None,
    wait: bool,
    idempotency_key: str | None,
    output: str,
) -> None:
    """Resize a stopped VM (sizes left out stay); with --wait, until it is stopped again."""
    if vcpus is None and ram_mb is None and disk_gb is None:
        raise click.UsageError("give at least one of --vcpus, --ram-mb, --disk-gb")
    target = refs.parse_id(vm_id, "VM")
    session = current()
    body = VMResize(
        vcpus=UNSET if vcpus is None else vcpus,
        ram_mb=UNSET if ram_mb is None else ram_mb,
        disk_gb=UNSET if disk_gb is None else disk_gb,
    )
    key = new_key(idempotency_key)
    answer = session.call(
        VMEnvelope, vm_resize.sync_detailed, target, body=body, idempotency_key=key
    )
    settle(session, answer.data, wait, output, VMStatus.STOPPED)


@vm.command("start")
@click.argument("vm_id")
@wait_option
@key_option
@out.output_option
def start(vm_id: str, wait: bool, idempotency_key: str | None, output: str) -> None:
    """Start a stopped VM; with --wait, until it runs."""
    target = refs.parse_id(vm_id, "VM")
    session = current()
    key = new_key(idempotency_key)
    answer = session.call(VMEnvelope, vm_start.sync_detailed, target, idempotency_key=key)
    settle(session, answer.data, wait, output, VMStatus.RUNNING)


@vm.command("delete")
@click.argument("vm_id")
@wait_option
@key_option
@out.output_option
def delete(vm_id: str, wait: bool, idempotency_key: str | None, output: str) -> None:
    """Delete a VM, its domain and its disk; with --wait, until it is deleted."""
    target = refs.parse_id(vm_id, "VM")
    session = current()
    key = new_key(idempotency_key)
    answer = session.call(VMEnvelope, vm_delete.sync_detailed, target, idempotency_key=key)
    settle(session, answer.data, wait, output, VMStatus.DELETED)


def settle(session: Session, answer: VM, wait: bool, output: str, want: VMStatus) -> None:
    """Show the VM as answered, or, with wait, as its job left it; exit 1 if that failed."""
    if not wait or answer.job_id is None or answer.status == want:  # e.g. deleted at once
        show_vm(answer, output)
        return
    job = progress.wait_job(session, answer.job_id)
    final = _reread(session, answer.id, job.status, want)
    show_vm(final or answer, output)
    status = final.status if final else want  # unseen after a successful delete: deleted
    if job.status != JobStatus.SUCCESSFUL or status != want:
        reason = f" ({final.status_reason})" if final and final.status_reason else ""
        raise exits.Failure(
            exits.FAILED,
            f"job {job.id} ({job.kind}) ended {job.status}: {job.explanation or 'no explanation'};"
            f" VM {answer.id} is {status}{reason}",
        )


def _reread(session: Session, vm_id: uuid.UUID, job_status: str, want: VMStatus) -> VM | None:
    """The VM after its job; None when a successful delete took it out of the caller's view
    (VM grants go with the VM: a user who saw it only through them sees it no more)."""
    try:
        return session.call(VMEnvelope, vm_get.sync_detailed, vm_id).data
    except exits.Failure as exc:
        gone = want == VMStatus.DELETED and job_status == JobStatus.SUCCESSFUL
        if gone and exc.exit_code == exits.NOT_FOUND:
            return None
        raise


def show_vm(found: VM, output: str) -> None:
    out.show(found.to_dict(), output, lambda data: out.fields(data, SHOW_FIELDS))


def _cells(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[row.get(column) for column in LIST_COLUMNS] for row in rows]
