from enum import StrEnum

class TokenExpiredErrorBodyCode(StrEnum):
    TOKEN_EXPIRED = "TOKEN_EXPIRED"

    def __str__(self) -> str:
        return str(self.value)
