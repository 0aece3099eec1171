#!/usr/bin/python
"""Ansible module: every libvirt domain of a host with its UUID and state, in one libvirt call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtflow_domains
short_description: List every libvirt domain with its UUID and state (read-only)
description:
  - One virConnectListAllDomains call; community.libvirt.virt command=info gives the
    states but not the UUIDs, and command=uuid is one call per domain.
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  uuids:
    description: Report only the domains with these UUIDs (all when empty).
    type: list
    elements: str
    default: []
requirements: [libvirt-python]
"""

RETURN = r"""
domains:
  description: One entry per domain.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "vf-web-1a2b3c4d", "uuid": "1a2b3c4d-...", "state": "running"}]
"""

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


def list_domains(uri, uuids):
    conn = libvirt.openReadOnly(uri)
    try:
        found = []
        for dom in conn.listAllDomains(0):
            # info(): [state, max memory KiB, memory KiB, vCPUs, CPU time], one call.
            state, max_kib, _kib, vcpus, _cpu = dom.info()
            found.append(
                {
                    "name": dom.name(),
                    "uuid": dom.UUIDString().lower(),
                    "state": STATES.get(state, "unknown"),
                    "vcpus": vcpus,
                    "ram_mb": max_kib // 1024,
                }
            )
    finally:
        conn.close()
    wanted = {u.lower() for u in uuids}
    return sorted((d for d in found if not wanted or d["uuid"] in wanted), key=lambda d: d["name"])


def main():
    module = AnsibleModule(
        argument_spec={
            "uri": {"type": "str", "default": "qemu:///system"},
            "uuids": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    if libvirt is None:
        module.fail_json(msg="the libvirt Python binding (python3-libvirt) is missing")
    try:
        domains = list_domains(module.params["uri"], module.params["uuids"])
    except libvirt.libvirtError as exc:
        module.fail_json(msg=f"libvirt: {exc}")
    module.exit_json(changed=False, domains=domains)


if __name__ == "__main__":
    main()
