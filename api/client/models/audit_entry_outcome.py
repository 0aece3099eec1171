from enum import StrEnum

class AuditEntryOutcome(StrEnum):
    DENIED = "denied"
    FAILED = "failed"
    OUT_OF_BAND = "out_of_band"
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
