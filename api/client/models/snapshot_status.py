from enum import StrEnum

class SnapshotStatus(StrEnum):
    CREATING = "creating"
    DELETED = "deleted"
    DELETING = "deleting"
    ERROR = "error"
    READY = "ready"

    def __str__(self) -> str:
        return str(self.value)
