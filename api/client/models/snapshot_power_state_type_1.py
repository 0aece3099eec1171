from enum import StrEnum

class SnapshotPowerStateType1(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return str(self.value)
