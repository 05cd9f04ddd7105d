from enum import StrEnum

class RunMetricsUpdatedFactType(StrEnum):
    RUN_METRICS_UPDATED = "run.metrics_updated"

    def __str__(self) -> str:
        return str(self.value)
