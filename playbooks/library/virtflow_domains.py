#!/usr/bin/python
"""Ansible module: every libvirt domain of a host with its UUID, state, sizes and addresses."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtflow_domains
short_description: List every libvirt domain with its UUID and state (read-only)
description:
  - One virConnectListAllDomains call; community.libvirt.virt command=info gives the
    states but not the UUIDs, and command=uuid is one call per domain.
  - Each running domain also gets its IPv4 addresses (loopback left out), from the guest
    agent (source C(agent); that call needs a read-write connection, opened only when a
    domain runs) and from the DHCP leases of libvirt networks (source C(lease)). A guest
    whose agent is not up yet has none; no agent or lease error fails the listing.
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
  sample:
    - name: vf-web-1a2b3c4d
      uuid: 1a2b3c4d-...
      state: running
      vcpus: 1
      ram_mb: 256
      addresses: [{"mac": "52:54:00:12:34:56", "ip": "10.0.2.15", "prefix": 24, "source": "agent"}]
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
    domains = sorted(
        (d for d in found if not wanted or d["uuid"] in wanted), key=lambda d: d["name"]
    )
    running = [d for d in domains if d["state"] == "running"]
    if running:
        add_addresses(uri, running)
    return domains


def add_addresses(uri, running):
    """Give each running domain its addresses: the agent's, then leases it did not report."""
    try:
        conn = libvirt.open(uri)  # the agent source refuses a read-only connection
    except libvirt.libvirtError:
        conn = None
    try:
        for entry in running:
            entry["addresses"] = addresses(conn, entry["uuid"]) if conn is not None else []
    finally:
        if conn is not None:
            conn.close()


def addresses(conn, uuid):
    try:
        dom = conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError:  # gone since the listing
        return []
    found = []
    sources = (
        (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, "agent"),
        (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, "lease"),
    )
    for source, name in sources:
        for entry in interface_addresses(dom, source, name):
            if (entry["mac"], entry["ip"]) not in {(a["mac"], a["ip"]) for a in found}:
                found.append(entry)
    return found


def interface_addresses(dom, source, name):
    """IPv4 addresses from one source; [] when it knows none or fails (agent not up)."""
    try:
        interfaces = dom.interfaceAddresses(source, 0) or {}
    except libvirt.libvirtError:
        return []
    found = []
    for ifname, iface in sorted(interfaces.items()):
        for addr in iface.get("addrs") or []:
            ip = addr.get("addr") or ""
            if (
                ifname == "lo"
                or addr.get("type") != libvirt.VIR_IP_ADDR_TYPE_IPV4
                or ip.startswith("127.")
            ):
                continue
            mac = (iface.get("hwaddr") or "").lower()
            found.append({"mac": mac, "ip": ip, "prefix": addr.get("prefix"), "source": name})
    return found


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
