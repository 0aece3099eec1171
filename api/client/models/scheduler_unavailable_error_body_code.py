from enum import StrEnum

class SchedulerUnavailableErrorBodyCode(StrEnum):
    SCHEDULER_UNAVAILABLE = "SCHEDULER_UNAVAILABLE"

    def __str__(self) -> str:
        return str(self.value)
