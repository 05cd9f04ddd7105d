from enum import StrEnum

class FileUpdatedFactType(StrEnum):
    RUN_FILE_UPDATED = "run.file_updated"

    def __str__(self) -> str:
        return str(self.value)
