from enum import StrEnum

class NameTakenErrorBodyCode(StrEnum):
    NAME_TAKEN = "NAME_TAKEN"

    def __str__(self) -> str:
        return str(self.value)
