"""A stand-in for the libvirt binding, for unit tests of the role's libvirt-python modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest


class FakeLibvirtError(Exception):
    def __init__(self, message: str = "", code: int = 42) -> None:
        super().__init__(message)
        self.code = code

    def get_error_code(self) -> int:
        return self.code  # 42: VIR_ERR_NO_DOMAIN


FAKE_LIBVIRT = SimpleNamespace(
    libvirtError=FakeLibvirtError,
    VIR_ERR_NO_DOMAIN=42,
    VIR_DOMAIN_XML_INACTIVE=2,
    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE=1,
    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA=2,
    VIR_DOMAIN_UNDEFINE_NVRAM=4,
    VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA=16,
)


def load_role_module(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The module's code (a role library file, not a package) with the fake libvirt binding."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "libvirt", FAKE_LIBVIRT)
    return module
