from enum import StrEnum

class RunCompletedFactType(StrEnum):
    RUN_COMPLETED = "run.completed"

    def __str__(self) -> str:
        return str(self.value)
