from enum import StrEnum

class MemberRemovedEnvelopeStatus(StrEnum):
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
