from enum import StrEnum

class QuotaEnvelopeStatus(StrEnum):
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
