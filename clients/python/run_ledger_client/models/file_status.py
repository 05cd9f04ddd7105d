from enum import StrEnum

class FileStatus(StrEnum):
    COMPLETED = "completed"
    ERROR = "error"
    FAILED = "failed"
    PENDING = "pending"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
