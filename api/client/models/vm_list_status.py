from enum import StrEnum

class VmListStatus(StrEnum):
    DELETED = "deleted"
    DELETING = "deleting"
    ERROR = "error"
    PENDING = "pending"
    PROVISIONING = "provisioning"
    REBOOTING = "rebooting"
    RESIZING = "resizing"
    REVERTING = "reverting"
    RUNNING = "running"
    SNAPSHOTTING = "snapshotting"
    STARTING = "starting"
    STOPPED = "stopped"
    STOPPING = "stopping"

    def __str__(self) -> str:
        return str(self.value)
