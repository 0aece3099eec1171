from enum import StrEnum

class TenantAccessStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    DELETING = "deleting"

    def __str__(self) -> str:
        return str(self.value)
