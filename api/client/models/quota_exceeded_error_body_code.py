from enum import StrEnum

class QuotaExceededErrorBodyCode(StrEnum):
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"

    def __str__(self) -> str:
        return str(self.value)
