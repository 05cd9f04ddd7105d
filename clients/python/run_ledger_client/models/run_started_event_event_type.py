from enum import StrEnum

class RunStartedEventEventType(StrEnum):
    RUN_STARTED = "run.started"

    def __str__(self) -> str:
        return str(self.value)
