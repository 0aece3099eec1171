#!/usr/bin/python
"""Ansible module: create, define and start a batch of libvirt guests in one process."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtflow_guests
short_description: Create the disks of, define and start a batch of libvirt guests (one process)
description:
  - For every guest, in one module process and over one libvirt connection, creates its qcow2
    disk if missing (blank, or an overlay on C(backing) with C(-b)/C(-F)) and makes it 0600,
    defines its domain from C(xml) (changed only when libvirt's definition or the autostart
    flag changed), and starts it if it does not run.
  - Then polls ALL started guests together until each reports running or C(start_timeout)
    passes, and reads what each really got (UUID, vCPUs, maximum memory, the disk's virtual
    size from C(qemu-img info)), so that a create is checked, not assumed.
  - A guest that fails at any step is undone as far as THIS call made it (its domain
    destroyed and undefined if this call defined it, its disk deleted if this call created
    it, the paths of C(discard_on_failure) deleted) and reported with C(failed), one short
    sentence (C(error)) and what was removed (C(undone)); the other guests are unaffected.
    The module itself fails only when it cannot connect to libvirt at all (nothing changed).
  - Check mode predicts (a disk or domain missing, a guest not running, the autostart flag
    different) and changes nothing; a changed definition of an existing domain is not predicted.
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  guests:
    description: The guests, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Domain name (the one in C(xml)).
        type: str
        required: true
      xml:
        description: The domain XML to define.
        type: str
        required: true
      disk:
        description: The guest's disk, a qcow2 file.
        type: dict
        required: true
        suboptions:
          path: {description: Absolute path of the disk., type: str, required: true}
          size_gb: {description: Virtual size (GiB) of a disk to create., type: int, required: true}
          backing: {description: Backing file of an overlay (null for a blank disk)., type: str}
          backing_format: {description: Format of C(backing) (qcow2 or raw)., type: str}
      autostart:
        description: Start the domain when libvirtd starts.
        type: bool
        default: true
      discard_on_failure:
        description: Files the run made for this guest before this call (its NoCloud seed),
          deleted if the guest fails.
        type: list
        elements: str
        default: []
  start_timeout:
    description: Seconds, for all the guests together, until each must report running.
    type: int
    default: 60
  parallel:
    description: How many guests are started, and read back, at once (threads sharing the
      connection; libvirt serves each call in a thread of its own, so the starts overlap their
      waits for QEMU). Disks and definitions are made one by one before; 1 starts one by one.
    type: int
    default: 8
requirements: [libvirt-python, qemu-img]
"""

EXAMPLES = r"""
- name: Create, define and start the guests in one call
  virtflow_guests:
    uri: qemu:///system
    start_timeout: 60
    guests:
      - name: vf-web-1a2b3c4d
        xml: "{{ lookup('ansible.builtin.template', 'domain.xml.j2') }}"
        disk: {path: /var/lib/virtflow/images/vf-web-1a2b3c4d.qcow2, size_gb: 10, backing: null}
        autostart: true
  register: made
"""

RETURN = r"""
guests:
  description: One entry per guest, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - name: vf-web-1a2b3c4d
      failed: false
      changed: true
      state: running
      uuid: 1a2b3c4d-...
      vcpus: 1
      ram_mb: 256
      disk_bytes: 10737418240
    - name: vf-db-5e6f7a8b
      failed: true
      changed: false
      error: "start failed: Could not set up host forwarding rule ..."
      undone: {domain: true, disk: true, files: [/var/lib/virtflow/images/vf-db-5e6f7a8b-seed.iso]}
"""

import json  # noqa: E402
import os  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from xml.etree import ElementTree  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

try:
    import libvirt
except ImportError:  # reported by main()
    libvirt = None

# virDomainState, named as virsh names them.
STATES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}
# Kept as the template writes it when the XML is rewritten (with_uuid).
ElementTree.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0")
DISK_MODE = 0o600
POLL_SECONDS = 0.5
# An error message is one short sentence: libvirt's and qemu-img's can run to many lines.
MAX_ERROR = 300


class GuestError(Exception):
    """One guest failed at one step; the message is what the report says."""


def short(step, exc):
    """'<step> failed: <first line of the reason>', at most MAX_ERROR characters."""
    text = str(exc).strip().splitlines()
    reason = text[0].strip() if text else type(exc).__name__
    if isinstance(exc, subprocess.CalledProcessError):
        lines = (exc.stderr or "").strip().splitlines()
        reason = lines[-1].strip() if lines else reason
    message = f"{step} failed: {reason}"
    return message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 3] + "..."


