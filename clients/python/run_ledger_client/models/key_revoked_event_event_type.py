from enum import StrEnum

class KeyRevokedEventEventType(StrEnum):
    KEY_REVOKED = "key.revoked"

    def __str__(self) -> str:
        return str(self.value)
