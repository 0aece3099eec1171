from enum import StrEnum

class InvalidCredentialsErrorBodyCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"

    def __str__(self) -> str:
        return str(self.value)
