from enum import StrEnum

class JobStatus(StrEnum):
    CANCELED = "canceled"
    ERROR = "error"
    FAILED = "failed"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESSFUL = "successful"

    def __str__(self) -> str:
        return str(self.value)
