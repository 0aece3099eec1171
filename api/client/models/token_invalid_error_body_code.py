from enum import StrEnum

class TokenInvalidErrorBodyCode(StrEnum):
    TOKEN_INVALID = "TOKEN_INVALID"

    def __str__(self) -> str:
        return str(self.value)
