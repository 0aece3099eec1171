from enum import StrEnum

class VmListHostState(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    MISSING = "missing"
    NEW = "new"
    OFFLINE = "offline"
    PREPARING = "preparing"

    def __str__(self) -> str:
        return str(self.value)
