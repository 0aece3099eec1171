"""Watching a job on a real stack (gunicorn, RQ worker, ansible-runner, KVM): the event stream
over HTTP shows a long task while it runs, resumes with Last-Event-ID and ends with the job's
status; progress counts against the previous run's total; the output so far is text."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.settings import REPO_ROOT
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_vm
from tests.helpers.sse import Message, messages
from tests.helpers.stack import Stack, running_stack, virsh

pytestmark = pytest.mark.e2e

HOLD_SECONDS = 8
HOLD_TASK = "Hold the create of a held VM"
# Test-only: a create of a VM named *held* first waits HOLD_SECONDS in one quiet task (no event
# until it ends), then runs the real playbook; other creates wait 0 s.
HELD_CREATE = """---
- name: Hold held test creates
  hosts: baremetal
  gather_facts: false
  tasks:
    - name: {task}
      ansible.builtin.pause:
        seconds: "{{{{ {seconds} if __held else 0 }}}}"
      vars:
        __held: "{{{{ virtflow_guests | map(attribute='name') | select('search', 'held') }}}}"

- name: The real create
  ansible.builtin.import_playbook: {repo}/playbooks/vm_create.yml
"""


def held_ansible_dir(workdir: Path) -> Path:
    """The repo's ansible.cfg, roles and playbooks, with vm_create.yml holding held VMs."""
    root = workdir / "ansible"
    (root / "playbooks").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "ansible.cfg", root / "ansible.cfg")
    (root / "roles").symlink_to(REPO_ROOT / "roles")
    for playbook in (REPO_ROOT / "playbooks").glob("*.yml"):
        if playbook.name != "vm_create.yml":
            (root / "playbooks" / playbook.name).symlink_to(playbook)
    text = HELD_CREATE.format(task=HOLD_TASK, seconds=HOLD_SECONDS, repo=REPO_ROOT)
    (root / "playbooks" / "vm_create.yml").write_text(text)
    return root


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("virsh") is None or virsh("version").returncode != 0:
        pytest.fail("libvirt is not usable: run `make test`, which prepares the local host")
    workdir = tmp_path_factory.mktemp("watch")
    env = {"VIRTFLOW_ANSIBLE_DIR": str(held_ansible_dir(workdir))}
    with running_stack(workdir, env=env) as stack:
        stack.login()
        yield stack


def follow(stack: Stack, job_id: str, last_event_id: int | None = None) -> Iterator[Message]:
    """One connection to the job's event stream over HTTP, read message by message."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    resp = stack.call(
        "GET", f"/api/v1/job/{job_id}/events/stream/", headers=headers, stream=True, timeout=60
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    try:
        yield from messages(resp.iter_lines(decode_unicode=True))
    finally:
        resp.close()


def until_end(stack: Stack, job_id: str, seen: list[Message], deadline: float) -> Message:
    """Follow the stream, reconnecting after each bounded connection, until `end`."""
    while time.monotonic() < deadline:
        last = max((m.id for m in seen if m.id is not None), default=None)
        for message in follow(stack, job_id, last):
            if message.event == "end":
                return message
            if message.id is not None:
                seen.append(message)
    raise AssertionError(f"no end of job {job_id}\n{stack.logs()}")


def stored_events(stack: Stack, job_id: str) -> list[dict[str, Any]]:
    r = stack.call("GET", f"/api/v1/job/{job_id}/events/?per_page=200")
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["data"]
    return events


def test_watching_a_create_that_holds_a_long_task(stack: Stack) -> None:
    tenant_id = create_tenant(stack)
    name = f"wj-{uuid.uuid4().hex[:6]}"
    first = create_vm(stack, tenant_id, name)
    wait_vm(stack, first["id"], {"running"})
    done = get(stack, f"/api/v1/job/{first['job_id']}/")["progress"]
    assert done["host_tasks_done"] > 5
    assert done["tasks_total"] == done["host_tasks_done"]  # a successful job: its own count

    held = create_vm(stack, tenant_id, f"{name}-held")
    job_id, deadline = held["job_id"], time.monotonic() + 600
    seen: list[Message] = []
    # The held task's start comes over the stream while the task still runs: stored by the
    # worker's idle flush, not when the task's result (the next event) arrives.
    while not any(m.event == "playbook_on_task_start" for m in seen):
        assert time.monotonic() < deadline, stack.logs()
        for message in follow(stack, job_id, seen[-1].id if seen else None):
            assert message.event != "end", f"the job ended first: {message.data}"
            if message.id is not None:  # not a keep-alive
                seen.append(message)
            if message.event == "playbook_on_task_start":
                break
    assert seen[-1].data["task"] == HOLD_TASK
    job = get(stack, f"/api/v1/job/{job_id}/")
    assert job["status"] == "running"
    assert job["progress"]["current_task"] == HOLD_TASK
    assert job["progress"]["tasks_total"] == done["host_tasks_done"]  # the previous run's
    hold_results = [e for e in stored_events(stack, job_id) if e["status"] is not None]
    assert hold_results == [], "the held task had not ended when its start was streamed"
    text = stack.call("GET", f"/api/v1/job/{job_id}/stdout/", headers={"Accept": "text/plain"})
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"TASK [{HOLD_TASK}]" in text.text

    end = until_end(stack, job_id, seen, deadline)
    assert end.data == {"job_id": job_id, "status": "successful"}
    assert [m.id for m in seen] == [e["counter"] for e in stored_events(stack, job_id)]
    # Reconnecting after the end: the events after Last-Event-ID, then `end` at once.
    again = list(follow(stack, job_id, seen[-3].id))
    assert [m.id for m in again] == [seen[-2].id, seen[-1].id, None]
    assert again[-1].data["status"] == "successful"

    for vm in (first, held):
        assert delete_vm(stack, vm["id"], timeout=300)["status"] == "deleted"
