from enum import StrEnum

class TenantGrantArgsPermission(StrEnum):
    AUDIT_VIEW = "audit.view"
    JOB_CANCEL = "job.cancel"
    JOB_VIEW = "job.view"
    QUOTA_VIEW = "quota.view"
    TENANT_ADMIN = "tenant.admin"
    TENANT_VIEW = "tenant.view"
    VM_CHANGE = "vm.change"
    VM_CREATE = "vm.create"
    VM_DELETE = "vm.delete"
    VM_SNAPSHOT = "vm.snapshot"
    VM_VIEW = "vm.view"

    def __str__(self) -> str:
        return str(self.value)
