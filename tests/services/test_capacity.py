"""The capacity rule: explicit inventory vars win; else discovered x ratio - reserved, never < 0."""

from __future__ import annotations

from typing import Any

import pytest

from api.models import Baremetal, CapacitySource
from api.services import capacity
from api.services.capacity import Policy
from api.settings import Settings, SettingsError

DISCOVERED = {"cpus": 8, "memory_mb": 32768, "image_dir_free_gb": 400}
UNSET: dict[str, int | None] = {"vcpus": None, "ram_mb": None, "disk_gb": None}


def test_capacity_explicit_inventory_vars_win() -> None:
    declared = {"vcpus": 6, "ram_mb": 2048, "disk_gb": 0}
    got = capacity.effective(declared, DISCOVERED, Policy())
    assert got == ({"vcpus": 6, "ram_mb": 2048, "disk_gb": 0}, CapacitySource.INVENTORY)


def test_capacity_is_discovered_times_ratio_minus_reserved() -> None:
    got = capacity.effective(UNSET, DISCOVERED, Policy())
    # defaults: 4.0 x 8 - 0 vCPUs; 1.0 x 32768 - 512 MiB; 1.0 x 400 - 5 GiB
    assert got == ({"vcpus": 32, "ram_mb": 32256, "disk_gb": 395}, CapacitySource.DISCOVERED)


def test_capacity_mixes_explicit_and_discovered_per_resource() -> None:
    got = capacity.effective({**UNSET, "disk_gb": 50}, DISCOVERED, Policy())
    assert got == ({"vcpus": 32, "ram_mb": 32256, "disk_gb": 50}, CapacitySource.MIXED)


def test_capacity_per_host_overrides_replace_the_settings() -> None:
    policy = Policy().for_host({"cpu_allocation_ratio": 1.5, "reserved_ram_mb": 0, "other": 9})
    got = capacity.effective(UNSET, DISCOVERED, policy)
    assert got[0] == {"vcpus": 12, "ram_mb": 32768, "disk_gb": 395}


def test_capacity_is_never_negative() -> None:
    tiny = {"cpus": 1, "memory_mb": 256, "image_dir_free_gb": 2}
    got = capacity.effective(UNSET, tiny, Policy(reserved_vcpus=8))
    assert got == ({"vcpus": 0, "ram_mb": 0, "disk_gb": 0}, CapacitySource.DISCOVERED)


def test_capacity_of_a_host_never_discovered_is_zero() -> None:
    assert capacity.effective(UNSET, None, Policy()) == (
        {"vcpus": 0, "ram_mb": 0, "disk_gb": 0},
        CapacitySource.NONE,
    )
    partial: dict[str, Any] = {"cpus": 2, "memory_mb": "lots"}
    got = capacity.effective(UNSET, partial, Policy())
    assert got == ({"vcpus": 8, "ram_mb": 0, "disk_gb": 0}, CapacitySource.MIXED)


def test_capacity_parse_overrides_keeps_valid_values_only() -> None:
    hostvars = {
        "virtflow_cpu_allocation_ratio": "2.5",
        "virtflow_ram_allocation_ratio": -1,
        "virtflow_disk_allocation_ratio": "nan",
        "virtflow_reserved_ram_mb": 1024,
        "virtflow_reserved_vcpus": True,
        "virtflow_reserved_disk_gb": "many",
        "virtflow_capacity_vcpus": 4,
    }
    assert capacity.parse_overrides(hostvars) == {
        "cpu_allocation_ratio": 2.5,
        "reserved_ram_mb": 1024,
    }


def test_capacity_apply_stores_the_effective_capacity_and_its_source() -> None:
    host = Baremetal(
        name="bm-x",
        declared_vcpus=None,
        declared_ram_mb=4096,
        declared_disk_gb=None,
        overrides={"disk_allocation_ratio": 2.0},
        discovered=DISCOVERED,
    )
    capacity.apply(host, Policy())
    assert (host.capacity_vcpus, host.capacity_ram_mb, host.capacity_disk_gb) == (32, 4096, 795)
    assert host.capacity_source == CapacitySource.MIXED


def test_capacity_policy_comes_from_the_settings() -> None:
    env = {"VIRTFLOW_CPU_ALLOCATION_RATIO": "2.5", "VIRTFLOW_RESERVED_RAM_MB": "2048"}
    policy = Settings.from_env(env).capacity_policy
    assert policy == Policy(cpu_ratio=2.5, reserved_ram_mb=2048)
    assert Settings.from_env({}).capacity_policy == Policy()
    with pytest.raises(SettingsError, match="VIRTFLOW_RAM_ALLOCATION_RATIO"):
        Settings.from_env({"VIRTFLOW_RAM_ALLOCATION_RATIO": "lots"})


def test_capacity_settings_refuse_a_zero_ratio_when_serving() -> None:
    settings = Settings(jwt_secret="s" * 40, disk_allocation_ratio=0.0)
    with pytest.raises(SettingsError, match="ALLOCATION_RATIO"):
        settings.check_serving()
