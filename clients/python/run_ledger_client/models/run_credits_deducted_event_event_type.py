from enum import StrEnum

class RunCreditsDeductedEventEventType(StrEnum):
    RUN_CREDITS_DEDUCTED = "run.credits_deducted"

    def __str__(self) -> str:
        return str(self.value)
