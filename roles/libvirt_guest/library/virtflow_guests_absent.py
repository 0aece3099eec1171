#!/usr/bin/python
"""Ansible module: remove a batch of libvirt guests and their files in one process."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtflow_guests_absent
short_description: Remove a batch of libvirt guests and their files (one process)
description:
  - For every guest, in one module process and over one libvirt connection, destroys its
    domain if it runs, undefines it with its managed save image, snapshot and checkpoint
    metadata and NVRAM, and deletes the files of C(paths) (its disk, its NoCloud seed, its
    guest agent socket). A missing domain or file is fine: the call is idempotent.
  - Not libvirt's storage-pool deletion (C(force) of community.libvirt.virt): the disks are
    plain files outside any pool, deleted here by path.
  - A guest whose C(uuid) is given and whose domain has another UUID (a name reused by
    another guest) is refused and left untouched, files included; so is a guest whose
    destroy or undefine fails. Each is reported with C(failed) and one short sentence
    (C(error)); the other guests are unaffected. The module itself fails only when it
    cannot connect to libvirt at all (nothing changed).
  - Check mode predicts (a domain or file that exists would be removed) and changes nothing.
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
        description: Domain name.
        type: str
        required: true
      uuid:
        description: The UUID the domain must have to be removed (compared case-insensitively).
        type: str
      paths:
        description: Files to delete with the guest (missing is fine).
        type: list
        elements: str
        default: []
  parallel:
    description: How many guests are removed at once (threads sharing the connection: a
      destroy mostly waits for QEMU to exit, so they overlap); 1 removes them one by one.
    type: int
    default: 8
requirements: [libvirt-python]
"""

EXAMPLES = r"""
- name: Remove the guests in one call
  virtflow_guests_absent:
    uri: qemu:///system
    guests:
      - name: vf-web-1a2b3c4d
        uuid: 1a2b3c4d-0000-4000-8000-000000000001
        paths:
          - /var/lib/virtflow/images/vf-web-1a2b3c4d.qcow2
          - /var/lib/virtflow/images/vf-web-1a2b3c4d-seed.iso
  register: removed
"""

RETURN = r"""
guests:
  description: One entry per guest, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - name: vf-web-1a2b3c4d
      changed: true
      failed: false
    - name: vf-db-5e6f7a8b
      changed: false
      failed: true
      error: "Domain vf-db-5e6f7a8b has UUID 0f0e..., not 1a2b...: not removing it."
"""

import os  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

try:
    import libvirt
except ImportError:  # reported by main()
    libvirt = None

# An error message is one short sentence: libvirt's can run to many lines.
MAX_ERROR = 300


class GuestError(Exception):
    """One guest failed at one step; the message is what the report says."""


def short(step, exc):
    """'<step> failed: <first line of the reason>', at most MAX_ERROR characters."""
    text = str(exc).strip().splitlines()
    reason = text[0].strip() if text else type(exc).__name__
    message = f"{step} failed: {reason}"
    return message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 3] + "..."


def lookup(conn, name):
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def undefine_flags():
    # The flags absent.yml always gave community.libvirt.virt (which passes them as they are,
    # with no fallback): without them libvirt refuses a domain with a managed save, snapshots,
    # checkpoints or NVRAM.
    return (
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    )


def check_uuid(dom, guest):
    """Refuse a domain whose UUID is not the requested one: a name reused by another guest
    must not take that guest down with it."""
    wanted = guest.get("uuid")
    if dom is None or not wanted:
        return
    found = dom.UUIDString().lower()
    if found != wanted.lower():
        raise GuestError(f"Domain {guest['name']} has UUID {found}, not {wanted}: not removing it.")


def remove_domain(dom, check):
    """Destroy if active, then undefine: whether there was a domain to remove."""
    if dom is None:
        return False
    if check:
        return True
    try:
        if dom.isActive():
            dom.destroy()
    except libvirt.libvirtError as exc:
        raise GuestError(short("destroy", exc)) from exc
    try:
        dom.undefineFlags(undefine_flags())
    except libvirt.libvirtError as exc:
        raise GuestError(short("undefine", exc)) from exc
    return True


def remove_file(path, check):
    """Delete one file (gone already is fine): whether there was one."""
    if check:
        return os.path.lexists(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise GuestError(f"deleting {path} failed: {exc.strerror}") from exc
    return True


def remove_guest(conn, guest, check):
    """The domain, then the files, of one guest: its report entry."""
    record = {"name": guest["name"], "changed": False, "failed": False}
    try:
        dom = lookup(conn, guest["name"])
        check_uuid(dom, guest)
        record["changed"] = remove_domain(dom, check)
        for path in guest.get("paths") or []:
            record["changed"] |= remove_file(path, check)
    except GuestError as exc:
        record.update(failed=True, error=str(exc))
    except libvirt.libvirtError as exc:
        record.update(failed=True, error=short("libvirt", exc))
    return record


def run(conn, guests, check, parallel=1):
    """Every guest's report entry, in order; up to parallel guests removed at once."""
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(lambda guest: remove_guest(conn, guest, check), guests))


def main():
    guest_spec = {
        "name": {"type": "str", "required": True},
        "uuid": {"type": "str"},
        "paths": {"type": "list", "elements": "str", "default": []},
    }
    module = AnsibleModule(
        argument_spec={
            "uri": {"type": "str", "default": "qemu:///system"},
            "guests": {"type": "list", "elements": "dict", "required": True, "options": guest_spec},
            "parallel": {"type": "int", "default": 8},
        },
        supports_check_mode=True,
    )
    if libvirt is None:
        module.fail_json(msg="the libvirt Python binding (python3-libvirt) is missing")
    try:
        conn = libvirt.open(module.params["uri"])
    except libvirt.libvirtError as exc:
        module.fail_json(msg=f"libvirt: {exc}")
    try:
        params = module.params
        guests = run(conn, params["guests"], module.check_mode, params["parallel"])
    finally:
        conn.close()
    module.exit_json(changed=any(g["changed"] for g in guests), guests=guests)


if __name__ == "__main__":
    main()
