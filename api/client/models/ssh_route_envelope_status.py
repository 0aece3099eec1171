from enum import StrEnum

class SSHRouteEnvelopeStatus(StrEnum):
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
