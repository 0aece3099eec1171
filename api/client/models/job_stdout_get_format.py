from enum import StrEnum

class JobStdoutGetFormat(StrEnum):
    JSON = "json"
    TXT = "txt"

    def __str__(self) -> str:
        return str(self.value)