def qemu_img_create_argv(disk):
    """qemu-img create of a blank disk, or of an overlay on disk['backing']."""
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if disk.get("backing"):
        argv += ["-b", disk["backing"], "-F", disk.get("backing_format") or "qcow2"]
    return [*argv, disk["path"], f"{int(disk['size_gb'])}G"]


def new_record(guest):
    return {
        "name": guest["name"],
        "changed": False,
        "failed": False,
        "created_disk": False,
        "defined": False,
    }


def make_disk(record, disk, check):
    """Create the disk if missing and keep it 0600; a path that is not a file fails."""
    path = disk["path"]
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise GuestError(f"disk failed: {path} exists and is not a regular file")
    elif check:
        record["changed"] = True
        return
    else:
        try:
            subprocess.run(qemu_img_create_argv(disk), check=True, capture_output=True, text=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            raise GuestError(short("qemu-img create", exc)) from exc
        record["created_disk"] = record["changed"] = True
        mode = os.stat(path).st_mode
    if stat.S_IMODE(mode) != DISK_MODE:
        record["changed"] = True
        if not check:
            os.chmod(path, DISK_MODE)


def lookup(conn, name):
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def inactive_xml(dom):
    return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def with_uuid(xml, uuid):
    """The XML with the existing domain's UUID when it names none: libvirt would otherwise
    give it a new one and refuse it as another domain of the same name."""
    root = ElementTree.fromstring(xml)  # noqa: S314 - the role's own template, not untrusted
    if root.find("uuid") is not None:
        return xml
    element = ElementTree.Element("uuid")
    element.text = uuid
    name = root.find("name")
    root.insert(list(root).index(name) + 1 if name is not None else 0, element)
    return ElementTree.tostring(root, encoding="unicode")


def define(conn, record, guest, check):
    """Define the domain; changed only when libvirt's inactive definition changed."""
    dom = lookup(conn, guest["name"])
    if check:
        record["changed"] |= dom is None or bool(dom.autostart()) != guest["autostart"]
        return dom
    before = inactive_xml(dom) if dom is not None else None
    xml = guest["xml"] if dom is None else with_uuid(guest["xml"], dom.UUIDString())
    try:
        dom = conn.defineXML(xml)
    except libvirt.libvirtError as exc:
        raise GuestError(short("define", exc)) from exc
    record["defined"] = before is None
    record["changed"] |= before is None or inactive_xml(dom) != before
    if bool(dom.autostart()) != guest["autostart"]:
        dom.setAutostart(1 if guest["autostart"] else 0)
        record["changed"] = True
    return dom


def start(record, dom, check):
    """Start a domain that does not run (a missing one, in check mode, would be started)."""
    if dom is None or not dom.isActive():
        record["changed"] = True
        if not check:
            try:
                dom.create()
            except libvirt.libvirtError as exc:
                raise GuestError(short("start", exc)) from exc


def state_of(dom):
    return STATES.get(dom.state()[0], "unknown")


def wait_running(doms, timeout, clock=time.monotonic, sleep=time.sleep):
    """Poll every domain together until all run or the deadline passes: {name: last state}."""
    deadline = clock() + timeout
    states = {}
    pending = dict(doms)
    while True:
        for name, dom in list(pending.items()):
            try:
                states[name] = state_of(dom)
            except libvirt.libvirtError:
                states[name] = "gone"
            if states[name] == "running":
                del pending[name]
        if not pending or clock() >= deadline:
            return states
        sleep(POLL_SECONDS)


def disk_bytes(path):
    argv = ["qemu-img", "info", "--force-share", "--output=json", path]
    try:
        proc = subprocess.run(argv, check=True, capture_output=True, text=True)
        return int(json.loads(proc.stdout)["virtual-size"])
    except (subprocess.CalledProcessError, OSError, ValueError, KeyError) as exc:
        raise GuestError(short("qemu-img info", exc)) from exc


def read_allocation(record, dom, disk_path):
    """What the guest really got: UUID, vCPUs, maximum memory (MiB), disk virtual size."""
    try:
        state, max_kib, _kib, vcpus, _cpu = dom.info()
        record.update(
            state=STATES.get(state, "unknown"),
            uuid=dom.UUIDString().lower(),
            vcpus=vcpus,
            ram_mb=max_kib // 1024,
        )
    except libvirt.libvirtError as exc:
        raise GuestError(short("reading the domain", exc)) from exc
    record["disk_bytes"] = disk_bytes(disk_path)


def undo(conn, record, guest):
    """Remove what this call made for a failed guest: (what was removed, what could not be)."""
    undone = {"domain": False, "disk": False, "files": []}
    left = []
    if record["defined"]:
        try:
            dom = lookup(conn, guest["name"])
            if dom is not None:
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(undefine_flags())
            undone["domain"] = True
        except libvirt.libvirtError as exc:
            left.append(f"domain ({str(exc).strip().splitlines()[0]})")
    if record["created_disk"]:
        undone["disk"] = remove(guest["disk"]["path"], left)
    for path in guest.get("discard_on_failure") or []:
        if remove(path, left):
            undone["files"].append(path)
    return undone, left


def remove(path, left):
    """Delete a file (gone already is fine); a failure is added to left."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        left.append(f"{path} ({exc.strerror})")
        return False
    return True


def undefine_flags():
    return (
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    )


def fail(conn, record, guest, message):
    """Mark the guest failed and undo what this call made for it."""
    undone, left = undo(conn, record, guest)
    record.update(failed=True, state="error", error=message, undone=undone)
    if left:
        record["error"] += f" Could not remove: {', '.join(left)}."


def guarded(conn, record, guest, step):
    """step(); a guest, libvirt or disk error fails the guest (undone) instead of the call."""
    try:
        step()
    except GuestError as exc:
        fail(conn, record, guest, str(exc))
    except libvirt.libvirtError as exc:
        fail(conn, record, guest, short("libvirt", exc))
    except OSError as exc:  # the disk's chmod or stat
        fail(conn, record, guest, short("disk", exc))


def prepare(conn, record, guest, check):
    """The disk and the definition of one guest: its domain (None once it failed, or in check
    mode when it is missing)."""
    made = {}

    def steps():
        make_disk(record, guest["disk"], check)
        made["dom"] = define(conn, record, guest, check)

    guarded(conn, record, guest, steps)
    return None if record["failed"] else made.get("dom")


def finish(conn, record, guest, dom, state):
    """After the wait: a running guest reports what it got, any other is undone."""
    if state != "running":
        fail(conn, record, guest, f"start failed: the domain is {state} after the wait")
        return
    try:
        read_allocation(record, dom, guest["disk"]["path"])
    except GuestError as exc:
        fail(conn, record, guest, str(exc))


def run(conn, guests, timeout, check, parallel=1):
    """Every guest's report entry, in order: made and defined one by one, started together."""
    records = [new_record(guest) for guest in guests]
    doms = [prepare(conn, records[k], guest, check) for k, guest in enumerate(guests)]

    def each(step):
        """step(k) for every guest not failed yet, up to parallel at once."""
        alive = [k for k, record in enumerate(records) if not record["failed"]]
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            list(pool.map(step, alive))

    each(lambda k: guarded(conn, records[k], guests[k], lambda: start(records[k], doms[k], check)))
    if not check:
        started = [k for k, record in enumerate(records) if not record["failed"]]
        states = wait_running({guests[k]["name"]: doms[k] for k in started}, timeout)
        each(lambda k: finish(conn, records[k], guests[k], doms[k], states[guests[k]["name"]]))
    return [public(record) for record in records]


def public(record):
    return {k: v for k, v in record.items() if k not in ("created_disk", "defined")}


def main():
    disk_spec = {
        "path": {"type": "str", "required": True},
        "size_gb": {"type": "int", "required": True},
        "backing": {"type": "str"},
        "backing_format": {"type": "str"},
    }
    guest_spec = {
        "name": {"type": "str", "required": True},
        "xml": {"type": "str", "required": True},
        "disk": {"type": "dict", "required": True, "options": disk_spec},
        "autostart": {"type": "bool", "default": True},
        "discard_on_failure": {"type": "list", "elements": "str", "default": []},
    }
    module = AnsibleModule(
        argument_spec={
            "uri": {"type": "str", "default": "qemu:///system"},
            "guests": {"type": "list", "elements": "dict", "required": True, "options": guest_spec},
            "start_timeout": {"type": "int", "default": 60},
            "parallel": {"type": "int", "default": 8},
        },
        supports_check_mode=True,
    )
    if libvirt is None:
        module.fail_json(msg="the libvirt Python binding (python3-libvirt) is missing")
    params = module.params
    try:
        conn = libvirt.open(params["uri"])
    except libvirt.libvirtError as exc:
        module.fail_json(msg=f"libvirt: {exc}")
    try:
        guests = run(
            conn, params["guests"], params["start_timeout"], module.check_mode, params["parallel"]
        )
    finally:
        conn.close()
    module.exit_json(changed=any(g["changed"] for g in guests), guests=guests)


if __name__ == "__main__":
    main()
