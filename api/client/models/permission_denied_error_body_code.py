from enum import StrEnum

class PermissionDeniedErrorBodyCode(StrEnum):
    PERMISSION_DENIED = "PERMISSION_DENIED"

    def __str__(self) -> str:
        return str(self.value)
