from enum import StrEnum

class IdempotencyKeyReusedErrorBodyCode(StrEnum):
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"

    def __str__(self) -> str:
        return str(self.value)
