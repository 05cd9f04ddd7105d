from enum import StrEnum

class RunCancelledFactType(StrEnum):
    RUN_CANCELLED = "run.cancelled"

    def __str__(self) -> str:
        return str(self.value)
