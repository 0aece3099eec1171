from enum import StrEnum

class AuthRequiredErrorBodyCode(StrEnum):
    AUTH_REQUIRED = "AUTH_REQUIRED"

    def __str__(self) -> str:
        return str(self.value)
