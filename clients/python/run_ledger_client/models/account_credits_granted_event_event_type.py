from enum import StrEnum

class AccountCreditsGrantedEventEventType(StrEnum):
    ACCOUNT_CREDITS_GRANTED = "account.credits_granted"

    def __str__(self) -> str:
        return str(self.value)
