from enum import StrEnum

class EventsPurgedErrorBodyCode(StrEnum):
    EVENTS_PURGED = "EVENTS_PURGED"

    def __str__(self) -> str:
        return str(self.value)
