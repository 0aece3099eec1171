from enum import StrEnum

class DiskTooSmallErrorBodyCode(StrEnum):
    DISK_TOO_SMALL = "DISK_TOO_SMALL"

    def __str__(self) -> str:
        return str(self.value)
