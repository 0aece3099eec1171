from enum import StrEnum

class TenantNotEmptyErrorBodyCode(StrEnum):
    TENANT_NOT_EMPTY = "TENANT_NOT_EMPTY"

    def __str__(self) -> str:
        return str(self.value)
