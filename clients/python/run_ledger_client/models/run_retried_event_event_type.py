from enum import StrEnum

class RunRetriedEventEventType(StrEnum):
    RUN_RETRIED = "run.retried"

    def __str__(self) -> str:
        return str(self.value)
