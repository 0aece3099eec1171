from enum import StrEnum

class ImageListStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
