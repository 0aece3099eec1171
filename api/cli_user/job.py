"""`virtflow job show|events|cancel` and `virtflow quota show`: reads, following a job live, and
canceling one."""

from __future__ import annotations

from typing import Any

import click

from api.cli_user import exits, progress, refs
from api.cli_user import output as out
from api.cli_user.session import current
from api.client.api.job import job_cancel
from api.client.api.tenant import tenant_quota_get
from api.client.models import JobEnvelope, JobEvent, JobStatus, QuotaEnvelope

JOB_FIELDS = (
    "id", "kind", "status", "explanation", "progress", "vm_id", "tenant_id", "host", "playbook",
    "rc", "request_id", "created_at", "started_at", "finished_at", "cancel_requested_at",
    "artifacts",
)  # fmt: skip
EVENT_COLUMNS = ("counter", "event", "host", "status", "changed", "task")
QUOTA_RESOURCES = ("vcpus", "ram_mb", "disk_gb", "vms", "snapshots")


@click.group()
def job() -> None:
    """The jobs that carry out VM operations (through the API)."""


@job.command("show")
@click.argument("job_id")
@out.output_option
def show(job_id: str, output: str) -> None:
    """One job, with its progress (events so far, current task)."""
    target = refs.parse_id(job_id, "job")
    found = progress.get_job(current(), target)
    out.show(found.to_dict(), output, lambda data: out.fields(data, JOB_FIELDS))


@job.command("events")
@click.argument("job_id")
@click.option("--follow", "-f", is_flag=True, help="Print events as they come until the job ends.")
@out.output_option
def events(job_id: str, follow: bool, output: str) -> None:
    """A job's Ansible events; with --follow, exit 1 unless the job succeeded.

    With --output json the events are printed as one JSON array, at the end when following.
    """
    target = refs.parse_id(job_id, "job")
    session = current()
    if not follow:
        rows = [event.to_dict() for event in progress.EventCursor(session, target).drain()]
        out.show(rows, output, lambda data: "\n".join(map(_event_line, [None, *data])))
        return
    collected: list[dict[str, Any]] = []
    emit = collected.append if output == "json" else _print_event
    if output == "table":
        click.echo(_event_line(None))
    ended = progress.follow_events(session, target, lambda event: emit(_event_dict(event)))
    if output == "json":
        click.echo(out.dumps(collected))
    if ended.status != JobStatus.SUCCESSFUL:
        explanation = ended.explanation or "no explanation"
        raise exits.Failure(exits.FAILED, f"job {ended.id} ended {ended.status}: {explanation}")


@job.command("cancel")
@click.argument("job_id")
@click.option("--wait", is_flag=True, help="Wait for the job to end; exit 1 unless canceled.")
@out.output_option
def cancel(job_id: str, wait: bool, output: str) -> None:
    """Cancel a job: a queued one at once (its VM goes back), a running one within seconds
    (its VM shows error until libvirt is read back). A delete cannot be canceled."""
    target = refs.parse_id(job_id, "job")
    session = current()
    found = session.call(JobEnvelope, job_cancel.sync_detailed, target).data
    if wait and found.status != JobStatus.CANCELED:
        found = progress.wait_job(session, target)
    out.show(found.to_dict(), output, lambda data: out.fields(data, JOB_FIELDS))
    if wait and found.status != JobStatus.CANCELED:  # it ended on its own before the cancel
        explanation = found.explanation or "no explanation"
        raise exits.Failure(exits.FAILED, f"job {found.id} ended {found.status}: {explanation}")


def _event_dict(event: JobEvent) -> dict[str, Any]:
    return event.to_dict()


def _print_event(row: dict[str, Any]) -> None:
    click.echo(_event_line(row))


def _event_line(row: dict[str, Any] | None) -> str:
    """One event in fixed columns, so that lines printed one by one line up (None: the header)."""
    cells = [out.cell(row.get(c)) for c in EVENT_COLUMNS] if row else list(EVENT_COLUMNS)
    counter, event, host, status, changed, task = cells
    return f"{counter:>7}  {event:<28}  {host:<12}  {status:<8}  {changed:<7}  {task}".rstrip()


@click.group()
def quota() -> None:
    """Tenant quotas (through the API)."""


@quota.command("show")
@click.argument("tenant")
@out.output_option
def quota_show(tenant: str, output: str) -> None:
    """A tenant's limits, usage and what is left; TENANT is its id or name."""
    session = current()
    found = session.call(
        QuotaEnvelope, tenant_quota_get.sync_detailed, refs.tenant_id(session, tenant)
    )
    out.show(found.data.to_dict(), output, _quota_table)


def _quota_table(data: dict[str, Any]) -> str:
    resources = data["resources"]
    names = [n for n in QUOTA_RESOURCES if n in resources] + sorted(
        set(resources) - set(QUOTA_RESOURCES)
    )
    rows = [
        [n, resources[n]["limit"], resources[n]["used"], resources[n]["available"]] for n in names
    ]
    return out.table(("resource", "limit", "used", "available"), rows)
