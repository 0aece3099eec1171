from enum import StrEnum

class VMHostStateType1(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    MISSING = "missing"
    NEW = "new"
    OFFLINE = "offline"
    PREPARING = "preparing"

    def __str__(self) -> str:
        return str(self.value)
