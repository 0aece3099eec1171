from enum import StrEnum

class NoCapacityErrorBodyCode(StrEnum):
    NO_CAPACITY = "NO_CAPACITY"

    def __str__(self) -> str:
        return str(self.value)
