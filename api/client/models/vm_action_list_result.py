from enum import StrEnum

class VmActionListResult(StrEnum):
    CANCELED = "canceled"
    ERROR = "error"
    FAILED = "failed"
    OUT_OF_BAND = "out_of_band"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESSFUL = "successful"

    def __str__(self) -> str:
        return str(self.value)
