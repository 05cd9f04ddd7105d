from enum import StrEnum

class RunCreatedEventEventType(StrEnum):
    RUN_CREATED = "run.created"

    def __str__(self) -> str:
        return str(self.value)
