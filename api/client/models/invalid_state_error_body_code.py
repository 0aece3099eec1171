from enum import StrEnum

class InvalidStateErrorBodyCode(StrEnum):
    INVALID_STATE = "INVALID_STATE"

    def __str__(self) -> str:
        return str(self.value)
