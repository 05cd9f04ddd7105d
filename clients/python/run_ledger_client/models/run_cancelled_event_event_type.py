from enum import StrEnum

class RunCancelledEventEventType(StrEnum):
    RUN_CANCELLED = "run.cancelled"

    def __str__(self) -> str:
        return str(self.value)
