from enum import StrEnum

class AccountCreditsDeductedEventEventType(StrEnum):
    ACCOUNT_CREDITS_DEDUCTED = "account.credits_deducted"

    def __str__(self) -> str:
        return str(self.value)
