from enum import StrEnum

class TenantStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    DELETING = "deleting"

    def __str__(self) -> str:
        return str(self.value)
