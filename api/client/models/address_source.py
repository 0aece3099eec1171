from enum import StrEnum

class AddressSource(StrEnum):
    AGENT = "agent"
    LEASE = "lease"

    def __str__(self) -> str:
        return str(self.value)
