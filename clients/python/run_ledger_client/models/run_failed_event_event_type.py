from enum import StrEnum

class RunFailedEventEventType(StrEnum):
    RUN_FAILED = "run.failed"

    def __str__(self) -> str:
        return str(self.value)
