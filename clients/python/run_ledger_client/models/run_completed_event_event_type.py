from enum import StrEnum

class RunCompletedEventEventType(StrEnum):
    RUN_COMPLETED = "run.completed"

    def __str__(self) -> str:
        return str(self.value)
