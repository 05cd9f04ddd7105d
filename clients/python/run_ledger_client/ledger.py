"""What every caller of the ledger needs, over the generated client.

The only hand-written module of the package (``generate.sh`` keeps it):

- ``connect(...)`` gives an ``AuthenticatedClient`` whose sync and async
  transports give each POST an ``Idempotency-Key`` (unless the call gives
  one) reused across its retries, retry 503, 429 and network errors with
  backoff or after ``Retry-After``, and read at least the newest position
  the client wrote (``min_position``) from read models;
- ``last_position(client)`` is the newest position it wrote;
- ``unwrap(response)`` returns the parsed answer or raises ``LedgerError``
  with the problem's ``code``;
- ``follow_events(client, after)`` yields the feed's events, reconnecting
  with ``Last-Event-ID``: no gap, no repeat;
- ``RunWorker(client, run_id)`` reports what a pipeline worker does.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from . import models
from .api.commands import report_facts
from .client import AuthenticatedClient
from .models import (
    AmountData,
    CancelledData,
    CompletedData,
    CompletedDataMetricsType0,
    CreditsDeductedFact,
    CreditsDeductedFactType,
    FactsRequest,
    FactsResponse,
    FailedData,
    FileData,
    FileStatus,
    FileUpdatedFact,
    FileUpdatedFactType,
    MetricsData,
    MetricsDataMetrics,
    RefundedFact,
    RefundedFactType,
    RunCancelledFact,
    RunCancelledFactType,
    RunCompletedFact,
    RunCompletedFactType,
    RunFailedFact,
    RunFailedFactType,
    RunMetricsUpdatedFact,
    RunMetricsUpdatedFactType,
    RunStartedFact,
    RunStartedFactType,
    StageData,
    StageStatus,
    StageUpdatedFact,
    StageUpdatedFactType,
)
from .models.problem import Problem
from .types import UNSET

# The feed's envelope variants by event type, read off the generated
# models: each `<Name>Event` has an `<Name>EventEventType` enum of one value.
_ENVELOPES: dict[str, Any] = {
    next(iter(getattr(models, name))).value: getattr(models, name[: -len("EventType")])
    for name in models.__all__
    if name.endswith("EventEventType")
}


def envelope(data: dict[str, Any]) -> Any:
    """A feed event as the generated model of its type (``RunStageUpdatedEvent``, ...)."""
    return _ENVELOPES[data["event_type"]].from_dict(data)

_READ_MODELS = re.compile(r"^/v1/(runs(/[^/]+(/lineage)?)?|accounts/[^/]+/(balance|ledger)|projects/[^/]+/runs/latest)$")


class LedgerError(Exception):
    """A problem answer (RFC 9457) with its stable ``code``."""

    def __init__(self, status: int, problem: Problem | None):
        self.status = status
        self.problem = problem
        self.code = problem.code if problem is not None else None
        super().__init__(f"{status} {self.code}: {problem.detail if problem else ''}")


def unwrap(response: Any) -> Any:
    """The parsed answer of a ``*_detailed`` call, or a ``LedgerError``."""
    if response.status_code >= 400 or isinstance(response.parsed, Problem):
        problem = response.parsed if isinstance(response.parsed, Problem) else None
        raise LedgerError(int(response.status_code), problem)
    return response.parsed


class _State:
    def __init__(self, attempts: int, base_delay: float, max_delay: float, read_your_writes: bool):
        self.position = 0
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.read_your_writes = read_your_writes

    def prepare(self, request: httpx.Request) -> httpx.Request:
        if request.method == "POST" and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        if (
            request.method == "GET"
            and self.read_your_writes
            and self.position > 0
            and _READ_MODELS.match(request.url.path)
            and "min_position" not in request.url.params
        ):
            request.url = request.url.copy_merge_params({"min_position": str(self.position)})
        return request

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        after = response.headers.get("retry-after") if response is not None else None
        if after is not None and after.isdigit():
            return min(float(after), self.max_delay)
        backoff = self.base_delay * 2 ** (attempt - 1)
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)

    def retryable(self, response: httpx.Response) -> bool:
        return response.status_code in (429, 503)

    def remember(self, request: httpx.Request, response: httpx.Response) -> None:
        if request.method != "POST" or not response.is_success:
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        position = body.get("global_position") if isinstance(body, dict) else None
        if isinstance(position, int) and position > self.position:
            self.position = position


class RetryingTransport(httpx.BaseTransport):
    """The sync transport of ``connect``."""

    def __init__(self, inner: httpx.BaseTransport, state: _State):
        self.inner = inner
        self.state = state

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request = self.state.prepare(request)
        for attempt in range(1, self.state.attempts + 1):
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError:
                if attempt == self.state.attempts:
                    raise
                time.sleep(self.state.delay(attempt, None))
                continue
            if self.state.retryable(response) and attempt < self.state.attempts:
                response.close()
                time.sleep(self.state.delay(attempt, response))
                continue
            if request.method == "POST":
                response.read()
                self.state.remember(request, response)
            return response
        raise AssertionError("unreachable")


class AsyncRetryingTransport(httpx.AsyncBaseTransport):
    """The async transport of ``connect``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, state: _State):
        self.inner = inner
        self.state = state

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        request = self.state.prepare(request)
        for attempt in range(1, self.state.attempts + 1):
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError:
                if attempt == self.state.attempts:
                    raise
                await asyncio.sleep(self.state.delay(attempt, None))
                continue
            if self.state.retryable(response) and attempt < self.state.attempts:
                await response.aclose()
                await asyncio.sleep(self.state.delay(attempt, response))
                continue
            if request.method == "POST":
                await response.aread()
                self.state.remember(request, response)
            return response
        raise AssertionError("unreachable")


