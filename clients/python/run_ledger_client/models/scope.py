from enum import StrEnum

class Scope(StrEnum):
    ADMIN = "admin"
    APPEND = "append"
    AUDIT = "audit"
    READ = "read"
    WITNESS = "witness"

    def __str__(self) -> str:
        return str(self.value)
