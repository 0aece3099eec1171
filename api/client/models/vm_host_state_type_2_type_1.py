from enum import StrEnum

class VMHostStateType2Type1(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    MISSING = "missing"
    NEW = "new"
    OFFLINE = "offline"
    PREPARING = "preparing"

    def __str__(self) -> str:
        return str(self.value)
