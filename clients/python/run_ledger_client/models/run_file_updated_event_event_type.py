from enum import StrEnum

class RunFileUpdatedEventEventType(StrEnum):
    RUN_FILE_UPDATED = "run.file_updated"

    def __str__(self) -> str:
        return str(self.value)
