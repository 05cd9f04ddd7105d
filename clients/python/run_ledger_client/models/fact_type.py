from enum import StrEnum

class FactType(StrEnum):
    RUN_CANCELLED = "run.cancelled"
    RUN_COMPLETED = "run.completed"
    RUN_CREDITS_DEDUCTED = "run.credits_deducted"
    RUN_FAILED = "run.failed"
    RUN_FILE_UPDATED = "run.file_updated"
    RUN_REFUNDED = "run.refunded"
    RUN_STAGE_UPDATED = "run.stage_updated"
    RUN_STARTED = "run.started"

    def __str__(self) -> str:
        return str(self.value)
