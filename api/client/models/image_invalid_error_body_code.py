from enum import StrEnum

class ImageInvalidErrorBodyCode(StrEnum):
    IMAGE_INVALID = "IMAGE_INVALID"

    def __str__(self) -> str:
        return str(self.value)
