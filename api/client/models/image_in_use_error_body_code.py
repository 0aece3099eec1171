from enum import StrEnum

class ImageInUseErrorBodyCode(StrEnum):
    IMAGE_IN_USE = "IMAGE_IN_USE"

    def __str__(self) -> str:
        return str(self.value)