def connect(
    base_url: str,
    api_key: str,
    *,
    actor_id: str | None = None,
    attempts: int = 5,
    base_delay: float = 0.1,
    max_delay: float = 5.0,
    read_your_writes: bool = True,
    transport: httpx.BaseTransport | None = None,
    async_transport: httpx.AsyncBaseTransport | None = None,
) -> AuthenticatedClient:
    """A client of the ledger at ``base_url`` (see the module's doc)."""
    state = _State(attempts, base_delay, max_delay, read_your_writes)
    headers = {"X-Actor-Id": actor_id} if actor_id else {}
    client = AuthenticatedClient(base_url=base_url, token=api_key, headers=headers)
    auth = {"Authorization": f"Bearer {api_key}", **headers}
    client.set_httpx_client(
        httpx.Client(
            base_url=base_url,
            headers=auth,
            transport=RetryingTransport(transport or httpx.HTTPTransport(), state),
        )
    )
    client.set_async_httpx_client(
        httpx.AsyncClient(
            base_url=base_url,
            headers=auth,
            transport=AsyncRetryingTransport(async_transport or httpx.AsyncHTTPTransport(), state),
        )
    )
    return client


def last_position(client: AuthenticatedClient) -> int:
    """The newest ``global_position`` the writes of a ``connect`` client
    answered with (0 before any)."""
    transport = client.get_httpx_client()._transport
    return transport.state.position if isinstance(transport, RetryingTransport) else 0


def follow_events(client: AuthenticatedClient, after: int = 0) -> Iterator[Any]:
    """The feed's events after ``after``, as they are recorded, each the
    generated model of its type (see ``envelope``), reconnecting with
    ``Last-Event-ID`` after the last one yielded."""
    last = after
    attempt = 0
    http = client.get_httpx_client()
    while True:
        try:
            with http.stream(
                "GET",
                "/v1/events/stream",
                params={"after": last},
                headers={"Accept": "text/event-stream", "Last-Event-ID": str(last)},
                timeout=httpx.Timeout(10.0, read=None),
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise LedgerError(response.status_code, Problem.from_dict(response.json()))
                attempt = 0
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if line == "":
                        if "id" in fields and "data" in fields:
                            last = int(fields["id"])
                            yield envelope(json.loads(fields["data"]))
                        fields = {}
                        continue
                    name, _, value = line.partition(":")
                    if name:
                        fields[name] = fields.get(name, "") + value.lstrip()
        except httpx.TransportError:
            attempt += 1
            time.sleep(min(0.1 * 2**attempt, 5.0))


class RunWorker:
    """Reports the facts of one run, each safely retried: the generated
    ``report_facts`` with the generated fact models."""

    def __init__(self, client: AuthenticatedClient, run_id: uuid.UUID | str):
        self.client = client
        self.run_id = run_id if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id))

    def _report(self, fact: Any) -> FactsResponse:
        return unwrap(report_facts.sync_detailed(self.run_id, client=self.client, body=FactsRequest(events=[fact])))

    def start(self) -> FactsResponse:
        return self._report(RunStartedFact(type_=RunStartedFactType.RUN_STARTED))

    def stage(self, stage: int, status: str | StageStatus, *, output: Any = UNSET, error: str | None = None) -> FactsResponse:
        data = StageData(stage=stage, status=StageStatus(status), output=output, error=UNSET if error is None else error)
        return self._report(StageUpdatedFact(type_=StageUpdatedFactType.RUN_STAGE_UPDATED, data=data))

    def file(self, index: int, status: str | FileStatus, *, error: str | None = None) -> FactsResponse:
        data = FileData(index=index, status=FileStatus(status), error=UNSET if error is None else error)
        return self._report(FileUpdatedFact(type_=FileUpdatedFactType.RUN_FILE_UPDATED, data=data))

    def charge(self, amount: int, reason: str | None = None) -> FactsResponse:
        data = AmountData(amount=amount, reason=UNSET if reason is None else reason)
        return self._report(CreditsDeductedFact(type_=CreditsDeductedFactType.RUN_CREDITS_DEDUCTED, data=data))

    def refund(self, amount: int, reason: str | None = None) -> FactsResponse:
        data = AmountData(amount=amount, reason=UNSET if reason is None else reason)
        return self._report(RefundedFact(type_=RefundedFactType.RUN_REFUNDED, data=data))

    def metrics(self, metrics: dict[str, Any]) -> FactsResponse:
        """Merges measurements into the run's, key by key."""
        data = MetricsData(metrics=MetricsDataMetrics.from_dict(metrics))
        return self._report(RunMetricsUpdatedFact(type_=RunMetricsUpdatedFactType.RUN_METRICS_UPDATED, data=data))

    def complete(self, *, output: Any = UNSET, metrics: dict[str, Any] | None = None) -> FactsResponse:
        data = CompletedData(
            output=output,
            metrics=UNSET if metrics is None else CompletedDataMetricsType0.from_dict(metrics),
        )
        return self._report(RunCompletedFact(type_=RunCompletedFactType.RUN_COMPLETED, data=data))

    def fail(self, code: str, message: str, detail: Any = UNSET) -> FactsResponse:
        data = FailedData(code=code, message=message, detail=detail)
        return self._report(RunFailedFact(type_=RunFailedFactType.RUN_FAILED, data=data))

    def cancel(self, reason: str | None = None) -> FactsResponse:
        data = CancelledData(reason=UNSET if reason is None else reason)
        return self._report(RunCancelledFact(type_=RunCancelledFactType.RUN_CANCELLED, data=data))
