"""`virtflow run` starts VIRTFLOW_WORKERS workers; 0 means one per inventory host plus one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from api.cli import MAX_AUTO_WORKERS, worker_count
from api.settings import Settings

HOSTS_YAML = """\
baremetal:
  hosts:
{hosts}
"""


def inventory(tmp_path: Path, hosts: int) -> Path:
    lines = "\n".join(
        f"    bm-{k}:\n      ansible_host: 127.0.0.{k + 1}\n      ansible_connection: ssh"
        for k in range(hosts)
    )
    (tmp_path / "hosts.yml").write_text(HOSTS_YAML.format(hosts=lines))
    return tmp_path


def test_worker_count_is_the_setting_when_set(settings: Settings) -> None:
    assert worker_count(dataclasses.replace(settings, workers=3)) == 3


def test_worker_count_follows_the_inventory_when_zero(settings: Settings, tmp_path: Path) -> None:
    auto = dataclasses.replace(settings, workers=0, inventory_path=inventory(tmp_path, 3))
    assert worker_count(auto) == 4


def test_worker_count_is_bounded(settings: Settings, tmp_path: Path) -> None:
    auto = dataclasses.replace(settings, workers=0, inventory_path=inventory(tmp_path, 20))
    assert worker_count(auto) == MAX_AUTO_WORKERS


def test_worker_count_of_an_unreadable_inventory_is_two(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text("baremetal: [unclosed\n")
    broken = dataclasses.replace(settings, workers=0, inventory_path=tmp_path)
    assert worker_count(broken) == 2
