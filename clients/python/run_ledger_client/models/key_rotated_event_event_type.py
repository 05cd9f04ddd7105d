from enum import StrEnum

class KeyRotatedEventEventType(StrEnum):
    KEY_ROTATED = "key.rotated"

    def __str__(self) -> str:
        return str(self.value)
