from enum import StrEnum

class MemberCreateRole(StrEnum):
    TENANT_USER = "tenant_user"
    VIEWER = "viewer"

    def __str__(self) -> str:
        return str(self.value)
