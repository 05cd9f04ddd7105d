from enum import StrEnum

class RunRefundedEventEventType(StrEnum):
    RUN_REFUNDED = "run.refunded"

    def __str__(self) -> str:
        return str(self.value)
