from enum import StrEnum

class VMEnvelopeStatus(StrEnum):
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
