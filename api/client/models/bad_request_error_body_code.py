from enum import StrEnum

class BadRequestErrorBodyCode(StrEnum):
    BAD_REQUEST = "BAD_REQUEST"

    def __str__(self) -> str:
        return str(self.value)
