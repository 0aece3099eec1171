from enum import StrEnum

class ResourceBusyErrorBodyCode(StrEnum):
    RESOURCE_BUSY = "RESOURCE_BUSY"

    def __str__(self) -> str:
        return str(self.value)
