from enum import StrEnum

class Bucket(StrEnum):
    MONTHLY = "monthly"
    PURCHASED = "purchased"

    def __str__(self) -> str:
        return str(self.value)
