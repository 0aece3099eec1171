from enum import StrEnum

class JobKind(StrEnum):
    HOST_DOMAINS = "host.domains"
    HOST_PREPARE = "host.prepare"
    OPS_RUN = "ops.run"
    VM_CREATE = "vm.create"
    VM_DELETE = "vm.delete"
    VM_REBOOT = "vm.reboot"
    VM_REFRESH = "vm.refresh"
    VM_RESIZE = "vm.resize"
    VM_REVERT = "vm.revert"
    VM_SNAPSHOT = "vm.snapshot"
    VM_SNAPSHOT_DELETE = "vm.snapshot_delete"
    VM_START = "vm.start"
    VM_STOP = "vm.stop"

    def __str__(self) -> str:
        return str(self.value)
