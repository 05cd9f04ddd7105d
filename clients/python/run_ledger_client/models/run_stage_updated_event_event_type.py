from enum import StrEnum

class RunStageUpdatedEventEventType(StrEnum):
    RUN_STAGE_UPDATED = "run.stage_updated"

    def __str__(self) -> str:
        return str(self.value)
