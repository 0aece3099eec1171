from enum import StrEnum

class ConflictErrorBodyCode(StrEnum):
    CONFLICT = "CONFLICT"

    def __str__(self) -> str:
        return str(self.value)
