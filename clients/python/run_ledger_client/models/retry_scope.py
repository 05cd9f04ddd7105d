from enum import StrEnum

class RetryScope(StrEnum):
    FILES = "files"
    RUN = "run"

    def __str__(self) -> str:
        return str(self.value)
