from enum import StrEnum

class ErrorEnvelopeStatus(StrEnum):
    ERROR = "error"

    def __str__(self) -> str:
        return str(self.value)
