"""The Scheduler Service boundary: which of the hosts that can take a VM it should go to.

Placement (api.services.placement) filters: only active in-inventory hosts with room for the
request, open to its tenant, holding no VM of its anti-affinity group and (for a VM that needs
one on a user-mode host) with a free SSH forward port are candidates, so no scheduler can put a
VM where it does not fit. A scheduler only orders the candidates; placement
then claims them in that order (lock, re-check). Built in:
`spread` (most free RAM first, the default) and `pack` (least free RAM first). Or an external
scheduler at a URL (VIRTFLOW_SCHEDULER_URL), which receives

    POST <url>  {"request": {"tenant_id", "vcpus", "ram_mb", "disk_gb", "anti_affinity_group"},
                 "hosts": [{"name", "free_vcpus", "free_ram_mb", "free_disk_gb"}, ...]}

and answers 200 {"hosts": ["<name>", ...]}: its preference, a subset of the names sent (an
empty list: none of them). Any other answer, or none within the timeout, is a 503
SCHEDULER_UNAVAILABLE: a create never falls back silently to another policy.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from api.errors import SchedulerUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A host that can take the request, with what it has free now."""

    id: uuid.UUID
    name: str
    free_vcpus: int
    free_ram_mb: int
    free_disk_gb: int


@dataclass(frozen=True)
class Ask:
    """What is being placed, and for whom (an external scheduler may use the tenant)."""

    tenant_id: uuid.UUID | None
    vcpus: int
    ram_mb: int
    disk_gb: int
    anti_affinity_group: str | None = None


class Scheduler(Protocol):
    def rank(self, ask: Ask, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates to try, best first (a subset of those given)."""


class Spread:
    """Most free RAM first, ties by name: VMs spread over the fleet."""

    def rank(self, ask: Ask, candidates: list[Candidate]) -> list[Candidate]:
        return sorted(candidates, key=lambda c: (-c.free_ram_mb, c.name))


class Pack:
    """Least free RAM first, ties by name: fill hosts one after another."""

    def rank(self, ask: Ask, candidates: list[Candidate]) -> list[Candidate]:
        return sorted(candidates, key=lambda c: (c.free_ram_mb, c.name))


@dataclass(frozen=True)
class External:
    """A scheduler service reached over HTTP (see the module docstring for the protocol)."""

    url: str
    timeout_seconds: float = 2.0

    def rank(self, ask: Ask, candidates: list[Candidate]) -> list[Candidate]:
        by_name = {c.name: c for c in candidates}
        answer = self._post(_payload(ask, candidates))
        names = answer.get("hosts") if isinstance(answer, dict) else None
        if not isinstance(names, list) or not all(n in by_name for n in names):
            log.error("external scheduler answered %r", answer)
            raise SchedulerUnavailable("the scheduler's answer names no host it was offered")
        return [by_name[n] for n in names]

    def _post(self, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        req = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_seconds) as resp:  # noqa: S310
                return json.loads(resp.read(1024 * 1024))
        except (OSError, ValueError) as exc:  # refused, timed out, HTTP error, not JSON
            log.error("external scheduler at %s failed: %s", self.url, exc)
            raise SchedulerUnavailable() from exc


def _payload(ask: Ask, candidates: list[Candidate]) -> dict[str, Any]:
    return {
        "request": {
            "tenant_id": str(ask.tenant_id) if ask.tenant_id else None,
            "vcpus": ask.vcpus,
            "ram_mb": ask.ram_mb,
            "disk_gb": ask.disk_gb,
            "anti_affinity_group": ask.anti_affinity_group,
        },
        "hosts": [
            {
                "name": c.name,
                "free_vcpus": c.free_vcpus,
                "free_ram_mb": c.free_ram_mb,
                "free_disk_gb": c.free_disk_gb,
            }
            for c in candidates
        ],
    }


BUILT_IN: dict[str, Scheduler] = {"spread": Spread(), "pack": Pack()}
DEFAULT: Scheduler = BUILT_IN["spread"]


def configured(policy: str, url: str) -> Scheduler:
    """The scheduler the settings name: an external one when a URL is set, else a policy."""
    return External(url) if url else BUILT_IN[policy]
