from enum import StrEnum

class FreshTokenRequiredErrorBodyCode(StrEnum):
    FRESH_TOKEN_REQUIRED = "FRESH_TOKEN_REQUIRED"

    def __str__(self) -> str:
        return str(self.value)
