from enum import StrEnum

class SnapshotPowerStateType2Type1(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return str(self.value)
