from enum import StrEnum

class GrantObjectType(StrEnum):
    TENANT = "tenant"
    VM = "vm"

    def __str__(self) -> str:
        return str(self.value)
