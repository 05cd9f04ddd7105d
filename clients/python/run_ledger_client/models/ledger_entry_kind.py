from enum import StrEnum

class LedgerEntryKind(StrEnum):
    DEDUCTION = "deduction"
    GRANT = "grant"
    REFUND = "refund"

    def __str__(self) -> str:
        return str(self.value)
