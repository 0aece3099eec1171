from enum import StrEnum

class TenantAccessRoleType1(StrEnum):
    TENANT_USER = "tenant_user"
    VIEWER = "viewer"

    def __str__(self) -> str:
        return str(self.value)
