from enum import StrEnum

class AccountDisabledErrorBodyCode(StrEnum):
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"

    def __str__(self) -> str:
        return str(self.value)
