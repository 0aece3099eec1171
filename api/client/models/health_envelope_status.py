from enum import StrEnum

class HealthEnvelopeStatus(StrEnum):
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
