from enum import StrEnum

class VmGrantArgsPermission(StrEnum):
    VM_CHANGE = "vm.change"
    VM_DELETE = "vm.delete"
    VM_SNAPSHOT = "vm.snapshot"
    VM_VIEW = "vm.view"

    def __str__(self) -> str:
        return str(self.value)
