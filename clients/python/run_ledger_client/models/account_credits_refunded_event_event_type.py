from enum import StrEnum

class AccountCreditsRefundedEventEventType(StrEnum):
    ACCOUNT_CREDITS_REFUNDED = "account.credits_refunded"

    def __str__(self) -> str:
        return str(self.value)
