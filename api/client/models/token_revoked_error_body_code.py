from enum import StrEnum

class TokenRevokedErrorBodyCode(StrEnum):
    TOKEN_REVOKED = "TOKEN_REVOKED"

    def __str__(self) -> str:
        return str(self.value)
