from enum import StrEnum

class RunMetricsUpdatedEventEventType(StrEnum):
    RUN_METRICS_UPDATED = "run.metrics_updated"

    def __str__(self) -> str:
        return str(self.value)
