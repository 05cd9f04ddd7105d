from enum import StrEnum

class RunRerunOfEventEventType(StrEnum):
    RUN_RERUN_OF = "run.rerun_of"

    def __str__(self) -> str:
        return str(self.value)
