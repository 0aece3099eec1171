from enum import StrEnum

class DependencyUnavailableErrorBodyCode(StrEnum):
    DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"

    def __str__(self) -> str:
        return str(self.value)
