from enum import StrEnum

class AlreadyExistsErrorBodyCode(StrEnum):
    ALREADY_EXISTS = "ALREADY_EXISTS"

    def __str__(self) -> str:
        return str(self.value)
