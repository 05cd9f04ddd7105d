from enum import StrEnum

class ProjectionState(StrEnum):
    CATCHING_UP = "catching_up"
    CAUGHT_UP = "caught_up"
    REBUILDING = "rebuilding"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return str(self.value)
