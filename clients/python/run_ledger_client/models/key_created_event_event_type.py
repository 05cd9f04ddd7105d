from enum import StrEnum

class KeyCreatedEventEventType(StrEnum):
    KEY_CREATED = "key.created"

    def __str__(self) -> str:
        return str(self.value)
