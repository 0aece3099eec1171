from enum import StrEnum

class VMStatus(StrEnum):
    DELETED = "deleted"
    DELETING = "deleting"
    ERROR = "error"
    PENDING = "pending"
    PROVISIONING = "provisioning"
    REBOOTING = "rebooting"
    RUNNING = "running"
    STARTING = "starting"
    STOPPED = "stopped"
    STOPPING = "stopping"

    def __str__(self) -> str:
        return str(self.value)
