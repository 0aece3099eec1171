"""The Scheduler Service boundary: built-in spread and pack, and an external scheduler over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.errors import NoCapacity, SchedulerUnavailable
from api.services.placement import Request, choose_host
from api.services.scheduler import External, Pack, Spread, configured
from api.settings import Settings, SettingsError
from tests.conftest import Factory

# Nothing listens on port 1: connecting is refused at once.
DEAD_URL = "http://127.0.0.1:1/place"


@dataclass
class FakeScheduler:
    """A scheduler service on loopback: records what it is asked, answers what it is told."""

    answer: Any = field(default_factory=lambda: {"hosts": []})
    delay: float = 0.0
    asked: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def fake_scheduler() -> Iterator[FakeScheduler]:
    fake = FakeScheduler()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fake.asked.append(json.loads(self.rfile.read(length)))
            time.sleep(fake.delay)
            body = json.dumps(fake.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:  # keep the test output quiet
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}/place"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def three_hosts(make: Factory) -> None:
    make.baremetal("roomy", capacity_ram_mb=8192)
    make.baremetal("half", capacity_ram_mb=4096)
    make.baremetal("tight", capacity_ram_mb=1024)


def test_scheduler_spread_takes_most_free_ram(db: Session, three_hosts: None) -> None:
    assert choose_host(db, Request(1, 64, 1), Spread()).name == "roomy"


def test_scheduler_pack_takes_least_free_ram_that_fits(db: Session, three_hosts: None) -> None:
    assert choose_host(db, Request(1, 64, 1), Pack()).name == "tight"
    assert choose_host(db, Request(1, 2048, 1), Pack()).name == "half"


def test_scheduler_external_decides_among_the_hosts_that_fit(
    db: Session, make: Factory, three_hosts: None, fake_scheduler: FakeScheduler
) -> None:
    tenant = make.tenant()
    fake_scheduler.answer = {"hosts": ["half", "roomy"]}
    host = choose_host(db, Request(2, 2048, 3, "web"), External(fake_scheduler.url), tenant.id)
    assert host.name == "half"
    [asked] = fake_scheduler.asked
    assert asked["request"] == {
        "tenant_id": str(tenant.id),
        "vcpus": 2,
        "ram_mb": 2048,
        "disk_gb": 3,
        "anti_affinity_group": "web",
    }
    offered = {h["name"]: h for h in asked["hosts"]}
    assert set(offered) == {"roomy", "half"}  # "tight" cannot take 2048 MiB: never offered
    assert offered["half"] == {
        "name": "half",
        "free_vcpus": 16,
        "free_ram_mb": 4096,
        "free_disk_gb": 200,
    }


def test_scheduler_external_empty_answer_is_no_capacity(
    db: Session, three_hosts: None, fake_scheduler: FakeScheduler
) -> None:
    fake_scheduler.answer = {"hosts": []}
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1), External(fake_scheduler.url))


@pytest.mark.parametrize(
    "answer", [{"hosts": ["elsewhere"]}, {"host": "roomy"}, ["roomy"], {"hosts": "roomy"}]
)
def test_scheduler_external_answer_outside_the_offer_is_refused(
    db: Session, three_hosts: None, fake_scheduler: FakeScheduler, answer: Any
) -> None:
    fake_scheduler.answer = answer
    with pytest.raises(SchedulerUnavailable):
        choose_host(db, Request(1, 64, 1), External(fake_scheduler.url))


def test_scheduler_external_down_or_slow_is_unavailable(
    db: Session, three_hosts: None, fake_scheduler: FakeScheduler
) -> None:
    with pytest.raises(SchedulerUnavailable):
        choose_host(db, Request(1, 64, 1), External(DEAD_URL))
    fake_scheduler.delay = 1.0
    fake_scheduler.answer = {"hosts": ["roomy"]}
    with pytest.raises(SchedulerUnavailable):
        choose_host(db, Request(1, 64, 1), External(fake_scheduler.url, timeout_seconds=0.2))


def test_scheduler_configured_from_settings() -> None:
    assert isinstance(configured("pack", ""), Pack)
    assert configured("spread", "http://sched/place") == External("http://sched/place")
    s = Settings.from_env({"VIRTFLOW_SCHEDULER": "pack", "VIRTFLOW_SCHEDULER_URL": ""})
    assert (s.scheduler_policy, s.scheduler_url) == ("pack", "")


def test_scheduler_unknown_policy_is_refused_at_start() -> None:
    settings = Settings(jwt_secret="x" * 48, scheduler_policy="random")
    with pytest.raises(SettingsError, match="VIRTFLOW_SCHEDULER"):
        settings.check_serving()
